//! `fuzz`: differential fuzzing of the plugin contract. Seeded inputs (a configuration, valid or
//! not, and a few requests; `inputs`) go to every implementation: the Wasm plugins in-process through
//! `plugin-host` (`target`), the Lua filter in a stand-alone LuaJIT (`luajit`). Each must agree with
//! the runner's own contract code (`plugins::config`) on accepting the configuration and on the reply
//! to every request. A divergence is shrunk and printed as a conformance case (`shrink`).

pub mod inputs;
pub mod luajit;
pub mod shrink;
pub mod target;
pub mod tree;

use crate::error::usage;
use crate::paths::Project;
use crate::stats::{seed_for, Rng};
use inputs::Input;
use serde_json::{json, Value};
use target::{describe, expected, Outcome, Target};

/// What `fuzz` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub cases: usize,
    pub seed: u64,
    pub json: bool,
    /// Implementations to check (plugin folder names; `lua` is the Lua filter).
    pub only: Option<Vec<String>>,
}

/// One divergence, shrunk.
#[derive(Debug, Clone)]
pub struct Found {
    /// Those that disagree with the reference on the shrunk case, and what each did.
    pub did: Vec<(String, String)>,
    /// What the reference did.
    pub expected: String,
    /// Index of the first generated input that showed it.
    pub first_case: usize,
    /// The shrunk input as a conformance case.
    pub case: Value,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub cases: usize,
    pub seed: u64,
    /// Inputs on which at least one implementation disagreed with the reference.
    pub divergences: usize,
    pub implementations: Vec<String>,
    pub found: Vec<Found>,
}

/// Distinct divergences shrunk and printed per run; further ones are counted only.
const MAX_FOUND: usize = 20;
const BATCH: usize = 500;
const SHRINK_BUDGET: usize = 3000;

/// The input number `i` of a seeded run (each reproducible on its own).
pub fn input_at(seed: u64, i: usize) -> Input {
    inputs::input(&mut Rng::new(seed_for(seed, "fuzz", i as u64)))
}

/// How an outcome differs from the expected one (None: it agrees).
fn class(got: &Outcome, want: &Outcome) -> Option<&'static str> {
    match (got, want) {
        _ if got == want => None,
        (Outcome::Broken(_), _) => Some("breaks"),
        (Outcome::Rejected, _) => Some("rejects"),
        (Outcome::Accepted(_), Outcome::Rejected) => Some("accepts"),
        _ => Some("replies"),
    }
}

/// The kind of the reference's verdict: its rejection reason without names, positions and numbers
/// (so that one bug shown by many inputs is shrunk once, and two bugs behind the same
/// implementations are still told apart).
fn reason_kind(input: &Input) -> String {
    let Err(why) = crate::plugins::config::parse_str(&input.config_text()) else {
        return "accepted".into();
    };
    let mut out = String::new();
    let mut quoted = false;
    for c in why.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            '0'..='9' => {}
            c => out.push(c),
        }
    }
    out.split(" at line").next().unwrap_or_default().to_string()
}

