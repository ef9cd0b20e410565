//! One load worker's results as a file that merges exactly (`load --save-histograms`, read by
//! `merge`): an HdrHistogram interval log (V2 compressed, base64, the form Java's
//! `HistogramLogProcessor` and the other HdrHistogram implementations read) holding the measured
//! window's histograms in ns (untagged: latency from the intended send; `Tag=service`: from the actual
//! send; `Tag=lag`: the send lag behind the schedule), with the worker's id, plan, counts, errors,
//! schedule and clock on one comment line (`#bench-runner-worker {json}`) that those tools skip.
//!
//! Checked by hand with HdrHistogram 2.2.2 (Java): `java -cp HdrHistogram-2.2.2.jar
//! org.HdrHistogram.HistogramLogProcessor -i w0.hlog -outputValueUnitRatio 1000` prints the same
//! count, percentiles (µs), max and mean as `merge` for that worker.
//!
//! Printed to stdout (`--save-histograms -`) the file sits between [`BEGIN`] and [`END`] lines, so
//! that a pod's log (`kubectl logs`) can be given to `merge` as it is.

use super::clock::Offset;
use super::LoadSummary;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// The version of the metadata line; another one is refused with a clear message.
pub const FORMAT: u32 = 1;
/// The metadata line's prefix.
const META: &str = "#bench-runner-worker ";
/// The lines around a worker file printed to stdout.
pub const BEGIN: &str = "----- bench-runner worker file begin -----";
pub const END: &str = "----- bench-runner worker file end -----";

/// What the worker was asked to do, what it measured and when, or why it failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkerMeta {
    pub format: u32,
    pub worker_id: String,
    /// The URL as given.
    pub target: String,
    pub http2: bool,
    pub connections: usize,
    /// Open loop: this worker's rate (requests per second); None: closed loop.
    pub rate_rps: Option<f64>,
    pub warmup_s: f64,
    pub duration_s: Option<f64>,
    /// Measured requests planned (open loop: rate x duration, or -n; closed loop: -n, if given).
    pub planned_requests: Option<u64>,
    pub clock: WorkerClock,
    /// None when the worker failed before measuring (`failure` says why).
    pub summary: Option<LoadSummary>,
    pub failure: Option<String>,
}

/// The worker's clock: wall-clock times in RFC 3339 with ns (UTC), the same span on the monotonic
/// clock, and the offset to the target's clock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkerClock {
    /// `--start-at`, if given: when the schedule was meant to begin (warm-up included).
    pub planned_start: Option<String>,
    /// The schedule's origin (slot 0's intended time): `planned_start`, or when the connections
    /// were open.
    pub origin: Option<String>,
    /// When the load actually began (the connections open and the origin reached).
    pub actual_start: Option<String>,
    /// `actual_start` minus `origin`, ms: a worker started after its planned time sends its first
    /// slots late (counted as latency, since latency counts from the intended send).
    pub start_lag_ms: Option<f64>,
    /// The measured window: the first measured intended send to the last measured completion.
    pub measured_start: Option<String>,
    pub measured_end: Option<String>,
    /// The process's run: its first and last wall-clock readings, and the monotonic time between.
    pub wall_start: String,
    pub wall_end: String,
    pub monotonic_s: f64,
    /// (wall_end - wall_start) - monotonic_s, ms: the wall clock stepped (NTP) during the run.
    pub wall_minus_monotonic_ms: f64,
    /// This clock minus the target's (HTTP `Date` probes before the load), when the target sends one.
    pub target_offset: Option<Offset>,
}

/// A worker file read back.
#[derive(Debug, Clone)]
pub struct WorkerRecord {
    pub meta: WorkerMeta,
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    pub lag: Histogram<u64>,
}

/// RFC 3339, UTC, with nanoseconds.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Parses RFC 3339 (any offset) into a system time.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| SystemTime::from(d.with_timezone(&chrono::Utc)))
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default()
}

