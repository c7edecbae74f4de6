//! A real HTTP/1.1 server on loopback for tests of the clients that talk to model servers
//! (chat completions, embeddings, a model hub), written by hand so that the bytes on the
//! wire are exactly what a test says, misbehaviour included.
//!
//! - [`Server::start`] answers each request with a closure `(n, request) -> Response` (`n`
//!   counts requests from 0); [`Server::script`] answers the `n`-th request with the `n`-th
//!   response of a list. Every request is recorded ([`Server::requests`]).
//! - A [`Response`] is a plain body ([`Response::new`], [`Response::json`]), a server-sent
//!   event stream written in pieces ([`Response::sse`], [`Response::sse_in_pieces`],
//!   [`Response::stream`]: chunked or with a length, with pauses until the test says go
//!   ([`Part::Wait`]) or a stall), or silence ([`Response::stall`]); any status, extra
//!   headers, and a delay before it is sent.
//! - [`closed_port`]: an address where nothing listens.
//!
//! One request per connection (`connection: close`), a thread per connection, std only
//! (no async runtime): it serves blocking clients and async ones alike. The server stops
//! when dropped; connections still held (a stall, a wait) are closed within 100 ms.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a connection may take to send its request, and the longest a [`Part::Wait`]
/// waits before the server gives up and closes the connection (a test that never says go
/// fails in its client instead of hanging).
const PATIENCE: Duration = Duration::from_secs(30);

/// How often a held connection looks whether the server is stopping.
const TICK: Duration = Duration::from_millis(100);

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/v1/chat/completions`, with any query).
    pub path: String,
    /// In the order received; names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// Every value of header `name` (any case), in the order received: a client may send a
    /// header twice (`authorization` from the URL's credentials and from an API key).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A flag a test sets and a server thread waits for (or the other way round); clones share
/// it. Once set it stays set.
#[derive(Debug, Clone, Default)]
pub struct Latch(Arc<(Mutex<bool>, Condvar)>);

impl Latch {
    pub fn new() -> Latch {
        Latch::default()
    }

    /// Sets it, waking every waiter.
    pub fn set(&self) {
        let (flag, cond) = &*self.0;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cond.notify_all();
    }

    pub fn is_set(&self) -> bool {
        *self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until it is set, at most `timeout`; whether it is set. Blocks the thread: from
    /// an async test, call it through `tokio::task::spawn_blocking`.
    pub fn wait(&self, timeout: Duration) -> bool {
        let (flag, cond) = &*self.0;
        let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cond
            .wait_timeout_while(guard, timeout, |set| !*set)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

/// One piece of a streamed body.
#[derive(Debug, Clone)]
pub enum Part {
    /// Bytes, written and flushed (one HTTP chunk when the stream is chunked).
    Bytes(Vec<u8>),
    /// Waits until the latch is set (a test proves that the client saw what came before).
    /// After 30 s without it the connection is closed.
    Wait(Latch),
    /// Sends nothing more and holds the connection until the client closes it (then
    /// [`Server::hung_up`] is set).
    Stall,
}

#[derive(Debug, Clone)]
enum Body {
    Full(Vec<u8>),
    Stream {
        parts: Vec<Part>,
        chunked: bool,
    },
    /// No answer at all.
    Silence,
}

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    delay: Duration,
}

impl Response {
    /// `status` with `body` and no content type.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Full(body.into()),
            delay: Duration::ZERO,
        }
    }

    /// `status` with a JSON body.
    pub fn json(status: u16, body: &Value) -> Response {
        Response::raw_json(status, &body.to_string())
    }

    /// `status` with `body` sent as `application/json`, whether it is JSON or not (servers
    /// and proxies answer errors with anything).
    pub fn raw_json(status: u16, body: &str) -> Response {
        Response::new(status, body).with_header("content-type", "application/json")
    }

    /// `200 OK`, `text/event-stream`, the parts in order; chunked (`transfer-encoding:
    /// chunked`, a chunk per part) or with a `content-length` (the sum of the byte parts).
    pub fn stream(parts: Vec<Part>, chunked: bool) -> Response {
        Response {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/event-stream".into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            body: Body::Stream { parts, chunked },
            delay: Duration::ZERO,
        }
    }

    /// A stream of the server-sent events in `sse`, one chunk per event.
    pub fn sse(sse: &str) -> Response {
        let parts = split_events(sse)
            .into_iter()
            .map(|e| Part::Bytes(e.into_bytes()))
            .collect();
        Response::stream(parts, true)
    }

    /// A stream of `sse` cut every `size` bytes, wherever that falls (inside a line, inside
    /// a UTF-8 character).
    pub fn sse_in_pieces(sse: &str, size: usize, chunked: bool) -> Response {
        let parts = sse
            .as_bytes()
            .chunks(size)
            .map(|c| Part::Bytes(c.to_vec()))
            .collect();
        Response::stream(parts, chunked)
    }

    /// Reads the request and answers nothing, holding the connection until the client
    /// closes it (then [`Server::hung_up`] is set).
    pub fn stall() -> Response {
        Response {
            status: 0,
            headers: Vec::new(),
            body: Body::Silence,
            delay: Duration::ZERO,
        }
    }

    /// Adds a header (a `content-type` given here replaces the default one).
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        let name = name.to_ascii_lowercase();
        if name == "content-type" {
            self.headers.retain(|(n, _)| n != "content-type");
        }
        self.headers.push((name, value.into()));
        self
    }

    /// Waits `delay` before answering.
    pub fn with_delay(mut self, delay: Duration) -> Response {
        self.delay = delay;
        self
    }

    pub fn status(&self) -> u16 {
        self.status
    }
}

