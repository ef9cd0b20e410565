//! `bench-runner failure` as a whole: picks the runtime, runs the scenarios into a run folder of its
//! own and writes failure.json, report.md and the charts; and `report` of such a folder.

use super::*;

/// Picks the Wasm runtime: the first of v8, wamr, wasmtime, wavm this Envoy has.
pub fn pick_runtime(project: &Project, envoy: &EnvoyBin, dir: &Path) -> anyhow::Result<String> {
    let runtimes = crate::envoy::runtimes::probe_runtimes(project, envoy, dir)?;
    crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .find(|r| runtimes.iter().any(|x| x == r))
        .map(String::from)
        .ok_or_else(|| {
            usage(format!(
                "Envoy {} has no Wasm runtime (it has: {})",
                envoy.path.display(),
                runtimes.join(", ")
            ))
        })
}

/// `bench-runner failure`: runs the scenarios and writes `failure.json`, `report.md` and the timeline
/// charts into a run folder of its own.
pub fn command(project: &Project, a: &FailureOptions) -> anyhow::Result<u8> {
    let plan = a.plan.clone();
    let only = a.only.clone();
    plugins::check_only(project, only.as_deref(), true)?;
    let out = a.out.clone().unwrap_or_else(|| {
        project.results_dir().join(format!(
            "{}-failure",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    crate::sys::check_out_dir("--out", &out, &["failure.json"])?;
    std::fs::create_dir_all(&out).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let envoy = locate::locate(a.envoy.as_deref(), project, true)?;
    eprintln!("envoy {} ({})", envoy.version, envoy.path.display());
    let (built, missing) = plugins::prepare_all(project, only.as_deref(), false)?;
    let runtime = if built.iter().any(Built::is_wasm) {
        pick_runtime(project, &envoy, &out.join("failure"))?
    } else {
        "-".to_string()
    };
    let imps = implementations(&built, &runtime, only.as_deref());
    let n_scen: usize = imps
        .iter()
        .map(|i| i.policies(&plan).len() * plan.crash_every.len())
        .sum();
    eprintln!(
        "failure: {} implementations, {n_scen} scenarios of {} requests{}; results go to {}",
        imps.len(),
        plan.requests(),
        if plan.runaway {
            ", plus one runaway plugin each"
        } else {
            ""
        },
        out.display()
    );
    let ctx = Context {
        project,
        envoy: &envoy,
        dir: &out,
    };
    let mut section = run_scenarios(&ctx, &plan, &imps)?;
    section
        .skipped
        .extend(super::left_out(&built, only.as_deref(), "failure"));
    for m in missing {
        section.skipped.push(Skipped::unavailable(&m));
    }
    let run = FailureRun {
        suite_version: env!("CARGO_PKG_VERSION").into(),
        host: crate::results::host_info(None, None),
        runner: crate::results::RunnerBuild::current(),
        failure: section,
    };
    let json_path = out.join("failure.json");
    crate::sys::write_atomic(&json_path, serde_json::to_string_pretty(&run)?.as_bytes())?;
    write_report(&run, &out)?;
    print!("{}", crate::report::failure::matrix(&run.failure));
    eprintln!(
        "wrote {} and {}",
        json_path.display(),
        out.join("report.md").display()
    );
    if run.failure.status == "interrupted" {
        return Err(Error::Interrupted.into());
    }
    Ok(0)
}

pub(super) fn write_report(run: &FailureRun, dir: &Path) -> anyhow::Result<()> {
    crate::report::failure::write_charts(&run.failure, dir)?;
    let mut md = String::new();
    md.push_str(&format!(
        "# Plugin failures: run of {}\n\n",
        run.failure.started_at
    ));
    md.push_str(&crate::report::failure::markdown(&run.failure));
    md.push_str(&format!(
        "\n- host: {} · {} cores · kernel {}\n- runner built with cargo profile `{}`, opt-level {}\n",
        run.host.cpu_model, run.host.cores, run.host.kernel, run.runner.cargo_profile, run.runner.opt_level
    ));
    crate::sys::write_atomic(&dir.join("report.md"), md.as_bytes())?;
    Ok(())
}

/// `report PATH` for a failure run folder (or its failure.json): re-renders report.md and the charts.
/// None when PATH is not a failure run.
pub fn report_command(path: &Path) -> anyhow::Result<Option<u8>> {
    let (json, dir) = if path.is_dir() {
        if path.join("results.json").exists() || !path.join("failure.json").exists() {
            return Ok(None);
        }
        (path.join("failure.json"), path.to_path_buf())
    } else if path.file_name().is_some_and(|n| n == "failure.json") {
        (
            path.to_path_buf(),
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    } else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&json)
        .map_err(|e| usage(format!("cannot read {} ({e})", json.display())))?;
    let run: FailureRun = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "{} is not a failure.json of this runner: {e}",
            json.display()
        ))
    })?;
    write_report(&run, &dir)?;
    print!("{}", crate::report::failure::matrix(&run.failure));
    eprintln!("wrote {}", dir.join("report.md").display());
    Ok(Some(0))
}
