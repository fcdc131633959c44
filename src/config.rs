//! Typed settings: `config/default.toml`, then `config/$APP_ENV.toml`, then environment variables.
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Clone, Deserialize)]
pub struct Settings {
    pub database_url: String,
    pub database_pool_size: u32,
    /// Connections kept for long reads (reports, big pages, exports), apart from the rest.
    pub database_reports_pool_size: u32,
    /// The longest any database statement may run.
    pub database_statement_timeout_ms: u64,
    pub listen_addr: String,
    /// `smtp://host:port`, `smtps://…` (implicit TLS) or `smtp://…?tls=required` (STARTTLS);
    /// credentials as `smtp://user:pass@host`. Unset: mail is written as `.eml` files.
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    /// Where people reach the service (e.g. `https://vm.example.vn`): links in emails.
    /// Unset: committee notices carry no link, and calendar links use the address the
    /// request came in on.
    pub public_url: Option<String>,
    /// Signs candidates' calendar subscription secrets; at least 32 bytes. Changing it ends
    /// every link (each is replaced by the next schedule email or `calendar-link` call).
    pub calendar_link_key: String,
    pub rust_log: String,
    pub max_body_bytes: usize,
    pub scheduling: Scheduling,
    pub outbox: OutboxSettings,
    pub rate_limit: RateLimitSettings,
    pub http: HttpSettings,
}

/// Each token's request budget (SPEC §4): `burst` requests at once, refilled at
/// `requests_per_second`. Checked as it is read: both must be positive.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "RawRateLimit")]
pub struct RateLimitSettings {
    pub requests_per_second: f64,
    pub burst: u32,
}

#[derive(Deserialize)]
struct RawRateLimit {
    requests_per_second: f64,
    burst: u32,
}

impl TryFrom<RawRateLimit> for RateLimitSettings {
    type Error = String;

    fn try_from(raw: RawRateLimit) -> Result<Self, String> {
        if !(raw.requests_per_second.is_finite() && raw.requests_per_second > 0.0) {
            return Err(format!(
                "rate_limit.requests_per_second (RATE_LIMIT__REQUESTS_PER_SECOND) must be a positive number, not {}",
                raw.requests_per_second
            ));
        }
        if raw.burst == 0 {
            return Err("rate_limit.burst (RATE_LIMIT__BURST) must be at least 1".to_owned());
        }
        Ok(Self {
            requests_per_second: raw.requests_per_second,
            burst: raw.burst,
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct HttpSettings {
    /// Proxies whose `X-Forwarded-For` names the client in logs (HTTP__TRUSTED_PROXIES,
    /// comma-separated); from anyone else the header is ignored. Default: none.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Scheduling {
    /// Time a candidate needs after a meeting before the next one may start.
    pub travel_buffer_minutes: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OutboxSettings {
    /// Whether this instance runs a delivery worker (others may share the database).
    pub enabled: bool,
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    pub max_attempts: i32,
    pub backoff_base_seconds: i64,
    pub backoff_max_seconds: i64,
    pub smtp_timeout_seconds: u64,
    /// How often a worker says it is alive.
    pub heartbeat_interval_ms: u64,
    /// A worker silent this long is dead: the emails it held are claimed again.
    pub dead_worker_after_ms: u64,
}

/// Never prints credentials: the database and SMTP URLs may carry passwords.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("database_pool_size", &self.database_pool_size)
            .field(
                "database_reports_pool_size",
                &self.database_reports_pool_size,
            )
            .field(
                "database_statement_timeout_ms",
                &self.database_statement_timeout_ms,
            )
            .field("listen_addr", &self.listen_addr)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("scheduling", &self.scheduling)
            .field("outbox", &self.outbox)
            .field("rate_limit", &self.rate_limit)
            .field("http", &self.http)
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
        match std::env::var("APP_ENV") {
            Ok(env) => Self::load_from(&dir, Some(&env)),
            Err(_) => Self::load_from(&dir, None),
        }
    }

    /// Layers, each over the one before: the defaults built into the binary (a copy of
    /// `config/default.toml`, so it runs from any directory), `DIR/default.toml` if present,
    /// `DIR/APP_ENV.toml` (required when an environment is named: a typo must not silently
    /// fall back to the defaults), then environment variables.
    pub fn load_from(dir: &str, app_env: Option<&str>) -> Result<Self, config::ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(
                include_str!("../config/default.toml"),
                config::FileFormat::Toml,
            ))
            .add_source(config::File::with_name(&format!("{dir}/default")).required(false));
        if let Some(env) = app_env {
            builder = builder.add_source(config::File::with_name(&format!("{dir}/{env}")));
        }
        builder
            .add_source(
                config::Environment::default()
                    .separator("__")
                    .try_parsing(true)
                    .ignore_empty(true)
                    .list_separator(",")
                    .with_list_parse_key("http.trusted_proxies"),
            )
            .build()?
            .try_deserialize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_defaults_are_complete() {
        let s = Settings::load_from("/nonexistent", None).expect("defaults load");
        assert_eq!(s.listen_addr, "127.0.0.1:8080");
        assert_eq!(s.scheduling.travel_buffer_minutes, 30);
        assert_eq!(s.outbox.max_attempts, 8);
    }

    #[test]
    fn a_named_environment_without_its_file_is_an_error() {
        assert!(Settings::load_from("/nonexistent", Some("prodution")).is_err());
    }

    #[test]
    fn passwords_never_reach_the_debug_output() {
        let mut s = Settings::load_from("/nonexistent", None).expect("defaults load");
        s.database_url = "postgres://app:s3cret@db:5432/voter_meetings".to_owned();
        s.smtp_url = Some("smtp://mailer:hunter2@mail:587?tls=required".to_owned());
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("***"));
    }
}
