//! Settings as the suite uses them: the test environment's backoff lets every retry happen
//! while a test still waits, and an environment file overrides only the keys it names.
use std::time::Duration;

use uuid::Uuid;

use crate::helpers::app::{self, Settings};
use crate::helpers::eventually::DEADLINE;

/// The longest an email can wait, over every retry it gets, before it fails for good.
fn worst_case_retrying(settings: &Settings) -> Duration {
    (1..settings.outbox.max_attempts)
        .map(|attempt| app::retry_delay(attempt, settings, 0.2))
        .sum()
}

#[actix_web::test]
async fn with_the_test_settings_every_retry_comes_while_a_test_still_waits() {
    let test = app::test_settings();
    assert!(
        worst_case_retrying(&test) < DEADLINE,
        "config/test.toml: {:?} of retries, the suite waits {DEADLINE:?}",
        worst_case_retrying(&test)
    );
    // The defaults would not: the test file is what makes outage tests possible.
    assert!(worst_case_retrying(&app::default_settings()) > DEADLINE);
}

#[actix_web::test]
async fn an_environment_file_overrides_the_keys_it_names_and_no_others() {
    let dir = std::env::temp_dir().join(format!("tests-config-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(
        dir.join("staging.toml"),
        "database_pool_size = 3\n[outbox]\nbatch_size = 7\n",
    )
    .expect("staging.toml");
    let loaded = app::load_settings(dir.to_str().expect("utf-8 path"), Some("staging"));
    let missing = app::load_settings(dir.to_str().expect("utf-8 path"), Some("stagign"));
    std::fs::remove_dir_all(&dir).expect("remove the config dir");
    let (loaded, defaults) = (loaded.expect("staging loads"), app::default_settings());
    assert_eq!(loaded.database_pool_size, 3);
    assert_eq!(loaded.outbox.batch_size, 7);
    // The rest of [outbox] is merged from the defaults, not replaced by the file's table.
    assert_eq!(
        loaded.outbox.poll_interval_ms,
        defaults.outbox.poll_interval_ms
    );
    assert_eq!(loaded.outbox.max_attempts, defaults.outbox.max_attempts);
    assert_eq!(loaded.listen_addr, defaults.listen_addr);
    assert_eq!(
        loaded.scheduling.travel_buffer_minutes,
        defaults.scheduling.travel_buffer_minutes
    );
    assert!(missing.is_err(), "a misspelt environment is an error");
}
