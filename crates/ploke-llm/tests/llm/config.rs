//! `[llm]` configuration, API keys from the environment, and `connect`.

use ploke_llm::env::{api_key_with, provider_key_var};
use ploke_llm::{connect, connect_with, ApiKey, ChatModel, LlmConfig, LlmError, ProviderKind};

#[test]
fn a_config_table_with_defaults() {
    let config: LlmConfig = toml::from_str(
        r#"
        provider = "anthropic"
        model = "claude-sonnet-4-5"
        timeout_secs = 30
        temperature = 0.2
        "#,
    )
    .unwrap();
    assert_eq!(config.provider, ProviderKind::Anthropic);
    assert_eq!(config.model, "claude-sonnet-4-5");
    assert_eq!(config.timeout_secs, 30.0);
    assert_eq!(config.temperature, Some(0.2));
    assert_eq!(config.max_retries, LlmConfig::default().max_retries);
    assert_eq!(
        config.effective_base_url().as_deref(),
        Some("https://api.anthropic.com")
    );
    let empty: LlmConfig = toml::from_str("").unwrap();
    assert_eq!(empty, LlmConfig::default());
    assert_eq!(
        empty.effective_base_url().as_deref(),
        Some("http://localhost:11434/v1")
    );
}

#[test]
fn unknown_fields_and_keys_in_the_file_are_rejected() {
    let error = toml::from_str::<LlmConfig>("modle = \"x\"").unwrap_err();
    assert!(
        error.to_string().contains("unknown field `modle`"),
        "{error}"
    );
    // A key never comes from the file.
    let error = toml::from_str::<LlmConfig>("api_key = \"sk-123\"").unwrap_err();
    assert!(
        error.to_string().contains("unknown field `api_key`"),
        "{error}"
    );
    let error = toml::from_str::<LlmConfig>("provider = \"gemini\"").unwrap_err();
    assert!(error.to_string().contains("openai"), "{error}");
}

#[test]
fn keys_come_from_ploke_api_key_then_the_provider_variable() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let all = env(&[
        ("OPENAI_API_KEY", "openai"),
        ("ANTHROPIC_API_KEY", "anthropic"),
        ("OPENROUTER_API_KEY", "openrouter"),
    ]);
    assert_eq!(
        api_key_with(ProviderKind::OpenAi, None, all),
        Some(ApiKey::new("openai"))
    );
    assert_eq!(
        api_key_with(ProviderKind::Anthropic, None, all),
        Some(ApiKey::new("anthropic"))
    );
    assert_eq!(
        api_key_with(
            ProviderKind::OpenAi,
            Some("https://openrouter.ai/api/v1"),
            all
        ),
        Some(ApiKey::new("openrouter"))
    );
    assert_eq!(api_key_with(ProviderKind::Local, None, all), None);
    let both = env(&[("PLOKE_API_KEY", " ploke "), ("OPENAI_API_KEY", "openai")]);
    assert_eq!(
        api_key_with(ProviderKind::OpenAi, None, both),
        Some(ApiKey::new("ploke"))
    );
    let blank = env(&[("PLOKE_API_KEY", ""), ("OPENAI_API_KEY", "openai")]);
    assert_eq!(
        api_key_with(ProviderKind::OpenAi, None, blank),
        Some(ApiKey::new("openai"))
    );
    assert_eq!(api_key_with(ProviderKind::OpenAi, None, env(&[])), None);
    assert_eq!(
        provider_key_var(ProviderKind::OpenAi, Some("http://localhost:11434/v1")),
        Some("OPENAI_API_KEY")
    );
}

#[test]
fn connect_checks_the_configuration() {
    let error = connect(&LlmConfig::default()).map(|_| ()).unwrap_err();
    assert!(error.to_string().contains("no model set"), "{error}");
    let config = LlmConfig {
        model: "m".into(),
        base_url: Some("localhost:11434".into()),
        ..LlmConfig::default()
    };
    let error = connect(&config).map(|_| ()).unwrap_err();
    assert!(matches!(error, LlmError::Config(_)), "{error:?}");
    let config = LlmConfig {
        model: "m".into(),
        timeout_secs: 0.0,
        ..LlmConfig::default()
    };
    assert!(connect(&config).is_err());
    let openai = connect(&LlmConfig {
        model: "qwen2.5-coder:7b".into(),
        ..LlmConfig::default()
    })
    .unwrap();
    assert_eq!(
        openai.name(),
        "openai qwen2.5-coder:7b at http://localhost:11434/v1"
    );
}

#[test]
fn local_models_plug_in_through_a_factory() {
    let config = LlmConfig {
        provider: ProviderKind::Local,
        model: "model.gguf".into(),
        ..LlmConfig::default()
    };
    let error = connect(&config).map(|_| ()).unwrap_err();
    assert!(error.to_string().contains("provider `local`"), "{error}");

    struct Echo;
    impl ChatModel for Echo {
        fn name(&self) -> &str {
            "echo"
        }
        fn chat<'a>(
            &'a self,
            request: &'a ploke_llm::ChatRequest,
            on_event: ploke_llm::EventSink<'a>,
        ) -> ploke_llm::BoxFuture<'a, Result<ploke_llm::ChatResponse, LlmError>> {
            Box::pin(async move {
                let mut builder = ploke_llm::ResponseBuilder::new(on_event);
                if let Some(ploke_llm::Message::User { text }) = request.messages.last() {
                    builder.text(text);
                }
                Ok(builder.finish(ploke_llm::StopReason::EndTurn, ploke_llm::Usage::default()))
            })
        }
    }
    let factory = |config: &LlmConfig| -> Result<Box<dyn ChatModel>, LlmError> {
        assert_eq!(config.model, "model.gguf");
        Ok(Box::new(Echo))
    };
    let model = connect_with(&config, Some(&factory)).unwrap();
    assert_eq!(model.name(), "echo");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut events = Vec::new();
    let request = config.request(vec![ploke_llm::Message::user("hello")]);
    let response = runtime
        .block_on(model.chat(&request, &mut |event| events.push(event)))
        .unwrap();
    assert_eq!(response.text, "hello");
    assert_eq!(events.len(), 2);
}
