//! Running each tool once: ours in-process, wrk and oha as pinned child processes whose output and
//! CPU time are read back into a sample.

use super::*;

/// Runs a child pinned to `cpu`, bounded by `limit`; returns its stdout and its CPU time (user +
/// system, from wait4's rusage), ns.
pub(super) fn run_child(
    mut cmd: Command,
    cpu: Option<usize>,
    limit: Duration,
) -> anyhow::Result<(String, u64)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::sys::die_with_runner(&mut cmd);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(c) = cpu {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(c, &mut set);
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            }
            Ok(())
        });
    }
    let program = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .spawn()
        .map_err(|e| usage(format!("cannot start {program} ({e})")))?;
    let pid = child.id() as libc::pid_t;
    // The outputs are small (a summary), so reading them after the exit cannot block the child.
    let deadline = Instant::now() + limit;
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4.
    let mut usage_: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child; status and rusage are ours.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage_) };
        if r == pid {
            break;
        }
        if r < 0 {
            return Err(anyhow::anyhow!(
                "waiting for {program}: {}",
                std::io::Error::last_os_error()
            ));
        }
        if Instant::now() > deadline || crate::sys::interrupted() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: as above.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage_) };
            crate::sys::check_interrupted()?;
            return Err(usage(format!("{program} did not finish within {limit:?}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut s, &mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut s, &mut err);
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(usage(format!(
            "{program} failed (wait status {status}): {}",
            err.lines()
                .chain(out.lines())
                .take(3)
                .collect::<Vec<_>>()
                .join(" / ")
        )));
    }
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    Ok((out, tv(usage_.ru_utime) + tv(usage_.ru_stime)))
}

pub(super) fn run_ours(s: &Setup, c: usize, round: usize) -> anyhow::Result<Sample> {
    let warmup = Duration::from_secs(1).min(s.duration / 4);
    let plan = LoadPlan {
        addr: ([127, 0, 0, 1], s.port).into(),
        host: format!("127.0.0.1:{}", s.port),
        path: "/".into(),
        connections: c,
        pace: Pace::Closed,
        warmup,
        duration: Some(s.duration),
        requests: None,
        max_duration: warmup + s.duration + Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        expect_status: 200,
        expect_body: Some(Variant::baseline().expect_body.into_bytes()),
        cpu: s.cpu,
        cpu_probe_pid: None,
        cpu_probe_tid: None,
        cpu_probe_extra_pid: None,
        http2: false,
        body_bytes: 0,
        exchange: None,
    };
    let o = load::run(&plan, None)?;
    let m = o.summarize(plan.pace);
    // wrk's interval: run time / (responses per connection)
    let interval_ns = o.window.as_nanos() as f64 * c as f64 / o.ok.max(1) as f64;
    let corrected = o.latency.clone_correct(interval_ns as u64);
    let p50_wrk_style_us = if corrected.is_empty() {
        f64::NAN
    } else {
        corrected.value_at_quantile(0.5) as f64 / 1000.0
    };
    Ok(Sample {
        round,
        requests: m.requests,
        errors: m.errors,
        rps: m.rps,
        p50_us: m.latency_us.p50,
        p90_us: m.latency_us.p90,
        p99_us: m.latency_us.p99,
        p50_wrk_style_us,
        cpu_us_per_req: m.tool_cpu_us_per_req,
    })
}

pub(super) fn run_wrk(path: &str, s: &Setup, c: usize, round: usize) -> anyhow::Result<Sample> {
    let mut cmd = Command::new(path);
    // wrk takes whole seconds.
    cmd.args(["-t1", "-c", &c.to_string(), "-d"])
        .arg(format!("{}s", s.duration.as_secs_f64().round().max(1.0)))
        .args(["--timeout", "5s", "-s"])
        .arg(s.script)
        .arg(&s.url);
    let (out, cpu_ns) = run_child(cmd, s.cpu, s.duration + Duration::from_secs(30))?;
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("PEERS-JSON "))
        .ok_or_else(|| usage(format!("wrk printed no summary: {}", out.trim())))?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let requests = num("requests") as u64;
    Ok(Sample {
        round,
        requests,
        errors: num("errors") as u64,
        rps: requests as f64 / (num("duration_us") / 1e6),
        p50_us: num("p50"),
        p90_us: num("p90"),
        p99_us: num("p99"),
        p50_wrk_style_us: num("p50"),
        cpu_us_per_req: cpu_ns as f64 / 1000.0 / requests.max(1) as f64,
    })
}

pub(super) fn run_oha(path: &str, s: &Setup, c: usize, round: usize) -> anyhow::Result<Sample> {
    let mut cmd = Command::new(path);
    cmd.args([
        "--no-tui",
        "--output-format",
        "json",
        "-c",
        &c.to_string(),
        "-z",
    ])
    .arg(format!("{}ms", s.duration.as_millis()))
    .arg(&s.url);
    let (out, cpu_ns) = run_child(cmd, s.cpu, s.duration + Duration::from_secs(30))?;
    let v: serde_json::Value = serde_json::from_str(out.trim())
        .map_err(|e| usage(format!("oha's JSON output could not be read ({e})")))?;
    let ok: u64 = v["statusCodeDistribution"]
        .as_object()
        .map(|m| m.values().filter_map(|x| x.as_u64()).sum())
        .unwrap_or(0);
    let errors: u64 = v["errorDistribution"]
        .as_object()
        .map(|m| m.values().filter_map(|x| x.as_u64()).sum())
        .unwrap_or(0);
    let q = |k: &str| v["latencyPercentiles"][k].as_f64().unwrap_or(f64::NAN) * 1e6;
    let requests = ok + errors;
    Ok(Sample {
        round,
        requests,
        errors,
        rps: v["summary"]["requestsPerSec"].as_f64().unwrap_or(f64::NAN),
        p50_us: q("p50"),
        p90_us: q("p90"),
        p99_us: q("p99"),
        // oha reports raw latencies; the correction is not applied to it
        p50_wrk_style_us: f64::NAN,
        cpu_us_per_req: cpu_ns as f64 / 1000.0 / requests.max(1) as f64,
    })
}
