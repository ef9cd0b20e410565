//! Plugins of your own, from outside the repository: a proxy-wasm module (`--plugin`), an Envoy Lua
//! script (`--lua`), a dynamic module (`--dynamic-module`), an ext_proc processor at a loopback
//! address or started from a command (`--ext-proc`), or folders with a `plugin.toml` built like the
//! suite's (`--plugins-dir`). Each is checked here before anything runs (the file is there and is
//! what its flag says, its options apply to its kind, its name is free) and becomes an Envoy filter
//! exactly as the user gave it: its own configuration text, root id, VM settings, filter name. It is
//! never held to the suite's mock-response contract; what it must answer is what the user stated.

use super::{sha256_hex, Plugin, DYNAMIC_MODULE_KIND, EXT_PROC_KIND, LUA_KIND, WASM_KIND};
use crate::envoy::Filter;
use crate::error::usage;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The flags that name a plugin of your own.
pub const SOURCE_FLAGS: [&str; 5] = [
    "--plugin",
    "--lua",
    "--dynamic-module",
    "--ext-proc",
    "--plugins-dir",
];
/// The flags that configure the plugin flag before them.
pub const OPTION_FLAGS: [&str; 4] = [
    "--plugin-config",
    "--root-id",
    "--vm-config",
    "--module-name",
];

/// One plugin flag as given, with the option flags that followed it (before the next plugin flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFlag {
    /// One of [`SOURCE_FLAGS`].
    pub flag: String,
    pub value: String,
    /// (one of [`OPTION_FLAGS`], value), in order.
    pub options: Vec<(String, String)>,
}

/// Where an ext_proc processor of your own is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtProcTarget {
    /// A processor you run, on 127.0.0.1.
    Addr(SocketAddr),
    /// A command the runner starts (and owns) for the run; `{port}` in it, and `$PORT` in its
    /// environment, are the free loopback port it must listen on.
    Command(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum OwnKind {
    Wasm {
        /// `root_id` of the plugin (empty unless given: Envoy's default root context).
        root_id: String,
        /// Fields merged into `vm_config` (`--vm-config`).
        vm_config: Map<String, Value>,
    },
    Lua,
    DynamicModule {
        /// The filter name Envoy asks the module for (default: the plugin's name).
        filter_name: String,
    },
    ExtProc {
        target: ExtProcTarget,
    },
}

impl OwnKind {
    /// The manifest kind it corresponds to (for results).
    pub fn name(&self) -> &'static str {
        match self {
            OwnKind::Wasm { .. } => WASM_KIND,
            OwnKind::Lua => LUA_KIND,
            OwnKind::DynamicModule { .. } => DYNAMIC_MODULE_KIND,
            OwnKind::ExtProc { .. } => EXT_PROC_KIND,
        }
    }
}

/// A plugin of your own, checked: ready once its file is hashed (and, from a folder, built).
#[derive(Debug, Clone)]
pub struct OwnSpec {
    /// The variant id prefix: `[NAME=]` or the file's stem.
    pub name: String,
    /// How it was given, for messages and results (`--plugin auth=x.wasm`).
    pub given: String,
    pub kind: OwnKind,
    /// What Envoy loads (None: an ext_proc processor). From a folder: its manifest's `output`,
    /// there once built.
    pub file: Option<PathBuf>,
    /// A `--plugins-dir` folder: built with the suite's cached build before it runs.
    pub build: Option<Plugin>,
    /// The configuration handed to it (a Wasm plugin's `configuration`, a dynamic module's
    /// `filter_config`; an ext_proc processor's: fields of Envoy's `ExternalProcessor`, JSON).
    pub configuration: String,
}

/// A plugin of your own ready to run: its file hashed, its script read, its processor's port known.
#[derive(Debug, Clone)]
pub struct OwnPlugin {
    pub spec: OwnSpec,
    pub sha256: Option<String>,
    pub bytes: Option<u64>,
    /// A Lua plugin's script.
    pub script: Option<String>,
    /// An ext_proc processor's port on 127.0.0.1.
    pub port: Option<u16>,
    /// The processor the runner started for it (its CPU time is counted beside Envoy's).
    pub pid: Option<u32>,
}

