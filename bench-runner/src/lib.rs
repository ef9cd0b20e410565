//! bench-runner: builds gateway plugins, drives a real Envoy with its own load generator, and
//! writes self-describing results. `main` is a thin shell over [`main_with_args`].

pub mod baseline;
pub mod bench;
pub mod commands;
pub mod compare;
pub mod envoy;
pub mod error;
pub mod export;
#[cfg(test)]
mod layers;
pub mod load;
pub mod paths;
pub mod plugins;
pub mod readme;
pub mod report;
pub mod results;
pub mod stats;
pub mod sys;
pub mod upstream;

use clap::Parser;
use commands::{Cli, Command};
use std::ffi::OsString;
use std::process::ExitCode;

/// Parses arguments, runs the command, prints one error line on failure and maps it to an exit code.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    sys::install_signal_handlers();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(error::exit_code_of(&e))
        }
    }
}

/// Runs a parsed command; Ok carries the exit status (0, or 1 for a failed check reported as a table).
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let project = paths::Project::discover();
    match cli
        .command
        .unwrap_or_else(|| Command::Run(commands::run::default_args()))
    {
        Command::Run(a) => commands::run::command(&project, &a),
        Command::Compare(a) => commands::compare::command(&project, &a),
        Command::Export(a) => commands::export::command(&a),
        Command::Reproduce(a) => commands::reproduce::command(&a),
        Command::Load(a) => commands::load::command(&a),
        Command::Build(a) => commands::build::command(&project, &a),
        Command::Conformance(a) => commands::conformance::command(&project, &a),
        Command::Fuzz(a) => commands::fuzz::command(&project, &a),
        Command::Doctor(a) => commands::doctor::command(&project, &a),
        Command::Readme(a) => commands::readme::command(&project, &a),
        Command::Failure(a) => commands::failure::command(&project, &a),
        Command::Peers(a) => commands::peers::command(&project, &a),
        Command::Micro(a) => commands::micro::command(&project, &a),
        Command::Report(a) => commands::report::command(&a),
    }
}
