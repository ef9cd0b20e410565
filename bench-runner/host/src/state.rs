//! What the host knows about one VM: its configuration buffers, the request in flight, what the plugin
//! did (local reply, log lines, stdout), and the deterministic clock and random stream it sees.

use crate::calls::{HeaderOp, Tally};

/// An ordered header map with lower-case keys (Envoy's `LowerCaseString` semantics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMap {
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl HeaderMap {
    pub fn from_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> HeaderMap {
        HeaderMap {
            pairs: pairs
                .iter()
                .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.as_ref().to_vec()))
                .collect(),
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        self.pairs.push((key.to_ascii_lowercase(), value.to_vec()));
    }

    /// Sets the first entry of `key` and drops the others; appends when absent.
    pub fn replace(&mut self, key: &[u8], value: &[u8]) {
        match self
            .pairs
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            Some(i) => {
                self.pairs[i].1 = value.to_vec();
                let mut j = i + 1;
                while j < self.pairs.len() {
                    if self.pairs[j].0.eq_ignore_ascii_case(key) {
                        self.pairs.remove(j);
                    } else {
                        j += 1;
                    }
                }
            }
            None => self.add(key, value),
        }
    }

    pub fn remove(&mut self, key: &[u8]) {
        self.pairs.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    /// The proxy-wasm serialisation: u32 count, (u32 key len, u32 value len) per pair, then
    /// `key\0value\0` per pair; little-endian.
    pub fn serialize(&self) -> Vec<u8> {
        serialize_pairs(&self.pairs)
    }
}

pub fn serialize_pairs(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let body: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(4 + 8 * pairs.len() + body);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

/// Parses the serialisation of [`serialize_pairs`]; None when it is truncated or inconsistent.
pub fn deserialize_pairs(data: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    let word = |at: usize| -> Option<usize> {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let n = word(0)?;
    let mut sizes = Vec::with_capacity(n.min(1024));
    let mut pos = 4usize;
    for _ in 0..n {
        sizes.push((word(pos)?, word(pos + 4)?));
        pos = pos.checked_add(8)?;
    }
    let mut out = Vec::with_capacity(sizes.len());
    for (kl, vl) in sizes {
        let k = data.get(pos..pos.checked_add(kl)?)?.to_vec();
        pos += kl;
        if data.get(pos) != Some(&0) {
            return None;
        }
        pos += 1;
        let v = data.get(pos..pos.checked_add(vl)?)?.to_vec();
        pos += vl;
        if data.get(pos) != Some(&0) {
            return None;
        }
        pos += 1;
        out.push((k, v));
    }
    Some(out)
}

/// `proxy_send_local_response` as the plugin called it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub details: Vec<u8>,
    pub body: Vec<u8>,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// -1 means none.
    pub grpc_status: i32,
}

/// One `proxy_log` call. Levels: 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 critical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: i32,
    pub message: String,
}

/// At most this many log lines and this many bytes of stdout/stderr are kept per VM; the rest is
/// counted, so that a chatty plugin in a long benchmark loop cannot grow memory without bound.
pub const MAX_LOG_LINES: usize = 1000;
pub const MAX_STDIO_BYTES: usize = 64 * 1024;

/// Which callback the host is in; decides which buffers and maps exist (as in Envoy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Idle,
    /// `proxy_on_vm_start` / `proxy_on_configure`: the configuration buffers are readable.
    Configuring,
    /// A request callback: the request header map exists.
    Request,
}

/// Fixed start of the virtual clock: 2026-01-01T00:00:00Z in nanoseconds.
pub const CLOCK_START_NS: u64 = 1_767_225_600_000_000_000;

#[derive(Debug, Clone)]
pub struct HostState {
    pub phase: Phase,
    pub vm_config: Vec<u8>,
    pub plugin_config: Vec<u8>,
    pub request_headers: HeaderMap,
    pub response_headers: HeaderMap,
    /// The value of the property path `xds` NUL `route_name` for the request in flight.
    pub route_name: Option<Vec<u8>>,
    /// Extra properties (NUL-joined path -> value), e.g. set by the plugin with `proxy_set_property`.
    pub properties: Vec<(Vec<u8>, Vec<u8>)>,
    pub local_reply: Option<LocalReply>,
    /// The request body Envoy has buffered so far (buffer kind 0 in a request callback).
    pub request_body: Vec<u8>,
    pub effective_context: u32,
    pub tick_period_ms: u32,
    pub logs: Vec<LogLine>,
    pub logs_dropped: u64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdio_dropped: u64,
    /// Virtual time: advances by 1 µs per read and jumps over every `poll_oneoff` timeout.
    pub clock_ns: u64,
    pub rng_state: u64,
    /// Every host call since the last reset ([`crate::Vm::request_in`] resets it per request).
    pub calls: Tally,
    /// The request-header operations of the request in flight, while tracing is on.
    pub trace: Option<Vec<HeaderOp>>,
    /// `proxy_log` calls since the last reset, by level (0 trace .. 5 critical; others counted as 5).
    pub log_levels: [u32; 6],
}

