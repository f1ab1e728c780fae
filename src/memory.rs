//! How the `permc` binary (and the benchmark that measures it) uses its allocator, mimalloc.

use std::ffi::{c_int, c_long};

// The functions below are mimalloc's; this links it wherever they are used.
use mimalloc as _;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (v3, the version the `mimalloc` crate builds).
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

/// Keeps freed memory for reuse instead of giving it back to the system.
///
/// By default mimalloc gives freed memory back a second after it is freed. A run frees and allocates again
/// hundreds of megabytes, and the kernel faults in and zeroes every page given back when it is used again,
/// a transparent huge page at a time: up to a third of `permc lint`'s CPU on the large benchmark repository
/// (BENCHMARKS.md). A command ends soon after its peak anyway; the long-running language server keeps the
/// default and gives memory back.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` takes any option number and value; a delay of -1 turns purging off.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        fn mi_option_get(option: c_int) -> c_long;
    }

    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // mimalloc v3's default purge delay is 1000 ms, and no other option defaults to 1000: this fails if
        // the number names another option.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading an option number mimalloc defines.
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, 1000);
        keep_freed_memory();
        // SAFETY: as above.
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, -1);
    }
}
