//! The `cosx` command-line tool; everything but process start-up lives in
//! [`cosx_client::cli`].

fn main() -> std::process::ExitCode {
    cosx_client::cli::main()
}
