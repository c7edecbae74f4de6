//! The HTTP transport both clients share: one POST with timeouts, bounded retries with
//! exponential backoff and jitter on 429 and 5xx (honouring `retry-after`, capped), HTTP
//! errors turned into [`LlmError`]s, and the streamed body read as server-sent events.
//!
//! A request is retried only before its answer starts streaming: once an event has been
//! handed to the caller, a retry would repeat it.

use std::hash::BuildHasher;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tracing::{debug, warn};

use crate::config::LlmConfig;
use crate::sse::{SseDecoder, SseEvent};
use crate::LlmError;

/// The most of an error body kept for the message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The most characters of a provider's error message shown to the user.
const ERROR_MESSAGE_CHARS: usize = 300;
/// Connecting never waits longer than this, even with a long `timeout_secs`.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// What one request is about, for its error messages.
pub(crate) struct Target<'a> {
    /// The full URL posted to.
    pub endpoint: &'a str,
    /// `endpoint` as messages show it (a password in it masked).
    pub url: &'a str,
    /// The model asked for (named when the answer is 404).
    pub model: &'a str,
    /// The variable that supplies the key (named when the answer is 401/403).
    pub key_var: &'static str,
    /// The API key, removed from any error text the server echoes back.
    pub secret: Option<&'a str>,
}

/// Whether a stream handler wants more events.
pub(crate) enum Flow {
    More,
    Stop,
}

/// A stream handler's failure, before it knows the URL.
pub(crate) enum StreamError {
    Malformed(String),
    Provider(String),
}

impl StreamError {
    pub fn into_error(self, url: &str) -> LlmError {
        match self {
            StreamError::Malformed(detail) => LlmError::MalformedStream {
                url: url.to_string(),
                detail,
            },
            StreamError::Provider(message) => LlmError::Provider {
                url: url.to_string(),
                message,
            },
        }
    }
}

