//! A VFS for the writer's connection that gathers its WAL appends into one
//! `write` per commit.
//!
//! SQLite writes each WAL frame with two `pwrite`s (its 24-byte header, then
//! the page), each reaching into a new kernel page-cache page: a commit of
//! 30 frames is 60 system calls, and under load those were a third of the
//! writer thread's time. This VFS is the default one (`unix`) with one
//! change: the WAL file of a connection opened through it keeps consecutive
//! appends in a buffer and writes them out in one call.
//!
//! When the buffer is written out is what makes that safe:
//! - **At the end of every commit**, before SQLite publishes it. A commit's
//!   last frame is the one whose header carries the database size (bytes
//!   4–7, zero in every other frame); the write after such a header, its
//!   page, writes the buffer out, and an error there fails the commit as
//!   the `pwrite` would have.
//! - **Before a commit is published, again.** A connection learns of new
//!   frames only from the WAL index header in shared memory, which SQLite
//!   writes in two copies with a memory barrier (`xShmBarrier`, a method of
//!   the database file) between them; readers take a header only when the
//!   copies agree. The database file's barrier writes out its WAL's buffer
//!   first, so every frame a header names is in the file before the header
//!   can be read. After the commit's own write-out the buffer is empty
//!   here; should it not be and the write fail, the process aborts rather
//!   than publish frames that are not in the file (a barrier cannot fail).
//! - **When the write transaction ends** (the database file's `xShmLock`
//!   unlocking), committed or rolled back, while the lock is still held:
//!   nothing stays buffered while another connection may write the WAL or
//!   start it over.
//! - **Before anything else touches the WAL**: a read (SQLite reads back
//!   frames it wrote earlier in a large transaction), a write that is not
//!   the next append (a frame rewritten in place, the WAL header when the
//!   log starts over, checksums redone; these are written at once, never
//!   buffered), a sync, a truncate, its size, a file control, and closing.
//! - When it holds [`LIMIT`] bytes (a large transaction).
//!
//! The bytes reach the file in the same order and at the same offsets as
//! without the buffer; only the number of system calls changes.
//!
//! Only the writer's connection uses it (`Target::open_writer`): readers and
//! the checkpointer never write the WAL.

#![allow(unsafe_code, reason = "a SQLite VFS is C callbacks over raw pointers (with process.rs, the only unsafe code)")]

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name connections open this VFS by.
pub(crate) const NAME: &CStr = c"steward-wal-buffer";

/// How many bytes the buffer holds before it is written out anyway.
const LIMIT: usize = 1 << 20;

/// The most one write hands the default VFS: its `xWrite` writes at most
/// 128 KiB − 1 bytes a call (`seekAndWrite` masks the count with 0x1ffff).
const CHUNK: usize = 124 * 1024;

/// Registers the VFS (once per process); `false` if SQLite has no default
/// VFS to wrap or refused it, in which case the writer opens without it.
pub(crate) fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // The process-wide settings go first: once initialized below,
        // SQLite takes no more of them.
        super::process::prepare();
        // SAFETY: `sqlite3_vfs_find(NULL)` returns the default VFS, which
        // SQLite keeps for the life of the process. The copy made here is
        // leaked on purpose: a registered VFS must outlive every connection.
        unsafe {
            if ffi::sqlite3_initialize() != ffi::SQLITE_OK {
                return false;
            }
            let root = ffi::sqlite3_vfs_find(ptr::null());
            if root.is_null() {
                return false;
            }
            let Ok(inner_size) = usize::try_from((*root).szOsFile) else { return false };
            let Ok(size) = c_int::try_from(inner_offset() + inner_size) else { return false };
            let mut vfs = ptr::read(root);
            vfs.szOsFile = size;
            vfs.pNext = ptr::null_mut();
            vfs.zName = NAME.as_ptr();
            vfs.pAppData = root.cast::<c_void>();
            vfs.xOpen = Some(open);
            // The default VFS's other methods are kept: none of them reads
            // `pAppData` (only its `xOpen` does, which is called with `root`).
            ffi::sqlite3_vfs_register(Box::into_raw(Box::new(vfs)), 0) == ffi::SQLITE_OK
        }
    })
}

/// A database or WAL file opened through this VFS: SQLite's file header,
/// our state, and the default VFS's own file, which follows at
/// [`inner_offset`]. Files of other kinds (journals, temporary files) are
/// the default VFS's alone.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    /// A WAL file buffers its appends; a database file does not.
    is_wal: bool,
    /// A database file's WAL while both are open (written out at the
    /// database file's barriers and unlocks); a WAL file's database file.
    other: *mut File,
    /// Appends not yet written, starting at `start`.
    buffer: Vec<u8>,
    start: i64,
    /// Where the last write ended: the next append starts here.
    end: i64,
    /// The last write was a commit frame's header; its page follows.
    commit_page_next: bool,
}
/// Where the default VFS's file starts, after ours (8-byte aligned, as
/// SQLite aligns its own).
const fn inner_offset() -> usize {
    size_of::<File>().next_multiple_of(8)
}

