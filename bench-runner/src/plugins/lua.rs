//! Generates the Lua filter equivalent of the plugin from the same JSON configuration. Envoy's Lua has
//! no JSON parser, so the validated configuration becomes a Lua table literal; every string is emitted
//! byte by byte with escapes, never pasted.

use crate::plugins::config::{Matcher, Mode, PluginConfig, Reply};
use std::fmt::Write;
use std::path::Path;

/// A Lua string literal holding exactly `s`'s bytes.
pub fn lua_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
    out
}

fn reply_literal(r: &Reply) -> String {
    format!("{{content = {}}}", lua_string(&r.content))
}

fn list_literal(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| lua_string(s)).collect();
    format!("{{{}}}", parts.join(", "))
}

/// The marker line of the template (`plugins/lua/filter.lua`) replaced by the configuration.
const CONFIG_LINE: &str = "local CONFIG = {} -- @CONFIG@";

/// The configuration as the Lua table literal the template's `CONFIG` line is replaced with. Only
/// numbers, the fixed mode word and escaped literals built above go into it.
pub fn config_literal(cfg: &PluginConfig) -> String {
    let global = cfg.global.as_ref().map_or("nil".to_string(), reply_literal);
    let mut rules = String::new();
    for r in &cfg.rules {
        let (kind, list) = match &r.matcher {
            Matcher::Route(v) => ("route", v),
            Matcher::Domain(v) => ("domain", v),
        };
        let _ = writeln!(
            rules,
            "  {{kind = \"{kind}\", match = {}, reply = {}}},",
            list_literal(list),
            reply_literal(&r.reply)
        );
    }
    let mode = match cfg.mode {
        Mode::Mock => "mock",
        Mode::Headers => "headers",
        Mode::Body => "body",
    };
    format!(
        "local CONFIG = {{\nglobal = {global},\nrules = {{\n{rules}}},\nmode = \"{mode}\",\nheader_count = {},\ncrash_every = {},\nspin = {},\n}}",
        cfg.header_count, cfg.crash_every, cfg.spin
    )
}

/// The script for a validated configuration from a template holding the `CONFIG` marker line once.
pub fn script_from(template: &str, cfg: &PluginConfig) -> anyhow::Result<String> {
    let mut out = String::with_capacity(template.len() + 256);
    let mut found = 0;
    for line in template.split_inclusive('\n') {
        if line.trim_end() == CONFIG_LINE {
            found += 1;
            out.push_str(&config_literal(cfg));
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    if found != 1 {
        anyhow::bail!(
            "the Lua template must hold the line `{CONFIG_LINE}` exactly once (found {found})"
        );
    }
    Ok(out)
}

/// Envoy's Lua filter runs LuaJIT: the `runtime` of every `envoy-lua` variant.
pub const RUNTIME: &str = "luajit";

/// The whole Lua script for a validated configuration, from the template at `template` (an
/// `envoy-lua` implementation's `output`, [`crate::plugins::Built::module`]).
pub fn script(template: &Path, cfg: &PluginConfig) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(template).map_err(|e| {
        crate::error::usage(format!(
            "cannot read the Lua template {} ({e})",
            template.display()
        ))
    })?;
    script_from(&text, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_byte_by_byte() {
        assert_eq!(lua_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(lua_string("é\n"), "\"\\195\\169\\010\"");
        assert_eq!(lua_string("]]--"), "\"]]--\"");
    }

    #[test]
    fn script_holds_the_rules_in_order() {
        let cfg = crate::plugins::config::parse(&serde_json::json!({
            "content": "g", "_rules_": [{"content": "a", "_match_route_": ["r1"]},
                                         {"content": "b", "_match_domain_": ["*.x"]}]}))
        .unwrap();
        let template = crate::paths::Project::discover()
            .plugins_dir()
            .join("lua/filter.lua");
        let s = script(&template, &cfg).unwrap();
        let a = s.find("{\"r1\"}").unwrap();
        let b = s.find("{\"*.x\"}").unwrap();
        assert!(a < b);
        assert!(s.contains("global = {content = \"g\"},"));
        assert!(s.contains("mode = \"mock\","));
        assert!(!s.contains(CONFIG_LINE));
        assert!(s.contains("function envoy_on_request(h)"));
    }

    #[test]
    fn the_template_needs_the_config_line_once() {
        let cfg = crate::plugins::config::parse(&serde_json::json!({"content": "g"})).unwrap();
        assert!(script_from("x = 1\n", &cfg).is_err());
        let two = format!("{CONFIG_LINE}\n{CONFIG_LINE}\n");
        assert!(script_from(&two, &cfg).is_err());
        let s = script_from(&format!("a\n{CONFIG_LINE}\nb\n"), &cfg).unwrap();
        assert!(s.starts_with("a\nlocal CONFIG = {\nglobal = {content = \"g\"},"));
        assert!(s.ends_with("}\nb\n"));
    }
}