/// The start of a piece of a stream, for an error message.
pub(crate) fn preview(text: &str) -> String {
    const CHARS: usize = 120;
    match text.char_indices().nth(CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[derive(Debug)]
pub(crate) struct Transport {
    client: reqwest::Client,
    timeout: Duration,
    max_retries: u32,
    backoff: Duration,
    max_wait: Duration,
}

impl Transport {
    /// A client for the server at `base_url`. Loopback servers (Ollama, llama.cpp) are never
    /// reached through a proxy.
    pub fn new(config: &LlmConfig, base_url: &str) -> Result<Self, LlmError> {
        let shown = ploke_core::redact::url_for_display(base_url);
        let url = reqwest::Url::parse(base_url)
            .map_err(|e| LlmError::Config(format!("`base_url` {shown:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(LlmError::Config(format!(
                "`base_url` {shown:?} must start with http:// or https://"
            )));
        }
        let timeout = config.timeout();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("ploke-llm/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT));
        if is_loopback(&url) {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| {
            LlmError::Config(format!("cannot build the HTTP client: {}", chain(&e)))
        })?;
        Ok(Transport {
            client,
            timeout,
            max_retries: config.max_retries,
            backoff: Duration::from_millis(config.retry_backoff_ms),
            max_wait: Duration::from_secs_f64(config.max_retry_wait_secs),
        })
    }

    /// Posts `body` as JSON and returns the successful response, its body unread.
    pub async fn post(
        &self,
        target: &Target<'_>,
        mut headers: HeaderMap,
        body: &Value,
    ) -> Result<Response, LlmError> {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let body = serde_json::to_vec(body).expect("a JSON value always serializes");
        let mut retries = 0;
        loop {
            debug!(
                url = target.url,
                model = target.model,
                attempt = retries + 1,
                "posting chat request"
            );
            let send = self
                .client
                .post(target.endpoint)
                .headers(headers.clone())
                .body(body.clone())
                .send();
            let response = match tokio::time::timeout(self.timeout, send).await {
                Err(_) => return Err(self.timeout_error(target.url)),
                Ok(Err(e)) => return Err(self.send_error(target.url, &e)),
                Ok(Ok(response)) => response,
            };
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let wait = retry_after(response.headers());
            let message = self.error_message(response, target).await;
            if is_retryable(status) && retries < self.max_retries {
                let wait = match wait {
                    Some(asked) => asked.min(self.max_wait),
                    None => self.backoff(retries),
                };
                warn!(
                    url = target.url,
                    status = status.as_u16(),
                    wait_ms = wait.as_millis() as u64,
                    "retrying chat request: {message}"
                );
                tokio::time::sleep(wait).await;
                retries += 1;
                continue;
            }
            return Err(status_error(status, target, message, retries));
        }
    }

    /// Reads `response` as server-sent events, handing each to `handle` until it says stop
    /// or the body ends. Returns whether `handle` stopped it.
    pub async fn read_events(
        &self,
        mut response: Response,
        url: &str,
        mut handle: impl FnMut(SseEvent) -> Result<Flow, LlmError>,
    ) -> Result<bool, LlmError> {
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        loop {
            let chunk = match tokio::time::timeout(self.timeout, response.chunk()).await {
                Err(_) => return Err(self.timeout_error(url)),
                Ok(Err(e)) if e.is_timeout() => return Err(self.timeout_error(url)),
                Ok(Err(e)) => {
                    return Err(LlmError::Transport {
                        url: url.to_string(),
                        reason: chain(&e),
                    })
                }
                Ok(Ok(chunk)) => chunk,
            };
            match &chunk {
                Some(bytes) => decoder.push(bytes, &mut events),
                None => decoder.finish(&mut events),
            }
            for event in events.drain(..) {
                if let Flow::Stop = handle(event)? {
                    return Ok(true);
                }
            }
            if chunk.is_none() {
                return Ok(false);
            }
        }
    }

    /// Reads a whole (non-streamed) body, with the same timeout between pieces.
    pub async fn read_all(&self, mut response: Response, url: &str) -> Result<Vec<u8>, LlmError> {
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout(self.timeout, response.chunk()).await {
                Err(_) => return Err(self.timeout_error(url)),
                Ok(Err(e)) => {
                    return Err(LlmError::Transport {
                        url: url.to_string(),
                        reason: chain(&e),
                    })
                }
                Ok(Ok(Some(bytes))) => body.extend_from_slice(&bytes),
                Ok(Ok(None)) => return Ok(body),
            }
        }
    }

    /// The wait before retry number `retries + 1`: the base doubled per retry, capped, then
    /// drawn uniformly from its upper half so that clients spread out.
    fn backoff(&self, retries: u32) -> Duration {
        let full = self
            .backoff
            .saturating_mul(1u32 << retries.min(20))
            .min(self.max_wait);
        full.mul_f64(0.5 + 0.5 * random_fraction())
    }

    fn timeout_error(&self, url: &str) -> LlmError {
        LlmError::Timeout {
            url: url.to_string(),
            secs: self.timeout.as_secs_f64(),
        }
    }

    fn send_error(&self, url: &str, error: &reqwest::Error) -> LlmError {
        if error.is_connect() {
            LlmError::Unreachable {
                url: url.to_string(),
                reason: root_cause(error),
            }
        } else if error.is_timeout() {
            self.timeout_error(url)
        } else {
            LlmError::Transport {
                url: url.to_string(),
                reason: chain(error),
            }
        }
    }

    /// The provider's explanation of an error status, as one short line without the key.
    async fn error_message(&self, response: Response, target: &Target<'_>) -> String {
        let mut response = response;
        let mut body = Vec::new();
        while body.len() < ERROR_BODY_LIMIT {
            match tokio::time::timeout(self.timeout, response.chunk()).await {
                Ok(Ok(Some(bytes))) => body.extend_from_slice(&bytes),
                _ => break,
            }
        }
        let message = message_from_body(&body);
        let secrets: Vec<&str> = target
            .secret
            .into_iter()
            .chain(ploke_core::redact::url_password(target.endpoint))
            .collect();
        ploke_core::redact::redact(&message, &secrets)
    }
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn status_error(
    status: StatusCode,
    target: &Target<'_>,
    message: String,
    retries: u32,
) -> LlmError {
    let url = target.url.to_string();
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => LlmError::Auth {
            url,
            status: status.as_u16(),
            env_var: target.key_var,
            key_given: target.secret.is_some(),
            message,
        },
        StatusCode::NOT_FOUND => LlmError::ModelNotFound {
            model: target.model.to_string(),
            url,
            message,
        },
        _ => LlmError::Http {
            url,
            status: status.as_u16(),
            message,
            retries,
        },
    }
}

/// The server's requested wait: `retry-after-ms` (OpenAI) or `retry-after` in seconds
/// (fractions accepted). An HTTP date is ignored in favour of the backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
}