/// The default VFS's file of `file`.
///
/// # Safety
/// `file` was opened by [`open`] with an allocation of `szOsFile` bytes.
unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: the allocation is `inner_offset() + root.szOsFile` bytes long.
    unsafe { file.cast::<u8>().add(inner_offset()).cast() }
}

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite calls this with our registered VFS (whose `pAppData`
    // is the default VFS) and `szOsFile` bytes at `file`.
    unsafe {
        let root = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
        let Some(root_open) = (*root).xOpen else { return ffi::SQLITE_CANTOPEN };
        let is_wal = flags & ffi::SQLITE_OPEN_WAL != 0;
        if !is_wal && flags & ffi::SQLITE_OPEN_MAIN_DB == 0 {
            // Any other file is the default VFS's own, in the same memory.
            return root_open(root, name, file, flags, out_flags);
        }
        let rc = root_open(root, name, inner(file), flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // SQLite calls no method of a file whose open failed.
            (*file).pMethods = ptr::null();
            return rc;
        }
        let mut other = ptr::null_mut();
        if is_wal {
            // The database file this WAL belongs to: ours when the
            // connection was opened through this VFS.
            let db = ffi::sqlite3_database_file_object(name);
            if !db.is_null() && ptr::eq((*db).pMethods, &METHODS) {
                other = db.cast::<File>();
            }
        }
        ptr::write(
            file.cast::<File>(),
            File {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                is_wal,
                other,
                buffer: Vec::new(),
                start: 0,
                end: -1,
                commit_page_next: false,
            },
        );
        if !other.is_null() {
            (*other).other = file.cast::<File>();
        }
        ffi::SQLITE_OK
    }
}

/// The default VFS's method `$method` of `$file`'s inner file, called
/// with the rest of the arguments (or `$missing` if it has none).
macro_rules! forward {
    ($file:expr, $method:ident, $missing:expr $(, $arg:expr)*) => {{
        let inner = inner($file);
        match (*(*inner).pMethods).$method {
            Some(method) => method(inner $(, $arg)*),
            None => $missing,
        }
    }};
}

/// Writes the buffer out; an I/O error code if that failed (the buffer is
/// dropped either way: SQLite fails the transaction).
///
/// # Safety
/// `file` is a [`File`] opened by [`open`].
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as the function's contract says.
    unsafe {
        let wal = &mut *file.cast::<File>();
        if wal.buffer.is_empty() {
            return ffi::SQLITE_OK;
        }
        let mut rc = ffi::SQLITE_OK;
        let mut offset = wal.start;
        for chunk in wal.buffer.chunks(CHUNK) {
            // At most CHUNK bytes: the casts cannot truncate.
            let (data, len) = (chunk.as_ptr().cast::<c_void>(), chunk.len() as c_int);
            rc = forward!(file, xWrite, ffi::SQLITE_IOERR_WRITE, data, len, offset);
            if rc != ffi::SQLITE_OK {
                break;
            }
            offset += chunk.len() as i64;
        }
        wal.buffer.clear();
        rc
    }
}