/// The events of a server-sent event text, each with its blank line.
pub fn split_events(sse: &str) -> Vec<String> {
    sse.split_inclusive("\n\n").map(str::to_string).collect()
}

/// An address on loopback where nothing listens (it was free a moment ago).
pub fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a loopback port")
}

type Handler = dyn FnMut(usize, &Request) -> Response + Send;

struct Shared {
    /// The requests so far and the handler, under one lock: request `n` is recorded and
    /// answered before request `n + 1`.
    state: Mutex<(Vec<Request>, Box<Handler>)>,
    stop: AtomicBool,
    hung_up: Latch,
}

/// A loopback HTTP/1.1 server; see the [module docs](self). Stops when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Answers request `n` (from 0) with `handler(n, &request)`. Calls are one at a time, in
    /// the order the requests arrived; the answer is written (after its delay) outside that
    /// order, so a slow answer does not hold up the next request.
    pub fn start(handler: impl FnMut(usize, &Request) -> Response + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let shared = Arc::new(Shared {
            state: Mutex::new((Vec::new(), Box::new(handler))),
            stop: AtomicBool::new(false),
            hung_up: Latch::new(),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = shared.clone();
                    std::thread::spawn(move || serve(stream, &shared));
                }
            })
        };
        Server {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// Answers request `n` with the `n`-th of `responses`; requests beyond them get `418`
    /// with a JSON error, so that they fail loudly (and are not retried).
    pub fn script(responses: impl IntoIterator<Item = Response>) -> Server {
        let mut responses = responses.into_iter().collect::<Vec<_>>().into_iter();
        Server::start(move |_, _| {
            responses.next().unwrap_or_else(|| {
                Response::raw_json(
                    418,
                    r#"{"error":{"message":"test server: no reply scripted"}}"#,
                )
            })
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// [`Server::url`] followed by `path` (`/v1`).
    pub fn url_at(&self, path: &str) -> String {
        format!("{}{path}", self.url())
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT` followed by `path`.
    pub fn url_with_credentials(&self, user: &str, password: &str, path: &str) -> String {
        format!("http://{user}:{password}@{}{path}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Set once a client closed a connection the server was holding ([`Response::stall`],
    /// [`Part::Stall`]).
    pub fn hung_up(&self) -> Latch {
        self.shared.hung_up.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let Some((request, stream)) = read_request(stream) else {
        return; // the wake-up connection of a drop, or a client that gave up
    };
    let response = {
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        let (requests, handler) = &mut *state;
        requests.push(request.clone());
        handler(requests.len() - 1, &request)
    };
    std::thread::sleep(response.delay);
    let _ = write_response(stream, response, shared);
}

fn read_request(stream: TcpStream) -> Option<(Request, TcpStream)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let request = Request {
        method,
        path,
        headers,
        body,
    };
    Some((request, reader.into_inner()))
}

fn write_response(
    mut stream: TcpStream,
    response: Response,
    shared: &Shared,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let (parts, chunked) = match response.body {
        Body::Silence => {
            hold(&mut stream, shared);
            return Ok(());
        }
        Body::Full(bytes) => (vec![Part::Bytes(bytes)], false),
        Body::Stream { parts, chunked } => (parts, chunked),
    };
    if chunked {
        head.push_str("transfer-encoding: chunked\r\n");
    } else {
        let length: usize = parts
            .iter()
            .map(|p| match p {
                Part::Bytes(b) => b.len(),
                _ => 0,
            })
            .sum();
        head.push_str(&format!("content-length: {length}\r\n"));
    }
    head.push_str("connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    stream.flush()?;
    for part in parts {
        match part {
            Part::Bytes(bytes) if chunked => {
                if bytes.is_empty() {
                    continue; // an empty chunk would end the body
                }
                let mut frame = format!("{:x}\r\n", bytes.len()).into_bytes();
                frame.extend_from_slice(&bytes);
                frame.extend_from_slice(b"\r\n");
                stream.write_all(&frame)?;
                stream.flush()?;
            }
            Part::Bytes(bytes) => {
                stream.write_all(&bytes)?;
                stream.flush()?;
            }
            Part::Wait(latch) => {
                let start = Instant::now();
                while !latch.wait(TICK) {
                    if shared.stop.load(Ordering::SeqCst) || start.elapsed() > PATIENCE {
                        return Ok(());
                    }
                }
            }
            Part::Stall => {
                hold(&mut stream, shared);
                return Ok(());
            }
        }
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n")?;
    }
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

/// Holds the connection, reading and dropping whatever comes, until the client closes it
/// (then sets `hung_up`) or the server stops.
fn hold(stream: &mut TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(TICK));
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    shared.hung_up.set();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bare HTTP/1.1 exchange: the request bytes, then everything until the server closes.
    fn exchange(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn post(addr: SocketAddr, path: &str, body: &str) -> String {
        exchange(
            addr,
            &format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Key: k1\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
        )
    }

    #[test]
    fn records_requests_and_answers_with_the_handler() {
        let server = Server::start(|n, req| {
            Response::json(200, &serde_json::json!({"n": n, "echo": req.json()["q"]}))
                .with_header("x-extra", "1")
        });
        let out = post(server.addr(), "/v1/thing?x=1", r#"{"q":"hi"}"#);
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("content-type: application/json\r\n"), "{out}");
        assert!(out.contains("x-extra: 1\r\n"), "{out}");
        assert!(out.contains("content-length: 19\r\n"), "{out}");
        assert!(out.ends_with(r#"{"echo":"hi","n":0}"#), "{out}");
        post(server.addr(), "/second", "{}");
        let seen = server.requests();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].path, "/v1/thing?x=1");
        assert_eq!(seen[0].header("X-KEY"), Some("k1"));
        assert_eq!(seen[0].header_values("x-key"), ["k1"]);
        assert_eq!(seen[0].header("authorization"), None);
        assert_eq!(seen[0].text(), r#"{"q":"hi"}"#);
        assert_eq!(seen[1].path, "/second");
        assert_eq!(server.url_at("/v1"), format!("http://{}/v1", server.addr()));
    }

    #[test]
    fn a_script_runs_out_loudly() {
        let server = Server::script([Response::raw_json(503, "busy")]);
        assert!(post(server.addr(), "/", "").starts_with("HTTP/1.1 503 Service Unavailable"));
        let out = post(server.addr(), "/", "");
        assert!(out.starts_with("HTTP/1.1 418"), "{out}");
        assert!(out.contains("no reply scripted"), "{out}");
    }

    #[test]
    fn streams_are_chunked_or_have_a_length() {
        let sse = "data: {\"a\":1}\n\ndata: [DONE]\n\n";
        let server = Server::script([Response::sse(sse), Response::sse_in_pieces(sse, 5, false)]);
        let out = post(server.addr(), "/", "");
        assert!(out.contains("transfer-encoding: chunked\r\n"), "{out}");
        assert!(
            out.ends_with("f\r\ndata: {\"a\":1}\n\n\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"),
            "{out:?}"
        );
        let out = post(server.addr(), "/", "");
        assert!(out.contains("content-type: text/event-stream\r\n"), "{out}");
        assert!(
            out.contains(&format!("content-length: {}\r\n", sse.len())),
            "{out}"
        );
        assert!(out.ends_with(sse), "{out:?}");
    }

    #[test]
    fn a_wait_holds_the_stream_until_the_latch_is_set() {
        let go = Latch::new();
        let server = Server::script([Response::stream(
            vec![
                Part::Bytes(b"one\n\n".to_vec()),
                Part::Wait(go.clone()),
                Part::Bytes(b"two\n\n".to_vec()),
            ],
            true,
        )]);
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&seen).contains("one") {
            let n = s.read(&mut buf).unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
        // Nothing more comes until the test says go.
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        assert!(s.read(&mut buf).is_err(), "the server waits");
        go.set();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.read_to_end(&mut seen).unwrap();
        assert!(String::from_utf8_lossy(&seen).ends_with("5\r\ntwo\n\n\r\n0\r\n\r\n"));
    }

    #[test]
    fn a_stall_is_seen_to_be_hung_up() {
        let server = Server::script([Response::stall()]);
        let hung_up = server.hung_up();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 16];
        assert!(s.read(&mut buf).is_err(), "no answer");
        assert!(!hung_up.is_set());
        drop(s);
        assert!(hung_up.wait(Duration::from_secs(5)));
    }

    #[test]
    fn a_delay_is_waited() {
        let server =
            Server::script([Response::new(204, "").with_delay(Duration::from_millis(150))]);
        let start = Instant::now();
        let out = exchange(server.addr(), "GET / HTTP/1.1\r\n\r\n");
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert!(out.starts_with("HTTP/1.1 204 "), "{out}");
    }

    #[test]
    fn a_closed_port_refuses() {
        assert!(TcpStream::connect(closed_port()).is_err());
    }
}
