//! Timing one plugin in-process: batches of each benchmark on each engine, then the estimate and its
//! interval per figure.

use super::*;

pub(super) fn started(m: &Module) -> anyhow::Result<Vm> {
    let mut vm = m.instantiate()?;
    if !vm.start(b"")? {
        anyhow::bail!("proxy_on_vm_start returned false");
    }
    Ok(vm)
}

pub(super) fn loaded(m: &Module, config: &str) -> anyhow::Result<Vm> {
    let mut vm = started(m)?;
    if !vm.configure(config.as_bytes())? {
        anyhow::bail!(
            "the plugin rejected {config}: {:?}",
            vm.logs().last().map(|l| &l.message)
        );
    }
    Ok(vm)
}

/// Measures every built plugin on every selected engine. Each module is compiled once per engine
/// (and must start and accept the mock configuration to count as runnable); then every figure is
/// warmed up and calibrated, and the timed batches are interleaved: each of `batches` rounds runs
/// one batch of every figure in a seeded shuffled order, so drift of a shared machine spreads over
/// all figures alike. Never fails for one plugin or engine: what cannot run is listed in `skipped`
/// (and `modules[].error`).
pub fn measure(
    built: &[Built],
    s: &MicroSettings,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<MicroSection> {
    let mut section = MicroSection {
        host: "plugin-host (in-process proxy-wasm ABI 0.2.1 host; wasmtime 48, wasmi 2)".into(),
        settings: s.clone(),
        engines: vec![],
        modules: vec![],
        entries: vec![],
        skipped: vec![],
        instructions: None,
    };
    let mut tasks = tasks(built, s, &mut section, &mut progress)?;
    let failed = run_batches(built, s, &mut tasks, &mut progress)?;

    for (i, t) in tasks.into_iter().enumerate() {
        let b = &built[t.plugin];
        if let Some(why) = &failed[i] {
            section.skipped.push(Skipped {
                variant: format!("{}-{}-{}-{}", b.name, t.engine, t.benchmark, t.workload),
                reason: why.clone(),
            });
            continue;
        }
        let est = stats::bootstrap_ci(
            &t.means,
            stats::median,
            stats::BOOTSTRAP_RESAMPLES,
            s.seed.wrapping_add(7919 * (i as u64 + 1)),
        );
        section.entries.push(MicroEntry {
            implementation: b.name.clone(),
            language: b.language.clone(),
            engine: t.engine,
            benchmark: t.benchmark.into(),
            workload: t.workload,
            ops_per_batch: t.ops_per_batch,
            batch_us_per_op: t.means,
            us_per_op: est,
        });
    }
    Ok(section)
}

/// Compiles each module on each engine (recording the module, or why it cannot run) and lists the
/// figures to time: one task per benchmark and workload.
fn tasks<P: FnMut(&str)>(
    built: &[Built],
    s: &MicroSettings,
    section: &mut MicroSection,
    progress: &mut P,
) -> anyhow::Result<Vec<Task>> {
    let mut tasks: Vec<Task> = Vec::new();
    for id in &s.engines {
        let kind = EngineKind::from_id(id).ok_or_else(|| usage(format!("unknown engine {id}")))?;
        section.engines.push(MicroEngine {
            id: id.clone(),
            description: kind.description().into(),
        });
        let engine = match Engine::new(kind) {
            Ok(e) => e,
            Err(e) => {
                section.skipped.push(Skipped {
                    variant: format!("*-{id}"),
                    reason: format!("engine {id} is not available here: {e}"),
                });
                continue;
            }
        };
        for (pi, b) in built.iter().enumerate() {
            crate::sys::check_interrupted()?;
            progress(&format!("{} on {id}: compile", b.name));
            let wasm = std::fs::read(&b.module)?;
            let t = Instant::now();
            let compiled = engine.compile(&wasm);
            let compile_ms = t.elapsed().as_secs_f64() * 1000.0;
            let runnable = compiled
                .as_ref()
                .map_err(|e| anyhow::anyhow!("{e}"))
                .and_then(|m| {
                    loaded(m, &workload::config_for("mock").unwrap_or_default()).map(|_| ())
                });
            section.modules.push(MicroModule {
                implementation: b.name.clone(),
                engine: id.clone(),
                wasm_sha256: b.sha256.clone(),
                wasm_bytes: b.bytes,
                compile_ms: compiled.is_ok().then_some(compile_ms),
                error: runnable.as_ref().err().map(|e| format!("{e:#}")),
            });
            let module = match (compiled, runnable) {
                (Ok(m), Ok(())) => std::rc::Rc::new(m),
                (_, Err(e)) => {
                    section.skipped.push(Skipped {
                        variant: format!("{}-{id}", b.name),
                        reason: format!("{id} cannot run this module: {e:#}"),
                    });
                    continue;
                }
                (Err(_), Ok(())) => unreachable!("runnable implies compiled"),
            };
            let task = |benchmark: &'static str, wl: &str, op: Op| Task {
                plugin: pi,
                engine: id.clone(),
                module: module.clone(),
                benchmark,
                workload: wl.to_string(),
                op,
                ops_per_batch: 1,
                means: Vec::with_capacity(s.batches),
            };
            let has = |x: &str| s.benchmarks.iter().any(|b| b == x);
            if has("request") {
                for wl in &s.workloads {
                    let vm = loaded(&module, &workload::config_for(wl).unwrap_or_default())
                        .and_then(|mut vm| {
                            let first = vm.request(&workload::request())?;
                            workload::check(wl, &first).map_err(|e| anyhow::anyhow!(e))?;
                            Ok(vm)
                        });
                    match vm {
                        Ok(vm) => tasks.push(task("request", wl, Op::Request(Box::new(vm)))),
                        Err(e) => section.skipped.push(Skipped {
                            variant: format!("{}-{id}-request-{wl}", b.name),
                            reason: format!("{e:#}"),
                        }),
                    }
                }
            }
            if has("configure") {
                tasks.push(task(
                    "configure",
                    "small",
                    Op::Configure(workload::small_config()),
                ));
                tasks.push(task(
                    "configure",
                    "8k",
                    Op::Configure(workload::large_config()),
                ));
            }
            if has("instantiate") {
                tasks.push(task("instantiate", "-", Op::Instantiate));
            }
        }
    }
    Ok(tasks)
}

