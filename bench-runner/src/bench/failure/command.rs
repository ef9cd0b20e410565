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
    let own_wasm = a.own.as_ref().is_some_and(|p| {
        p.specs
            .iter()
            .any(|s| matches!(s.kind, crate::plugins::own::OwnKind::Wasm { .. }))
    });
    let runtime = if built.iter().any(Built::is_wasm) || own_wasm {
        pick_runtime(project, &envoy, &out.join("failure"))?
    } else {
        "-".to_string()
    };
    let mut imps = implementations(&built, &runtime, only.as_deref());
    // Plugins of your own: ready and probed as in `run` (their stated requests answered as stated),
    // then scenarios of their own when --crash-on says how to make them fail.
    let own_run = match &a.own {
        Some(plan) => Some(crate::bench::own::prepare(
            project,
            &envoy,
            plan,
            &[runtime.as_str()],
            &out,
        )?),
        None => None,
    };
    let mut own_skipped = vec![];
    if let Some(run) = &own_run {
        let requests = a.crash_on.as_ref().map(|(_, crash)| {
            std::sync::Arc::new(super::own::OwnRequests::new(&run.exchange, crash.clone()))
        });
        let (more, skipped) =
            super::own::implementations(&run.plugins, requests.as_ref(), &runtime);
        for s in &skipped {
            eprintln!("failure: skipping {}: {}", s.variant, s.reason);
        }
        imps.extend(more);
        own_skipped = skipped;
    }
    let n_scen: usize = imps
        .iter()
        .map(|i| i.policies(&plan).len() * plan.crash_every.len())
        .sum();
    eprintln!(
        "failure: {} implementations, {n_scen} scenarios of {} requests{}; results go to {}",
        imps.len(),
        plan.requests(),
        if plan.runaway && imps.iter().any(|i| !i.is_own()) {
            ", plus one runaway plugin each of the suite's"
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
    section.skipped.extend(own_skipped);
    if let Some(run) = &own_run {
        section.own = Some(run.section());
        section.crash_on = a.crash_on.as_ref().map(|(file, requests)| CrashOn {
            file: file.display().to_string(),
            requests: requests
                .iter()
                .map(crate::bench::own::request_record)
                .collect(),
        });
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
    if let Some(o) = &run.failure.own {
        md.push_str(&crate::report::own::section(o));
    }
    if let Some(c) = &run.failure.crash_on {
        md.push_str(&format!(
            "- the request that makes them fail (`--crash-on {}`), sent as every Nth request (`crash_every` N, counting from 1) between the stated ones; an answer is the plugin's when it is the stated one, the upstream's when it has the upstream's body without being the stated one (the plugin was bypassed): {}\n",
            c.file,
            c.requests
                .iter()
                .map(|q| format!("`{} {}` with {}", q.method, q.path, q.headers.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
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
