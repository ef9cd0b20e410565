//! The flags that bring plugins of your own into a run (`--plugin`, `--lua`, `--dynamic-module`,
//! `--ext-proc`, `--plugins-dir`), the options that configure the plugin flag before them
//! (`--plugin-config`, `--root-id`, `--vm-config`, `--module-name`), the requests to send
//! (`--request`) and the answer that counts (`--expect`, `--expect-body`, `--expect-header`):
//! turned into a checked [`OwnPlan`] before anything runs.

use crate::bench::own::OwnPlan;
use crate::error::usage;
use crate::load::request::{read_exchange, ExpectFlags};
use crate::paths::Project;
use crate::plugins::own::{SourceFlag, OPTION_FLAGS, SOURCE_FLAGS};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Plugins of your own")]
pub struct OwnArgs {
    /// A proxy-wasm module of yours, `[NAME=]PATH.wasm` (repeatable; each flag below configures the
    /// plugin flag before it). With plugins of your own and no `--only`, only they are measured
    /// against the baseline; `--only rust,lua` measures those of the suite beside them.
    #[arg(long = "plugin", value_name = "[NAME=]PATH.wasm")]
    pub plugin: Vec<String>,
    /// An Envoy Lua script of yours, `[NAME=]FILE.lua`, run as it is.
    #[arg(long, value_name = "[NAME=]FILE.lua")]
    pub lua: Vec<String>,
    /// A dynamic module of yours, `[NAME=]PATH.so`, built for this Envoy's ABI.
    #[arg(long, value_name = "[NAME=]PATH.so")]
    pub dynamic_module: Vec<String>,
    /// An ext_proc processor of yours: `[NAME=]127.0.0.1:PORT` (you run it), or a command the runner
    /// starts and stops (`{port}` in it and $PORT are the loopback port it must listen on).
    #[arg(long, value_name = "[NAME=]ADDR|CMD")]
    pub ext_proc: Vec<String>,
    /// A folder with a plugin.toml (the format of plugins/*/plugin.toml, plus `configuration`), or
    /// folders holding one: built with the suite's cached build.
    #[arg(long, value_name = "DIR")]
    pub plugins_dir: Vec<String>,
    /// The configuration of the plugin flag before it: a file, or the JSON itself (an ext_proc
    /// processor's: fields of Envoy's ExternalProcessor, e.g. its processing_mode).
    #[arg(long, value_name = "FILE|JSON")]
    pub plugin_config: Vec<String>,
    /// The root id of the Wasm plugin before it (default: empty, Envoy's default root context).
    #[arg(long, value_name = "ID")]
    pub root_id: Vec<String>,
    /// Fields merged into the vm_config of the Wasm plugin before it (JSON object).
    #[arg(long, value_name = "JSON")]
    pub vm_config: Vec<String>,
    /// The filter name Envoy asks the dynamic module before it for (default: the plugin's name).
    #[arg(long, value_name = "N")]
    pub module_name: Vec<String>,
    /// The requests to send (TOML, or JSON by its .json name: method, path, host, headers, body, or a
    /// [[requests]] list cycled through; an [expect] table): see docs/own-plugin.md. Default: GET /.
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,
    /// The status your plugins must answer every request with (default: the file's, else 200).
    #[arg(long, value_name = "STATUS")]
    pub expect: Option<u16>,
    /// Text the body of every answer must contain.
    #[arg(long, value_name = "TEXT")]
    pub expect_body: Option<String>,
    /// A header every answer must carry: `name`, or `name: value` for that exact value.
    #[arg(long, value_name = "NAME[: VALUE]")]
    pub expect_header: Option<String>,
    /// Where each plugin flag and option stood on the command line: (index, flag, value).
    #[arg(skip)]
    pub positions: Vec<(usize, String, String)>,
}

/// clap's ids of the flags whose order matters, with their spelling.
const ORDERED: [(&str, &str); 9] = [
    ("plugin", "--plugin"),
    ("lua", "--lua"),
    ("dynamic_module", "--dynamic-module"),
    ("ext_proc", "--ext-proc"),
    ("plugins_dir", "--plugins-dir"),
    ("plugin_config", "--plugin-config"),
    ("root_id", "--root-id"),
    ("vm_config", "--vm-config"),
    ("module_name", "--module-name"),
];

