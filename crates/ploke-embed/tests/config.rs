//! `EmbedConfig` as a user writes it: defaults, TOML, unknown keys, validation.

use ploke_embed::{Backend, EmbedConfig, EmbedError, DEFAULT_HUB_MODEL};

#[test]
fn empty_table_is_the_default_local_model() {
    let config: EmbedConfig = toml::from_str("").unwrap();
    assert_eq!(config, EmbedConfig::default());
    assert_eq!(config.backend, Backend::Local);
    assert_eq!(config.max_tokens, 128);
    assert_eq!(config.batch_size, 32);
    assert_eq!(config.local.hub_id, DEFAULT_HUB_MODEL);
    config.validate().unwrap();
}

#[test]
fn full_toml() {
    let config: EmbedConfig = toml::from_str(
        r#"
        backend = "remote"
        max_tokens = 256
        batch_size = 16
        [local]
        dir = "target/models/all-MiniLM-L6-v2"
        [remote]
        url = "https://api.openai.com/v1"
        api_key = "sk-secret"
        model = "text-embedding-3-small"
        dims = 1536
        timeout_secs = 30
        max_retries = 5
        "#,
    )
    .unwrap();
    assert_eq!(config.backend, Backend::Remote);
    assert_eq!(config.batch_size, 16);
    assert_eq!(config.remote.dims, Some(1536));
    assert_eq!(config.remote.max_retries, 5);
    assert_eq!(
        config.local.hub_id, DEFAULT_HUB_MODEL,
        "unset keys keep defaults"
    );
    config.validate().unwrap();
    assert!(
        !format!("{config:?}").contains("sk-secret"),
        "Debug must not print the key"
    );
}

#[test]
fn unknown_keys_are_rejected() {
    for text in [
        "batchsize = 3",
        "[remote]\nurl = \"http://x\"\napi-key = \"k\"",
        "[local]\nmodel_dir = \"x\"",
        "backend = \"gpu\"",
    ] {
        assert!(toml::from_str::<EmbedConfig>(text).is_err(), "{text}");
    }
}

#[test]
fn validation_names_the_bad_value() {
    let mut config = EmbedConfig {
        batch_size: 0,
        ..EmbedConfig::default()
    };
    let err = config.validate().unwrap_err();
    assert!(matches!(err, EmbedError::Config(_)) && err.to_string().contains("batch_size"));

    config.batch_size = 8;
    config.backend = Backend::Remote;
    config.remote.url = "localhost:11434".to_string();
    let err = config.validate().unwrap_err();
    assert!(err.to_string().contains("remote.url"), "{err}");
    assert!(err.is_user_fixable());
}
