//! Retries, timeouts, cancellation, and the error messages a user sees.

use std::time::{Duration, Instant};

use ploke_llm::{
    connect, ChatModel, ChatRequest, LlmError, Message, OpenAiCompatible, ProviderKind,
};
use ploke_test_support::http::{closed_port, split_events, Part, Response, Server};

use crate::support::hung_up;
use crate::{test_config, SECRET};

const TEXT: &str = include_str!("../data/openai_text.sse");
const EXPECTED_TEXT: &str = "`Graph::diff` returns a `GraphDelta` — nodes\nand edges ✓";

fn hello() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_time_the_server_asks() {
    let server = Server::script([
        Response::raw_json(
            429,
            r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
        )
        .with_header("retry-after", "0.2"),
        Response::sse(TEXT),
    ]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let started = Instant::now();
    let response = model.chat(&hello(), &mut |_| {}).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(response.text, EXPECTED_TEXT);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_long_retry_after_is_capped() {
    let mut config = test_config(ProviderKind::OpenAi, String::new());
    config.max_retry_wait_secs = 0.1;
    let server = Server::script([
        Response::raw_json(429, r#"{"error":{"message":"slow down"}}"#)
            .with_header("retry-after", "30"),
        Response::sse(TEXT),
    ]);
    config.base_url = Some(server.url_at("/v1"));
    let model = connect(&config).unwrap();
    let started = Instant::now();
    model.chat(&hello(), &mut |_| {}).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(100) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let server = Server::script([
        Response::raw_json(
            500,
            r#"{"error":{"message":"internal error","type":"server_error"}}"#,
        ),
        Response::raw_json(503, "upstream connect error"),
        Response::sse(TEXT),
    ]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let started = Instant::now();
    let response = model.chat(&hello(), &mut |_| {}).await.unwrap();
    assert_eq!(response.text, EXPECTED_TEXT);
    assert_eq!(server.requests().len(), 3);
    // 10 ms, then 20 ms, each drawn from its upper half.
    assert!(
        started.elapsed() >= Duration::from_millis(15),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retries_are_bounded() {
    let failure = Response::raw_json(503, r#"{"error":{"message":"model is loading"}}"#);
    let server = Server::script([
        failure.clone(),
        failure.clone(),
        failure.clone(),
        Response::sse(TEXT),
    ]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let error = model.chat(&hello(), &mut |_| {}).await.unwrap_err();
    assert!(
        matches!(
            error,
            LlmError::Http {
                status: 503,
                retries: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{} answered HTTP 503: model is loading (after 2 retries)",
            server.url_at("/v1/chat/completions")
        )
    );
    assert_eq!(
        server.requests().len(),
        3,
        "max_retries = 2: three attempts"
    );
}

#[tokio::test]
async fn a_bad_request_is_not_retried_and_its_message_is_shown() {
    let body = r#"{"error": {"message": "Invalid schema for function 'read_item': 'object' is not valid under any of the given schemas.", "type": "invalid_request_error", "param": "tools[0].function.parameters", "code": "invalid_function_parameters"}}"#;
    let server = Server::script([Response::raw_json(400, body), Response::sse(TEXT)]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let error = model.chat(&hello(), &mut |_| {}).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("HTTP 400"), "{message}");
    assert!(
        message.contains("invalid_request_error: Invalid schema for function 'read_item'"),
        "{message}"
    );
    assert!(!message.contains('\n'));
    assert!(error.is_user_fault());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_unknown_model_is_named() {
    let body = r#"{"error":{"message":"model \"qwen9:1b\" not found, try pulling it first","type":"api_error","param":null,"code":null}}"#;
    let server = Server::script([Response::raw_json(404, body)]);
    let mut config = test_config(ProviderKind::OpenAi, server.url_at("/v1"));
    config.model = "qwen9:1b".into();
    let model = connect(&config).unwrap();
    let error = model.chat(&hello(), &mut |_| {}).await.unwrap_err();
    assert!(
        matches!(&error, LlmError::ModelNotFound { model, .. } if model == "qwen9:1b"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("model `qwen9:1b` not found at "),
        "{error}"
    );
    assert!(
        error.to_string().contains("try pulling it first"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_key_says_which_variable_to_set() {
    let server = Server::script([Response::raw_json(
        401,
        r#"{"error":{"message":"No auth credentials found","code":401}}"#,
    )]);
    let mut config = test_config(ProviderKind::OpenAi, server.url_at("/v1"));
    config.api_key = None;
    let model = OpenAiCompatible::new(&config).unwrap();
    let error = model.chat(&hello(), &mut |_| {}).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no API key was given: set OPENAI_API_KEY (or PLOKE_API_KEY)"),
        "{error}"
    );
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn an_unreachable_server_names_the_url_and_the_way_out() {
    let base_url = format!("http://{}/v1", closed_port());
    let model = connect(&test_config(ProviderKind::OpenAi, base_url.clone())).unwrap();
    let started = Instant::now();
    let error = model.chat(&hello(), &mut |_| {}).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, LlmError::Unreachable { .. }), "{error:?}");
    assert!(
        message.contains(&format!("{base_url}/chat/completions")),
        "{message}"
    );
    assert!(message.contains("`ploke context`"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "connection errors are not retried"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = Server::script([Response::stall()]);
    let mut config = test_config(ProviderKind::OpenAi, server.url_at("/v1"));
    config.timeout_secs = 0.3;
    let model = connect(&config).unwrap();
    let started = Instant::now();
    let error = model.chat(&hello(), &mut |_| {}).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, LlmError::Timeout { .. }), "{error:?}");
    assert!(error.to_string().contains("within 0.3s"), "{error}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_stream_that_stalls_times_out() {
    let events = split_events(TEXT);
    let parts = vec![Part::Bytes(events[1].clone().into_bytes()), Part::Stall];
    let server = Server::script([Response::stream(parts, true)]);
    let mut config = test_config(ProviderKind::OpenAi, server.url_at("/v1"));
    config.timeout_secs = 0.3;
    let model = connect(&config).unwrap();
    let mut deltas = 0;
    let error = model
        .chat(&hello(), &mut |_| deltas += 1)
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::Timeout { .. }), "{error:?}");
    assert_eq!(deltas, 1);
    assert!(hung_up(&server).await, "the client hung up");
}

#[tokio::test]
async fn dropping_the_future_cancels_the_request() {
    let events = split_events(TEXT);
    let parts = vec![Part::Bytes(events[1].clone().into_bytes()), Part::Stall];
    let server = Server::script([Response::stream(parts, true)]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let request = hello();
    let (first_delta, mut got_delta) = tokio::sync::mpsc::unbounded_channel();
    let mut on_event = move |_: ploke_llm::StreamEvent| {
        let _ = first_delta.send(());
    };
    let chat = model.chat(&request, &mut on_event);
    // As the CLI races the request against Ctrl-C.
    tokio::select! {
        _ = chat => panic!("the stalled stream cannot complete"),
        _ = got_delta.recv() => {}
    }
    assert!(hung_up(&server).await, "the connection is closed");
}

#[tokio::test]
async fn the_key_stays_out_of_debug_output() {
    let config = test_config(ProviderKind::OpenAi, "http://127.0.0.1:9/v1".into());
    assert!(!format!("{config:?}").contains(SECRET));
    assert!(format!("{config:?}").contains("<redacted>"));
    let client = OpenAiCompatible::new(&config).unwrap();
    assert!(!format!("{client:?}").contains(SECRET));
    let anthropic = ploke_llm::Anthropic::new(&config).unwrap();
    assert!(!format!("{anthropic:?}").contains(SECRET));
    // Nor in a serialized configuration.
    assert!(!serde_json::to_string(&config).unwrap().contains(SECRET));
}
