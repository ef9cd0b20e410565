//! bench-runner: builds gateway plugins, drives a real Envoy with its own load generator, and
//! writes self-describing results. `main` is a thin shell over [`main_with_args`].

pub mod baseline;
pub mod bench;
pub mod commands;
pub mod compare;
pub mod envoy;
pub mod error;
pub mod export;
pub mod load;
pub mod paths;
pub mod plugins;
pub mod readme;
pub mod report;
pub mod results;
pub mod stats;
pub mod sys;
pub mod upstream;

use bench::{conformance, failure, measure, micro, peers};
use clap::Parser;
use commands::{doctor, Cli, Command, LoadArgs, ProfileName, RunArgs};
use error::usage;
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
    match cli.command.unwrap_or(Command::Run(default_run_args())) {
        Command::Run(a) => {
            if let Some(name) = &a.save_baseline {
                baseline::validate_name(name)?;
            }
            let dir = measure::run(&project, &a)?;
            if let Some(name) = &a.save_baseline {
                let saved = baseline::save(&project, name, &dir)?;
                eprintln!("saved baseline `{name}` to {}", project.rel(&saved));
            }
            Ok(0)
        }
        Command::Compare(a) => compare::command(&project, &a),
        Command::Export(a) => export::command(&a),
        Command::Load(a) => load_command(&a),
        Command::Build(a) => {
            let (built, missing) = plugins::build_all(&project, a.only.as_deref(), a.force)?;
            for b in &built {
                println!(
                    "{:<16} {:>9} bytes  sha256 {}  {}{}",
                    b.name,
                    b.bytes,
                    b.sha256,
                    project.rel(&b.module),
                    if b.rebuilt { "" } else { "  (up to date)" }
                );
            }
            for m in &missing {
                println!("{:<16} not built: {}", m.name, m.reason);
            }
            if missing.is_empty() {
                Ok(0)
            } else {
                Err(usage(format!("{} plugin(s) could not be built (see above); `bench-runner doctor` lists the fixes", missing.len())))
            }
        }
        Command::Conformance(a) => conformance::command(&project, &a),
        Command::Doctor(a) => doctor::command(&project, &a),
        Command::Readme(a) => {
            let readme = a
                .readme
                .clone()
                .unwrap_or_else(|| project.root.join("README.md"));
            let run = a
                .run
                .clone()
                .unwrap_or_else(|| project.results_dir().join("latest"));
            let extra = readme::Extra {
                failure_run: a.failure_run.as_deref(),
                peers: a.peers.as_deref(),
                detector: a.detector.as_deref(),
            };
            readme::command(&project, &run, &readme, &extra)
        }
        Command::Failure(a) => failure::command(&project, &a),
        Command::Peers(a) => peers::command(&project, &a),
        Command::Micro(a) => micro::command(&project, &a),
        Command::Report(a) => {
            if let Some(code) = failure::report_command(&a.results)? {
                return Ok(code);
            }
            let r = results::Results::read(&a.results)?;
            let dir = if a.results.is_dir() {
                a.results.clone()
            } else {
                a.results
                    .parent()
                    .map(|p| p.to_path_buf())
                    .unwrap_or_default()
            };
            report::write_all(&r, &dir)?;
            print!("{}", report::summary_table(&r));
            eprintln!("wrote {}", dir.join("report.md").display());
            Ok(0)
        }
    }
}

pub fn default_run_args() -> RunArgs {
    RunArgs {
        profile: ProfileName::Default,
        only: None,
        out: None,
        envoy: commands::EnvoyArgs { envoy: None },
        rounds: None,
        workloads: None,
        rate: None,
        seed: 1,
        no_pin: false,
        base_port: None,
        rebuild: false,
        spin: 0,
        save_baseline: None,
        http2: false,
    }
}

/// Splits http://HOST:PORT/PATH, accepting loopback hosts only (this tool never loads other machines).
pub fn parse_loopback_url(url: &str) -> anyhow::Result<(std::net::SocketAddr, String, String)> {
    let bad = |why: &str| {
        usage(format!(
            "URL `{url}`: {why}; use http://127.0.0.1:PORT/path"
        ))
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (
            h,
            p.parse::<u16>()
                .map_err(|_| bad("the port is not a number"))?,
        ),
        _ => (authority, 80),
    };
    let ip: std::net::IpAddr = match host {
        "localhost" => [127, 0, 0, 1].into(),
        h => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| bad("the host must be a loopback IP address or localhost"))?,
    };
    if !ip.is_loopback() {
        return Err(bad("only loopback targets are allowed"));
    }
    Ok(((ip, port).into(), authority.to_string(), path.to_string()))
}

fn load_command(a: &LoadArgs) -> anyhow::Result<u8> {
    let (addr, authority, path) = parse_loopback_url(&a.url)?;
    let dur = |flag: &str, v: &str| commands::parse_duration(flag, v).map_err(usage);
    let duration = a
        .duration
        .as_deref()
        .map(|d| dur("-d/--duration", d))
        .transpose()?;
    let duration = if duration.is_none() && a.requests.is_none() {
        Some(std::time::Duration::from_secs(10))
    } else {
        duration
    };
    let warmup = dur("--warmup", &a.warmup)?;
    let plan = load::LoadPlan {
        addr,
        host: a.host.clone().unwrap_or(authority),
        path,
        connections: a.connections,
        pace: match a.rate {
            Some(rate) => load::Pace::Open { rate },
            None => load::Pace::Closed,
        },
        warmup,
        duration,
        requests: a.requests,
        max_duration: warmup
            + duration.unwrap_or(std::time::Duration::from_secs(600))
            + std::time::Duration::from_secs(30),
        timeout: dur("--timeout", &a.timeout)?,
        expect_status: a.expect_status,
        expect_body: a.expect_body.as_ref().map(|b| b.as_bytes().to_vec()),
        cpu: a.cpu,
        cpu_probe_pid: None,
        http2: a.http2,
    };
    plan.validate().map_err(usage)?;
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop_bar = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bar_thread = {
        use std::io::IsTerminal;
        let total = a.requests;
        let progress = progress.clone();
        let stop = stop_bar.clone();
        let secs = warmup + duration.unwrap_or_default();
        (std::io::stderr().is_terminal() && !a.json).then(|| {
            std::thread::spawn(move || {
                let bar = match total {
                    Some(n) => indicatif::ProgressBar::new(n),
                    None => indicatif::ProgressBar::new(secs.as_millis() as u64),
                };
                let t0 = std::time::Instant::now();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match total {
                        Some(_) => {
                            bar.set_position(progress.load(std::sync::atomic::Ordering::Relaxed))
                        }
                        None => bar.set_position(t0.elapsed().as_millis() as u64),
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                bar.finish_and_clear();
            })
        })
    };
    let outcome = load::run(&plan, Some(progress));
    stop_bar.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = bar_thread {
        let _ = t.join();
    }
    let outcome = outcome?;
    sys::check_interrupted()?;
    let s = outcome.summarize(plan.pace);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print!("{}", load::format_summary(&s));
        if !outcome.wrong_statuses.is_empty() {
            println!("  unexpected statuses seen: {:?}", outcome.wrong_statuses);
        }
    }
    Ok(if s.errors > 0 { 1 } else { 0 })
}
