//! HTTP/2 over cleartext TCP with prior knowledge (h2c, as gRPC clients speak it to a gateway), one
//! stream at a time per connection so that c connections are c concurrent requests, exactly as with
//! HTTP/1.1. Every response is read to its end and checked (status, then the whole body).

use super::http1::{Expectation, Failure, Verdict};
use bytes::Bytes;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// What every request of a run asks for.
#[derive(Debug, Clone)]
pub struct Target {
    uri: http::Uri,
}

impl Target {
    /// `authority` becomes `:authority` (the Host of HTTP/1.1), `path` the `:path`.
    pub fn new(authority: &str, path: &str) -> Result<Target, String> {
        let uri = format!("http://{authority}{path}")
            .parse::<http::Uri>()
            .map_err(|e| format!("`{authority}` `{path}` is not a valid HTTP/2 target: {e}"))?;
        Ok(Target { uri })
    }

    fn request(&self) -> http::Request<()> {
        let mut r = http::Request::new(());
        *r.uri_mut() = self.uri.clone();
        r
    }
}

pub struct Connection {
    send: h2::client::SendRequest<Bytes>,
    /// The task that drives the connection's frames; ended when this handle is dropped.
    driver: tokio::task::JoinHandle<()>,
    /// Status and body of the last response (the body buffer is reused between requests).
    status: u16,
    body: Vec<u8>,
    /// The connection cannot carry another request (GOAWAY, reset, I/O error).
    pub closing: bool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

fn failure(e: &h2::Error) -> Failure {
    if e.is_io() || e.is_go_away() || e.is_reset() {
        Failure::Io
    } else {
        Failure::Protocol
    }
}

impl Connection {
    /// Opens a TCP connection and performs the HTTP/2 handshake (connection preface and SETTINGS).
    pub async fn connect(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (send, conn) = h2::client::Builder::new()
            // Responses are read whole; a large window avoids WINDOW_UPDATE round trips mid-body.
            .initial_window_size(1 << 20)
            .initial_connection_window_size(1 << 24)
            .handshake::<_, Bytes>(stream)
            .await
            .map_err(io::Error::other)?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Connection {
            send,
            driver,
            status: 0,
            body: Vec::new(),
            closing: false,
        })
    }

    /// Sends one GET for `target` and checks the whole response against `expect`.
    pub async fn exchange(
        &mut self,
        target: &Target,
        expect: &Expectation,
    ) -> Result<Verdict, Failure> {
        let (status, body) = self.exchange_raw(target).await?;
        Ok(expect.judge(status, body))
    }

    /// Sends one GET for `target`; returns the status and the whole body.
    pub async fn exchange_raw(&mut self, target: &Target) -> Result<(u16, &[u8]), Failure> {
        let r = self.exchange_inner(target).await;
        if r.is_err() {
            self.closing = true;
        }
        r?;
        Ok((self.status, &self.body))
    }

    async fn exchange_inner(&mut self, target: &Target) -> Result<(), Failure> {
        poll_fn(|cx| self.send.poll_ready(cx))
            .await
            .map_err(|e| failure(&e))?;
        let (response, _) = self
            .send
            .send_request(target.request(), true)
            .map_err(|e| failure(&e))?;
        let response = response.await.map_err(|e| failure(&e))?;
        self.status = response.status().as_u16();
        let mut body = response.into_body();
        self.body.clear();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(|e| failure(&e))?;
            self.body.extend_from_slice(&chunk);
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        // Trailers, if any, end the stream; their content is not checked.
        body.trailers().await.map_err(|e| failure(&e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// An h2c server answering each request with `status` and `body` (empty `body`: reset the
    /// stream instead of answering).
    async fn serve(status: u16, body: &'static [u8]) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let mut conn = h2::server::handshake(s).await.unwrap();
            while let Some(Ok((req, mut respond))) = conn.accept().await {
                assert_eq!(req.uri().path(), "/p");
                assert_eq!(req.uri().authority().unwrap().as_str(), "example:80");
                if body.is_empty() {
                    respond.send_reset(h2::Reason::INTERNAL_ERROR);
                    continue;
                }
                let resp = http::Response::builder().status(status).body(()).unwrap();
                let mut tx = respond.send_response(resp, false).unwrap();
                // in two DATA frames, to check that the body is reassembled
                let (a, b) = body.split_at(body.len() / 2);
                tx.send_data(Bytes::from_static(a), false).unwrap();
                tx.send_data(Bytes::from_static(b), true).unwrap();
            }
        });
        addr
    }

    fn expect(body: &str) -> Expectation {
        Expectation::ok_with(body)
    }

    #[tokio::test]
    async fn status_and_whole_body_are_checked() {
        let t = Target::new("example:80", "/p").unwrap();
        let mut c = Connection::connect(serve(200, b"hello higress").await)
            .await
            .unwrap();
        assert_eq!(
            c.exchange(&t, &expect("hello higress")).await,
            Ok(Verdict::Ok)
        );
        // the same connection carries the next request
        assert_eq!(
            c.exchange(&t, &expect("hello")).await,
            Ok(Verdict::WrongBody)
        );
        assert!(!c.closing);

        let mut c = Connection::connect(serve(503, b"busy").await)
            .await
            .unwrap();
        assert_eq!(
            c.exchange(&t, &expect("busy")).await,
            Ok(Verdict::WrongStatus(503))
        );
    }

    #[tokio::test]
    async fn a_reset_stream_or_a_dead_peer_is_a_failure() {
        let t = Target::new("example:80", "/p").unwrap();
        let mut c = Connection::connect(serve(200, b"").await).await.unwrap();
        assert_eq!(c.exchange(&t, &expect("x")).await, Err(Failure::Io));
        assert!(c.closing, "a failed connection is not reused");

        // a peer that is not an HTTP/2 server at all
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            use tokio::io::AsyncWriteExt;
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        });
        let r = match Connection::connect(addr).await {
            Ok(mut c) => c.exchange(&t, &expect("x")).await,
            Err(_) => Err(Failure::Io),
        };
        assert!(r.is_err(), "{r:?}");
    }
}