impl OwnPlugin {
    /// Hashes (and for Lua reads) the file of `spec`, which must exist by now.
    pub fn ready(spec: OwnSpec) -> anyhow::Result<OwnPlugin> {
        let (sha256, bytes, script) = match &spec.file {
            Some(f) => {
                let b = std::fs::read(f).map_err(|e| {
                    usage(format!("{}: cannot read {} ({e})", spec.given, f.display()))
                })?;
                let script = match spec.kind {
                    OwnKind::Lua => Some(String::from_utf8(b.clone()).map_err(|_| {
                        usage(format!("{}: {} is not UTF-8 text", spec.given, f.display()))
                    })?),
                    _ => None,
                };
                (Some(sha256_hex(&b)), Some(b.len() as u64), script)
            }
            None => (None, None, None),
        };
        let port = match &spec.kind {
            OwnKind::ExtProc {
                target: ExtProcTarget::Addr(a),
            } => Some(a.port()),
            _ => None,
        };
        Ok(OwnPlugin {
            spec,
            sha256,
            bytes,
            script,
            port,
            pid: None,
        })
    }

    /// The file's name (what reports call the plugin, with its sha256).
    pub fn file_name(&self) -> String {
        match &self.spec.file {
            Some(f) => f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().to_string(),
            ),
            None => match &self.spec.kind {
                OwnKind::ExtProc {
                    target: ExtProcTarget::Addr(a),
                } => a.to_string(),
                OwnKind::ExtProc {
                    target: ExtProcTarget::Command(argv),
                } => argv.join(" "),
                _ => "-".into(),
            },
        }
    }

    /// The Envoy filter that runs it; a Wasm plugin on `runtime` (one VM per plugin and runtime).
    pub fn filter(&self, runtime: &str) -> anyhow::Result<Filter> {
        let s = &self.spec;
        Ok(match &s.kind {
            OwnKind::Wasm { root_id, vm_config } => {
                let mut extra = Map::new();
                extra.insert("root_id".into(), Value::String(root_id.clone()));
                // Envoy's default, not the suite's template's (which its body mode needs).
                extra.insert("allow_on_headers_stop_iteration".into(), Value::Bool(false));
                if !vm_config.is_empty() {
                    extra.insert("vm_config".into(), Value::Object(vm_config.clone()));
                }
                Filter::Wasm {
                    module: self.file()?,
                    runtime: runtime.into(),
                    configuration: s.configuration.clone(),
                    plugin_extra: extra,
                    vm_id: Some(format!("own-{}-{runtime}", s.name)),
                }
            }
            OwnKind::Lua => Filter::Lua {
                script: self.script.clone().unwrap_or_default(),
            },
            OwnKind::DynamicModule { filter_name } => Filter::DynamicModule {
                module: self.file()?,
                configuration: s.configuration.clone(),
                filter_name: Some(filter_name.clone()),
            },
            OwnKind::ExtProc { .. } => Filter::ExtProcAt {
                cluster: format!("own-{}", s.name),
                port: self.port.ok_or_else(|| {
                    anyhow::anyhow!("{}: its processor has not been started", s.given)
                })?,
                settings: ext_proc_settings(&s.given, &s.configuration)?,
            },
        })
    }

    fn file(&self) -> anyhow::Result<PathBuf> {
        self.spec
            .file
            .clone()
            .ok_or_else(|| anyhow::anyhow!("{}: no file", self.spec.given))
    }
}

/// An ext_proc processor's configuration: a JSON object of `ExternalProcessor` fields (or nothing).
fn ext_proc_settings(given: &str, text: &str) -> anyhow::Result<Map<String, Value>> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(usage(format!(
            "{given}: --plugin-config of an ext_proc processor must be a JSON object of Envoy's ExternalProcessor fields (e.g. {{\"processing_mode\": {{\"response_header_mode\": \"SKIP\"}}}})"
        ))),
    }
}

