//! The OpenAI-compatible backend against a real HTTP server on loopback that speaks the
//! embeddings wire format (OpenAI API reference, "Create embeddings"): success with shuffled
//! `index`, batching, 429 + `retry-after`, 5xx retries, persistent 5xx, timeouts, bad
//! answers, an unreachable endpoint.

use std::time::{Duration, Instant};

use ploke_embed::{normalize, Backend, EmbedConfig, EmbedError, Embedder, RemoteConfig};
use ploke_test_support::http::{closed_port, Request, Response, Server};
use ploke_test_support::openai;
use serde_json::json;

fn error_reply(status: u16, message: &str) -> Response {
    Response::json(status, &json!({"error": {"message": message}}))
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
fn embeddings_reply(request: &Request) -> Response {
    let mut body = openai::embeddings(request, fake_vector);
    body["data"].as_array_mut().unwrap().reverse();
    Response::json(200, &body)
}

fn config(server: &Server) -> EmbedConfig {
    EmbedConfig {
        backend: Backend::Remote,
        batch_size: 32,
        remote: RemoteConfig {
            url: format!("{}/v1", server.url()),
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
    (0..n)
        .map(|i| format!("{} item {i}", "x".repeat(i % 7)))
        .collect()
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
    let server = Server::start(|_, req| embeddings_reply(req));
    let mut cfg = config(&server);
    cfg.remote.api_key = Some("sk-test".to_string());
    let embedder = Embedder::from_config(&cfg).unwrap();
    let input = ["alpha", "be", "gamma gamma", "d", "epsilon and more"];
    let vectors = embedder.embed(&input).unwrap();
    assert_matches(&input, &vectors);
    assert_eq!(embedder.dims(), 3);
    assert_eq!(embedder.model_id(), "openai:test-embed:d3");

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/embeddings");
    assert_eq!(seen[0].header("authorization"), Some("Bearer sk-test"));
    assert_eq!(seen[0].json()["model"], "test-embed");
    assert_eq!(seen[0].json()["input"], json!(input));
}

#[test]
fn no_key_sends_no_authorization() {
    let server = Server::start(|_, req| embeddings_reply(req));
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    embedder.embed(&["x"]).unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[test]
fn batches_never_exceed_batch_size_and_keep_order() {
    let server = Server::start(|_, req| embeddings_reply(req));
    let mut cfg = config(&server);
    cfg.batch_size = 8;
    let embedder = Embedder::from_config(&cfg).unwrap();
    let owned = texts(21);
    let input: Vec<&str> = owned.iter().map(String::as_str).collect();
    let vectors = embedder.embed(&input).unwrap();
    assert_matches(&input, &vectors);

    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|s| s.json()["input"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![8, 8, 5]);
}

#[test]
fn retries_after_429_honouring_retry_after() {
    let server = Server::start(|n, req| {
        if n == 0 {
            error_reply(429, "rate limited").with_header("retry-after", "1")
        } else {
            embeddings_reply(req)
        }
    });
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    let start = Instant::now();
    let vectors = embedder.embed(&["a", "bb"]).unwrap();
    let waited = start.elapsed();
    assert_matches(&["a", "bb"], &vectors);
    assert_eq!(server.requests().len(), 2);
    assert!(
        waited >= Duration::from_millis(950),
        "retry-after: 1 was not honoured (retried after {waited:?})"
    );
}

#[test]
fn retries_after_500() {
    let server = Server::start(|n, req| {
        if n == 0 {
            error_reply(500, "model loading")
        } else {
            embeddings_reply(req)
        }
    });
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    let vectors = embedder.embed(&["a"]).unwrap();
    assert_matches(&["a"], &vectors);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn persistent_500_fails_naming_the_url() {
    // retry-after 0 keeps the test fast; the backoff path is covered by `retries_after_500`.
    let server =
        Server::start(|_, _| error_reply(503, "overloaded").with_header("retry-after", "0"));
    let mut cfg = config(&server);
    cfg.remote.max_retries = 2;
    let embedder = Embedder::from_config(&cfg).unwrap();
    let err = embedder.embed(&["a"]).unwrap_err();
    let url = format!("{}/v1/embeddings", server.url());
    assert!(
        matches!(&err, EmbedError::Status { status: 503, attempts: 3, url: u, .. } if *u == url),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(
        message.contains("503") && message.contains("overloaded"),
        "{message}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn client_errors_are_not_retried() {
    let server = Server::start(|_, _| error_reply(401, "bad key"));
    let err = Embedder::from_config(&config(&server))
        .unwrap()
        .embed(&["a"])
        .unwrap_err();
    assert!(
        matches!(
            err,
            EmbedError::Status {
                status: 401,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_user_fixable());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn timeout_fails_fast_naming_the_url() {
    let server = Server::start(|_, req| embeddings_reply(req).with_delay(Duration::from_secs(3)));
    let mut cfg = config(&server);
    cfg.remote.timeout_secs = 1;
    let embedder = Embedder::from_config(&cfg).unwrap();
    let start = Instant::now();
    let err = embedder.embed(&["a"]).unwrap_err();
    assert!(
        matches!(err, EmbedError::Timeout { secs: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&server.url()), "{err}");
    assert!(
        start.elapsed() < Duration::from_millis(2500),
        "timeouts are not retried"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn unreachable_endpoint_names_the_url() {
    let addr = closed_port();
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
    let server = Server::start(|_, req| embeddings_reply(req));
    let mut cfg = config(&server);
    cfg.remote.dims = None;
    let embedder = Embedder::from_config(&cfg).unwrap();
    assert_eq!(embedder.dims(), 3);
    assert_eq!(server.requests().len(), 1, "one probe request");
}

#[test]
fn wrong_count_or_dims_is_a_bad_response() {
    let server = Server::start(|_, _| {
        Response::json(
            200,
            &json!({"data": [{"index": 0, "embedding": [1.0, 0.0, 0.0]}]}),
        )
    });
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    let err = embedder.embed(&["a", "b"]).unwrap_err();
    assert!(matches!(err, EmbedError::BadResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("sent 2 inputs, got 1"), "{err}");

    let server = Server::start(|_, _| {
        Response::json(
            200,
            &json!({"data": [{"index": 0, "embedding": [1.0, 0.0]}]}),
        )
    });
    let err = Embedder::from_config(&config(&server))
        .unwrap()
        .embed(&["a"])
        .unwrap_err();
    assert!(err.to_string().contains("expected 3-dimensional"), "{err}");

    let server = Server::start(|_, _| Response::json(200, &json!({"oops": true})));
    let err = Embedder::from_config(&config(&server))
        .unwrap()
        .embed(&["a"])
        .unwrap_err();
    assert!(
        err.to_string().contains("not an embeddings response"),
        "{err}"
    );
}

#[test]
fn empty_input_sends_nothing() {
    let server = Server::start(|_, req| embeddings_reply(req));
    let embedder = Embedder::from_config(&config(&server)).unwrap();
    assert!(embedder.embed(&[]).unwrap().is_empty());
    assert!(server.requests().is_empty());
}
