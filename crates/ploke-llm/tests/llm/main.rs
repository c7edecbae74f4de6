//! Integration tests of `ploke-llm` against a loopback server that replays each provider's
//! documented wire format (`tests/data/*.sse`).

mod anthropic;
mod config;
mod openai;
mod robustness;
mod support;

use ploke_llm::{ApiKey, LlmConfig, ProviderKind};

/// The key every test sends; no output may ever contain it.
pub const SECRET: &str = "sk-test-SECRET-9f8e7d";

/// A configuration for a test server at `base_url`: fast timeouts and retries.
pub fn test_config(provider: ProviderKind, base_url: String) -> LlmConfig {
    LlmConfig {
        provider,
        model: "test-model".into(),
        base_url: Some(base_url),
        api_key: Some(ApiKey::new(SECRET)),
        timeout_secs: 2.0,
        max_retries: 2,
        retry_backoff_ms: 10,
        max_retry_wait_secs: 0.5,
        ..LlmConfig::default()
    }
}