/// `[NAME=]VALUE`: the name when the part before the first `=` is one (no `/`, no space).
fn split_name(value: &str) -> (Option<&str>, &str) {
    match value.split_once('=') {
        Some((n, rest))
            if !n.is_empty()
                && n.len() <= 40
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            (Some(n), rest)
        }
        _ => (None, value),
    }
}

/// A name fit for a variant id, a stat prefix and a file name: lower case letters, digits and `-`.
fn name_from(text: &str) -> String {
    let mut s: String = text
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "own".into()
    } else {
        s.chars().take(40).collect()
    }
}

fn stem(p: &Path) -> String {
    let s = p
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    // `libauth.so` -> `auth`
    name_from(
        s.strip_prefix("lib")
            .filter(|r| !r.is_empty())
            .unwrap_or(&s),
    )
}

/// Splits a command line on spaces, keeping `'...'` and `"..."` together.
pub fn split_command(cmd: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in cmd.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `--ext-proc` ADDR or CMD: an address when it is `HOST:PORT` (only 127.0.0.1 and localhost),
/// else a command.
fn ext_proc_target(given: &str, value: &str) -> anyhow::Result<ExtProcTarget> {
    if !value.contains(char::is_whitespace) {
        if let Some((host, port)) = value.rsplit_once(':') {
            if let Ok(port) = port.parse::<u16>() {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if host == "127.0.0.1" || host == "localhost" {
                    if port == 0 {
                        return Err(usage(format!(
                            "{given}: port 0; give the port your processor listens on"
                        )));
                    }
                    return Ok(ExtProcTarget::Addr(SocketAddr::from((
                        [127, 0, 0, 1],
                        port,
                    ))));
                }
                return Err(usage(format!(
                    "{given}: the suite sends only loopback traffic; run your processor on 127.0.0.1 (or give a command, and the runner starts it)"
                )));
            }
        }
    }
    let argv = split_command(value);
    if argv.is_empty() {
        return Err(usage(format!("{given}: give HOST:PORT or a command")));
    }
    Ok(ExtProcTarget::Command(argv))
}

/// A file a plugin flag names: it must be a readable file starting with `magic` (when given).
fn check_file(given: &str, path: &Path, what: &str, magic: Option<&[u8]>) -> anyhow::Result<()> {
    let mut head = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read;
        if f.metadata()?.is_dir() {
            return Err(std::io::Error::other("a folder, not a file"));
        }
        f.read(&mut head)
    });
    match read {
        Err(e) => Err(usage(format!(
            "{given}: cannot read {} ({e}); give the path of {what}",
            path.display()
        ))),
        Ok(n) => match magic {
            Some(m) if head[..n] != *m => Err(usage(format!(
                "{given}: {} is not {what} (it does not start with the bytes one does)",
                path.display()
            ))),
            _ => Ok(()),
        },
    }
}

