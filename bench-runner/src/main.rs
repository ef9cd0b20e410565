use std::process::ExitCode;

fn main() -> ExitCode {
    bench_runner::main_with_args(std::env::args_os())
}
