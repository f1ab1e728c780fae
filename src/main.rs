use std::process::ExitCode;

fn main() -> ExitCode {
    permc::cli::main()
}
