//! The OpenAI-compatible backend against a real HTTP server on loopback that speaks the
//! embeddings wire format (OpenAI API reference, "Create embeddings"): success with shuffled
//! `index`, batching, 429 + `retry-after`, 5xx retries, persistent 5xx, timeouts, bad
//! answers, an unreachable endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ploke_embed::{normalize, Backend, EmbedConfig, EmbedError, Embedder, RemoteConfig};
use serde_json::{json, Value};

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Value,
}

/// What the server answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(body: Value) -> Self {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn status(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: json!({"error": {"message": body}}).to_string(),
            delay: Duration::ZERO,
        }
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 with one connection per request (`Connection: close`).
/// Stops when dropped.
struct TestServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// `handler(n, request)`: `n` counts requests from 0.
    fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (seen, handler) = (seen.clone(), handler.clone());
                    // A thread per connection so a slow reply (the timeout test) does not
                    // hold up shutdown; each ends by itself after its reply.
                    std::thread::spawn(move || serve(stream, &seen, &*handler));
                }
            })
        };
        TestServer {
            addr,
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, handler: &Handler) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return; // the shutdown wake-up connection
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut content_length = 0;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.parse().unwrap_or(0),
                "authorization" => authorization = Some(value.to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; content_length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Seen {
        method,
        path,
        authorization,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        seen.len() - 1
    };
    let reply = handler(n, &request);
    std::thread::sleep(reply.delay);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    let mut stream = reader.into_inner();
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

/// The fake model: a 3-dimensional vector that depends on the text (not unit length, so the
/// client's normalisation is tested too).
fn fake_vector(text: &str) -> Vec<f32> {
    vec![
        text.len() as f32,
        text.bytes().next().unwrap_or(0) as f32,
        1.0,
    ]
}

fn expected(text: &str) -> Vec<f32> {
    let mut v = fake_vector(text);
    normalize(&mut v);
    v
}

/// A successful answer to `request`, with `data` in reverse `index` order.
fn embeddings_reply(request: &Seen) -> Reply {
    let inputs = request.body["input"].as_array().cloned().unwrap_or_default();
    let mut data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"object": "embedding", "index": i,
                   "embedding": fake_vector(text.as_str().unwrap_or(""))})
        })
        .collect();
    data.reverse();
    Reply::json(json!({
        "object": "list",
        "data": data,
        "model": request.body["model"],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }))
}

fn config(server: &TestServer) -> EmbedConfig {
    EmbedConfig {
        backend: Backend::Remote,
        batch_size: 32,
        remote: RemoteConfig {
            url: server.base_url(),
            model: "test-embed".to_string(),
            dims: Some(3),
            timeout_secs: 5,
            max_retries: 3,
            ..RemoteConfig::default()
        },
        ..EmbedConfig::default()
    }
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{} item {i}", "x".repeat(i % 7))).collect()
}

fn assert_matches(texts: &[&str], vectors: &[Vec<f32>]) {
    assert_eq!(vectors.len(), texts.len());
    for (text, v) in texts.iter().zip(vectors) {
        let want = expected(text);
        for (a, b) in v.iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "{text:?}: got {v:?}, want {want:?}");
        }
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}

#[test]
fn success_places_vectors_by_index_not_position() {
    let server = TestServer::start(|_, req| embeddings_reply(req));
    let mut cfg = config(&server);
    cfg.remote.api_key = Some("sk-test".to_string());
    let embedder = Embedder::from_config(&cfg).unwrap();
    let input = ["alpha", "be", "gamma gamma", "d", "epsilon and more"];
    let vectors = embedder.embed(&input).unwrap();
    assert_matches(&input, &vectors);
    assert_eq!(embedder.dims(), 3);
    assert_eq!(embedder.model_id(), "openai:test-embed:d3");

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/embeddings");
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk-test"));
    assert_eq!(seen[0].body["model"], "test-embed");
    assert_eq!(seen[0].body["input"], json!(input));
}

#[test]
fn no_key_sends_no_authorization() {
    let server = TestServer::start(|_, req| embeddings_reply(req));
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    embedder.embed(&["x"]).unwrap();
    assert_eq!(server.seen()[0].authorization, None);
}

