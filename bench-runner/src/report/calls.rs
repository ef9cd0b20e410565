//! The host-calls table (`bench-runner calls`, calls.json): per workload, what each Wasm plugin asked
//! of its host for one request.

use crate::results::calls::{CallsFile, CallsRow};

/// `add_header_map_value ×20, ...`: every call of a row, `proxy_` left out.
fn calls_list(r: &CallsRow) -> String {
    let parts: Vec<String> = r
        .calls
        .iter()
        .map(|n| {
            let name = n.call.strip_prefix("proxy_").unwrap_or(&n.call);
            format!("`{name}` ×{}", n.calls)
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

fn work_cell(r: &CallsRow) -> String {
    match (&r.work, &r.work_error) {
        (Some(w), _) if w.header_adds > 0 => format!(
            "{} adds, {} reads, {} removes{}",
            w.header_adds,
            w.header_gets,
            w.header_removes,
            if w.logs > 0 {
                format!(", **{} log lines**", w.logs)
            } else {
                String::new()
            }
        ),
        (Some(w), _) if w.local_replies > 0 => format!(
            "{} local reply{}",
            w.local_replies,
            if w.logs > 0 {
                format!(", **{} log lines**", w.logs)
            } else {
                String::new()
            }
        ),
        (Some(w), _) if w.logs > 0 => format!("**{} log lines**", w.logs),
        (Some(_), _) => "none".into(),
        (None, Some(e)) => format!("**not the workload's**: {e}"),
        (None, None) => "-".into(),
    }
}

/// One table per workload: the calls, the bytes copied each way, and the contract's work as seen.
pub fn markdown(f: &CallsFile) -> String {
    let mut out = String::new();
    for (workload, config) in &f.workloads {
        out.push_str(&format!(
            "\n**{workload}** (configuration `{config}`, one request after {} warm ones):\n\n",
            f.warm_requests
        ));
        out.push_str("| implementation | host calls | bytes in | bytes out | the contract's work as seen | calls |\n|---|---:|---:|---:|---|---|\n");
        for r in f.rows.iter().filter(|r| &r.workload == workload) {
            let (calls, bytes_in, bytes_out) = r.total();
            out.push_str(&format!(
                "| `{}` | {calls} | {bytes_in} | {bytes_out} | {} | {} |\n",
                r.implementation,
                work_cell(r),
                calls_list(r)
            ));
        }
    }
    out
}
