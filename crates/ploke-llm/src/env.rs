//! The one place in this crate that reads the environment: API keys, for the binary to call.
//!
//! Order: `PLOKE_API_KEY`, else the provider's own variable ([`provider_key_var`]). Empty
//! values count as unset. Everything else in the crate takes its settings as arguments.

use crate::config::{ApiKey, LlmConfig, ProviderKind};

/// The variable that overrides every provider's own key variable.
pub const PLOKE_API_KEY: &str = "PLOKE_API_KEY";

/// The provider's own key variable: `ANTHROPIC_API_KEY`, `OPENROUTER_API_KEY` when the base
/// URL is OpenRouter's, otherwise `OPENAI_API_KEY`; `None` for `local`. Pure: reads nothing.
pub fn provider_key_var(provider: ProviderKind, base_url: Option<&str>) -> Option<&'static str> {
    match provider {
        ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
        ProviderKind::OpenAi if base_url.is_some_and(|url| url.contains("openrouter.ai")) => {
            Some("OPENROUTER_API_KEY")
        }
        ProviderKind::OpenAi => Some("OPENAI_API_KEY"),
        ProviderKind::Local => None,
    }
}

/// Resolves the key with `lookup` standing in for the environment (for tests and for callers
/// with their own source of variables).
pub fn api_key_with(
    provider: ProviderKind,
    base_url: Option<&str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<ApiKey> {
    let provider_var = provider_key_var(provider, base_url)?;
    [PLOKE_API_KEY, provider_var]
        .into_iter()
        .filter_map(&lookup)
        .map(|value| value.trim().to_string())
        .find(|value| !value.is_empty())
        .map(ApiKey::new)
}

/// Reads the key for `provider` (at `base_url`) from the process environment.
pub fn api_key_from_env(provider: ProviderKind, base_url: Option<&str>) -> Option<ApiKey> {
    api_key_with(provider, base_url, |name| std::env::var(name).ok())
}

/// Fills `config.api_key` from the environment unless it is already set.
pub fn fill_api_key_from_env(config: &mut LlmConfig) {
    if config.api_key.is_none() {
        config.api_key = api_key_from_env(config.provider, config.base_url.as_deref());
    }
}
