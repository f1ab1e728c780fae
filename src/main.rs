use std::process::ExitCode;

/// The analysis allocates many small short-lived values (condition maps, bit sets); mimalloc serves them
/// markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if !is_language_server() {
        permc::memory::keep_freed_memory();
    }
    permc::cli::main()
}

/// Whether this process serves `permc lsp` (the first argument that is not an option).
fn is_language_server() -> bool {
    std::env::args_os().skip(1).find(|arg| !arg.to_string_lossy().starts_with('-')).is_some_and(|arg| arg == "lsp")
}
