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
//!
//! The same connection also tells a [`CommitWatch`] when a commit not its
//! own reached the database (another process's, or another connection's):
//! see there.

#![allow(unsafe_code, reason = "a SQLite VFS is C callbacks over raw pointers (with process.rs, the only unsafe code)")]

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::atomic::{Ordering, fence};
use std::sync::{Arc, Mutex, OnceLock};

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
    /// A database file's first region of shared memory (the WAL index,
    /// whose header starts it) while it is mapped; null before.
    shm: *const u8,
    /// Told of this database file's write locks (see [`CommitWatch`]).
    watch: Option<Arc<CommitWatch>>,
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
                shm: ptr::null(),
                watch: None,
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
        if let Some(watch) = &(*file.cast::<File>()).watch {
            watch.detach();
        }
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
    // through the database file, never its WAL.) Region 0 stays mapped
    // until `shm_unmap` or `close`.
    unsafe {
        let rc = forward!(file, xShmMap, ffi::SQLITE_IOERR_SHMMAP, region, size, extend, out);
        if rc == ffi::SQLITE_OK && region == 0 && !(*out).is_null() {
            let db = &mut *file.cast::<File>();
            db.shm = (*out).cast::<u8>().cast_const();
            if let Some(watch) = &db.watch {
                watch.attach(db.shm);
            }
        }
        rc
    }
}

/// SQLite's exclusive lock on the WAL index's first lock byte
/// (`WAL_WRITE_LOCK`): held by whichever connection is writing the WAL.
const WRITE_LOCK: c_int = 0;

/// Whether a lock call covers [`WRITE_LOCK`] exclusively, with `action`
/// (`SQLITE_SHM_LOCK` or `SQLITE_SHM_UNLOCK`).
fn is_write_lock(offset: c_int, n: c_int, flags: c_int, action: c_int) -> bool {
    flags == action | ffi::SQLITE_SHM_EXCLUSIVE && offset <= WRITE_LOCK && WRITE_LOCK < offset.saturating_add(n)
}

