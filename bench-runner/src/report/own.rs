//! The report's section on plugins of your own: each by file name and sha256 with what Envoy was
//! given, the requests every listener was sent, the answer stated, what the probe saw before any
//! load, and what reached the runner's upstream.

use crate::results::own::OwnSection;
use crate::results::Results;
use std::fmt::Write;

fn short(h: &Option<String>) -> String {
    h.as_deref()
        .map_or("-".into(), |h| h.chars().take(16).collect())
}

/// The section as Markdown ("" without plugins of your own).
pub fn markdown(r: &Results) -> String {
    r.own.as_ref().map_or_else(String::new, section)
}

/// The section of `o` as Markdown (also under a failure run's matrix).
pub fn section(o: &OwnSection) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n## Your plugins\n");
    let _ = writeln!(
        s,
        "| plugin | kind | file | sha256 | bytes | configuration | variants |\n|---|---|---|---|---:|---|---|"
    );
    for p in &o.plugins {
        let _ = writeln!(
            s,
            "| {} | {} | `{}` | `{}` | {} | `{}` | {} |",
            p.name,
            p.kind,
            p.file_name,
            short(&p.sha256),
            p.bytes.map_or("-".into(), |b| b.to_string()),
            if p.configuration.is_empty() {
                "(none)".to_string()
            } else {
                p.configuration.replace('|', "\\|").replace('\n', " ")
            },
            p.variants.join(", ")
        );
    }
    let _ = writeln!(s, "\n{}", lines(o).join("\n"));
    s
}

/// The facts under the table, one per line (Markdown list items).
fn lines(o: &OwnSection) -> Vec<String> {
    let mut out = vec![];
    for p in &o.plugins {
        if let Some(h) = &p.sha256 {
            out.push(format!("- `{}`: `{}` sha256 `{h}`", p.name, p.file_name));
        }
        if let Some(x) = &p.ext_proc {
            out.push(format!("- `{}`: ext_proc processor {x}", p.name));
        }
    }
    out.push(format!(
        "- requests ({}, every listener, cycled): {}",
        o.request_file
            .as_deref()
            .unwrap_or("no --request: the default"),
        o.requests
            .iter()
            .map(|q| {
                let mut t = format!("`{} {}` Host `{}`", q.method, q.path, q.host);
                if !q.headers.is_empty() {
                    t += &format!(
                        " with {}",
                        q.headers
                            .iter()
                            .map(|h| format!("`{h}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                if q.body_bytes > 0 {
                    t += &format!(", {} body bytes", q.body_bytes);
                }
                t
            })
            .collect::<Vec<_>>()
            .join("; ")
    ));
    out.push(format!("- expected answer: {}", o.expect.text));
    for p in &o.probe {
        out.push(format!(
            "- probe before any load: `{}` request {} got {} `{}`{}",
            p.variant,
            p.request + 1,
            p.status,
            p.body,
            if p.reached_upstream {
                " (passed on to the upstream)"
            } else {
                " (answered by the plugin)"
            }
        ));
    }
    out.push(format!(
        "- the runner's upstream ({}, 200 `{}`) answered, per listener: {}",
        o.upstream.addr,
        o.upstream.body,
        if o.upstream.served_by_listener.is_empty() {
            "nothing".to_string()
        } else {
            o.upstream
                .served_by_listener
                .iter()
                .map(|(k, v)| format!("`{k}` {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    out
}

/// The table's rows (plugin, kind, file, sha256, bytes, configuration, variants) and the facts
/// under it, for the HTML page; None without plugins of your own.
pub fn parts(r: &Results) -> Option<(Vec<[String; 7]>, Vec<String>)> {
    let o = r.own.as_ref()?;
    let rows = o
        .plugins
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.kind.clone(),
                p.file_name.clone(),
                p.sha256.clone().unwrap_or_else(|| "-".into()),
                p.bytes.map_or("-".into(), |b| b.to_string()),
                p.configuration.clone(),
                p.variants.join(", "),
            ]
        })
        .collect();
    let facts = lines(o)
        .into_iter()
        .map(|l| l.trim_start_matches("- ").to_string())
        .collect();
    Some((rows, facts))
}
