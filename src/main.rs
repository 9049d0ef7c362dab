//! The `timsg` command: parses arguments, sets up logging, and hands over to the library.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = timsg::cli::Cli::parse();
    timsg::cli::init_logging(&cli.log_format);
    match timsg::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("timsg: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
