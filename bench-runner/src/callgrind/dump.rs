//! Reading callgrind's profile files (valgrind's "Callgrind Format Specification"): the totals, each
//! function's self cost per object, and the inclusive cost of each call. With `--separate-callers=N`
//! a function's name carries its callers (`callee'caller'caller-of-caller`); [`Dump::functions`]
//! keeps them as written and [`frames`] splits them.
//!
//! Only the first event (`Ir`, instructions executed, unless `--event` options changed it) is read.

use std::collections::HashMap;
use std::path::Path;

/// One profile file: one dump of one thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dump {
    /// The event names (`events:`), the first one is what every cost here counts.
    pub events: Vec<String>,
    /// Why the dump was written (`desc: Trigger: ...`): `Client Request: <label>`, `Program
    /// termination`, `--dump-every-bb=...`, `callgrind_control`.
    pub trigger: Option<String>,
    /// The profiled command line (`cmd:`).
    pub command: Option<String>,
    pub pid: Option<u32>,
    /// The thread (`thread:`, with `--separate-threads=yes`), 1 for the main thread.
    pub thread: Option<u32>,
    /// The dump's number in its process (`part:`).
    pub part: Option<u32>,
    /// The first event's total: `totals:`, else `summary:`, else the sum of the self costs.
    pub total: u64,
    /// Self cost per (object, function), largest first.
    pub functions: Vec<FnCost>,
    /// Inclusive cost per (caller, callee) pair, largest first.
    pub calls: Vec<CallCost>,
}

/// The instructions executed in a function's own code (its callees not included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnCost {
    /// The object file (`???` for code in no file: JIT-compiled code).
    pub object: String,
    /// The function as callgrind names it: a symbol, or the hex address of its first basic block
    /// when no symbol covers it (`0x0000000004a3b2c0`); with `--separate-callers`, followed by its
    /// callers, each after a `'`.
    pub function: String,
    pub cost: u64,
}

/// Calls from one function to another, and what they cost in all (the callee and its callees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCost {
    pub caller: String,
    pub callee_object: String,
    pub callee: String,
    pub count: u64,
    pub inclusive: u64,
}

impl Dump {
    /// The label a `CALLGRIND_DUMP_STATS_AT(label)` client request gave this dump.
    pub fn client_label(&self) -> Option<&str> {
        self.trigger
            .as_deref()
            .and_then(|t| t.strip_prefix("Client Request: "))
    }

    /// Sum of every function's self cost: equals [`Dump::total`] when the file is complete.
    pub fn self_sum(&self) -> u64 {
        self.functions.iter().map(|f| f.cost).sum()
    }
}

/// A function context's frames, innermost first: `memcpy'proxy_log'call` -> [memcpy, proxy_log, call].
pub fn frames(function: &str) -> impl Iterator<Item = &str> {
    function.split('\'')
}

/// Reads one profile file.
pub fn read(path: &Path) -> anyhow::Result<Dump> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::error::usage(format!(
            "cannot read the callgrind profile {} ({e})",
            path.display()
        ))
    })?;
    parse(&text).map_err(|e| {
        crate::error::usage(format!(
            "{} is not a callgrind profile: {e}",
            path.display()
        ))
    })
}

/// Names written once with an id (`(12) name`) and later by the id alone (`(12)`).
#[derive(Default)]
struct Names(HashMap<String, String>);

impl Names {
    fn resolve(&mut self, v: &str) -> String {
        let v = v.trim();
        if let Some(rest) = v.strip_prefix('(') {
            if let Some((id, name)) = rest.split_once(')') {
                let name = name.trim();
                if name.is_empty() {
                    return self.0.get(id).cloned().unwrap_or_default();
                }
                self.0.insert(id.to_string(), name.to_string());
                return name.to_string();
            }
        }
        v.to_string()
    }
}

