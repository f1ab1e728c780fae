use std::process::ExitCode;

/// The analysis allocates many small short-lived values (condition maps, bit sets); mimalloc serves them
/// markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    permc::process::avoid_huge_pages();
    permc::cli::main()
}
