//! The article's claim about external process plugins ("significantly lower than external process
//! plugins"), beside this run's ext_proc variants and its Wasm variants of the same workload: every
//! figure read from the run, none typed.

use super::{est, is_reference};
use crate::results::{Results, VariantSummary, EXT_PROC_RUNTIME};
use std::fmt::Write as _;

/// What the article says, quoted.
pub const CLAIM: &str = "The article says the Wasm plugins' overhead is \"significantly lower than external process plugins\".";

/// One paragraph per workload with an ext_proc variant that has overhead figures; `None` when the
/// run has none (or no Wasm variant of the same workload to set it beside).
pub fn note(r: &Results) -> Option<String> {
    let wasm = |v: &&VariantSummary| {
        v.runtime
            .as_ref()
            .is_some_and(|rt| r.envoy.runtimes.contains(rt))
            && !is_reference(&v.id)
    };
    let mut s = String::new();
    for x in r
        .variants
        .iter()
        .filter(|v| v.runtime.as_deref() == Some(EXT_PROC_RUNTIME))
    {
        let Some(o) = &x.overhead else { continue };
        let peers: Vec<&VariantSummary> = r
            .variants
            .iter()
            .filter(|v| v.workload == x.workload)
            .filter(wasm)
            .filter(|v| v.overhead.is_some())
            .collect();
        if peers.is_empty() {
            continue;
        }
        let range = |f: fn(&VariantSummary) -> f64| {
            let xs: Vec<f64> = peers.iter().map(|v| f(v)).collect();
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        };
        let p50 = range(|v| v.overhead.as_ref().map_or(f64::NAN, |o| o.p50.estimate));
        let cpu = range(|v| {
            v.overhead
                .as_ref()
                .map_or(f64::NAN, |o| o.fixed_cpu_us_per_req.estimate)
        });
        let processor = x.processor_fixed_cpu_us_per_req.unwrap_or(f64::NAN);
        let total_low = o.fixed_cpu_us_per_req.ci95_low + processor;
        let holds = o.p50.ci95_low > p50.1 && total_low > cpu.1;
        let _ = writeln!(
            s,
            "- `{}`: added p50 {} µs; CPU at the fixed rate {} µs/request in Envoy **plus** {:.1} in the processor. The {} Wasm variants of `{}` in this run: added p50 {:+.1} to {:+.1} µs, CPU {:+.1} to {:+.1} µs/request (Envoy's, nothing outside it). {}",
            x.id,
            est(&o.p50),
            est(&o.fixed_cpu_us_per_req),
            processor,
            peers.len(),
            x.workload,
            p50.0,
            p50.1,
            cpu.0,
            cpu.1,
            if holds {
                "The claim holds here: ext_proc's interval lies above every Wasm estimate on both figures."
            } else {
                "Not clearly: ext_proc's interval does not lie above every Wasm estimate on both figures."
            }
        );
    }
    (!s.is_empty()).then(|| format!("{CLAIM} This run:\n\n{s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Results {
        serde_json::from_str(include_str!("../../tests/fixtures/results-quick.json")).unwrap()
    }

    #[test]
    fn no_ext_proc_variant_no_note() {
        assert!(note(&fixture()).is_none());
    }

    #[test]
    fn an_ext_proc_variant_is_set_beside_the_wasm_ones_of_its_workload() {
        let mut r = fixture();
        let wasm = r
            .variants
            .iter()
            .filter(|v| v.workload == "mock" && v.runtime.as_deref() == Some("v8"))
            .count();
        assert!(wasm >= 1, "the fixture has a Wasm mock variant");
        let mut x = r
            .variants
            .iter()
            .find(|v| v.workload == "mock" && v.runtime.as_deref() == Some("v8"))
            .unwrap()
            .clone();
        x.id = "extproc-rust-mock".into();
        x.runtime = Some(EXT_PROC_RUNTIME.into());
        x.processor_fixed_cpu_us_per_req = Some(1000.0);
        let o = x.overhead.as_mut().unwrap();
        for e in [&mut o.p50, &mut o.fixed_cpu_us_per_req] {
            *e = crate::stats::Estimate {
                estimate: 5000.0,
                ci95_low: 4900.0,
                ci95_high: 5100.0,
            };
        }
        r.variants.push(x.clone());
        let n = note(&r).unwrap();
        assert!(n.starts_with(CLAIM), "{n}");
        assert!(
            n.contains("`extproc-rust-mock`: added p50 +5000.0 [+4900.0, +5100.0] µs"),
            "{n}"
        );
        assert!(
            n.contains(&format!("The {wasm} Wasm variants of `mock`")),
            "{n}"
        );
        assert!(n.contains("plus** 1000.0 in the processor"), "{n}");
        assert!(n.contains("The claim holds here"), "{n}");
        // an ext_proc variant no slower than the Wasm ones: not clearly
        let last = r.variants.last_mut().unwrap();
        last.overhead.as_mut().unwrap().p50.ci95_low = -100.0;
        assert!(note(&r).unwrap().contains("Not clearly"));
    }
}
