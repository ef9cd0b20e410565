//! Bencher Metric Format (BMF) JSON, for `bencher run --adapter json --file FILE`.
//!
//! Shape, from <https://bencher.dev/docs/reference/bencher-metric-format> and its JSON schema
//! <https://bencher.dev/bmf.json>: an object keyed by benchmark name; each value an object keyed by
//! measure (UUID, slug or name, at most 64 characters); each measure an object with a required number
//! `value` and optional numbers `lower_value` and `upper_value`. "How to track custom benchmarks"
//! (<https://bencher.dev/docs/how-to/track-custom-benchmarks>) adds that a measure named by slug or name
//! that does not exist yet is created, and that every project has the built-in measures `latency`
//! (nanoseconds) and `throughput` (operations/second).
//!
//! What we write: one benchmark per variant id (e.g. `rust-v8-mock`), with
//! - `latency`: open-loop p50 latency in **nanoseconds** (the built-in measure's unit);
//! - `throughput`: saturation throughput in requests/s (built-in, ops/s);
//! - `latency-p99-us`, `cpu-us-per-req`: p99 latency and Envoy CPU time per request, µs;
//! - plugin variants only: `overhead-p50-us`, `overhead-p99-us`, `overhead-cpu-us-per-req` versus the
//!   baseline of the same run, µs.
//!
//! - `instructions`: instructions per request of Envoy's worker thread under callgrind (runs with
//!   counts), and for plugin variants `instructions-added`: minus the no-plugin listener of the same
//!   Envoy process; means over processes with their t interval.
//!
//! Absolute figures are means over Envoy processes with a Student's t 95% interval over processes as
//! `lower_value`/`upper_value`; overheads carry the intervals saved in results.json. Figures that are
//! not finite (no rounds, or fewer than 2 processes for an interval) are left out, since JSON has no
//! NaN.

use super::{figures, is_finite, Exporter};
use crate::results::Results;
use crate::stats::Estimate;
use serde_json::{json, Map, Value};

pub struct Bmf;

fn metric(e: &Estimate, scale: f64) -> Value {
    json!({
        "value": e.estimate * scale,
        "lower_value": e.ci95_low * scale,
        "upper_value": e.ci95_high * scale,
    })
}

/// A count: the bounds only where there is an interval (fewer than 2 processes: the value alone).
fn counted(e: &Estimate) -> Value {
    if e.has_interval() {
        metric(e, 1.0)
    } else {
        json!({ "value": e.estimate })
    }
}

impl Exporter for Bmf {
    fn render(&self, r: &Results) -> anyhow::Result<String> {
        let mut doc = Map::new();
        for v in &r.variants {
            let f = figures(r, v);
            let mut measures = Map::new();
            let mut put = |name: &str, e: &Estimate, scale: f64| {
                if is_finite(e) {
                    measures.insert(name.to_string(), metric(e, scale));
                }
            };
            put("latency", &f.p50_us, 1000.0);
            put("throughput", &f.rps, 1.0);
            put("latency-p99-us", &f.p99_us, 1.0);
            put("cpu-us-per-req", &f.cpu_us_per_req, 1.0);
            if let Some(o) = &v.overhead {
                put("overhead-p50-us", &o.p50, 1.0);
                put("overhead-p99-us", &o.p99, 1.0);
                put("overhead-cpu-us-per-req", &o.cpu_us_per_req, 1.0);
            }
            if !measures.is_empty() {
                doc.insert(v.id.clone(), Value::Object(measures));
            }
        }
        for v in r.instructions.iter().flat_map(|s| &s.variants) {
            let entry = doc
                .entry(v.id.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(measures) = entry {
                let mut put = |name: &str, e: &Estimate| {
                    if e.estimate.is_finite() {
                        measures.insert(name.to_string(), counted(e));
                    }
                };
                put("instructions", &v.per_request);
                if let Some(a) = &v.added {
                    put("instructions-added", a);
                }
            }
        }
        Ok(serde_json::to_string_pretty(&Value::Object(doc))? + "\n")
    }
}
