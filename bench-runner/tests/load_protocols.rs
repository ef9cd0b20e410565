//! The load generator through a real Envoy over HTTP/2 (h2c with prior knowledge, which the
//! listeners' `codec_type: AUTO` accepts), and `peers` against whatever peer tools are installed.
//! Behaviour only, never timings.

mod common;

use bench_runner::bench::variants::{Variant, MOCK_BODY, PASSTHROUGH_BODY};
use bench_runner::envoy::session::{allocate_ports, Launch};
use bench_runner::load::{self, LoadPlan, Pace};
use common::*;
use std::time::Duration;

fn plan(port: u16, body: &str, pace: Pace) -> LoadPlan {
    LoadPlan {
        addr: ([127, 0, 0, 1], port).into(),
        host: "localhost".into(),
        path: "/".into(),
        connections: 3,
        pace,
        warmup: Duration::ZERO,
        duration: None,
        requests: Some(60),
        max_duration: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        expect_status: 200,
        expect_body: Some(body.as_bytes().to_vec()),
        cpu: None,
        cpu_probe_pid: None,
        cpu_probe_tid: None,
        cpu_probe_extra_pid: None,
        http2: true,
        body_bytes: 0,
        exchange: None,
    }
}

#[test]
fn http2_requests_get_the_plugins_body_through_envoy() {
    let envoy = envoy();
    let project = project();
    let dir = tempfile::tempdir().unwrap();
    let variants = [Variant::baseline(), Variant::lua(&lua(), "mock").unwrap()];
    let ports = allocate_ports(3, None).unwrap();
    let listeners: Vec<_> = variants
        .iter()
        .zip(&ports[1..])
        .map(|(v, p)| v.listener(*p).unwrap())
        .collect();
    let launch = Launch {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
        stem: "h2",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let mut e = launch.start(&listeners).unwrap();

    for (port, body) in [(ports[1], PASSTHROUGH_BODY), (ports[2], MOCK_BODY)] {
        let o = load::run(&plan(port, body, Pace::Closed), None).unwrap();
        assert_eq!((o.ok, o.errors.total()), (60, 0), "{port}: {:?}", o.errors);
        let o = load::run(&plan(port, body, Pace::Open { rate: 500.0 }), None).unwrap();
        assert_eq!((o.ok, o.errors.total()), (60, 0), "{port}: {:?}", o.errors);
    }
    // the plugin's body is really checked over HTTP/2: another body is an error
    let o = load::run(&plan(ports[2], PASSTHROUGH_BODY, Pace::Closed), None).unwrap();
    assert_eq!((o.ok, o.errors.body), (0, 60));

    // and the command line speaks HTTP/2 too
    let url = format!("http://127.0.0.1:{}/", ports[2]);
    let out = run(&[
        "load",
        &url,
        "--http2",
        "-n",
        "20",
        "--warmup",
        "0s",
        "--expect-body",
        MOCK_BODY,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (s["ok"].as_u64(), s["errors"].as_u64()),
        (Some(20), Some(0))
    );
    // The listeners accept both protocols (`codec_type: AUTO`): Envoy's own counters prove every
    // request came over HTTP/2 and none over HTTP/1.1.
    let (_, stats) = e.admin("/stats?filter=downstream_rq_http").unwrap();
    let stat = |listener: &str, name: &str| -> u64 {
        stats
            .lines()
            .filter_map(|l| l.split_once(": "))
            .find(|(n, _)| *n == format!("http.{listener}.{name}"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no http.{listener}.{name} in\n{stats}"))
    };
    for (l, sent) in [(&listeners[0], 120), (&listeners[1], 120 + 60 + 20)] {
        assert!(
            stat(&l.name, "downstream_rq_http2_total") >= sent,
            "{}: fewer HTTP/2 requests than sent ({sent}):\n{stats}",
            l.name
        );
        assert_eq!(stat(&l.name, "downstream_rq_http1_total"), 0, "{}", l.name);
    }
    e.stop();
}

#[test]
fn peers_compares_against_the_installed_tools_and_names_the_missing_ones() {
    // The comparison needs a peer: wrk, installed for the test where missing (as root), unless
    // BENCH_TEST_SKIP names `peers` (then only our own tool and the missing-tool listing are checked).
    let left_out = opted_out("peers");
    if left_out {
        eprintln!("LEFT OUT peers ({SKIP_VAR} names it): no peer tool is required");
    } else {
        ensure_tool("wrk", "wrk");
    }
    let o = run(&[
        "peers",
        "--rounds",
        "1",
        "--duration",
        "1s",
        "--connections",
        "2",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = r["rows"].as_array().unwrap();
    let ours = rows.iter().find(|x| x["tool"] == "bench-runner").unwrap();
    assert!(ours["samples"][0]["requests"].as_u64() > Some(0), "{ours}");
    assert_eq!(ours["errors"], 0);
    let measured: Vec<&str> = ["wrk", "oha"]
        .into_iter()
        .filter(|t| rows.iter().any(|x| x["tool"] == *t))
        .collect();
    assert!(
        left_out || !measured.is_empty(),
        "no peer tool was measured: {}",
        r["not_found"]
    );
    for tool in ["wrk", "oha"] {
        let installed = rows.iter().any(|x| x["tool"] == tool);
        let missing = r["not_found"].as_array().unwrap().iter().any(|x| x == tool);
        assert!(
            installed != missing,
            "{tool} is either compared or listed as missing"
        );
        if installed {
            let row = rows.iter().find(|x| x["tool"] == tool).unwrap();
            assert!(row["samples"][0]["requests"].as_u64() > Some(0), "{row}");
        }
    }

    let o = run(&["peers", "--rounds", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--rounds"), "{}", text(&o));
}