/// Every plugin of your own from its flags, checked (files, options, names: each problem a usage
/// error naming the flag); `taken`: the names already used (the suite's implementations).
pub fn specs(flags: &[SourceFlag], taken: &[String]) -> anyhow::Result<Vec<OwnSpec>> {
    let mut out: Vec<OwnSpec> = vec![];
    for f in flags {
        let given = format!("{} {}", f.flag, f.value);
        let (name, value) = split_name(&f.value);
        if value.is_empty() {
            return Err(usage(format!("{}: give a path", f.flag)));
        }
        let mut found: Vec<OwnSpec> = match f.flag.as_str() {
            // `ab --base-plugin/--new-plugin`: a module each, like --plugin.
            "--plugin" | "--base-plugin" | "--new-plugin" => {
                let p = PathBuf::from(value);
                check_file(&given, &p, "a WebAssembly module (.wasm)", Some(b"\0asm"))?;
                vec![one(
                    &given,
                    name,
                    &p,
                    OwnKind::Wasm {
                        root_id: String::new(),
                        vm_config: Map::new(),
                    },
                )]
            }
            "--lua" => {
                let p = PathBuf::from(value);
                check_file(&given, &p, "a Lua script", None)?;
                vec![one(&given, name, &p, OwnKind::Lua)]
            }
            "--dynamic-module" => {
                let p = PathBuf::from(value);
                check_file(&given, &p, "a shared object (.so)", Some(b"\x7fELF"))?;
                vec![one(
                    &given,
                    name,
                    &p,
                    OwnKind::DynamicModule {
                        filter_name: String::new(),
                    },
                )]
            }
            "--ext-proc" => {
                let target = ext_proc_target(&given, value)?;
                let default = match &target {
                    ExtProcTarget::Addr(_) => "ext-proc".to_string(),
                    ExtProcTarget::Command(argv) => stem(Path::new(&argv[0])),
                };
                vec![OwnSpec {
                    name: name.map_or(default, name_from),
                    given: given.clone(),
                    kind: OwnKind::ExtProc { target },
                    file: None,
                    build: None,
                    configuration: String::new(),
                }]
            }
            "--plugins-dir" => {
                if name.is_some() {
                    return Err(usage(format!(
                        "{given}: a folder's plugins are named after their folders; drop `NAME=`"
                    )));
                }
                from_dir(&given, Path::new(value))?
            }
            other => return Err(usage(format!("{other}: not a plugin flag"))),
        };
        for s in &mut found {
            apply_options(s, &f.options)?;
        }
        out.extend(found);
    }
    for (i, s) in out.iter().enumerate() {
        if taken.contains(&s.name) || ["baseline", "baseline-aa"].contains(&s.name.as_str()) {
            return Err(usage(format!(
                "{}: the name `{}` is the suite's; name yours (`NAME=...`)",
                s.given, s.name
            )));
        }
        if let Some(other) = out[..i].iter().find(|o| o.name == s.name) {
            return Err(usage(format!(
                "{} and {} are both named `{}`; name them apart (`NAME=...`)",
                other.given, s.given, s.name
            )));
        }
    }
    Ok(out)
}

fn one(given: &str, name: Option<&str>, path: &Path, kind: OwnKind) -> OwnSpec {
    let name = name.map_or_else(|| stem(path), name_from);
    let kind = match kind {
        OwnKind::DynamicModule { .. } => OwnKind::DynamicModule {
            filter_name: name.clone(),
        },
        k => k,
    };
    OwnSpec {
        name,
        given: given.into(),
        kind,
        file: Some(path.to_path_buf()),
        build: None,
        configuration: String::new(),
    }
}

/// `--plugins-dir DIR`: DIR itself when it has a `plugin.toml`, else each folder in it that has one.
fn from_dir(given: &str, dir: &Path) -> anyhow::Result<Vec<OwnSpec>> {
    let folders: Vec<PathBuf> = if dir.join("plugin.toml").is_file() {
        vec![dir.to_path_buf()]
    } else {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            usage(format!(
                "{given}: cannot read {} ({e}); give a folder holding a plugin.toml, or folders that do",
                dir.display()
            ))
        })?;
        let mut v: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("plugin.toml").is_file())
            .collect();
        v.sort();
        v
    };
    if folders.is_empty() {
        return Err(usage(format!(
            "{given}: no plugin.toml in {} or in a folder inside it (see plugins/*/plugin.toml for the format)",
            dir.display()
        )));
    }
    let mut out = vec![];
    for folder in folders {
        let p = Plugin::read(&folder)?;
        let manifest = folder.join("plugin.toml");
        let kind = match p.manifest.kind.as_str() {
            WASM_KIND => OwnKind::Wasm {
                root_id: String::new(),
                vm_config: Map::new(),
            },
            LUA_KIND => OwnKind::Lua,
            DYNAMIC_MODULE_KIND => OwnKind::DynamicModule {
                filter_name: name_from(&p.name),
            },
            _ => {
                return Err(usage(format!(
                    "{}: kind `{}` from a folder is not supported; give your processor with --ext-proc ADDR|CMD",
                    manifest.display(),
                    p.manifest.kind
                )))
            }
        };
        out.push(OwnSpec {
            name: name_from(&p.name),
            given: format!("{given} ({})", folder.display()),
            kind,
            file: Some(p.output()),
            configuration: p.manifest.configuration.clone().unwrap_or_default(),
            build: (p.manifest.kind != LUA_KIND).then_some(p),
        });
    }
    Ok(out)
}

