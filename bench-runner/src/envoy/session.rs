//! Launching an Envoy for a set of listeners: ports, config file, log file, readiness.

use super::bootstrap::{Filter, ListenerSpec, Templates};
use super::extproc::Processor;
use super::process::{Envoy, StartOptions};
use super::EnvoyBin;
use crate::error::usage;
use crate::paths::Project;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `n` ports on 127.0.0.1: consecutive from `base` (each checked free), or free ones from the kernel.
pub fn allocate_ports(n: usize, base: Option<u16>) -> anyhow::Result<Vec<u16>> {
    match base {
        Some(b) => {
            let last = b as usize + n - 1;
            if last > u16::MAX as usize || b == 0 {
                return Err(usage(format!(
                    "--base-port {b}: needs {n} ports up to {last}; choose a lower port"
                )));
            }
            let ports: Vec<u16> = (b..=last as u16).collect();
            if let Some(p) = ports.iter().find(|p| crate::sys::port_busy(**p)) {
                return Err(usage(format!(
                    "port 127.0.0.1:{p} is in use (--base-port {b} uses {b}..{last}); choose another --base-port or omit it"
                )));
            }
            Ok(ports)
        }
        None => Ok(crate::sys::free_ports(n)?),
    }
}

pub struct Launch<'a> {
    pub project: &'a Project,
    pub envoy: &'a EnvoyBin,
    /// Folder for the config and the log.
    pub dir: &'a Path,
    /// File stem: `<stem>.json` and `<stem>.log`.
    pub stem: &'a str,
    pub admin_port: u16,
    pub cpu: Option<usize>,
    pub log_level: &'a str,
}

