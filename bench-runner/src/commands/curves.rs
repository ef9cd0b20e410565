//! `bench-runner curves`: its flags, turned into a plan (points parsed and bounded before any work),
//! and the glue to `bench::curves`.

use super::args::EnvoyArgs;
use crate::bench::curves::{CurvesOptions, MAX_BODY_BYTES, MAX_HEADERS};
use crate::error::usage;
use crate::paths::Project;
use crate::results::profile::ProfileName;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct CurvesArgs {
    /// Comma-separated implementations (plugin folder names, `lua`); default: all.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Header counts of the `headers` points (0 to 100, Envoy's default max_headers_count).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        allow_hyphen_values = true,
        default_value = "0,1,5,10,20,50,100"
    )]
    pub headers: Vec<String>,
    /// Request body sizes of the `body` points: bytes, or with k (1024) or m; 0 to 1m.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        allow_hyphen_values = true,
        default_value = "0,1k,4k,16k,64k"
    )]
    pub body: Vec<String>,
    /// quick (default: 4 Envoy processes of one round per group, about 12 minutes for every
    /// implementation at the default points on 2 cores), default or full as for `run`.
    #[arg(long, value_enum, default_value = "quick")]
    pub profile: ProfileName,
    /// Envoy processes per group (one round each; at least 2 for an interval).
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,
    /// Folder to write (default: results/<timestamp>-curves/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Seed for the round orders and the interleaving of latency windows.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rebuild plugins even when their sources did not change.
    #[arg(long)]
    pub rebuild: bool,
    /// Do not pin Envoy and the load generator to separate CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// First port for Envoy; default: free ports from the kernel.
    #[arg(long, value_name = "PORT")]
    pub base_port: Option<u16>,
}

/// `--headers 0,1,5`: counts from 0 to [`MAX_HEADERS`], sorted and distinct.
pub fn parse_headers(list: &[String]) -> Result<Vec<usize>, String> {
    let bad = |s: &str| {
        format!("--headers `{s}`: give header counts from 0 to {MAX_HEADERS} (Envoy's default max_headers_count), e.g. 0,1,5,10,20,50,100")
    };
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        match s.trim().parse::<usize>() {
            Ok(n) if n <= MAX_HEADERS => out.push(n),
            _ => return Err(bad(s)),
        }
    }
    finish("--headers", out)
}

/// `--body 0,1k,4k`: bytes, or with `k` (1024) / `m` (1 MiB), from 0 to [`MAX_BODY_BYTES`].
pub fn parse_bodies(list: &[String]) -> Result<Vec<usize>, String> {
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        match super::args::parse_size(s) {
            Ok(n) if n <= MAX_BODY_BYTES => out.push(n),
            _ => {
                return Err(format!(
                    "--body `{s}`: give sizes from 0 to 1m ({MAX_BODY_BYTES} bytes, Envoy's default per-request buffer limit), in bytes or with k (1024) or m, e.g. 0,1k,4k,16k,64k"
                ))
            }
        }
    }
    finish("--body", out)
}

fn finish(flag: &str, mut v: Vec<usize>) -> Result<Vec<usize>, String> {
    if v.is_empty() {
        return Err(format!("{flag}: give at least one point"));
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// The options from the flags; every bad value is a usage error naming its flag.
pub fn options_from_args(a: &CurvesArgs) -> anyhow::Result<CurvesOptions> {
    let headers = parse_headers(&a.headers).map_err(usage)?;
    let bodies = parse_bodies(&a.body).map_err(usage)?;
    if a.processes == Some(0) {
        return Err(usage("--processes must be at least 1 (2 for an interval)"));
    }
    if a.base_port == Some(0) {
        return Err(usage(
            "--base-port 0: give a port from 1 to 65535, or omit it for free ports from the kernel",
        ));
    }
    Ok(CurvesOptions {
        only: a.only.clone(),
        headers,
        bodies,
        profile: a.profile,
        processes: a.processes,
        out: a.out.clone(),
        envoy: a.envoy.envoy.clone(),
        seed: a.seed,
        rebuild: a.rebuild,
        no_pin: a.no_pin,
        base_port: a.base_port,
    })
}

/// `bench-runner curves`.
pub fn command(project: &Project, a: &CurvesArgs) -> anyhow::Result<u8> {
    crate::bench::curves::run(project, &options_from_args(a)?)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn sizes_take_k_and_m_and_plain_bytes_sorted_and_distinct() {
        assert_eq!(
            parse_bodies(&s(&["64k", "0", "1k", "4k", "16k", "1k", "100"])).unwrap(),
            [0, 100, 1024, 4096, 16384, 65536]
        );
        assert_eq!(parse_bodies(&s(&["1m"])).unwrap(), [1 << 20]);
        assert_eq!(
            parse_headers(&s(&["20", "0", "100"])).unwrap(),
            [0, 20, 100]
        );
    }

    #[test]
    fn bad_points_name_the_flag_and_the_limit() {
        for bad in ["-1", "101", "x", "1.5", ""] {
            let e = parse_headers(&s(&[bad])).unwrap_err();
            assert!(e.starts_with("--headers") && e.contains("100"), "{e}");
        }
        for bad in ["-1k", "2m", "1025k", "k", "1g"] {
            let e = parse_bodies(&s(&[bad])).unwrap_err();
            assert!(e.starts_with("--body") && e.contains("1m"), "{e}");
        }
    }
}
