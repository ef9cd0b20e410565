//! Mock-response external processor (shared/SPEC.md section 1, plugins/README.md) for Envoy's
//! `envoy.filters.http.ext_proc` filter: the same contract as the Wasm plugins, served over gRPC.
//!
//! `mock-extproc --config FILE [--config FILE ...] [--check] [--port N]`: every configuration is
//! read and validated at start (an invalid one: one line on stderr, exit 2); then it listens on a
//! free port of 127.0.0.1 (or port N) and prints `listening 127.0.0.1:PORT` on stdout. A stream uses the configuration whose
//! index its gRPC metadata `x-bench-config` gives (default 0): Envoy sends it as the filter's
//! `grpc_service.initial_metadata`, so one processor serves every listener of one Envoy. The route
//! name comes from the `xds.route_name` request attribute. With `--check` it exits 0 after validating.

// The Rust plugin's configuration code, the same file (one parser and matcher for both).
#[path = "../../rust/src/config.rs"]
mod config;

use config::{Config, Mode};
use envoy_types::pb::envoy::config::core::v3::{
    header_value_option::HeaderAppendAction, HeaderValue, HeaderValueOption,
};
use envoy_types::pb::envoy::r#type::v3::{HttpStatus, StatusCode};
use envoy_types::pb::envoy::service::ext_proc::v3::{
    external_processor_server::{ExternalProcessor, ExternalProcessorServer},
    processing_request::Request,
    processing_response::Response,
    BodyResponse, CommonResponse, HeaderMutation, HeadersResponse, HttpHeaders, ImmediateResponse,
    ProcessingRequest, ProcessingResponse,
};
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_stream::{Stream, StreamExt};
use tonic::{Status, Streaming};

/// The gRPC metadata key naming the configuration a stream uses.
const CONFIG_KEY: &str = "x-bench-config";

struct Processor {
    configs: Vec<Arc<Config>>,
    /// Requests seen by this process (for `crash_every`).
    requests: AtomicU64,
}

type Out = Pin<Box<dyn Stream<Item = Result<ProcessingResponse, Status>> + Send>>;

/// A header's value: Envoy sends `raw_value` (bytes), older senders `value`.
fn header_value(h: &HeaderValue) -> String {
    if h.raw_value.is_empty() {
        h.value.clone()
    } else {
        String::from_utf8_lossy(&h.raw_value).into_owned()
    }
}