impl Launch<'_> {
    pub fn config_path(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.stem))
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.stem))
    }

    /// Writes the bootstrap for `listeners` and returns its path.
    pub fn write_config(&self, listeners: &[ListenerSpec]) -> anyhow::Result<PathBuf> {
        let templates = Templates::load(&self.project.envoy_dir())?;
        let cfg = templates.bootstrap(self.admin_port, listeners)?;
        let path = self.config_path();
        crate::sys::write_atomic(&path, serde_json::to_string_pretty(&cfg)?.as_bytes())?;
        Ok(path)
    }

    /// Starts the external processors of `listeners`' ext_proc filters (none when they have none;
    /// one per processor binary, the first's files named as with one), then writes the bootstrap
    /// pointing each listener at its own.
    fn processor_and_config(
        &self,
        listeners: &[ListenerSpec],
    ) -> anyhow::Result<(Vec<Processor>, PathBuf)> {
        self.processor_and_config_under(listeners, &Wrapped::default())
    }

    /// As [`Launch::processor_and_config`], every processor and Envoy's bootstrap behind `w`. One
    /// processor per processor binary (two builds side by side, `ab`), the first's files named as
    /// with one.
    fn processor_and_config_under(
        &self,
        listeners: &[ListenerSpec],
        w: &Wrapped,
    ) -> anyhow::Result<(Vec<Processor>, PathBuf)> {
        let templates = Templates::load(&self.project.envoy_dir())?;
        let binaries = Filter::ext_proc_binaries(listeners);
        let mut processors = Vec::with_capacity(binaries.len());
        for (i, binary) in binaries.iter().enumerate() {
            let stem = if i == 0 {
                self.stem.to_string()
            } else {
                format!("{}-{i}", self.stem)
            };
            let configs = Filter::ext_proc_configs_of(listeners, binary);
            processors.push(Processor::start_under(
                binary,
                &w.processor,
                self.dir,
                &stem,
                &configs,
            )?);
        }
        let mut cfg = if processors.is_empty() {
            templates.bootstrap(self.admin_port, listeners)?
        } else {
            let ports: Vec<u16> = processors.iter().map(|p| p.port).collect();
            templates.bootstrap_with_processors(self.admin_port, listeners, &ports)?
        };
        if let (Some(obj), Some(extra)) = (cfg.as_object_mut(), w.bootstrap.as_object()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        for (ty, fields) in &w.typed_configs {
            set_typed_config_fields(&mut cfg, ty, fields);
        }
        let path = self.config_path();
        crate::sys::write_atomic(&path, serde_json::to_string_pretty(&cfg)?.as_bytes())?;
        Ok((processors, path))
    }

    /// Writes the bootstrap for `listeners` and starts Envoy on it (and, first, the external
    /// processor of its ext_proc listeners), once.
    pub fn start(&self, listeners: &[ListenerSpec]) -> anyhow::Result<Envoy> {
        let (processors, config) = self.processor_and_config(listeners)?;
        let log = self.log_path();
        let mut envoy = Envoy::spawn_with_args(&self.options(&config, &log), &[])?;
        envoy.set_processors(processors);
        envoy.wait_ready(&self.options(&config, &log))?;
        Ok(envoy)
    }

    /// Starts Envoy on a bootstrap already written (any builder's), with extra command-line
    /// arguments (e.g. `--file-flush-interval-msec 100`), once.
    pub fn start_config(&self, config: &Path, extra_args: &[&str]) -> anyhow::Result<Envoy> {
        let log = self.log_path();
        Envoy::start_with_args(&self.options(config, &log), extra_args)
    }

    fn options<'b>(&'b self, config: &'b Path, log: &'b Path) -> StartOptions<'b> {
        self.options_at(config, log, 1)
    }

    fn options_at<'b>(
        &'b self,
        config: &'b Path,
        log: &'b Path,
        concurrency: u32,
    ) -> StartOptions<'b> {
        StartOptions {
            binary: &self.envoy.path,
            config,
            log,
            admin_port: self.admin_port,
            cpu: self.cpu,
            ready_timeout: Duration::from_secs(120),
            log_level: self.log_level,
            concurrency,
        }
    }

    /// Writes the bootstrap for `listeners` and starts Envoy without waiting for it to be ready
    /// (several processes can then start at once; [`Launch::wait_ready`] waits).
    pub fn spawn(&self, listeners: &[ListenerSpec]) -> anyhow::Result<Envoy> {
        self.spawn_at(listeners, 1)
    }

    /// Writes the bootstrap for `listeners` and starts Envoy with `concurrency` workers without waiting
    /// (first the external processor of its ext_proc listeners, as [`Launch::spawn`]): `footprint`
    /// times the start-up from before this call, so a processor's start counts in it.
    pub fn spawn_at(&self, listeners: &[ListenerSpec], concurrency: u32) -> anyhow::Result<Envoy> {
        let (processors, config) = self.processor_and_config(listeners)?;
        let log = self.log_path();
        let mut envoy = Envoy::spawn_with_args(&self.options_at(&config, &log, concurrency), &[])?;
        envoy.set_processors(processors);
        Ok(envoy)
    }

    /// As [`Launch::spawn`] (one worker), with Envoy and its external processor behind the programs
    /// of `w` and `w.bootstrap`'s top-level fields added to the bootstrap (`instructions` runs both
    /// under callgrind and leaves out the time-valued histograms).
    pub fn spawn_wrapped(&self, listeners: &[ListenerSpec], w: &Wrapped) -> anyhow::Result<Envoy> {
        let (processors, config) = self.processor_and_config_under(listeners, w)?;
        let log = self.log_path();
        let mut envoy = Envoy::spawn_under(&self.options(&config, &log), &w.envoy, &[])?;
        envoy.set_processors(processors);
        Ok(envoy)
    }

    /// Waits until an Envoy from [`Launch::spawn`] is ready.
    pub fn wait_ready(&self, envoy: &mut Envoy) -> anyhow::Result<()> {
        let (config, log) = (self.config_path(), self.log_path());
        envoy.wait_ready(&self.options(&config, &log))
    }

    /// As [`Launch::start`], with the port-clash retry ([`retry_port_clash`]): new ports for the
    /// admin and every listener are drawn as the first were (`allocate_ports(.., base_port)`), and
    /// `self.admin_port` and the listeners' ports are updated to the ones Envoy got.
    pub fn start_retrying(
        &mut self,
        listeners: &mut [ListenerSpec],
        base_port: Option<u16>,
    ) -> anyhow::Result<Envoy> {
        let stem = self.stem;
        retry_port_clash(stem, |redraw| {
            if redraw {
                let ports = allocate_ports(listeners.len() + 1, base_port)?;
                self.admin_port = ports[0];
                for (l, p) in listeners.iter_mut().zip(&ports[1..]) {
                    l.port = *p;
                }
            }
            self.start(listeners)
        })
    }
}

