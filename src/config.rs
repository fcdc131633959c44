//! Typed settings: `config/default.toml`, then `config/$APP_ENV.toml`, then environment variables.
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Clone, Deserialize)]
pub struct Settings {
    pub database_url: String,
    pub database_pool_size: u32,
    pub listen_addr: String,
    /// `smtp://host:port`, `smtps://…` (implicit TLS) or `smtp://…?tls=required` (STARTTLS);
    /// credentials as `smtp://user:pass@host`. Unset: mail is written as `.eml` files.
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    pub rust_log: String,
    pub max_body_bytes: usize,
    pub scheduling: Scheduling,
    pub outbox: OutboxSettings,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Scheduling {
    /// Time a candidate needs after a meeting before the next one may start.
    pub travel_buffer_minutes: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OutboxSettings {
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    pub max_attempts: i32,
    pub backoff_base_seconds: i64,
    pub backoff_max_seconds: i64,
    pub smtp_timeout_seconds: u64,
}

/// Never prints credentials: the database and SMTP URLs may carry passwords.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("database_pool_size", &self.database_pool_size)
            .field("listen_addr", &self.listen_addr)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("scheduling", &self.scheduling)
            .field("outbox", &self.outbox)
            .finish()
    }
}

/// The URL with any password replaced by `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

impl Settings {
    /// Loads settings from `config/` (or `$APP_CONFIG_DIR`) and the environment.
    pub fn load() -> Result<Self, config::ConfigError> {
        let dir = std::env::var("APP_CONFIG_DIR").unwrap_or_else(|_| "config".to_owned());
        let env = std::env::var("APP_ENV").unwrap_or_else(|_| "local".to_owned());
        Self::load_from(&dir, &env)
    }

    pub fn load_from(dir: &str, app_env: &str) -> Result<Self, config::ConfigError> {
        config::Config::builder()
            .set_default(
                "database_url",
                "postgres://postgres@localhost:5432/voter_meetings",
            )?
            .set_default("database_pool_size", 16)?
            .set_default("listen_addr", "127.0.0.1:8080")?
            .set_default("mail_dir", "var/mail")?
            .set_default(
                "mail_from",
                "voter-meetings <no-reply@voter-meetings.local>",
            )?
            .set_default("rust_log", "info")?
            .set_default("max_body_bytes", 262_144)?
            .set_default("scheduling.travel_buffer_minutes", 30)?
            .set_default("outbox.poll_interval_ms", 500)?
            .set_default("outbox.batch_size", 32)?
            .set_default("outbox.max_attempts", 8)?
            .set_default("outbox.backoff_base_seconds", 5)?
            .set_default("outbox.backoff_max_seconds", 3600)?
            .set_default("outbox.smtp_timeout_seconds", 20)?
            .add_source(config::File::with_name(&format!("{dir}/default")).required(false))
            .add_source(config::File::with_name(&format!("{dir}/{app_env}")).required(false))
            .add_source(
                config::Environment::default()
                    .separator("__")
                    .try_parsing(true)
                    .ignore_empty(true),
            )
            .build()?
            .try_deserialize()
    }
}