/// The `xds.route_name` attribute Envoy sends (`request_attributes`), under the filter's name.
fn route_name(req: &ProcessingRequest) -> String {
    req.attributes
        .values()
        .filter_map(|s| s.fields.get("xds.route_name"))
        .find_map(|v| match &v.kind {
            Some(prost_types_kind::Kind::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

mod prost_types_kind {
    pub use envoy_types::pb::google::protobuf::value::Kind;
}

fn continue_with(mutation: Option<HeaderMutation>) -> ProcessingResponse {
    ProcessingResponse {
        response: Some(Response::RequestHeaders(HeadersResponse {
            response: Some(CommonResponse {
                header_mutation: mutation,
                ..Default::default()
            }),
        })),
        ..Default::default()
    }
}

/// `headers` mode: `x-bench-0..N-1` (names and values built once at configure,
/// `Config::bench_headers`) added to the processor's copy of the request headers, each read back and
/// checked, each removed again; Envoy applies the additions as one header mutation, which ext_proc
/// cannot read back or undo within the phase (a different mechanism from the in-process plugins:
/// the added headers stay on the request).
fn header_work(c: &Config, headers: &HttpHeaders) -> Result<HeaderMutation, Status> {
    let mut copy: Vec<(&str, String)> = headers
        .headers
        .iter()
        .flat_map(|m| m.headers.iter())
        .map(|h| (h.key.as_str(), header_value(h)))
        .collect();
    let mut set = Vec::with_capacity(c.bench_headers.len());
    for (key, value) in &c.bench_headers {
        copy.push((key, value.clone()));
        set.push(HeaderValueOption {
            header: Some(HeaderValue {
                key: key.clone(),
                raw_value: value.clone().into_bytes(),
                ..Default::default()
            }),
            append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
            ..Default::default()
        });
    }
    for (key, want) in &c.bench_headers {
        let found = copy.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        if found != Some(want) {
            return Err(Status::internal(format!("{key}: read back {found:?}")));
        }
    }
    for (key, _) in &c.bench_headers {
        copy.retain(|(k, _)| k != key);
    }
    Ok(HeaderMutation {
        set_headers: set,
        remove_headers: vec![],
    })
}

impl Processor {
    /// The answer to one request-headers message (the phase Envoy sends; a `body` configuration also
    /// gets the buffered body, [`on_request_body`]).
    fn on_request_headers(
        &self,
        c: &Config,
        req: &ProcessingRequest,
        headers: &HttpHeaders,
        pending: &mut Option<String>,
    ) -> Result<ProcessingResponse, Status> {
        let seen = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if c.crash_every > 0 && seen.is_multiple_of(c.crash_every as u64) {
            return Err(Status::internal(format!(
                "mock-response: crash_every: request {seen}"
            )));
        }
        if c.spin > 0 && config::spin(c.spin) == 0 {
            eprintln!("mock-response: spin result was zero");
        }
        let content = if c.rules.is_empty() {
            c.global.as_deref()
        } else {
            let host = headers
                .headers
                .iter()
                .flat_map(|m| m.headers.iter())
                .find(|h| h.key == ":authority")
                .map(header_value)
                .unwrap_or_default();
            c.select(&route_name(req), &host)
        };
        let Some(content) = content else {
            return Ok(continue_with(None));
        };
        match c.mode {
            Mode::Headers => Ok(continue_with(Some(header_work(c, headers)?))),
            Mode::Mock => Ok(reply(content.as_bytes().to_vec())),
            // No body coming: the empty body's reply now. Else the body comes next (Envoy buffers
            // it whole: request_body_mode BUFFERED for a `body` configuration) and is answered then.
            Mode::Body if headers.end_of_stream => {
                Ok(reply(config::body_reply(content, b"").into_bytes()))
            }
            Mode::Body => {
                *pending = Some(content.to_string());
                Ok(continue_with(None))
            }
        }
    }
}

/// A local 200 reply with `body`.
fn reply(body: Vec<u8>) -> ProcessingResponse {
    ProcessingResponse {
        response: Some(Response::ImmediateResponse(ImmediateResponse {
            status: Some(HttpStatus {
                code: StatusCode::Ok as i32,
            }),
            body,
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// `body` mode, the buffered request body: the matched content with the body's checksum; a body the
/// headers phase did not claim continues unchanged.
fn on_request_body(pending: &mut Option<String>, body: &[u8]) -> ProcessingResponse {
    match pending.take() {
        Some(content) => reply(config::body_reply(&content, body).into_bytes()),
        None => ProcessingResponse {
            response: Some(Response::RequestBody(BodyResponse::default())),
            ..Default::default()
        },
    }
}

/// The gRPC service: one [`Processor`] shared by every stream.
struct Service(Arc<Processor>);

#[tonic::async_trait]
impl ExternalProcessor for Service {
    type ProcessStream = Out;

    async fn process(
        &self,
        request: tonic::Request<Streaming<ProcessingRequest>>,
    ) -> Result<tonic::Response<Out>, Status> {
        let index = match request.metadata().get(CONFIG_KEY) {
            None => 0,
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| Status::invalid_argument(format!("bad {CONFIG_KEY}")))?,
        };
        let config = self
            .0
            .configs
            .get(index)
            .cloned()
            .ok_or_else(|| Status::invalid_argument(format!("no configuration {index}")))?;
        let me = self.0.clone();
        // The content a `body` request matched, while Envoy buffers its body (one request a stream).
        let mut pending: Option<String> = None;
        let out = request.into_inner().map(move |msg| {
            let req = msg?;
            match &req.request {
                Some(Request::RequestHeaders(h)) => {
                    me.on_request_headers(&config, &req, h, &mut pending)
                }
                Some(Request::RequestBody(b)) => Ok(on_request_body(&mut pending, &b.body)),
                // The processing mode skips every other phase; answer one anyway, unchanged.
                _ => Ok(continue_with(None)),
            }
        });
        Ok(tonic::Response::new(Box::pin(out)))
    }
}

/// The command line: every `--config FILE` in order, `--check`, and `--port N` (default 0: a free
/// port; a runner that starts it as a processor of your own gives it one, `run --ext-proc CMD`).
struct Args {
    files: Vec<String>,
    check: bool,
    port: u16,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        files: Vec::new(),
        check: false,
        port: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--config" => a.files.push(it.next().ok_or("--config needs a file")?),
            "--check" => a.check = true,
            "--port" => {
                a.port = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port needs a port number")?
            }
            _ => {
                return Err(format!(
                    "unknown argument `{arg}`; usage: mock-extproc --config FILE [--config FILE ...] [--check] [--port N]"
                ))
            }
        }
    }
    if a.files.is_empty() {
        return Err("no --config FILE given".into());
    }
    Ok(a)
}

fn load(files: &[String]) -> Result<Vec<Arc<Config>>, String> {
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).map_err(|e| format!("cannot read {f} ({e})"))?;
            Config::parse(&bytes)
                .map(Arc::new)
                .map_err(|reason| format!("mock-response: invalid configuration: {reason} ({f})"))
        })
        .collect()
}

fn main() {
    let loaded = args().and_then(|a| Ok((load(&a.files)?, a.check, a.port)));
    let (configs, port) = match loaded {
        Ok((_, true, _)) => return,
        Ok((configs, false, port)) => (configs, port),
        Err(line) => {
            eprintln!("{line}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = rt.block_on(serve(configs, port)) {
        eprintln!("mock-extproc: {e}");
        std::process::exit(1);
    }
}

async fn serve(configs: Vec<Arc<Config>>, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let processor = Arc::new(Processor {
        configs,
        requests: AtomicU64::new(0),
    });
    println!("listening {addr}");
    std::io::stdout().flush()?;
    tonic::transport::Server::builder()
        .add_service(ExternalProcessorServer::new(Service(processor)))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::config::core::v3::HeaderMap;

    fn processor() -> Processor {
        Processor {
            configs: vec![],
            requests: AtomicU64::new(0),
        }
    }

    fn config(json: &str) -> Config {
        Config::parse(json.as_bytes()).expect("a valid configuration")
    }

    /// A request-headers message for GET / with this Host, ending the stream.
    fn request(authority: &str) -> (ProcessingRequest, HttpHeaders) {
        let h = |k: &str, v: &str| HeaderValue {
            key: k.into(),
            raw_value: v.as_bytes().to_vec(),
            ..Default::default()
        };
        let headers = HttpHeaders {
            headers: Some(HeaderMap {
                headers: vec![
                    h(":authority", authority),
                    h(":path", "/"),
                    h(":method", "GET"),
                ],
            }),
            end_of_stream: true,
            ..Default::default()
        };
        (ProcessingRequest::default(), headers)
    }

    fn answer(c: &Config, authority: &str) -> ProcessingResponse {
        let (req, headers) = request(authority);
        processor()
            .on_request_headers(c, &req, &headers, &mut None)
            .expect("an answer")
    }

    #[test]
    fn headers_mode_answers_one_mutation_with_every_header_in_order() {
        let c = config(r#"{"mode":"headers","header_count":20}"#);
        let Some(Response::RequestHeaders(h)) = answer(&c, "localhost").response else {
            panic!("not a headers response")
        };
        let m = h.response.unwrap().header_mutation.expect("a mutation");
        let set: Vec<(String, Vec<u8>)> = m
            .set_headers
            .iter()
            .map(|o| {
                let h = o.header.as_ref().unwrap();
                (h.key.clone(), h.raw_value.clone())
            })
            .collect();
        let want: Vec<(String, Vec<u8>)> = (0..20)
            .map(|i| (format!("x-bench-{i}"), format!("v{i}").into_bytes()))
            .collect();
        assert_eq!(set, want);
        assert!(
            m.remove_headers.is_empty(),
            "the additions stay on the request"
        );
    }

    #[test]
    fn mock_answers_immediately_and_an_unmatched_request_continues_untouched() {
        let c = config(r#"{"content":"hello higress"}"#);
        let Some(Response::ImmediateResponse(r)) = answer(&c, "localhost").response else {
            panic!("not an immediate response")
        };
        assert_eq!(
            (r.status.unwrap().code, r.body),
            (200, b"hello higress".to_vec())
        );
        let rules = config(r#"{"mode":"headers","_rules_":[{"_match_domain_":["a.com"]}]}"#);
        let Some(Response::RequestHeaders(h)) = answer(&rules, "b.com").response else {
            panic!("not a headers response")
        };
        assert_eq!(h.response.unwrap().header_mutation, None);
        let Some(Response::RequestHeaders(h)) = answer(&rules, "a.com:8080").response else {
            panic!("not a headers response")
        };
        assert_eq!(
            h.response
                .unwrap()
                .header_mutation
                .unwrap()
                .set_headers
                .len(),
            20
        );
    }

    #[test]
    fn crash_every_fails_the_stream_on_its_request() {
        let c = config(r#"{"content":"x","crash_every":2}"#);
        let p = processor();
        let (req, headers) = request("h");
        assert!(p.on_request_headers(&c, &req, &headers, &mut None).is_ok());
        let e = p
            .on_request_headers(&c, &req, &headers, &mut None)
            .unwrap_err();
        assert!(e.message().contains("crash_every: request 2"), "{e}");
    }

    #[test]
    fn an_invalid_configuration_file_is_refused_in_one_line_naming_it() {
        let dir = std::env::temp_dir().join(format!("mock-extproc-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.json");
        std::fs::write(&f, r#"{"_rules_":[]}"#).unwrap();
        let name = f.display().to_string();
        let Err(line) = load(std::slice::from_ref(&name)) else {
            panic!("accepted")
        };
        assert!(
            line.starts_with("mock-response: invalid configuration: ")
                && line.ends_with(&format!("({name})"))
                && !line.contains('\n'),
            "{line}"
        );
        let missing = load(&["/nonexistent/config.json".to_string()]).unwrap_err();
        assert!(
            missing.contains("cannot read /nonexistent/config.json"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
