//! Typed settings: `config/default.toml`, then `config/$APP_ENV.toml`, then environment variables.
use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Clone, Deserialize)]
pub struct Settings {
    /// May carry a password: kept as a secret, shown only where a connection is opened.
    pub database_url: SecretString,
    pub database_pool_size: u32,
    /// Connections kept for long reads (reports, big pages, exports), apart from the rest.
    pub database_reports_pool_size: u32,
    /// The longest any database statement may run.
    pub database_statement_timeout_ms: u64,
    pub listen_addr: String,
    /// `smtp://host:port`, `smtps://…` (implicit TLS) or `smtp://…?tls=required` (STARTTLS);
    /// credentials as `smtp://user:pass@host`. Unset: mail is written as `.eml` files.
    pub smtp_url: Option<SecretString>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    /// Where people reach the service (e.g. `https://vm.example.vn`): links in emails.
    /// Unset: committee notices carry no link, and calendar links use the address the
    /// request came in on.
    pub public_url: Option<String>,
    /// Signs candidates' calendar subscription secrets; at least 32 bytes. Changing it ends
    /// every link (each is replaced by the next schedule email or `calendar-link` call).
    pub calendar_link_key: SecretString,
    pub rust_log: String,
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers, and how long its body may
    /// stop arriving: past it, 408.
    pub client_request_timeout_ms: u64,
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

impl OutboxSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        within(
            "outbox.poll_interval_ms",
            self.poll_interval_ms,
            1..=3_600_000,
        )?;
        within("outbox.batch_size", self.batch_size, 1..=10_000)?;
        within("outbox.max_attempts", self.max_attempts, 1..=100)?;
        within(
            "outbox.backoff_base_seconds",
            self.backoff_base_seconds,
            1..=86_400,
        )?;
        within(
            "outbox.backoff_max_seconds",
            self.backoff_max_seconds,
            self.backoff_base_seconds..=7 * 86_400,
        )?;
        within(
            "outbox.smtp_timeout_seconds",
            self.smtp_timeout_seconds,
            1..=600,
        )?;
        within(
            "outbox.heartbeat_interval_ms",
            self.heartbeat_interval_ms,
            1..=600_000,
        )?;
        within(
            "outbox.dead_worker_after_ms",
            self.dead_worker_after_ms,
            2 * self.heartbeat_interval_ms..=3_600_000,
        )
        .map_err(|e| match e {
            SettingsError::Invalid { key, problem } => invalid(
                key,
                format!("{problem} (at least twice outbox.heartbeat_interval_ms)"),
            ),
            other => other,
        })
    }
}

/// Never prints credentials: the database and SMTP URLs may carry passwords.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field(
                "database_url",
                &redact_url(self.database_url.expose_secret()),
            )
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
            .field(
                "smtp_url",
                &self
                    .smtp_url
                    .as_ref()
                    .map(|u| redact_url(u.expose_secret())),
            )
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("client_request_timeout_ms", &self.client_request_timeout_ms)
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

/// Why the settings cannot be used: one that does not load (wrong type, unknown file), or
/// one out of its range, named as its environment variable and its key in the files.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] config::ConfigError),
    #[error("{} ({key}) {problem}", env_name(key))]
    Invalid { key: &'static str, problem: String },
}

/// `outbox.batch_size` → `OUTBOX__BATCH_SIZE`.
fn env_name(key: &str) -> String {
    key.replace('.', "__").to_uppercase()
}

fn invalid(key: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        problem: problem.into(),
    }
}

/// `value` must lie in `range`.
fn within<T>(
    key: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), SettingsError>