unsafe extern "C" fn shm_lock(file: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    // SAFETY: see `shm_map`. An unlock may end a write transaction: the
    // buffer is written out while the lock is still held. (What can be
    // buffered then was never committed: a commit writes out before it
    // is published.)
    unsafe {
        let watch = (*file.cast::<File>()).watch.as_ref();
        if flags & ffi::SQLITE_SHM_UNLOCK != 0 {
            let _ = flush_wal_of(file);
            if let Some(watch) = watch
                && is_write_lock(offset, n, flags, ffi::SQLITE_SHM_UNLOCK)
            {
                watch.write_unlocking();
            }
        }
        let rc = forward!(file, xShmLock, ffi::SQLITE_IOERR_SHMLOCK, offset, n, flags);
        if rc == ffi::SQLITE_OK
            && let Some(watch) = watch
            && is_write_lock(offset, n, flags, ffi::SQLITE_SHM_LOCK)
        {
            watch.write_locked();
        }
        rc
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
    // SAFETY: see `shm_map`. The watch lets go of the header first.
    unsafe {
        let db = &mut *file.cast::<File>();
        if let Some(watch) = &db.watch {
            watch.detach();
        }
        db.shm = ptr::null();
        forward!(file, xShmUnmap, ffi::SQLITE_OK, delete)
    }
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

/// The first copy of the WAL index header (`WalIndexHdr`, 48 bytes, at the
/// start of the shared memory; SQLite's "WAL-index format"). Every commit,
/// by any connection of any process, writes it anew: its change counter
/// (`iChange`) goes up by one and its frame count and checksum move.
type Header = [u8; 48];

/// What a process may still trust of what it read before: the SQLite
/// store keeps the users, API keys and settings it has read
/// ([`super::recall`]) only while no other process (or connection) has
/// committed since, and this tells.
///
/// The writer's connection reports here (through its VFS) when it takes
/// and releases the WAL write lock, and keeps the WAL index mapped while
/// it is open. Every commit to the file writes the WAL index header under
/// that lock, so:
/// - the header as the writer left it when it last unlocked is its own;
/// - a header different from that while the writer does not hold the lock
///   is someone else's commit, and so is one found when it takes the lock;
/// - while the writer holds the lock, no one else can commit.
///
/// Whoever first sees someone else's commit (a reader asking for the
/// [`epoch`](CommitWatch::epoch), or the writer taking the lock) moves the
/// epoch on and takes that header as known. The writer itself
/// [`hold`](CommitWatch::hold)s the watch around each batch that writes
/// users, keys or settings: no epoch while it runs, a new one after. What
/// was read in an earlier epoch is not used again.
#[derive(Debug, Default)]
pub(crate) struct CommitWatch {
    state: Mutex<Watched>,
}

#[derive(Debug, Default)]
struct Watched {
    /// The mapped WAL index, while the writer's connection has it mapped.
    shm: Option<Shm>,
    /// The header as last known: left by the writer, or someone else's
    /// already counted.
    known: Option<Header>,
    /// The writer holds the write lock: header changes are its own.
    writing: bool,
    /// The writer is writing what readers keep: nothing may be kept.
    held: bool,
    epoch: u64,
}

/// A pointer to mapped shared memory, only read under [`CommitWatch`]'s
/// lock while the mapping exists ([`CommitWatch::detach`] comes first).
#[derive(Debug, Clone, Copy)]
struct Shm(*const u8);

// SAFETY: the pointer is only dereferenced under the watch's mutex, and
// the VFS detaches it (under the same mutex) before the memory is unmapped.
unsafe impl Send for Shm {}

impl Watched {
    fn header(&self) -> Option<Header> {
        let Shm(start) = self.shm?;
        // SAFETY: `start` is the first region of the WAL index, mapped
        // (at least 32 KiB) until `detach`, which needs this lock. Other
        // processes write it concurrently: a torn read differs from every
        // header written, which only costs a needless new epoch.
        let header = unsafe { ptr::read_volatile(start.cast::<Header>()) };
        fence(Ordering::Acquire);
        Some(header)
    }

    /// Counts the header if it is someone else's news.
    fn notice(&mut self) {
        if let Some(now) = self.header()
            && self.known != Some(now)
        {
            self.known = Some(now);
            self.epoch = self.epoch.wrapping_add(1);
        }
    }
}

impl CommitWatch {
    pub(crate) fn new() -> Arc<CommitWatch> {
        Arc::new(CommitWatch::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watched> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current epoch; `None` while nothing read may be kept: no WAL
    /// index is watched (the writer's connection is not open through this
    /// VFS, or closed), or the writer holds the watch.
    pub(crate) fn epoch(&self) -> Option<u64> {
        let mut watched = self.lock();
        if watched.shm.is_none() || watched.held {
            return None;
        }
        if !watched.writing {
            watched.notice();
        }
        Some(watched.epoch)
    }

    /// Before a batch that writes what readers keep: until
    /// [`release`](CommitWatch::release), nothing is kept or used.
    pub(crate) fn hold(&self) {
        let mut watched = self.lock();
        watched.held = true;
        watched.epoch = watched.epoch.wrapping_add(1);
    }

    /// After that batch was committed (or not) and answered: a new epoch.
    pub(crate) fn release(&self) {
        let mut watched = self.lock();
        watched.held = false;
        watched.epoch = watched.epoch.wrapping_add(1);
    }

    fn attach(&self, shm: *const u8) {
        let mut watched = self.lock();
        watched.shm = Some(Shm(shm));
        watched.known = None;
        watched.epoch = watched.epoch.wrapping_add(1);
    }

    fn detach(&self) {
        let mut watched = self.lock();
        watched.shm = None;
        watched.epoch = watched.epoch.wrapping_add(1);
    }

    /// The writer took the write lock: any commit since its last is news.
    fn write_locked(&self) {
        let mut watched = self.lock();
        watched.notice();
        watched.writing = true;
    }

    /// The writer is about to release the write lock: the header now is
    /// its own (or unchanged, after a rollback).
    fn write_unlocking(&self) {
        let mut watched = self.lock();
        if let Some(now) = watched.header() {
            watched.known = Some(now);
        }
        watched.writing = false;
    }
}

/// Reports the write locks of `conn`'s database file to `watch`; `false`
/// when `conn` was not opened through this VFS (nothing is reported, and
/// the watch stays without a header). Call it right after opening, before
/// the connection is shared.
pub(crate) fn watch(conn: &rusqlite::Connection, watch: &Arc<CommitWatch>) -> bool {
    let mut file: *mut ffi::sqlite3_file = ptr::null_mut();
    // SAFETY: SQLITE_FCNTL_FILE_POINTER writes the main database's
    // `sqlite3_file` pointer (SQLite answers it without the VFS). A file
    // with our methods is a `File`; this thread owns the connection.
    unsafe {
        let rc = ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&raw mut file).cast::<c_void>(),
        );
        if rc != ffi::SQLITE_OK || file.is_null() || !ptr::eq((*file).pMethods, &METHODS) {
            return false;
        }
        let db = &mut *file.cast::<File>();
        if db.is_wal {
            return false;
        }
        db.watch = Some(Arc::clone(watch));
        if !db.shm.is_null() {
            watch.attach(db.shm);
        }
        true
    }
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