impl Default for HostState {
    fn default() -> Self {
        HostState {
            phase: Phase::Idle,
            vm_config: Vec::new(),
            plugin_config: Vec::new(),
            request_headers: HeaderMap::default(),
            response_headers: HeaderMap::default(),
            route_name: None,
            properties: Vec::new(),
            local_reply: None,
            request_body: Vec::new(),
            effective_context: 0,
            tick_period_ms: 0,
            logs: Vec::new(),
            logs_dropped: 0,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdio_dropped: 0,
            clock_ns: CLOCK_START_NS,
            rng_state: 0x005e_ed0f_b0a7,
            calls: Tally::default(),
            trace: None,
            log_levels: [0; 6],
        }
    }
}

impl HostState {
    /// Keeps `op` when tracing is on.
    pub fn traced(&mut self, op: impl FnOnce() -> HeaderOp) {
        if let Some(t) = &mut self.trace {
            t.push(op());
        }
    }

    pub fn log(&mut self, level: i32, message: String) {
        self.log_levels[level.clamp(0, 5) as usize] += 1;
        if self.logs.len() < MAX_LOG_LINES {
            self.logs.push(LogLine { level, message });
        } else {
            self.logs_dropped += 1;
        }
    }

    pub fn write_stdio(&mut self, fd: u32, data: &[u8]) {
        let buf = if fd == 1 {
            &mut self.stdout
        } else {
            &mut self.stderr
        };
        let room = MAX_STDIO_BYTES.saturating_sub(buf.len());
        let keep = room.min(data.len());
        buf.extend_from_slice(&data[..keep]);
        self.stdio_dropped += (data.len() - keep) as u64;
    }

    pub fn now_ns(&mut self) -> u64 {
        self.clock_ns += 1_000;
        self.clock_ns
    }

    /// SplitMix64, seeded per VM: the "random" bytes a plugin sees are the same every run.
    pub fn next_random(&mut self) -> u64 {
        self.rng_state = self.rng_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let pairs = vec![
            (b":path".to_vec(), b"/".to_vec()),
            (b"x".to_vec(), Vec::new()),
        ];
        let s = serialize_pairs(&pairs);
        assert_eq!(deserialize_pairs(&s), Some(pairs));
        assert_eq!(deserialize_pairs(&[]), Some(vec![]));
        assert_eq!(deserialize_pairs(&s[..s.len() - 1]), None);
        assert_eq!(deserialize_pairs(&[5, 0, 0, 0]), None);
        assert_eq!(deserialize_pairs(&[0xff, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn header_map_semantics() {
        let mut m = HeaderMap::from_pairs(&[("Host", "a")]);
        assert_eq!(m.get(b"host"), Some(&b"a"[..]));
        m.add(b"X-A", b"1");
        m.add(b"x-a", b"2");
        assert_eq!(m.get(b"x-a"), Some(&b"1"[..]));
        m.replace(b"x-a", b"3");
        assert_eq!(m.pairs.len(), 2);
        assert_eq!(m.get(b"X-A"), Some(&b"3"[..]));
        m.remove(b"x-a");
        assert_eq!(m.get(b"x-a"), None);
        m.replace(b"new", b"v");
        assert_eq!(m.get(b"new"), Some(&b"v"[..]));
    }

    #[test]
    fn stdio_and_logs_are_bounded() {
        let mut s = HostState::default();
        s.write_stdio(1, &vec![b'a'; MAX_STDIO_BYTES + 10]);
        assert_eq!(s.stdout.len(), MAX_STDIO_BYTES);
        assert_eq!(s.stdio_dropped, 10);
        for _ in 0..MAX_LOG_LINES + 5 {
            s.log(2, "x".into());
        }
        assert_eq!(s.logs.len(), MAX_LOG_LINES);
        assert_eq!(s.logs_dropped, 5);
    }
}