/// What [`Launch::spawn_wrapped`] puts around Envoy: a command prefix for Envoy and one for its
/// external processor (each a program that execs the real one in the same process), and top-level
/// bootstrap fields.
#[derive(Debug, Clone, Default)]
pub struct Wrapped {
    pub envoy: Vec<String>,
    pub processor: Vec<String>,
    /// A JSON object whose fields are set at the top of the bootstrap (Null: none).
    pub bootstrap: serde_json::Value,
    /// (`@type`, JSON object): the object's fields are set in every typed config of that type.
    pub typed_configs: Vec<(String, serde_json::Value)>,
}

/// Sets `fields` (a JSON object) in every object of `v` whose `@type` is `ty`.
pub fn set_typed_config_fields(v: &mut serde_json::Value, ty: &str, fields: &serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            if o.get("@type").and_then(|t| t.as_str()) == Some(ty) {
                for (k, x) in fields.as_object().into_iter().flatten() {
                    o.insert(k.clone(), x.clone());
                }
            }
            for x in o.values_mut() {
                set_typed_config_fields(x, ty, fields);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                set_typed_config_fields(x, ty, fields);
            }
        }
        _ => {}
    }
}

/// Attempts in all when Envoy cannot bind a port it was given.
pub const PORT_ATTEMPTS: usize = 3;

/// True when Envoy failed because a port was in use.
pub fn is_port_clash(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("Address already in use")
}

/// The one port-clash retry of every Envoy start (`what` names it in the message): a port found free can be taken (e.g. as the local
/// port of some client connection) before Envoy binds it. `start(redraw)` starts Envoy, drawing new
/// ports first when `redraw`; on a port clash it is called again with `redraw` true, at most
/// [`PORT_ATTEMPTS`] attempts in all. Any other error is returned at once.
pub fn retry_port_clash<T>(
    what: &str,
    mut start: impl FnMut(bool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut attempt = 1;
    loop {
        match start(attempt > 1) {
            Err(e) if attempt < PORT_ATTEMPTS && is_port_clash(&e) => {
                eprintln!(
                    "{what}: a port was taken before Envoy bound it; retrying with new ports"
                );
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// `envoy --mode validate -c FILE`: Ok(()) or the reason Envoy gives.
pub fn validate(envoy: &EnvoyBin, config: &Path) -> Result<(), String> {
    let out = crate::sys::die_with_runner(&mut std::process::Command::new(&envoy.path))
        .args(["--mode", "validate", "--disable-hot-restart", "-c"])
        .arg(config)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        Err(text.lines().rev().take(5).collect::<Vec<_>>().join("\n"))
    }
}

/// `envoy --mode validate -c FILE` with its whole output written to `log`; true when Envoy accepts the
/// config. Validation instantiates Wasm plugins and runs their `on_configure`, so a plugin that
/// rejects its configuration fails here exactly as it fails a real start, without serving.
pub fn validate_logged(envoy: &EnvoyBin, config: &Path, log: &Path) -> anyhow::Result<bool> {
    let file = std::fs::File::create(log)?;
    // Called from short-lived threads too: each waits for its child, which dies with it.
    let status = crate::sys::die_with_runner(&mut std::process::Command::new(&envoy.path))
        .args([
            "--mode",
            "validate",
            "--disable-hot-restart",
            "-l",
            "info",
            "-c",
        ])
        .arg(config)
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()?;
    Ok(status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_clash_is_retried_with_new_ports_at_most_three_times() {
        let clash =
            || anyhow::anyhow!("Envoy exited: cannot bind 127.0.0.1:1: Address already in use");
        let mut calls = vec![];
        let r = retry_port_clash("t", |redraw| {
            calls.push(redraw);
            if calls.len() < 2 {
                Err(clash())
            } else {
                Ok(7)
            }
        });
        assert_eq!((r.unwrap(), calls), (7, vec![false, true]));
        let mut n = 0;
        let r: anyhow::Result<()> = retry_port_clash("t", |_| {
            n += 1;
            Err(clash())
        });
        assert!(is_port_clash(&r.unwrap_err()));
        assert_eq!(n, PORT_ATTEMPTS);
        // Any other failure is returned at once.
        let mut n = 0;
        let r: anyhow::Result<()> = retry_port_clash("t", |_| {
            n += 1;
            Err(anyhow::anyhow!("bad config"))
        });
        assert!(r.is_err());
        assert_eq!(n, 1);
    }
}