#[test]
fn batches_never_exceed_batch_size_and_keep_order() {
    let server = TestServer::start(|_, req| embeddings_reply(req));
    let mut cfg = config(&server);
    cfg.batch_size = 8;
    let embedder = Embedder::from_config(&cfg).unwrap();
    let owned = texts(21);
    let input: Vec<&str> = owned.iter().map(String::as_str).collect();
    let vectors = embedder.embed(&input).unwrap();
    assert_matches(&input, &vectors);

    let sizes: Vec<usize> = server
        .seen()
        .iter()
        .map(|s| s.body["input"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![8, 8, 5]);
}

#[test]
fn retries_after_429_honouring_retry_after() {
    let server = TestServer::start(|n, req| {
        if n == 0 {
            let mut reply = Reply::status(429, "rate limited");
            reply.headers.push(("retry-after", "1".to_string()));
            reply
        } else {
            embeddings_reply(req)
        }
    });
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    let start = Instant::now();
    let vectors = embedder.embed(&["a", "bb"]).unwrap();
    let waited = start.elapsed();
    assert_matches(&["a", "bb"], &vectors);
    assert_eq!(server.seen().len(), 2);
    assert!(
        waited >= Duration::from_millis(950),
        "retry-after: 1 was not honoured (retried after {waited:?})"
    );
}

#[test]
fn retries_after_500() {
    let server = TestServer::start(|n, req| {
        if n == 0 {
            Reply::status(500, "model loading")
        } else {
            embeddings_reply(req)
        }
    });
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    let vectors = embedder.embed(&["a"]).unwrap();
    assert_matches(&["a"], &vectors);
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn persistent_500_fails_naming_the_url() {
    let server = TestServer::start(|_, _| {
        let mut reply = Reply::status(503, "overloaded");
        // Keep the test fast; the backoff path is covered by `retries_after_500`.
        reply.headers.push(("retry-after", "0".to_string()));
        reply
    });
    let mut cfg = config(&server);
    cfg.remote.max_retries = 2;
    let embedder = Embedder::from_config(&cfg).unwrap();
    let err = embedder.embed(&["a"]).unwrap_err();
    let url = format!("{}/embeddings", server.base_url());
    assert!(
        matches!(&err, EmbedError::Status { status: 503, attempts: 3, url: u, .. } if *u == url),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("503") && message.contains("overloaded"), "{message}");
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn client_errors_are_not_retried() {
    let server = TestServer::start(|_, _| Reply::status(401, "bad key"));
    let err = Embedder::from_config(&config(&server))
        .unwrap()
        .embed(&["a"])
        .unwrap_err();
    assert!(matches!(err, EmbedError::Status { status: 401, attempts: 1, .. }), "{err:?}");
    assert!(err.is_user_fixable());
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn timeout_fails_fast_naming_the_url() {
    let server = TestServer::start(|_, req| {
        let mut reply = embeddings_reply(req);
        reply.delay = Duration::from_secs(3);
        reply
    });
    let mut cfg = config(&server);
    cfg.remote.timeout_secs = 1;
    let embedder = Embedder::from_config(&cfg).unwrap();
    let start = Instant::now();
    let err = embedder.embed(&["a"]).unwrap_err();
    assert!(matches!(err, EmbedError::Timeout { secs: 1, .. }), "{err:?}");
    assert!(err.to_string().contains(&server.base_url()), "{err}");
    assert!(start.elapsed() < Duration::from_millis(2500), "timeouts are not retried");
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn unreachable_endpoint_names_the_url() {
    // A port that was free a moment ago: nothing listens there.
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let cfg = EmbedConfig {
        backend: Backend::Remote,
        remote: RemoteConfig {
            url: format!("http://{addr}/v1/"),
            dims: None,
            ..RemoteConfig::default()
        },
        ..EmbedConfig::default()
    };
    let err = Embedder::from_config(&cfg).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, EmbedError::Transport { .. }), "{err:?}");
    assert!(
        message.contains(&format!("http://{addr}/v1/embeddings")),
        "{message}"
    );
}

#[test]
fn dims_are_probed_when_not_configured() {
    let server = TestServer::start(|_, req| embeddings_reply(req));
    let mut cfg = config(&server);
    cfg.remote.dims = None;
    let embedder = Embedder::from_config(&cfg).unwrap();
    assert_eq!(embedder.dims(), 3);
    assert_eq!(server.seen().len(), 1, "one probe request");
}

#[test]
fn wrong_count_or_dims_is_a_bad_response() {
    let server = TestServer::start(|_, _| {
        Reply::json(json!({"data": [{"index": 0, "embedding": [1.0, 0.0, 0.0]}]}))
    });
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    let err = embedder.embed(&["a", "b"]).unwrap_err();
    assert!(matches!(err, EmbedError::BadResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("sent 2 inputs, got 1"), "{err}");

    let server = TestServer::start(|_, _| {
        Reply::json(json!({"data": [{"index": 0, "embedding": [1.0, 0.0]}]}))
    });
    let err = Embedder::from_config(&config(&server))
        .unwrap()
        .embed(&["a"])
        .unwrap_err();
    assert!(err.to_string().contains("expected 3-dimensional"), "{err}");

    let server = TestServer::start(|_, _| Reply::json(json!({"oops": true})));
    let err = Embedder::from_config(&config(&server))
        .unwrap()
        .embed(&["a"])
        .unwrap_err();
    assert!(err.to_string().contains("not an embeddings response"), "{err}");
}

#[test]
fn empty_input_sends_nothing() {
    let server = TestServer::start(|_, req| embeddings_reply(req));
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    assert!(embedder.embed(&[]).unwrap().is_empty());
    assert!(server.seen().is_empty());
}
