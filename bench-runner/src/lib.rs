//! bench-runner: builds gateway plugins, drives a real Envoy with its own load generator, and
//! writes self-describing results. `main` is a thin shell over [`main_with_args`].

pub mod baseline;
pub mod bench;
pub mod callgrind;
pub mod commands;
pub mod compare;
pub mod envoy;
pub mod error;
pub mod export;
#[cfg(test)]
mod layers;
pub mod load;
pub mod package;
pub mod paths;
pub mod plugins;
pub mod readme;
pub mod report;
pub mod results;
pub mod stats;
pub mod sys;
pub mod upstream;

use commands::{Cli, Command};
use std::ffi::OsString;
use std::process::ExitCode;

/// Parses arguments, runs the command, prints one error line on failure and maps it to an exit code.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match commands::parse(args) {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            eprint!("{}", condensed_usage_error(&e.render().to_string()));
            return ExitCode::from(2);
        }
        Err(e) => {
            // --help and --version
            let _ = e.print();
            return ExitCode::from(0);
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

/// clap's usage error in at most two lines (SPEC section 3): the error with its indented details and
/// tips joined into one line, then the usage line (or where to read more).
pub fn condensed_usage_error(rendered: &str) -> String {
    let mut what: Vec<&str> = Vec::new();
    let mut usage_line = None;
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("For more information") {
            continue;
        }
        if line.starts_with("Usage:") {
            usage_line.get_or_insert(line);
        } else if usage_line.is_none() {
            what.push(line);
        }
    }
    let second = match usage_line {
        Some(u) => format!("{u}  (more: --help)"),
        None => "For more information, try '--help'.".to_string(),
    };
    format!("{}\n{second}\n", what.join(" "))
}

/// Runs a parsed command; Ok carries the exit status (0, or 1 for a failed check reported as a table).
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let project = paths::Project::discover();
    match cli
        .command
        .unwrap_or_else(|| Command::Run(commands::run::default_args()))
    {
        Command::Run(a) => commands::run::command(&project, &a),
        Command::Ab(a) => commands::ab::command(&project, &a),
        Command::Compare(a) => commands::compare::command(&project, &a),
        Command::Export(a) => commands::export::command(&a),
        Command::Reproduce(a) => commands::reproduce::command(&a),
        Command::Load(a) => commands::load::command(&a),
        Command::Merge(a) => commands::merge::command(&a),
        Command::K8s(a) => commands::k8s::command(&project, &a),
        Command::Build(a) => commands::build::command(&project, &a),
        Command::Calls(a) => commands::calls::command(&project, &a),
        Command::Conformance(a) => commands::conformance::command(&project, &a),
        Command::Fuzz(a) => commands::fuzz::command(&project, &a),
        Command::Doctor(a) => commands::doctor::command(&project, &a),
        Command::Readme(a) => commands::readme::command(&project, &a),
        Command::Failure(a) => commands::failure::command(&project, &a),
        Command::Curves(a) => commands::curves::command(&project, &a),
        Command::Lifecycle(a) => commands::lifecycle::command(&project, &a),
        Command::Footprint(a) => commands::footprint::command(&project, &a),
        Command::Peers(a) => commands::peers::command(&project, &a),
        Command::Micro(a) => commands::micro::command(&project, &a),
        Command::Instructions(a) => commands::instructions::command(&project, &a),
        Command::MicroProbe(a) => commands::micro::probe_command(&a),
        Command::Objects(a) => commands::objects::command(&a),
        Command::Report(a) => commands::report::command(&a),
        Command::Package(a) => commands::package::command(&project, &a),
        Command::Manifests(a) => commands::manifests::command(&project, &a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn clap_errors_are_condensed_to_two_lines() {
        for (args, needle) in [
            (
                &["bench-runner", "run", "--profile", "nope"][..],
                "possible values",
            ),
            (&["bench-runner", "run", "--nosuch"][..], "--nosuch"),
            (&["bench-runner", "reproduce"][..], "<A> <B>"),
            (&["bench-runner", "nosuch"][..], "nosuch"),
        ] {
            let e = Cli::try_parse_from(args).unwrap_err();
            let text = condensed_usage_error(&e.render().to_string());
            assert_eq!(text.lines().count(), 2, "{text}");
            assert!(text.starts_with("error: "), "{text}");
            assert!(text.lines().next().unwrap().contains(needle), "{text}");
        }
    }
}
