//! Browser tests of the web console (SPEC §9): a real headless Chromium, driven over
//! WebDriver (`chromedriver`, Debian packages `chromium` and `chromium-driver`), against the
//! app spawned on its own fresh database by the API suite's harness.
#[allow(dead_code, unused_imports)]
#[path = "../api/helpers/mod.rs"]
mod helpers;

mod console;
mod driver;
