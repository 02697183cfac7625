//! Bounded polling for engines that wait on AWS resources without the SDK's waiters (a NAT
//! gateway becoming `available`, a DB cluster leaving `creating`, an SSM invocation finishing).
//!
//! [`wait_until`] polls with capped exponential backoff on tokio's clock, so tests can run it
//! with a paused clock.

use std::future::Future;
use std::time::Duration;

use detcloud_provider::{backoff_delay, Error, Result};

/// How [`wait_until_with`] spaces its polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first poll.
    pub initial: Duration,
    /// The longest delay between two polls.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 1 s, doubling, at most 15 s apart.
    fn default() -> Self {
        Backoff { initial: Duration::from_secs(1), cap: Duration::from_secs(15) }
    }
}

/// Polls `poll` until it answers `Ok(Some(value))`, for at most `timeout`, with the default
/// [`Backoff`].
///
/// - `Ok(None)`: not yet; poll again after the next delay.
/// - `Err(e)` with [`Error::is_retryable`] (throttling, NotReady, a 5xx): keep polling.
/// - Any other error ends the wait with that error.
///
/// When `timeout` runs out, fails with [`Error::Timeout`] naming `what` (and the last retryable
/// error, if any). The first poll happens at once; no delay runs past the deadline, and the last
/// poll happens at the deadline.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, poll: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    wait_until_with(what, timeout, Backoff::default(), poll).await
}

/// [`wait_until`] with an explicit [`Backoff`].
pub async fn wait_until_with<T, F, Fut>(what: &str, timeout: Duration, backoff: Backoff, mut poll: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = tokio::time::Instant::now();
    let deadline = start + timeout;
    let mut last_error: Option<Error> = None;
    let mut attempt = 0u32;
    loop {
        match poll().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) if e.is_retryable() => last_error = Some(e),
            Err(e) => return Err(e),
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            let cause = last_error.map(|e| format!(" (last error: {e})")).unwrap_or_default();
            return Err(Error::Timeout {
                message: format!("{what} after {:?}, {} polls{cause}", now - start, attempt + 1),
            });
        }
        let delay = backoff_delay(attempt, backoff.initial, backoff.cap, 1.0).min(deadline - now);
        tokio::time::sleep(delay).await;
        attempt = attempt.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn returns_once_ready_with_growing_delays() {
        let start = tokio::time::Instant::now();
        let calls = Cell::new(0u32);
        let seen = std::cell::RefCell::new(Vec::new());
        let value = wait_until("thing to be ready", Duration::from_secs(600), || {
            calls.set(calls.get() + 1);
            seen.borrow_mut().push(start.elapsed());
            let n = calls.get();
            async move { Ok((n == 5).then_some(n * 10)) }
        })
        .await
        .unwrap();
        assert_eq!(value, 50);
        // Polls at 0, 1, 1+2, 1+2+4, 1+2+4+8 seconds.
        let secs: Vec<u64> = seen.borrow().iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [0, 1, 3, 7, 15]);
    }

    #[tokio::test(start_paused = true)]
    async fn delays_are_capped() {
        let start = tokio::time::Instant::now();
        let seen = std::cell::RefCell::new(Vec::new());
        let backoff = Backoff { initial: Duration::from_secs(1), cap: Duration::from_secs(4) };
        let _ = wait_until_with("x", Duration::from_secs(20), backoff, || {
            seen.borrow_mut().push(start.elapsed().as_secs());
            async { Ok::<Option<()>, Error>(None) }
        })
        .await;
        // 0, 1, 3, 7, then every 4 s, and a last poll at the deadline.
        assert_eq!(*seen.borrow(), [0, 1, 3, 7, 11, 15, 19, 20]);
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_the_last_retryable_error() {
        let start = tokio::time::Instant::now();
        let err = wait_until("nat-1 to be available", Duration::from_secs(60), || async {
            Err::<Option<()>, _>(Error::NotReady { message: "still pending".into() })
        })
        .await
        .unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        match err {
            Error::Timeout { message } => {
                assert!(message.contains("nat-1 to be available"), "{message}");
                assert!(message.contains("still pending"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_error_ends_the_wait_at_once() {
        let calls = Cell::new(0);
        let err = wait_until("x", Duration::from_secs(60), || {
            calls.set(calls.get() + 1);
            async { Err::<Option<()>, _>(Error::not_found("vpc", "vpc-1")) }
        })
        .await
        .unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_keeps_polling() {
        let calls = Cell::new(0);
        let v = wait_until("x", Duration::from_secs(60), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                if n < 3 {
                    Err(Error::Throttled { message: "slow down".into() })
                } else {
                    Ok(Some("done"))
                }
            }
        })
        .await
        .unwrap();
        assert_eq!((v, calls.get()), ("done", 3));
    }
}