/// Warms up and calibrates every task, then runs the timed batches interleaved in seeded shuffled
/// rounds. Returns, per task, why it failed (None: it has all its batches).
fn run_batches<P: FnMut(&str)>(
    built: &[Built],
    s: &MicroSettings,
    tasks: &mut [Task],
    progress: &mut P,
) -> anyhow::Result<Vec<Option<String>>> {
    // A figure whose operation fails is dropped with the reason; an interruption stops everything.
    fn fail(failed: &mut [Option<String>], i: usize, e: anyhow::Error) -> anyhow::Result<()> {
        if crate::error::is_interrupted(&e) {
            return Err(e);
        }
        failed[i] = Some(format!("{e:#}"));
        Ok(())
    }
    let mut failed: Vec<Option<String>> = vec![None; tasks.len()];
    for (i, t) in tasks.iter_mut().enumerate() {
        crate::sys::check_interrupted()?;
        progress(&format!(
            "{} on {}: warm-up {} {}",
            built[t.plugin].name, t.engine, t.benchmark, t.workload
        ));
        if let Err(e) = t.calibrate(s) {
            fail(&mut failed, i, e)?;
        }
    }
    let mut rng = stats::Rng::new(s.seed);
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    for round in 0..s.batches {
        progress(&format!(
            "round {}/{} of timed batches",
            round + 1,
            s.batches
        ));
        rng.shuffle(&mut order);
        for &i in &order {
            crate::sys::check_interrupted()?;
            if failed[i].is_some() {
                continue;
            }
            if let Err(e) = tasks[i].batch() {
                fail(&mut failed, i, e)?;
            }
        }
    }
    Ok(failed)
}
