//! peers.md: the load-generator comparison as a Markdown table, with its targets.

use crate::results::peers::PeersReport;

/// The load generator's targets against wrk (CPU per request at the highest connection count no more
/// than wrk's; p50 at one connection within 3 µs of wrk's), each stated as met or not with its figure.
pub fn targets(r: &PeersReport) -> String {
    let ours = |c: usize| {
        r.rows
            .iter()
            .find(|x| x.tool == "bench-runner" && x.connections == c)
    };
    let mut out = String::new();
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    if let Some(row) = r.rows.iter().map(|x| x.connections).max().and_then(ours) {
        if let Some(ratio) = row.cpu_vs_wrk {
            out += &format!(
                "- target: our CPU per request at c={} no more than wrk's: {} ({:.2}x wrk)\n",
                row.connections,
                met(ratio <= 1.0),
                ratio
            );
        }
    }
    if let Some(d) = ours(1).and_then(|row| row.p50_minus_wrk_us) {
        out += &format!(
            "- target: our p50 at c=1 within 3 µs of wrk's: {} ({d:+.1} µs)\n",
            met(d.abs() <= 3.0)
        );
    }
    out
}

/// The comparison as a Markdown table (medians over rounds), with what it was measured on.
pub fn format_table(r: &PeersReport) -> String {
    let mut out = format!(
        "Medians of {} interleaved round(s) of {} s per tool, against Envoy {}'s no-plugin listener (direct_response), {}; {} x {} cores, kernel {}, {}.\n\n",
        r.rounds,
        r.duration_s,
        r.envoy,
        if r.pinned {
            "Envoy on core 0, the tool on core 1"
        } else {
            "unpinned"
        },
        r.host.cpu_model,
        r.host.cores,
        r.host.kernel,
        r.date
    );
    out += "| tool | conns | p50 µs | p50 µs, wrk-style | p90 µs | p99 µs | req/s | tool CPU µs/req | CPU vs wrk (paired) | req/s vs wrk (paired) | wrk-style p50 − wrk's (paired) |\n";
    out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    let ratio = |x: Option<f64>| x.map_or("–".into(), |v| format!("{v:.2}x"));
    for row in &r.rows {
        out += &format!(
            "| {} | {} | {:.1} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {} | {} | {} |\n",
            row.tool,
            row.connections,
            row.p50_us,
            if row.p50_wrk_style_us.is_nan() {
                "–".to_string()
            } else {
                format!("{:.1}", row.p50_wrk_style_us)
            },
            row.p90_us,
            row.p99_us,
            row.rps,
            row.cpu_us_per_req,
            ratio(row.cpu_vs_wrk),
            ratio(row.rps_vs_wrk),
            row.p50_minus_wrk_us
                .map_or("–".into(), |v| format!("{v:+.1} µs")),
        );
        if row.errors > 0 {
            out += &format!("|   ({} errors) ||||||||||\n", row.errors);
        }
    }
    out += "\nwrk 4 corrects its latencies for coordinated omission before reporting them (synthetic samples \
below every response slower than twice the mean interval per connection), which raises its p50 when \
the machine stalls; the wrk-style column applies the same correction to our raw histogram, and the \
p50 difference to wrk is taken on it. Our plain p50 is uncorrected.\n\n";
    out += &targets(r);
    for t in &r.tools {
        out += &format!("- {}: {} ({})\n", t.name, t.version, t.path);
    }
    if !r.not_found.is_empty() {
        out += &format!(
            "- not installed, so not compared: {}\n",
            r.not_found.join(", ")
        );
    }
    out
}