/// The worker file's text. `base` (the schedule's origin, else the run's start) is the log's
/// BaseTime; the histograms' interval is the measured window relative to it.
pub fn render(
    meta: &WorkerMeta,
    hists: Option<(&Histogram<u64>, &Histogram<u64>, &Histogram<u64>)>,
) -> anyhow::Result<String> {
    let at = |s: &Option<String>| s.as_deref().and_then(parse_rfc3339);
    let base = at(&meta.clock.origin)
        .or_else(|| parse_rfc3339(&meta.clock.wall_start))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut buf = Vec::new();
    let mut ser = V2DeflateSerializer::new();
    IntervalLogWriterBuilder::new()
        .add_comment("[Histogram log format version 1.3]")
        .add_comment("[bench-runner load worker: latency in ns; untagged = from the intended send, Tag=service = from the actual send, Tag=lag = send lag]")
        .with_start_time(base)
        .with_base_time(base)
        .with_max_value_divisor(1e6)
        .begin_log_with(&mut buf, &mut ser)?;
    buf.extend_from_slice(format!("{META}{}\n", serde_json::to_string(meta)?).as_bytes());
    buf.extend_from_slice(
        b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
    );
    if let Some((latency, service, lag)) = hists {
        let from = at(&meta.clock.measured_start).unwrap_or(base);
        let to = at(&meta.clock.measured_end).unwrap_or(from);
        let start = since_epoch(from).saturating_sub(since_epoch(base));
        let length = to.duration_since(from).unwrap_or_default();
        let mut w = IntervalLogWriterBuilder::new().begin_log_with(&mut buf, &mut ser)?;
        let fail = |e| anyhow::anyhow!("writing the histograms: {e}");
        w.write_histogram(latency, start, length, None)
            .map_err(fail)?;
        w.write_histogram(service, start, length, Tag::new("service"))
            .map_err(fail)?;
        w.write_histogram(lag, start, length, Tag::new("lag"))
            .map_err(fail)?;
    }
    Ok(String::from_utf8(buf)?)
}

/// The worker file inside `text`: between [`BEGIN`] and [`END`] when those lines are there (a pod's
/// log), else all of it.
fn unwrap_markers(text: &str) -> Result<&str, String> {
    let Some(b) = text.find(BEGIN) else {
        return Ok(text);
    };
    let body = &text[b + BEGIN.len()..];
    let body = body.strip_prefix('\n').unwrap_or(body);
    match body.find(END) {
        Some(e) => Ok(&body[..e]),
        None => Err(format!(
            "the `{BEGIN}` line has no `{END}` line after it (a cut-off log?)"
        )),
    }
}

fn decode(encoded: &str) -> Result<Histogram<u64>, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("a histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("a histogram does not decode: {e:?}"))
}

/// Reads a worker file (or a log holding one between the markers); the error says what is wrong.
pub fn parse(text: &str) -> Result<WorkerRecord, String> {
    let text = unwrap_markers(text)?;
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(META))
        .ok_or("not a bench-runner worker file (no `#bench-runner-worker` line); write one with `bench-runner load ... --save-histograms FILE`")?;
    let format = serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v["format"].as_u64());
    if format != Some(FORMAT as u64) {
        return Err(format!(
            "worker file format {format:?}, this bench-runner reads format {FORMAT}; write it again with this version's `load --save-histograms`"
        ));
    }
    let meta: WorkerMeta =
        serde_json::from_str(line).map_err(|e| format!("the worker line is misshapen: {e}"))?;
    let mut latency = None;
    let mut service = None;
    let mut lag = None;
    for entry in IntervalLogIterator::new(text.as_bytes()) {
        let entry = entry.map_err(|e| format!("not a valid HdrHistogram interval log: {e:?}"))?;
        if let LogEntry::Interval(h) = entry {
            let slot = match h.tag().map(|t| t.as_str()) {
                None => &mut latency,
                Some("service") => &mut service,
                Some("lag") => &mut lag,
                Some(_) => continue,
            };
            *slot = Some(decode(h.encoded_histogram())?);
        }
    }
    let empty = || super::new_hist();
    match (&meta.summary, latency) {
        (Some(s), Some(latency)) => {
            if latency.len() != s.ok {
                return Err(format!(
                    "the latency histogram holds {} samples but the worker counted {} good responses",
                    latency.len(),
                    s.ok
                ));
            }
            Ok(WorkerRecord {
                meta,
                latency,
                service: service.unwrap_or_else(empty),
                lag: lag.unwrap_or_else(empty),
            })
        }
        (Some(_), None) => Err("the latency histogram is missing (a cut-off file?)".into()),
        (None, _) => Ok(WorkerRecord {
            meta,
            latency: empty(),
            service: empty(),
            lag: empty(),
        }),
    }
}