impl OwnArgs {
    /// Records where each plugin flag and option stood (from the parsed command line), so that an
    /// option configures the plugin flag before it.
    pub fn record_positions(&mut self, m: &clap::ArgMatches) {
        let mut out = vec![];
        for (id, flag) in ORDERED {
            let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_many::<String>(id)) else {
                continue;
            };
            for (i, v) in idx.zip(vals) {
                out.push((i, flag.to_string(), v.clone()));
            }
        }
        out.sort();
        self.positions = out;
    }

    /// Every flag in command-line order: from the recorded positions, else (built in code) the
    /// plugin flags kind by kind with the options only when there is one plugin flag.
    fn in_order(&self) -> Vec<(String, String)> {
        if !self.positions.is_empty() {
            return self
                .positions
                .iter()
                .map(|(_, f, v)| (f.clone(), v.clone()))
                .collect();
        }
        let lists = [
            &self.plugin,
            &self.lua,
            &self.dynamic_module,
            &self.ext_proc,
            &self.plugins_dir,
            &self.plugin_config,
            &self.root_id,
            &self.vm_config,
            &self.module_name,
        ];
        ORDERED
            .iter()
            .zip(lists)
            .flat_map(|((_, flag), vals)| vals.iter().map(|v| (flag.to_string(), v.clone())))
            .collect()
    }

    /// The plugin flags, each with the options after it.
    pub fn source_flags(&self) -> anyhow::Result<Vec<SourceFlag>> {
        let mut out: Vec<SourceFlag> = vec![];
        for (flag, value) in self.in_order() {
            if SOURCE_FLAGS.contains(&flag.as_str()) {
                out.push(SourceFlag {
                    flag,
                    value,
                    options: vec![],
                });
            } else if OPTION_FLAGS.contains(&flag.as_str()) {
                match out.last_mut() {
                    Some(s) => s.options.push((flag, value)),
                    None => {
                        return Err(usage(format!(
                            "{flag} configures the plugin flag before it; put it after --plugin, --lua, --dynamic-module, --ext-proc or --plugins-dir"
                        )))
                    }
                }
            }
        }
        if self.positions.is_empty() && out.len() > 1 && out.iter().any(|s| !s.options.is_empty()) {
            return Err(usage(
                "with several plugins, give each option right after the plugin flag it configures",
            ));
        }
        Ok(out)
    }

    /// The checked plan of a run's plugins of your own; None without any. Files, names, options and
    /// the request file are all checked here (exit 2 naming the flag or file).
    pub fn plan(&self, project: &Project) -> anyhow::Result<Option<OwnPlan>> {
        let flags = self.source_flags()?;
        if flags.is_empty() {
            let stray = [
                ("--request", self.request.is_some()),
                ("--expect", self.expect.is_some()),
                ("--expect-body", self.expect_body.is_some()),
                ("--expect-header", self.expect_header.is_some()),
            ];
            if let Some((f, _)) = stray.iter().find(|(_, given)| *given) {
                return Err(usage(format!(
                    "{f} states what a plugin of your own must answer; give the plugin too (--plugin, --lua, --dynamic-module, --ext-proc or --plugins-dir)"
                )));
            }
            return Ok(None);
        }
        let taken: Vec<String> = crate::plugins::discover_all(project)?
            .into_iter()
            .map(|p| p.name)
            .collect();
        let specs = crate::plugins::own::specs(&flags, &taken)?;
        let exchange = read_exchange(
            "--request",
            self.request.as_deref(),
            &ExpectFlags {
                status: self.expect,
                body: self.expect_body.clone(),
                header: self.expect_header.clone(),
            },
        )?;
        Ok(Some(OwnPlan {
            specs,
            exchange,
            request_file: self.request.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{parse, Command};

    fn own_of(args: &[&str]) -> OwnArgs {
        match parse(args).unwrap().command {
            Some(Command::Run(a)) => *a.own,
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn options_configure_the_plugin_flag_before_them() {
        let a = own_of(&[
            "bench-runner",
            "run",
            "--plugin",
            "a=x.wasm",
            "--plugin-config",
            "{}",
            "--profile",
            "quick",
            "--lua",
            "b.lua",
            "--plugin",
            "c=y.wasm",
            "--root-id",
            "r",
            "--plugin-config",
            "cfg.json",
        ]);
        let f = a.source_flags().unwrap();
        let shape: Vec<(&str, &str, usize)> = f
            .iter()
            .map(|s| (s.flag.as_str(), s.value.as_str(), s.options.len()))
            .collect();
        assert_eq!(
            shape,
            [
                ("--plugin", "a=x.wasm", 1),
                ("--lua", "b.lua", 0),
                ("--plugin", "c=y.wasm", 2)
            ]
        );
        assert_eq!(f[2].options[0], ("--root-id".to_string(), "r".to_string()));
    }

    #[test]
    fn an_option_before_any_plugin_is_refused() {
        let a = own_of(&[
            "bench-runner",
            "run",
            "--root-id",
            "r",
            "--plugin",
            "x.wasm",
        ]);
        let e = a.source_flags().unwrap_err().to_string();
        assert!(
            e.contains("--root-id configures the plugin flag before it"),
            "{e}"
        );
    }
}