unsafe extern "C" fn write(file: *mut ffi::sqlite3_file, data: *const c_void, amount: c_int, offset: i64) -> c_int {
    // SAFETY: SQLite passes one of our files and `amount` readable bytes.
    unsafe {
        let Ok(len) = usize::try_from(amount) else { return ffi::SQLITE_IOERR_WRITE };
        let wal = &mut *file.cast::<File>();
        if !wal.is_wal || len == 0 || data.is_null() {
            let rc = flush(file);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            return forward!(file, xWrite, ffi::SQLITE_IOERR_WRITE, data, amount, offset);
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len);
        let ends_commit = std::mem::replace(&mut wal.commit_page_next, is_commit_header(bytes));
        let appends =
            if wal.buffer.is_empty() { offset == wal.end } else { offset == wal.start + wal.buffer.len() as i64 };
        if appends {
            if wal.buffer.is_empty() {
                wal.start = offset;
            }
            wal.buffer.extend_from_slice(bytes);
            wal.end = offset + i64::from(amount);
            if ends_commit || wal.buffer.len() >= LIMIT {
                return flush(file);
            }
            return ffi::SQLITE_OK;
        }
        let rc = flush(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let wal = &mut *file.cast::<File>();
        wal.end = offset + i64::from(amount);
        forward!(file, xWrite, ffi::SQLITE_IOERR_WRITE, data, amount, offset)
    }
}

/// A WAL frame header (24 bytes) whose "database size after commit" field
/// (bytes 4–7) is set: the header of a transaction's last frame.
fn is_commit_header(bytes: &[u8]) -> bool {
    bytes.len() == 24 && bytes[4..8] != [0; 4]
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes each file once; its memory is ours until then.
    // The database file and its WAL unlink each other as either closes.
    unsafe {
        let flushed = flush(file);
        let closed = forward!(file, xClose, ffi::SQLITE_OK);
        let own = file.cast::<File>();
        if !(*own).other.is_null() {
            (*(*own).other).other = ptr::null_mut();
        }
        ptr::drop_in_place(own);
        (*file).pMethods = ptr::null();
        if flushed != ffi::SQLITE_OK { flushed } else { closed }
    }
}

/// Writes out the buffer of a database file's WAL (see the module's notes).
///
/// # Safety
/// `file` is a [`File`] opened by [`open`].
unsafe fn flush_wal_of(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: a linked WAL is open (it unlinks itself when it closes).
    unsafe {
        let wal = (*file.cast::<File>()).other;
        if (*file.cast::<File>()).is_wal || wal.is_null() {
            return ffi::SQLITE_OK;
        }
        flush(wal.cast())
    }
}

/// Defines a method that writes the buffer out (see [`flush`]) and then
/// calls the default VFS's method of the same name with its arguments.
macro_rules! flushed_then_forwarded {
    ($(#[$doc:meta])* $name:ident, $method:ident, $missing:expr, $($arg:ident: $ty:ty),*) => {
        $(#[$doc])*
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            // SAFETY: SQLite calls a file's methods with that file, one of ours.
            unsafe {
                let rc = flush(file);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                forward!(file, $method, $missing $(, $arg)*)
            }
        }
    };
}

flushed_then_forwarded!(
    /// SQLite reads back frames it wrote earlier in a large transaction.
    read, xRead, ffi::SQLITE_IOERR_READ, data: *mut c_void, amount: c_int, offset: i64
);
flushed_then_forwarded!(truncate, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, size: i64);
flushed_then_forwarded!(sync, xSync, ffi::SQLITE_IOERR_FSYNC, flags: c_int);
flushed_then_forwarded!(file_size, xFileSize, ffi::SQLITE_IOERR_FSTAT, size: *mut i64);
flushed_then_forwarded!(lock, xLock, ffi::SQLITE_IOERR_LOCK, level: c_int);
flushed_then_forwarded!(unlock, xUnlock, ffi::SQLITE_IOERR_UNLOCK, level: c_int);
flushed_then_forwarded!(check_reserved_lock, xCheckReservedLock, ffi::SQLITE_IOERR_CHECKRESERVEDLOCK, out: *mut c_int);
flushed_then_forwarded!(file_control, xFileControl, ffi::SQLITE_NOTFOUND, op: c_int, arg: *mut c_void);

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as in `flushed_then_forwarded`.
    unsafe { forward!(file, xSectorSize, 4096) }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as in `flushed_then_forwarded`.
    unsafe { forward!(file, xDeviceCharacteristics, 0) }
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: as in `flushed_then_forwarded`. (SQLite maps shared memory
    // through the database file, never its WAL.)
    unsafe { forward!(file, xShmMap, ffi::SQLITE_IOERR_SHMMAP, region, size, extend, out) }
}

unsafe extern "C" fn shm_lock(file: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    // SAFETY: see `shm_map`. An unlock may end a write transaction: the
    // buffer is written out while the lock is still held. (What can be
    // buffered then was never committed: a commit writes out before it
    // is published.)
    unsafe {
        if flags & ffi::SQLITE_SHM_UNLOCK != 0 {
            let _ = flush_wal_of(file);
        }
        forward!(file, xShmLock, ffi::SQLITE_IOERR_SHMLOCK, offset, n, flags)
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: see `shm_map`. SQLite publishes a commit after a barrier: the
    // frames it names must be in the file by then.
    unsafe {
        if flush_wal_of(file) != ffi::SQLITE_OK {
            tracing::error!("writing the SQLite WAL failed just before a commit was published; stopping the process");
            std::process::abort();
        }
        forward!(file, xShmBarrier, ())
    }
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: see `shm_map`.
    unsafe { forward!(file, xShmUnmap, ffi::SQLITE_OK, delete) }
}

unsafe extern "C" fn fetch(file: *mut ffi::sqlite3_file, offset: i64, amount: c_int, out: *mut *mut c_void) -> c_int {
    // SAFETY: as in `flushed_then_forwarded`. A mapping must see every
    // write: the buffer is written out first.
    unsafe {
        let rc = flush(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        match (*(*inner(file)).pMethods).xFetch {
            Some(method) => method(inner(file), offset, amount, out),
            None => {
                *out = ptr::null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

unsafe extern "C" fn unfetch(file: *mut ffi::sqlite3_file, offset: i64, page: *mut c_void) -> c_int {
    // SAFETY: as in `flushed_then_forwarded`.
    unsafe { forward!(file, xUnfetch, ffi::SQLITE_OK, offset, page) }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use rusqlite::{Connection, OpenFlags};

    use super::*;

    const ACCOUNTS: i64 = 200;
    const TOTAL: i64 = ACCOUNTS * 1_000;

    fn writer(path: &std::path::Path) -> Connection {
        assert!(register());
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let conn = Connection::open_with_flags_and_vfs(path, flags, NAME).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        conn
    }

    fn total(conn: &Connection) -> i64 {
        conn.query_row("SELECT sum(balance) FROM accounts", [], |r| r.get(0)).unwrap()
    }

    /// Readers on the default VFS, in other threads, never see a commit
    /// before its frames are in the WAL: every snapshot they read balances,
    /// while the writer moves money between accounts (each transfer a
    /// commit of a few frames, every tenth a large one with padding rows)
    /// and the WAL starts over again and again.
    #[test]
    fn readers_on_other_connections_see_only_whole_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = writer(&path);
        conn.execute_batch(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, pad BLOB);
             PRAGMA wal_autocheckpoint = 50;",
        )
        .unwrap();
        conn.execute(
            "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < ?1) \
             INSERT INTO accounts (id, balance) SELECT v, 1000 FROM n",
            [ACCOUNTS],
        )
        .unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (path, done) = (path.clone(), done.clone());
                std::thread::spawn(move || {
                    let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
                    let mut reads = 0;
                    while !done.load(Ordering::Relaxed) {
                        assert_eq!(total(&reader), TOTAL, "a snapshot that does not balance");
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for n in 0..3_000i64 {
            let tx = conn.unchecked_transaction().unwrap();
            let (from, to) = (n % ACCOUNTS + 1, (n * 7 + 3) % ACCOUNTS + 1);
            tx.execute("UPDATE accounts SET balance = balance - 5 WHERE id = ?1", [from]).unwrap();
            tx.execute("UPDATE accounts SET balance = balance + 5 WHERE id = ?1", [to]).unwrap();
            if n % 10 == 0 {
                tx.execute("UPDATE accounts SET pad = randomblob(3000) WHERE id % 10 = ?1", [n % 100 / 10]).unwrap();
            }
            tx.commit().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        for reader in readers {
            assert!(reader.join().unwrap() > 0);
        }
        drop(conn);
        let check = Connection::open(&path).unwrap();
        assert_eq!(total(&check), TOTAL);
        let ok: String = check.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
    }

    /// A transaction larger than the page cache spills frames before it
    /// commits (buffered past `LIMIT`, read back), and one that spills and
    /// rolls back leaves nothing: another connection writes in between, the
    /// WAL starts over, and the file stays whole.
    #[test]
    fn large_and_rolled_back_transactions_keep_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = writer(&path);
        conn.execute_batch("PRAGMA cache_size = 20; CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL);")
            .unwrap();
        let fill = |conn: &Connection, from: i64| {
            conn.execute(
                "WITH RECURSIVE n(v) AS (SELECT ?1 UNION ALL SELECT v + 1 FROM n WHERE v < ?1 + 1999) \
                 INSERT INTO t (id, body) SELECT v, randomblob(2000) FROM n",
                [from],
            )
            .unwrap();
        };
        // About 4 MB in one transaction: far past the cache and `LIMIT`.
        let tx = conn.unchecked_transaction().unwrap();
        fill(&tx, 1);
        let seen: i64 = tx.query_row("SELECT count(*) FROM t WHERE length(body) = 2000", [], |r| r.get(0)).unwrap();
        assert_eq!(seen, 2000, "spilled frames read back inside the transaction");
        tx.commit().unwrap();
        // Spilled, then rolled back.
        let tx = conn.unchecked_transaction().unwrap();
        fill(&tx, 10_001);
        tx.rollback().unwrap();
        // Another connection (the default VFS) writes and starts the WAL over.
        let other = Connection::open(&path).unwrap();
        other.execute("INSERT INTO t (id, body) VALUES (-1, x'00')", []).unwrap();
        let _: (i64, i64, i64) =
            other.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
        other.execute("INSERT INTO t (id, body) VALUES (-2, x'00')", []).unwrap();
        // The writer goes on.
        fill(&conn, 20_001);
        drop(conn);
        let count: i64 = other.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 2000 + 2 + 2000);
        let rolled_back: i64 =
            other.query_row("SELECT count(*) FROM t WHERE id BETWEEN 10001 AND 12000", [], |r| r.get(0)).unwrap();
        assert_eq!(rolled_back, 0);
        let ok: String = other.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
    }
}