/// The message in an error body (`{"error": {"type", "message"}}` from OpenAI, Anthropic and
/// most compatible servers, `{"error": "…"}` from some), else the start of the body as text.
pub(crate) fn message_from_body(body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        if let Some(message) = message_from_json(&json) {
            return one_line(&message);
        }
    }
    let text = one_line(&String::from_utf8_lossy(body));
    if text.is_empty() {
        "(no error message)".to_string()
    } else {
        text
    }
}

pub(crate) fn message_from_json(json: &Value) -> Option<String> {
    let error = json.get("error").unwrap_or(json);
    if let Some(text) = error.as_str() {
        return Some(text.to_string());
    }
    let message = error.get("message").and_then(Value::as_str);
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .filter(|kind| *kind != "error");
    match (kind, message) {
        (Some(kind), Some(message)) => Some(format!("{kind}: {message}")),
        (None, Some(message)) => Some(message.to_string()),
        (Some(kind), None) => Some(kind.to_string()),
        (None, None) => None,
    }
}

/// Collapses whitespace (so that the error stays one line) and shortens to a few hundred
/// characters.
fn one_line(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(ERROR_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A number in `[0, 1)`, different on each call: std's randomly keyed hasher over nothing.
fn random_fraction() -> f64 {
    let bits = std::collections::hash_map::RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// An error and its sources, `outer: inner: …`, without repeats.
/// The messages of `error` and its causes, without a URL password a client may repeat.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    ploke_core::redact::redact(&chain_text(error), &[])
}

fn chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The innermost cause ("Connection refused (os error 111)"): the useful part of a
/// connection error.
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    ploke_core::redact::redact(&cause.to_string(), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_from_each_provider() {
        let openai = br#"{"error": {"message": "Invalid 'messages[1].content'", "type": "invalid_request_error", "param": null, "code": null}}"#;
        assert_eq!(
            message_from_body(openai),
            "invalid_request_error: Invalid 'messages[1].content'"
        );
        let anthropic = br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#;
        assert_eq!(
            message_from_body(anthropic),
            "invalid_request_error: max_tokens: Field required"
        );
        assert_eq!(
            message_from_body(br#"{"error":"model \"x\" not found"}"#),
            "model \"x\" not found"
        );
        assert_eq!(
            message_from_body(b"<html>\n Bad\n gateway </html>"),
            "<html> Bad gateway </html>"
        );
        assert_eq!(message_from_body(b""), "(no error message)");
        assert_eq!(
            message_from_body("é".repeat(400).as_bytes())
                .chars()
                .count(),
            ERROR_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn retry_after_in_seconds_or_milliseconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("0.25"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        headers.insert("retry-after-ms", HeaderValue::from_static("40"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(40)));
        headers.clear();
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_within_the_cap() {
        let config = LlmConfig {
            retry_backoff_ms: 100,
            max_retry_wait_secs: 1.0,
            ..LlmConfig::default()
        };
        let transport = Transport::new(&config, "http://localhost:1/v1").unwrap();
        for (retries, full_ms) in [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (30, 1000),
        ] {
            let wait = transport.backoff(retries).as_secs_f64() * 1000.0;
            assert!(
                wait >= full_ms as f64 / 2.0 - 1e-6 && wait <= full_ms as f64,
                "{retries}: {wait}"
            );
        }
    }
}