where
    T: PartialOrd + fmt::Display,
{
    if range.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!(
                "= {value}: must be from {} to {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// The shortest key that signs calendar links (HMAC-SHA256 wants 32 bytes).
pub const MIN_CALENDAR_KEY_BYTES: usize = 32;

impl Settings {
    /// Loads settings from `config/` (or `$APP_CONFIG_DIR`) and the environment, and checks
    /// every one of them.
    pub fn load() -> Result<Self, SettingsError> {
        let dir = std::env::var("APP_CONFIG_DIR").unwrap_or_else(|_| "config".to_owned());
        let settings = match std::env::var("APP_ENV") {
            Ok(env) => Self::load_from(&dir, Some(&env)),
            Err(_) => Self::load_from(&dir, None),
        }?;
        settings.validate()?;
        Ok(settings)
    }

    /// Every setting in its range (SPEC §6): the first one that is not, named.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.validate_database()?;
        self.validate_mail()?;
        within("max_body_bytes", self.max_body_bytes, 1024..=64 << 20)?;
        within(
            "client_request_timeout_ms",
            self.client_request_timeout_ms,
            100..=600_000,
        )?;
        tracing_subscriber::EnvFilter::try_new(&self.rust_log).map_err(|e| {
            invalid(
                "rust_log",
                format!("{:?} is not a log filter: {e}", self.rust_log),
            )
        })?;
        within(
            "scheduling.travel_buffer_minutes",
            self.scheduling.travel_buffer_minutes,
            0..=24 * 60,
        )?;
        self.outbox.validate()
    }

    fn validate_database(&self) -> Result<(), SettingsError> {
        let url = url::Url::parse(self.database_url.expose_secret())
            .map_err(|e| invalid("database_url", format!("is not a URL: {e}")))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(invalid(
                "database_url",
                "must be a postgres:// or postgresql:// URL",
            ));
        }
        within("database_pool_size", self.database_pool_size, 1..=1000)?;
        within(
            "database_reports_pool_size",
            self.database_reports_pool_size,
            1..=1000,
        )?;
        within(
            "database_statement_timeout_ms",
            self.database_statement_timeout_ms,
            1..=3_600_000,
        )?;
        use std::net::ToSocketAddrs;
        match self.listen_addr.to_socket_addrs() {
            Ok(addrs) if addrs.len() > 0 => Ok(()),
            Ok(_) => Err(invalid(
                "listen_addr",
                format!("{:?} names no address", self.listen_addr),
            )),
            Err(e) => Err(invalid(
                "listen_addr",
                format!(
                    "{:?} is not an address such as 127.0.0.1:8080: {e}",
                    self.listen_addr
                ),
            )),
        }
    }

    fn validate_mail(&self) -> Result<(), SettingsError> {
        if let Some(raw) = self.smtp_url.as_ref().map(ExposeSecret::expose_secret) {
            let url = url::Url::parse(raw)
                .map_err(|e| invalid("smtp_url", format!("is not a URL: {e}")))?;
            if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none_or(str::is_empty)
            {
                return Err(invalid(
                    "smtp_url",
                    format!(
                        "{} must be smtp://host:port or smtps://host:port",
                        redact_url(raw)
                    ),
                ));
            }
        }
        if self.mail_dir.as_os_str().is_empty() {
            return Err(invalid("mail_dir", "must not be empty"));
        }
        self.mail_from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| {
                invalid(
                    "mail_from",
                    format!(
                        "{:?} is not a mailbox such as \"Name <addr@example.vn>\": {e}",
                        self.mail_from
                    ),
                )
            })?;
        if let Some(public) = &self.public_url {
            let ok = url::Url::parse(public)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(invalid(
                    "public_url",
                    format!("{public:?} must be an http(s) URL with a host"),
                ));
            }
        }
        if self.calendar_link_key.expose_secret().len() < MIN_CALENDAR_KEY_BYTES {
            return Err(invalid(
                "calendar_link_key",
                format!("must be at least {MIN_CALENDAR_KEY_BYTES} bytes"),
            ));
        }
        Ok(())
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
    fn every_shipped_configuration_passes_its_own_check() {
        for env in [None, Some("test"), Some("production")] {
            let s = Settings::load_from("config", env).expect("loads");
            assert!(s.validate().is_ok(), "{env:?}: {:?}", s.validate());
        }
    }

    #[test]
    fn an_out_of_range_setting_is_named_as_its_variable_and_its_key() {
        let mut s = Settings::load_from("/nonexistent", None).expect("defaults load");
        s.outbox.batch_size = 0;
        let shown = s.validate().map_err(|e| e.to_string());
        assert_eq!(
            shown,
            Err("OUTBOX__BATCH_SIZE (outbox.batch_size) = 0: must be from 1 to 10000".to_owned())
        );
    }

    #[test]
    fn a_named_environment_without_its_file_is_an_error() {
        assert!(Settings::load_from("/nonexistent", Some("prodution")).is_err());
    }

    #[test]
    fn passwords_never_reach_the_debug_output() {
        let mut s = Settings::load_from("/nonexistent", None).expect("defaults load");
        s.database_url = "postgres://app:s3cret@db:5432/voter_meetings".into();
        s.smtp_url = Some("smtp://mailer:hunter2@mail:587?tls=required".into());
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("***"));
    }
}