/// `--plugin-config FILE|JSON`: a file's text, or the JSON given.
fn config_value(given: &str, value: &str) -> anyhow::Result<String> {
    let p = Path::new(value);
    if p.is_file() {
        return std::fs::read_to_string(p).map_err(|e| {
            usage(format!(
                "{given} --plugin-config {}: cannot read it ({e})",
                p.display()
            ))
        });
    }
    if serde_json::from_str::<Value>(value).is_ok() {
        return Ok(value.to_string());
    }
    Err(usage(format!(
        "{given} --plugin-config {value}: neither a file nor JSON; give the path of your plugin's configuration or the JSON itself"
    )))
}

fn apply_options(s: &mut OwnSpec, options: &[(String, String)]) -> anyhow::Result<()> {
    for (flag, value) in options {
        let (given, kind) = (s.given.clone(), s.kind.name());
        let wrong = |what: &str| {
            usage(format!(
                "{flag} applies to {what}, not to {given} (a {kind} plugin)"
            ))
        };
        match (flag.as_str(), &mut s.kind) {
            ("--plugin-config", OwnKind::Lua) => {
                return Err(wrong(
                    "a Wasm plugin, a dynamic module or an ext_proc processor (a Lua script holds its own settings)",
                ))
            }
            ("--plugin-config", OwnKind::ExtProc { .. }) => {
                let text = config_value(&s.given, value)?;
                ext_proc_settings(&s.given, &text)?;
                s.configuration = text;
            }
            ("--plugin-config", _) => s.configuration = config_value(&s.given, value)?,
            ("--root-id", OwnKind::Wasm { root_id, .. }) => *root_id = value.clone(),
            ("--vm-config", OwnKind::Wasm { vm_config, .. }) => {
                let m = match serde_json::from_str::<Value>(value) {
                    Ok(Value::Object(m)) => m,
                    _ => {
                        return Err(usage(format!(
                            "{} --vm-config: give a JSON object of Envoy's VmConfig fields (e.g. {{\"allow_precompiled\": true}})",
                            s.given
                        )))
                    }
                };
                if let Some(k) = ["code", "runtime", "vm_id"].iter().find(|k| m.contains_key(**k)) {
                    return Err(usage(format!(
                        "{} --vm-config: `{k}` is the runner's (the module is the file given, the runtime each one this Envoy has)",
                        s.given
                    )));
                }
                *vm_config = m;
            }
            ("--module-name", OwnKind::DynamicModule { filter_name }) => {
                if value.is_empty() {
                    return Err(usage(format!("{} --module-name: give a name", s.given)));
                }
                *filter_name = value.clone();
            }
            ("--root-id" | "--vm-config", _) => return Err(wrong("a Wasm plugin (--plugin)")),
            ("--module-name", _) => return Err(wrong("a dynamic module (--dynamic-module)")),
            (other, _) => return Err(usage(format!("{other}: not a plugin option"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(flag: &str, value: &str, options: &[(&str, &str)]) -> SourceFlag {
        SourceFlag {
            flag: flag.into(),
            value: value.into(),
            options: options
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    fn files() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let wasm = d.path().join("My_Auth.wasm");
        std::fs::write(&wasm, b"\0asm\x01\0\0\0").unwrap();
        let lua = d.path().join("hdr.lua");
        std::fs::write(&lua, "function envoy_on_request(h) end").unwrap();
        (d, wasm, lua)
    }

    #[test]
    fn names_options_and_kinds_come_from_the_flags() {
        let (_d, wasm, lua) = files();
        let w = wasm.display().to_string();
        let specs = specs(
            &[
                flag(
                    "--plugin",
                    &w,
                    &[
                        ("--plugin-config", r#"{"keys": ["a"]}"#),
                        ("--root-id", "auth_root"),
                        ("--vm-config", r#"{"allow_precompiled": true}"#),
                    ],
                ),
                flag("--plugin", &format!("second={w}"), &[]),
                flag("--lua", &lua.display().to_string(), &[]),
                flag(
                    "--ext-proc",
                    "xp=127.0.0.1:50051",
                    &[("--plugin-config", "{}")],
                ),
                flag("--ext-proc", "./proc --port {port}", &[]),
            ],
            &["rust".into()],
        )
        .unwrap();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["my-auth", "second", "hdr", "xp", "proc"]);
        assert_eq!(specs[0].configuration, r#"{"keys": ["a"]}"#);
        match &specs[0].kind {
            OwnKind::Wasm { root_id, vm_config } => {
                assert_eq!(root_id, "auth_root");
                assert_eq!(vm_config["allow_precompiled"], true);
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(
            specs[4].kind,
            OwnKind::ExtProc {
                target: ExtProcTarget::Command(vec![
                    "./proc".into(),
                    "--port".into(),
                    "{port}".into()
                ])
            }
        );
        let ready = OwnPlugin::ready(specs[0].clone()).unwrap();
        assert_eq!(ready.bytes, Some(8));
        match ready.filter("v8").unwrap() {
            Filter::Wasm {
                configuration,
                plugin_extra,
                vm_id,
                ..
            } => {
                assert_eq!(configuration, r#"{"keys": ["a"]}"#);
                assert_eq!(plugin_extra["root_id"], "auth_root");
                assert_eq!(vm_id.as_deref(), Some("own-my-auth-v8"));
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn bad_flags_are_refused_naming_the_flag() {
        let (_d, wasm, lua) = files();
        let w = wasm.display().to_string();
        let l = lua.display().to_string();
        for (flags, needle) in [
            (
                vec![flag("--plugin", "/nope/x.wasm", &[])],
                "--plugin /nope/x.wasm: cannot read",
            ),
            (
                vec![flag("--plugin", &l, &[])],
                "is not a WebAssembly module",
            ),
            (
                vec![flag("--dynamic-module", &w, &[])],
                "is not a shared object",
            ),
            (
                vec![flag("--lua", &l, &[("--plugin-config", "{}")])],
                "--plugin-config applies to",
            ),
            (
                vec![flag("--lua", &l, &[("--root-id", "r")])],
                "--root-id applies to a Wasm plugin",
            ),
            (
                vec![flag("--plugin", &w, &[("--plugin-config", "not json {")])],
                "neither a file nor JSON",
            ),
            (
                vec![flag(
                    "--plugin",
                    &w,
                    &[("--vm-config", r#"{"runtime": "x"}"#)],
                )],
                "`runtime` is the runner's",
            ),
            (
                vec![flag("--plugin", &format!("rust={w}"), &[])],
                "is the suite's",
            ),
            (
                vec![flag("--plugin", &w, &[]), flag("--plugin", &w, &[])],
                "are both named `my-auth`",
            ),
            (
                vec![flag("--ext-proc", "10.0.0.1:9000", &[])],
                "only loopback",
            ),
            (
                vec![flag(
                    "--ext-proc",
                    "127.0.0.1:9000",
                    &[("--plugin-config", "[1]")],
                )],
                "must be a JSON object",
            ),
            (
                vec![flag("--plugins-dir", "/nope", &[])],
                "--plugins-dir /nope: cannot read",
            ),
        ] {
            let e = specs(&flags, &["rust".into()]).unwrap_err();
            assert_eq!(crate::error::exit_code_of(&e), 2);
            assert!(e.to_string().contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn commands_split_on_spaces_outside_quotes() {
        assert_eq!(
            split_command(r#"python3 -c 'print("a b")' --port {port}"#),
            ["python3", "-c", r#"print("a b")"#, "--port", "{port}"]
        );
        assert_eq!(split_command("  "), Vec::<String>::new());
    }
}
