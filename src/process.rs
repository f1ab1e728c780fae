//! Process and thread settings of the `permc` command (and of the benchmarks that measure it).

/// Asks Linux not to back this process's memory with transparent huge pages.
///
/// The allocator asks for huge pages for its arenas, and the kernel then zeroes two megabytes at every
/// first touch, used or not. A lint run allocates a few hundred megabytes once and exits, so it gains
/// nothing from fewer TLB misses and pays for every zeroed byte: on the 2-core benchmark machine a
/// `permc lint` of the large repository spent 0.9-1.3 s of kernel time zeroing huge pages, and 0.35 s with
/// this setting (wall time 2.65 s -> 2.2 s, 40 MB less resident memory). A no-op elsewhere, and when the
/// kernel refuses.
pub fn avoid_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` only sets a flag of the calling process; it reads
    // and writes no memory of ours.
    unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        );
    }
}

/// Lowers the scheduling priority of the calling thread and of the threads it starts afterwards (Linux
/// threads inherit it), so that work done in the background leaves the processor to the thread that
/// answers the editor when both want it. A no-op elsewhere, and when the kernel refuses.
pub fn yield_to_foreground() {
    #[cfg(target_os = "linux")]
    // SAFETY: `gettid` reads nothing; `setpriority(PRIO_PROCESS, tid, 10)` only sets the nice value of the
    // calling thread (on Linux a thread id names one thread).
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, BACKGROUND_NICE);
    }
}

/// The nice value of background work: below the default (0), above the lowest (19).
#[cfg(target_os = "linux")]
const BACKGROUND_NICE: libc::c_int = 10;

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The nice value of the calling thread.
    fn nice() -> libc::c_int {
        // SAFETY: as in `yield_to_foreground`; `getpriority` only reads the thread's nice value.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::syscall(libc::SYS_gettid) as libc::id_t) }
    }

    #[test]
    fn background_threads_and_the_threads_they_start_yield_and_the_others_do_not() {
        let before = nice();
        let (own, started) = std::thread::spawn(|| {
            super::yield_to_foreground();
            (nice(), std::thread::spawn(nice).join().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!((own, started), (super::BACKGROUND_NICE, super::BACKGROUND_NICE));
        assert_eq!(nice(), before);
    }

    #[test]
    fn huge_pages_are_off_for_the_process_afterwards() {
        super::avoid_huge_pages();
        // SAFETY: as above; `PR_GET_THP_DISABLE` returns the flag.
        let flag = unsafe {
            libc::prctl(
                libc::PR_GET_THP_DISABLE,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
        assert_eq!(flag, 1);
    }
}
