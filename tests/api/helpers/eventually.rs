//! The one way the suite waits for background work (the outbox worker, a mail sink): probe
//! until the probe says done, and fail with what it last saw if that never happens.
//! Nothing here asserts how long anything took; the deadline only turns a hang into a
//! failure that says what was awaited.
use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(30);
const PAUSE: Duration = Duration::from_millis(20);

/// Calls `probe` until it returns `Ok`, and returns that; panics naming `what` and the last
/// `Err` (the state seen so far) if it has not succeeded within the deadline.
pub async fn eventually<T, E, F, Fut>(what: &str, mut probe: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(done) => return done,
            Err(seen) if started.elapsed() > DEADLINE => {
                panic!("never happened: {what}; last seen: {seen:?}")
            }
            Err(_) => tokio::time::sleep(PAUSE).await,
        }
    }
}

/// [`eventually`] for code that cannot await (a `Drop`), giving up after `within`: the
/// probe runs on this thread and the background work it waits for must run on another.
/// Returns the last `Err` instead of panicking, so a teardown can clean up before it reports.
pub fn eventually_blocking<T, E>(
    within: Duration,
    mut probe: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let started = Instant::now();
    loop {
        match probe() {
            Ok(done) => return Ok(done),
            Err(seen) if started.elapsed() > within => return Err(seen),
            Err(_) => std::thread::sleep(PAUSE),
        }
    }
}