/// Runs `cases` inputs of `seed` through every target; `progress` hears how many are done.
pub fn fuzz(
    targets: &mut [Box<dyn Target>],
    cases: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Summary> {
    let mut summary = Summary {
        cases,
        seed,
        divergences: 0,
        implementations: targets.iter().map(|t| t.name().to_string()).collect(),
        found: vec![],
    };
    let mut signatures: Vec<(Vec<(usize, &'static str)>, String)> = vec![];
    for start in (0..cases).step_by(BATCH) {
        crate::sys::check_interrupted()?;
        let inputs: Vec<Input> = (start..cases.min(start + BATCH))
            .map(|i| input_at(seed, i))
            .collect();
        let refs: Vec<&Input> = inputs.iter().collect();
        let want: Vec<Outcome> = inputs.iter().map(expected).collect();
        let mut got = vec![];
        for t in targets.iter_mut() {
            got.push(t.run(&refs)?);
        }
        for (k, input) in inputs.iter().enumerate() {
            let sig: Vec<(usize, &'static str)> = (0..targets.len())
                .filter_map(|t| class(&got[t][k], &want[k]).map(|c| (t, c)))
                .collect();
            if sig.is_empty() {
                continue;
            }
            summary.divergences += 1;
            let key = (sig.clone(), reason_kind(input));
            if summary.found.len() < MAX_FOUND && !signatures.contains(&key) {
                signatures.push(key);
                if let Some(f) = shrink_one(targets, input, sig[0], start + k)? {
                    if !summary.found.iter().any(|g| {
                        g.case["config"] == f.case["config"]
                            && g.case["config_raw"] == f.case["config_raw"]
                            && g.case["requests"] == f.case["requests"]
                    }) {
                        summary.found.push(f);
                    }
                }
            }
        }
        progress(cases.min(start + BATCH), summary.divergences);
    }
    Ok(summary)
}

/// Shrinks one diverging input against the first target that diverged (keeping how it diverged and
/// the reference's reason), then asks every target about the shrunk case.
fn shrink_one(
    targets: &mut [Box<dyn Target>],
    input: &Input,
    (t, how): (usize, &'static str),
    index: usize,
) -> anyhow::Result<Option<Found>> {
    let reason = reason_kind(input);
    let small = shrink::shrink(input, SHRINK_BUDGET, &mut |c| {
        if reason_kind(c) != reason {
            return Ok(false); // another bug: it has its own signature
        }
        let got = targets[t].run(&[c])?;
        Ok(class(&got[0], &expected(c)) == Some(how))
    })?;
    let want = expected(&small);
    let mut did = vec![];
    for target in targets.iter_mut() {
        let got = target.run(&[&small])?.remove(0);
        if got != want {
            did.push((target.name().to_string(), describe(&got, &small)));
        }
    }
    if did.is_empty() {
        return Ok(None); // it depended on the VM's history; the counter still has it
    }
    let names: Vec<&str> = did.iter().map(|(n, _)| n.as_str()).collect();
    let name = format!(
        "fuzz: {} {how} (shrunk from case {index})",
        names.join(", ")
    );
    Ok(Some(Found {
        case: shrink::case_json(&name, &small, &want),
        expected: describe(&want, &small),
        did,
        first_case: index,
    }))
}

impl Summary {
    pub fn to_json(&self) -> Value {
        let found: Vec<Value> = self
            .found
            .iter()
            .map(|f| {
                let names: Vec<&str> = f.did.iter().map(|(n, _)| n.as_str()).collect();
                let did: serde_json::Map<String, Value> =
                    f.did.iter().map(|(n, d)| (n.clone(), json!(d))).collect();
                json!({
                    "implementations": names,
                    "did": did,
                    "expected": f.expected,
                    "first_case": f.first_case,
                    "case": f.case,
                })
            })
            .collect();
        json!({
            "cases": self.cases,
            "seed": self.seed,
            "divergences": self.divergences,
            "implementations": self.implementations,
            "found": found,
        })
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        for (i, f) in self.found.iter().enumerate() {
            s += &format!(
                "DIVERGENCE {}: {} (first in case {})\n  reference: {}\n",
                i + 1,
                f.did
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                f.first_case,
                f.expected
            );
            for (n, d) in &f.did {
                s += &format!("  {n}: {d}\n");
            }
            s += "  shrunk case, for plugins/conformance/cases.json:\n";
            s += &serde_json::to_string_pretty(&f.case).unwrap_or_default();
            s += ",\n\n";
        }
        s += &format!(
            "fuzz: {} cases (seed {}) through {}: {} diverging input(s), {} distinct shown\n",
            self.cases,
            self.seed,
            self.implementations.join(", "),
            self.divergences,
            self.found.len()
        );
        s
    }
}

/// Every implementation (or those in `only`) ready to fuzz: Wasm modules compiled once (wasmtime
/// Cranelift), Lua through LuaJIT. An external processor (kind `ext-proc`) is not fuzzed: it runs
/// the Rust plugin's configuration code natively, and conformance checks it through Envoy. One that
/// cannot be built is a usage error naming it.
pub fn targets(project: &Project, only: Option<&[String]>) -> anyhow::Result<Vec<Box<dyn Target>>> {
    let (built, missing) = crate::plugins::prepare_all(project, only, false)?;
    if let Some(m) = missing.first() {
        return Err(usage(format!(
            "fuzz: implementation {} is not available: {} (or leave it out with --only)",
            m.name, m.reason
        )));
    }
    let engine = plugin_host::Engine::new(plugin_host::EngineKind::Cranelift)?;
    let mut out: Vec<Box<dyn Target>> = vec![];
    let mut lua = None;
    // Native implementations (external processors, dynamic modules) have no in-process fuzz target.
    for b in built
        .into_iter()
        .filter(|b| !b.is_ext_proc() && !b.is_dynamic_module())
    {
        if b.is_wasm() {
            let wasm = std::fs::read(&b.module)?;
            let module = engine.compile(&wasm).map_err(|e| {
                anyhow::anyhow!("{}: cannot compile {}: {e}", b.name, b.module.display())
            })?;
            out.push(Box::new(target::WasmTarget::new(&b.name, module)));
        } else {
            let template = std::fs::read_to_string(&b.module).map_err(|e| {
                usage(format!(
                    "cannot read the Lua template {} ({e})",
                    b.module.display()
                ))
            })?;
            lua = Some(luajit::LuaTarget::new(project, template)?);
        }
    }
    if let Some(l) = lua {
        out.push(Box::new(l));
    }
    Ok(out)
}

/// `bench-runner fuzz`: exit 0 when every implementation agrees on every input, 1 when not.
pub fn command(project: &Project, o: &FuzzOptions) -> anyhow::Result<u8> {
    crate::plugins::check_only(project, o.only.as_deref(), true)?;
    let mut targets = targets(project, o.only.as_deref())?;
    let step = (o.cases / 10).max(BATCH);
    let mut next = step;
    let summary = fuzz(&mut targets, o.cases, o.seed, &mut |done, k| {
        if done >= next || done == o.cases {
            eprintln!("fuzz: {done}/{} cases, {k} diverging", o.cases);
            next = done + step;
        }
    })?;
    if o.json {
        println!("{}", serde_json::to_string_pretty(&summary.to_json())?);
    } else {
        print!("{}", summary.render());
    }
    Ok(u8::from(summary.divergences > 0))
}

#[cfg(test)]
mod tests {
    use super::target::{FnTarget, Reply};
    use super::*;

    /// A deliberately wrong implementation: host patterns match case-insensitively.
    fn case_blind(input: &Input) -> Outcome {
        let lower = Input {
            config: tree::J::Raw(input.config_text().to_ascii_lowercase()),
            requests: input
                .requests
                .iter()
                .map(|r| inputs::Request {
                    route: r.route,
                    authority: r.authority.to_ascii_lowercase(),
                })
                .collect(),
        };
        match (expected(input), expected(&lower)) {
            (Outcome::Accepted(_), Outcome::Accepted(r)) => Outcome::Accepted(r),
            (want, _) => want,
        }
    }

    /// A deliberately unfair implementation: right replies, but it skips the `headers` work.
    fn lazy(input: &Input) -> Outcome {
        match expected(input) {
            Outcome::Accepted(replies) => Outcome::Accepted(
                replies
                    .into_iter()
                    .map(|r| match r {
                        Reply::Passthrough { .. } => Reply::Passthrough { header_work: 0 },
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    #[test]
    fn an_implementation_that_skips_the_header_work_is_found() {
        let mut targets: Vec<Box<dyn Target>> = vec![Box::new(FnTarget {
            name: "lazy".into(),
            f: lazy,
        })];
        let s = fuzz(&mut targets, 2000, 1, &mut |_, _| {}).unwrap();
        assert!(s.divergences > 0, "the lazy implementation was not found");
        let text = s.render();
        assert!(
            text.contains("passthrough after the header work on"),
            "{text}"
        );
    }

    #[test]
    fn a_wrong_implementation_is_found_shrunk_and_printed() {
        let mut targets: Vec<Box<dyn Target>> = vec![Box::new(FnTarget {
            name: "case-blind".into(),
            f: case_blind,
        })];
        let s = fuzz(&mut targets, 3000, 1, &mut |_, _| {}).unwrap();
        assert!(s.divergences > 0, "the wrong implementation was not found");
        let f = &s.found[0];
        assert_eq!(f.did[0].0, "case-blind");
        // The printed case is a valid case-file entry, small, and the reference passes it.
        let case: crate::bench::conformance::Case = serde_json::from_value(f.case.clone()).unwrap();
        assert_eq!(case.requests.len(), 1, "{}", f.case);
        let text = case
            .config_raw
            .clone()
            .unwrap_or_else(|| case.config.as_ref().unwrap().to_string());
        assert!(text.len() <= 60, "not shrunk: {text}");
        let input = Input {
            config: tree::J::Raw(text),
            requests: vec![inputs::Request {
                route: match case.requests[0].path.as_str() {
                    "/foo" => "default/foo",
                    "/bar" => "default/bar",
                    _ => "default/other",
                },
                authority: case.requests[0].authority.clone(),
            }],
        };
        let Outcome::Accepted(want) = expected(&input) else {
            panic!("the reference rejects the printed case {}", f.case);
        };
        let body = match &want[0] {
            Reply::Local { body, .. } => String::from_utf8_lossy(body).to_string(),
            Reply::Passthrough { .. } => "passthrough".into(),
        };
        assert_eq!(case.requests[0].body, body);
        assert_ne!(case_blind(&input), Outcome::Accepted(want));
        assert!(s.render().contains("DIVERGENCE 1: case-blind"));
        assert_eq!(s.to_json()["found"][0]["implementations"][0], "case-blind");
    }
}
