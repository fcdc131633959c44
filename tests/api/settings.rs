//! SPEC §6: every setting is checked at start; a value of the wrong type or out of range
//! stops the binary with exit code 2 and a message naming the setting (issue 9.3).
use std::process::{Command, Output};

/// `voter-meetings migrate` with the defaults and `vars` over them, against a port nothing
/// listens on: only the settings check can stop it before the database does.
fn migrate_with(vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voter-meetings"));
    cmd.arg("migrate")
        .env_remove("APP_ENV")
        .env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:9/voter_meetings",
        )
        .env("RUST_LOG", "error");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run the binary")
}

#[test]
fn every_out_of_range_setting_stops_the_binary_with_exit_code_2_naming_it() {
    let cases = [
        ("DATABASE_POOL_SIZE", "0", "database_pool_size"),
        ("DATABASE_POOL_SIZE", "abc", "database_pool_size"),
        (
            "DATABASE_REPORTS_POOL_SIZE",
            "0",
            "database_reports_pool_size",
        ),
        (
            "DATABASE_STATEMENT_TIMEOUT_MS",
            "0",
            "database_statement_timeout_ms",
        ),
        ("DATABASE_URL", "mysql://db/x", "database_url"),
        ("LISTEN_ADDR", "garbage", "listen_addr"),
        ("LISTEN_ADDR", "127.0.0.1:99999", "listen_addr"),
        ("MAIL_FROM", "x", "mail_from"),
        ("SMTP_URL", "http://x", "smtp_url"),
        ("SMTP_URL", "smtp://", "smtp_url"),
        ("PUBLIC_URL", "ftp://vm.example.vn", "public_url"),
        ("CALENDAR_LINK_KEY", "too short", "calendar_link_key"),
        ("MAX_BODY_BYTES", "0", "max_body_bytes"),
        (
            "CLIENT_REQUEST_TIMEOUT_MS",
            "0",
            "client_request_timeout_ms",
        ),
        (
            "SCHEDULING__TRAVEL_BUFFER_MINUTES",
            "-30",
            "scheduling.travel_buffer_minutes",
        ),
        (
            "SCHEDULING__TRAVEL_BUFFER_MINUTES",
            "half",
            "scheduling.travel_buffer_minutes",
        ),
        ("OUTBOX__BATCH_SIZE", "0", "outbox.batch_size"),
        ("OUTBOX__POLL_INTERVAL_MS", "0", "outbox.poll_interval_ms"),
        ("OUTBOX__MAX_ATTEMPTS", "0", "outbox.max_attempts"),
        (
            "OUTBOX__BACKOFF_BASE_SECONDS",
            "0",
            "outbox.backoff_base_seconds",
        ),
        (
            "OUTBOX__BACKOFF_MAX_SECONDS",
            "1",
            "outbox.backoff_max_seconds",
        ),
        (
            "OUTBOX__SMTP_TIMEOUT_SECONDS",
            "0",
            "outbox.smtp_timeout_seconds",
        ),
        (
            "OUTBOX__HEARTBEAT_INTERVAL_MS",
            "0",
            "outbox.heartbeat_interval_ms",
        ),
        (
            "OUTBOX__DEAD_WORKER_AFTER_MS",
            "6000",
            "outbox.dead_worker_after_ms",
        ),
        ("OUTBOX__ENABLED", "maybe", "outbox.enabled"),
        ("RATE_LIMIT__BURST", "0", "rate_limit.burst"),
        (
            "RATE_LIMIT__REQUESTS_PER_SECOND",
            "-1",
            "rate_limit.requests_per_second",
        ),
    ];
    let mut wrong = Vec::new();
    for (var, value, key) in cases {
        let out = migrate_with(&[(var, value)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) || !stderr.contains(key) {
            wrong.push(format!("{var}={value}: {:?} {stderr}", out.status.code()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn settings_in_range_pass_the_check_and_the_binary_goes_on_to_the_database() {
    let out = migrate_with(&[
        ("SCHEDULING__TRAVEL_BUFFER_MINUTES", "0"),
        ("LISTEN_ADDR", "localhost:0"),
        ("SMTP_URL", "smtps://mailer:secret@smtp.example.vn:465"),
        ("MAIL_FROM", "no-reply@example.vn"),
    ]);
    // Exit 1: the unreachable database, not a setting.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
