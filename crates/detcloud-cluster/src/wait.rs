//! Bounded waiting with capped exponential backoff on tokio's clock (virtual in tests).
//!
//! A wait polls after 2 s, 4 s, 8 s, then every 30 s, until `timeout`: a resource AWS needs ten
//! minutes for costs at most 24 polls, and one that is ready at once costs one.

use std::future::Future;
use std::time::Duration;

use detcloud_provider::{backoff_delay, Error, Result};
use detcloud_retry::RetryPolicy;

/// The first poll interval.
pub const FIRST_DELAY: Duration = Duration::from_secs(2);
/// The longest poll interval.
pub const MAX_DELAY: Duration = Duration::from_secs(30);

/// Polls `check` until it returns `Some`, an error that is not retryable, or `timeout` passes
/// (then [`Error::Timeout`] naming `what`). Retryable errors (throttling, not-ready) count as
/// "not yet".
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut attempt = 0;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => return Err(e),
        }
        let delay = backoff_delay(attempt, FIRST_DELAY, MAX_DELAY, 1.0);
        if tokio::time::Instant::now() + delay > deadline {
            return Err(Error::Timeout { message: format!("{what} was not ready after {}s", timeout.as_secs()) });
        }
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// Waits until `describe` shows the resources gone: `gone(list)` holds, or the describe fails
/// with NotFound (AWS forgets deleted resources).
pub async fn wait_gone<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut describe: F,
    gone: impl Fn(&[T]) -> bool,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Vec<T>>>,
{
    wait_for(what, timeout, || {
        let listed = describe();
        let gone = &gone;
        async move {
            match listed.await {
                Ok(list) => Ok(gone(&list).then_some(())),
                Err(e) if e.is_not_found() => Ok(Some(())),
                Err(e) => Err(e),
            }
        }
    })
    .await
}

/// How a call is retried while AWS catches up with a change (a new instance profile, say): the
/// not-ready errors count as transient, 8 attempts, 500 ms doubling to 30 s.
pub const CATCH_UP: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    server_error_attempts: 8,
    base_delay: Duration::from_millis(500),
    max_delay: MAX_DELAY,
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn polls_are_bounded() {
        let polls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let r: Result<()> = wait_for("thing", Duration::from_secs(600), || async {
            polls.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        })
        .await;
        assert!(matches!(r, Err(Error::Timeout { .. })));
        assert!(polls.load(Ordering::SeqCst) <= 24, "{}", polls.load(Ordering::SeqCst));
        assert!(start.elapsed() <= Duration::from_secs(600));
    }

    #[tokio::test(start_paused = true)]
    async fn ready_at_once_costs_one_poll_and_errors_stop() {
        let polls = AtomicU32::new(0);
        let v = wait_for("x", Duration::from_secs(60), || async {
            polls.fetch_add(1, Ordering::SeqCst);
            Ok(Some(7))
        })
        .await
        .unwrap();
        assert_eq!((v, polls.load(Ordering::SeqCst)), (7, 1));
        let e: Result<()> = wait_for("x", Duration::from_secs(60), || async { Err(Error::invalid("no")) }).await;
        assert!(matches!(e, Err(Error::InvalidInput { .. })));
    }
}
