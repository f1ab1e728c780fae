use std::ffi::{c_int, c_long};
use std::process::ExitCode;

/// The analysis allocates many small short-lived values (condition maps, bit sets); mimalloc serves them
/// markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (v3, the version the `mimalloc` crate builds).
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

fn main() -> ExitCode {
    if !is_language_server() {
        keep_freed_memory();
    }
    permc::cli::main()
}

/// By default mimalloc gives freed memory back to the system a second after it is freed. A run frees and
/// allocates again hundreds of megabytes, and the kernel faults in and zeroes every page given back when
/// it is used again, a transparent huge page at a time: up to a third of `permc lint`'s CPU on the large
/// benchmark repository (BENCHMARKS.md). A command ends soon after its peak anyway, so it keeps freed
/// memory for reuse; the long-running language server keeps the default and gives memory back.
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` takes any option number and value; a delay of -1 turns purging off.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// Whether this process serves `permc lsp` (the first argument that is not an option).
fn is_language_server() -> bool {
    std::env::args_os().skip(1).find(|arg| !arg.to_string_lossy().starts_with('-')).is_some_and(|arg| arg == "lsp")
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
        // SAFETY: reading and setting an option number mimalloc defines.
        unsafe {
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), 1000);
            keep_freed_memory();
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), -1);
        }
    }
}