/// Parses a profile's text.
pub fn parse(text: &str) -> Result<Dump, String> {
    let mut d = Dump::default();
    let (mut obs, mut fns, mut files) = (Names::default(), Names::default(), Names::default());
    let mut positions = 1usize;
    let (mut ob, mut func) = (String::new(), String::new());
    let (mut cob, mut cfn): (Option<String>, Option<String>) = (None, None);
    // The `calls=` line whose cost line comes next: (count).
    let mut pending: Option<u64> = None;
    let mut selfs: HashMap<(String, String), u64> = HashMap::new();
    let mut calls: HashMap<(String, String, String), (u64, u64)> = HashMap::new();
    let (mut totals, mut summary) = (None, None);
    let mut seen_header = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.as_bytes()[0];
        if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'*') {
            let cost = line
                .split_whitespace()
                .nth(positions)
                .map(|c| c.parse::<u64>())
                .transpose()
                .map_err(|e| format!("line {}: bad cost ({e})", n + 1))?
                .unwrap_or(0);
            match pending.take() {
                Some(count) => {
                    let callee = cfn.take().unwrap_or_default();
                    let callee_ob = cob.take().unwrap_or_else(|| ob.clone());
                    let e = calls
                        .entry((func.clone(), callee_ob, callee))
                        .or_insert((0, 0));
                    e.0 += count;
                    e.1 += cost;
                }
                None => *selfs.entry((ob.clone(), func.clone())).or_insert(0) += cost,
            }
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            return Err(format!("line {}: unexpected `{line}`", n + 1));
        };
        match key {
            "ob" => ob = obs.resolve(value),
            "fn" => func = fns.resolve(value),
            "fl" | "fi" | "fe" => {
                files.resolve(value);
            }
            "cob" => cob = Some(obs.resolve(value)),
            "cfn" => cfn = Some(fns.resolve(value)),
            "cfi" | "cfl" => {
                files.resolve(value);
            }
            "calls" => {
                let count = value
                    .split_whitespace()
                    .next()
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| format!("line {}: bad calls= line", n + 1))?;
                pending = Some(count);
            }
            "jump" | "jcnd" => {}
            "version" | "creator" => seen_header = true,
            "pid" => d.pid = value.trim().parse().ok(),
            "thread" => d.thread = value.trim().parse().ok(),
            "part" => d.part = value.trim().parse().ok(),
            "cmd" => d.command = Some(value.trim().to_string()),
            "desc" => {
                if let Some(t) = value.trim().strip_prefix("Trigger:") {
                    d.trigger = Some(t.trim().to_string());
                }
            }
            "positions" => {
                positions = value.split_whitespace().count().max(1);
            }
            "events" => d.events = value.split_whitespace().map(String::from).collect(),
            "totals" => totals = value.split_whitespace().next().and_then(|x| x.parse().ok()),
            "summary" => summary = value.split_whitespace().next().and_then(|x| x.parse().ok()),
            _ => {}
        }
    }
    if !seen_header && d.events.is_empty() {
        return Err("no `version:`, `creator:` or `events:` line".into());
    }
    d.functions = selfs
        .into_iter()
        .map(|((object, function), cost)| FnCost {
            object,
            function,
            cost,
        })
        .collect();
    d.functions
        .sort_by(|a, b| b.cost.cmp(&a.cost).then(a.function.cmp(&b.function)));
    d.calls = calls
        .into_iter()
        .map(
            |((caller, callee_object, callee), (count, inclusive))| CallCost {
                caller,
                callee_object,
                callee,
                count,
                inclusive,
            },
        )
        .collect();
    d.calls
        .sort_by(|a, b| b.inclusive.cmp(&a.inclusive).then(a.callee.cmp(&b.callee)));
    d.total = totals.or(summary).unwrap_or_else(|| d.self_sum());
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written as callgrind 3.19 writes it: compressed names, relative positions, a call's cost on
    /// the line after `calls=`, a function met again in a second block.
    pub const SAMPLE: &str = "# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  bench-runner micro-probe
part: 2

desc: I1 cache: 
desc: Trigger: Client Request: window-1

positions: line
events: Ir
summary: 1000

ob=(1) /usr/bin/bench-runner
fl=(1) src/abi.rs
fn=(1) plugin_host::abi::proxy_log'plugin_host::engines::x
10 100
+2 20
cob=(2) /usr/lib/x86_64-linux-gnu/libc.so.6
cfi=(2) ???
cfn=(2) memcpy'plugin_host::abi::proxy_log'plugin_host::engines::x
calls=3 0
+1 300

ob=(2)
fl=(2)
fn=(2)
0 300

ob=(3) ???
fl=(2)
fn=(3) 0x0000000004a3b2c0
0 500
ob=(1)
fl=(1)
fn=(1)
* 80
totals: 1000
";

    #[test]
    fn reads_totals_self_costs_calls_and_trigger() {
        let d = parse(SAMPLE).unwrap();
        assert_eq!(d.total, 1000);
        assert_eq!(d.self_sum(), 1000);
        assert_eq!(d.events, ["Ir"]);
        assert_eq!(d.client_label(), Some("window-1"));
        assert_eq!((d.pid, d.part, d.thread), (Some(4242), Some(2), None));
        assert_eq!(d.functions[0].object, "???");
        assert_eq!(d.functions[0].cost, 500);
        let log = d
            .functions
            .iter()
            .find(|f| f.function.starts_with("plugin_host::abi::proxy_log"))
            .unwrap();
        // 100 + 20 + 80 (the second block), the call's 300 not included
        assert_eq!(log.cost, 200);
        let memcpy = d
            .functions
            .iter()
            .find(|f| f.function.starts_with("memcpy"))
            .unwrap();
        assert_eq!(memcpy.object, "/usr/lib/x86_64-linux-gnu/libc.so.6");
        assert_eq!(
            frames(&memcpy.function).collect::<Vec<_>>(),
            [
                "memcpy",
                "plugin_host::abi::proxy_log",
                "plugin_host::engines::x"
            ]
        );
        assert_eq!(d.calls.len(), 1);
        assert_eq!((d.calls[0].count, d.calls[0].inclusive), (3, 300));
        assert_eq!(
            d.calls[0].callee_object,
            "/usr/lib/x86_64-linux-gnu/libc.so.6"
        );
    }

    #[test]
    fn instruction_positions_and_missing_totals() {
        let text =
            "version: 1\npositions: instr line\nevents: Ir Dr\nob=a\nfn=f\n0x10 3 7 1\n+4 * 5\n";
        let d = parse(text).unwrap();
        assert_eq!(d.total, 12);
        assert_eq!(d.functions[0].function, "f");
    }

    #[test]
    fn rejects_what_is_not_a_profile() {
        assert!(parse("hello world\n").is_err());
        assert!(parse("{\"a\": 1}\n").is_err());
        assert!(parse("version: 1\nevents: Ir\nfn=f\n12 x\n").is_err());
    }
}
