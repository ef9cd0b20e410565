//! github-action-benchmark "custom" tool input, for `tool: customSmallerIsBetter` (or
//! `customBiggerIsBetter`) with `output-file-path: FILE`.
//!
//! Shape, from the action's README (section on custom benchmarks) and `src/extract.ts` in
//! <https://github.com/benchmark-action/github-action-benchmark>: a JSON array of `BenchmarkResult`
//! objects `{ "name": string, "unit": string, "value": number, "range"?: string, "extra"?: string }`;
//! `range` is free text shown as the variation (the built-in extractors write "± 329"), `extra` is free
//! text shown in the chart tooltip. One file holds one tool, so direction is per file: latency, CPU and
//! overheads (smaller is better) go in one, throughput (bigger is better) in the other.
//!
//! The action alerts on the ratio of a value to the previous one (`alert-threshold`, 200% by default).
//! Overheads can be near zero or negative, where a ratio means little: alert on the absolute figures
//! (`… latency p50`, `… Envoy CPU per request`) or gate with `bench-runner compare` instead, and use the
//! overhead series for charts.

use super::{figures, is_finite, Exporter};
use crate::results::Results;
use crate::stats::Estimate;
use serde::Serialize;

pub struct Gab {
    pub bigger_is_better: bool,
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub name: String,
    pub unit: String,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
}

fn entry(name: String, unit: &str, e: &Estimate, what: &str, context: &str) -> Option<Entry> {
    if !is_finite(e) {
        return None;
    }
    let half = (e.estimate - e.ci95_low)
        .max(e.ci95_high - e.estimate)
        .max(0.0);
    Some(Entry {
        name,
        unit: unit.to_string(),
        value: e.estimate,
        range: Some(format!("± {}", round_sig(half))),
        extra: Some(format!(
            "{what}; 95% CI [{}, {}] {unit}\n{context}",
            round_sig(e.ci95_low),
            round_sig(e.ci95_high)
        )),
    })
}

/// Four significant digits, enough for µs figures and rps, without float noise in the text.
fn round_sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (4 - 1 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

impl Gab {
    pub fn entries(&self, r: &Results) -> Vec<Entry> {
        let context = format!(
            "profile {}, {} rounds over {} Envoy processes; Envoy {}; {}; run {}",
            r.profile.name,
            r.profile.rounds,
            r.profile.processes,
            r.envoy.version,
            r.host.cpu_model,
            r.started_at
        );
        let mut out = Vec::new();
        for v in &r.variants {
            let f = figures(r, v);
            let med = format!("mean of {} Envoy processes", v.processes);
            let id = &v.id;
            if self.bigger_is_better {
                out.extend(entry(
                    format!("{id} / saturation throughput"),
                    "req/s",
                    &f.rps,
                    &med,
                    &context,
                ));
                continue;
            }
            out.extend(entry(
                format!("{id} / latency p50"),
                "us",
                &f.p50_us,
                &med,
                &context,
            ));
            out.extend(entry(
                format!("{id} / latency p99"),
                "us",
                &f.p99_us,
                &med,
                &context,
            ));
            out.extend(entry(
                format!("{id} / Envoy CPU per request"),
                "us",
                &f.cpu_us_per_req,
                &med,
                &context,
            ));
            if let Some(o) = &v.overhead {
                let what = "versus the baseline measured with it, mean over Envoy processes";
                out.extend(entry(
                    format!("{id} / overhead p50"),
                    "us",
                    &o.p50,
                    what,
                    &context,
                ));
                out.extend(entry(
                    format!("{id} / overhead p99"),
                    "us",
                    &o.p99,
                    what,
                    &context,
                ));
                out.extend(entry(
                    format!("{id} / overhead CPU per request"),
                    "us",
                    &o.cpu_us_per_req,
                    what,
                    &context,
                ));
            }
        }
        if !self.bigger_is_better {
            for v in r.instructions.iter().flat_map(|s| &s.variants) {
                let what = "Envoy's worker thread under callgrind, mean over Envoy processes (exact counts: alert on any rise)";
                out.extend(count_entry(
                    format!("{} / instructions per request", v.id),
                    &v.per_request,
                    what,
                    &context,
                ));
                if let Some(a) = &v.added {
                    out.extend(count_entry(
                        format!("{} / added instructions per request", v.id),
                        a,
                        "versus the no-plugin listener of the same Envoy process",
                        &context,
                    ));
                }
            }
        }
        out
    }
}

/// An instruction count (unit `instructions`): the range where there is an interval.
fn count_entry(name: String, e: &Estimate, what: &str, context: &str) -> Option<Entry> {
    if !e.estimate.is_finite() {
        return None;
    }
    if is_finite(e) {
        return entry(name, "instructions", e, what, context);
    }
    Some(Entry {
        name,
        unit: "instructions".into(),
        value: e.estimate,
        range: None,
        extra: Some(format!("{what}\n{context}")),
    })
}

impl Exporter for Gab {
    fn render(&self, r: &Results) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(&self.entries(r))? + "\n")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_sig_keeps_four_digits() {
        assert_eq!(super::round_sig(12.34567), "12.35");
        assert_eq!(super::round_sig(0.0123456), "0.01235");
        assert_eq!(super::round_sig(43387.2), "43387");
        assert_eq!(super::round_sig(-3.21), "-3.210");
    }
}
