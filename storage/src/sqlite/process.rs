//! SQLite's process-wide settings, made once before the first connection.
//!
//! Memory statistics are turned off (`SQLITE_CONFIG_MEMSTATUS`): with them
//! on, every allocation SQLite makes takes and releases one process-wide
//! mutex to count it, on every thread that runs SQLite. Nothing here reads
//! the counts (`sqlite3_memory_used`, the soft heap limit).
//!
//! SQLite takes such settings only before it initializes; should the
//! process have used SQLite before (another library, an earlier in-memory
//! store), the default stays and nothing else changes.

#![allow(unsafe_code, reason = "sqlite3_config is a C variadic function; this is its one call")]

use std::sync::Once;

use rusqlite::ffi;

/// Applies the settings, once per process.
pub(crate) fn prepare() {
    static PREPARED: Once = Once::new();
    PREPARED.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one `int`. Called after
        // SQLite has initialized, it changes nothing and answers
        // SQLITE_MISUSE, which is the documented outcome and harmless.
        let answer = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
        if answer != ffi::SQLITE_OK {
            tracing::debug!(code = answer, "SQLite was initialized before: its memory statistics stay on");
        }
    });
}
