//! The binary's memory allocator: mimalloc, giving freed memory back at
//! once (see ARCHITECTURE.md).
//!
//! Under load the server's request threads spent about a tenth of their
//! time in glibc's `malloc` and `free`, bin consolidation included: a
//! request makes many small, short-lived allocations (headers, JSON, rows),
//! which mimalloc serves from per-thread pages. SQLite still allocates
//! through the C library. The library crates leave the allocator to their
//! application; this is the binary's choice.
//!
//! mimalloc's defaults keep memory: it asks for transparent huge pages on
//! its large regions (a huge page once touched stays resident whole), and
//! keeps freed memory for 1 s (10 s in arenas). After a login's password
//! hash (Argon2id, 46 MiB) an idle server held 122–138 MB, 44 MB ten
//! seconds later. Built with `no_thp` and with the two options below it
//! holds what it held with glibc (26–28 MB).

#![allow(
    unsafe_code,
    reason = "mi_option_set and mi_option_get are mimalloc's C functions; these are their only calls"
)]

use std::ffi::c_long;

use libmimalloc_sys::mi_option_t;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc 2's `mi_option_e`
/// (`mimalloc.h`; libmimalloc-sys names only some of the options). 0:
/// arena memory is committed as it is used.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
/// `mi_option_purge_delay`: milliseconds before freed memory goes back to
/// the system. 0: at once.
const PURGE_DELAY: mi_option_t = 15;

/// Sets the options; the first thing `main` does.
pub(crate) fn settle() {
    for option in [ARENA_EAGER_COMMIT, PURGE_DELAY] {
        // SAFETY: mi_option_set takes an option number and a value, and
        // ignores a number it does not know. No other thread exists yet.
        unsafe { libmimalloc_sys::mi_option_set(option, c_long::from(0)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers name the options meant: before `settle`, each reads
    /// back its own default in this build (2: arenas committed eagerly
    /// where the system overcommits; 1,000 ms), which its neighbours in
    /// the enumeration do not have (1, 1, 1 and 0); after it, 0.
    #[test]
    fn the_numbers_are_the_options_named() {
        // SAFETY: reads of option values.
        let read = || unsafe {
            (libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT), libmimalloc_sys::mi_option_get(PURGE_DELAY))
        };
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none()
            && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
        {
            assert_eq!(read(), (2, 1000), "not the defaults of arena_eager_commit and purge_delay");
        }
        settle();
        assert_eq!(read(), (0, 0));
    }
}
