//! Summarising a timeline: the request records of a scenario joined with the access log, and the
//! per-phase class counts drawn from them.

use super::*;

/// Classifies samples and joins the access log.
pub fn records(
    samples: &[Sample],
    log: &std::collections::HashMap<usize, evidence::LogEntry>,
) -> Vec<RequestRecord> {
    samples
        .iter()
        .map(|s| {
            let class = client::classify(&s.outcome, s.as_stated, PLUGIN_BODY, own_upstream(s));
            let (status, latency_ms, error) = match &s.outcome {
                Outcome::Response {
                    status, latency, ..
                } => (Some(*status), Some(ms(*latency)), None),
                Outcome::ConnectionError(e) => (None, None, Some(e.clone())),
                Outcome::Hang => (None, None, None),
            };
            RequestRecord {
                i: s.index,
                at_ms: (ms(s.at) * 10.0).round() / 10.0,
                class,
                status,
                latency_ms: latency_ms.map(|l| (l * 1000.0).round() / 1000.0),
                details: log
                    .get(&s.index)
                    .map(|e| e.details.clone())
                    .filter(|d| !d.is_empty()),
                error,
                crash_request: s.crash,
            }
        })
        .collect()
}

/// The upstream's body a sample could get: a plugin of your own's requests go to an upstream that
/// answers as `run`'s does.
fn own_upstream(s: &Sample) -> &'static str {
    if s.as_stated.is_some() {
        crate::bench::variants::PASSTHROUGH_BODY
    } else {
        UPSTREAM_BODY
    }
}

pub fn summarize(t: &[RequestRecord]) -> Summary {
    let mark = |r: &RequestRecord| Mark {
        i: r.i,
        at_ms: r.at_ms,
        class: r.class,
    };
    let first_crash = t.iter().find(|r| r.class != Class::Plugin).map(mark);
    let plugin_back_after_ms = first_crash.as_ref().and_then(|c| {
        t.iter()
            .find(|r| r.i > c.i && r.class == Class::Plugin)
            .map(|r| r.at_ms - c.at_ms)
    });
    let first_failed = t.iter().find(|r| !r.class.served()).map(mark);
    let served_again_after_ms = first_failed.as_ref().and_then(|f| {
        t.iter()
            .find(|r| r.i > f.i && r.class.served())
            .map(|r| r.at_ms - f.at_ms)
    });
    let mut details = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    for r in t {
        if r.class != Class::Plugin {
            let d = r
                .details
                .clone()
                .unwrap_or_else(|| "(no access log line)".into());
            *details.entry(d).or_insert(0) += 1;
        }
        if let Some(s) = r.status {
            *statuses.entry(s.to_string()).or_insert(0) += 1;
        }
    }
    Summary {
        counts: ClassCounts::of(t.iter().map(|r| r.class)),
        details,
        statuses,
        first_crash,
        plugin_back_after_ms,
        first_failed,
        served_again_after_ms,
        max_latency_ms: t.iter().filter_map(|r| r.latency_ms).reduce(f64::max),
    }
}
