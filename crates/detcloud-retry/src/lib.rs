//! Retries for AWS calls: capped exponential backoff with jitter on tokio's clock (virtual in
//! tests), as a function ([`retry`]) and as a [`Cloud`] wrapper ([`Retrying`]) that retries every
//! call whose request did not get through.
//!
//! What is retried: [`Error::is_transient`] — throttling, 5xx, request timeouts. Those requests
//! had no effect, so sending them again is safe even for creates. Everything else (access denied,
//! quotas, invalid input, not found, resources not ready) is returned at once: the engines decide.
//!
//! The AWS SDK can retry too (three attempts in its standard mode); under this layer, configure
//! it for one attempt (`AwsOptions::max_attempts`, as the CLI does) so that attempts do not
//! multiply, and the same policy applies on every backend, the fake included.
//!
//! **Architecture Invariant:** depends only on `detcloud-provider` and tokio's timer; names no
//! backend.
#![warn(missing_docs)]

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
#[allow(clippy::wildcard_imports)]
use detcloud_provider::*;

mod delegate;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first (at least 1).
    pub max_attempts: u32,
    /// For [`Retrying`]: attempts in all when the service fails (5xx) or times out rather than
    /// throttles. A service that keeps failing is usually down or lacks the operation (a local
    /// emulator), not busy, so it gets fewer attempts than throttling. At most `max_attempts`.
    pub server_error_attempts: u32,
    /// The delay before the first retry; it doubles per retry.
    pub base_delay: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The policy of [`Retrying`]: 16 attempts when throttled, 6 on 5xx and timeouts, 250 ms
    /// doubling to 20 s, with equal jitter. A call gives up after about three minutes of
    /// continuous throttling (with half of all calls throttled at random, one call in 65,536
    /// fails), or after about eight seconds of continuous server errors.
    pub const CALLS: RetryPolicy = RetryPolicy {
        max_attempts: 16,
        server_error_attempts: 6,
        base_delay: Duration::from_millis(250),
        max_delay: Duration::from_secs(20),
    };

    /// The delay before retry number `retry` (from 0): `base * 2^retry` capped at `max_delay`,
    /// of which the upper half is jitter drawn from `seed` (the same seed gives the same delay).
    pub fn delay(&self, retry: u32, seed: u64) -> Duration {
        let full = backoff_delay(retry, self.base_delay, self.max_delay, 1.0);
        let fraction = (tags::stable_hash(&seed.to_le_bytes()) >> 11) as f64 / (1u64 << 53) as f64;
        full / 2 + (full / 2).mul_f64(fraction)
    }

    /// The longest a call can spend waiting between attempts under this policy.
    pub fn worst_case_wait(&self) -> Duration {
        (0..self.max_attempts.saturating_sub(1)).map(|r| backoff_delay(r, self.base_delay, self.max_delay, 1.0)).sum()
    }
}

/// Runs `call` until it succeeds, fails with an error `retry_on` rejects, or the policy's
/// attempts are used up (then the last error). Sleeps on tokio's clock between attempts.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use detcloud_provider::Error;
/// use detcloud_retry::{retry, RetryPolicy};
/// let mut failures = 2;
/// let value = retry(&RetryPolicy::CALLS, Error::is_transient, || {
///     let result = if failures > 0 { Err(Error::Throttled { message: "slow down".into() }) } else { Ok(7) };
///     failures -= 1;
///     async move { result }
/// })
/// .await;
/// assert_eq!(value.unwrap(), 7);
/// # }
/// ```
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, retry_on: impl Fn(&Error) -> bool, call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let attempts = |e: &Error| if retry_on(e) { policy.max_attempts } else { 0 };
    run(policy, attempts, 0, call).await.result
}

/// What [`run`] ended with.
struct Run<T> {
    result: Result<T>,
    /// Requests sent.
    attempts: u32,
    /// True when the last error would have been retried but the attempts were used up.
    gave_up: bool,
}

/// The loop behind [`retry`] and [`Retrying`]: runs `call` until it succeeds, or fails with an
/// error for which `attempts` (attempts in all for that error; 0: not retried) leaves none.
/// Between attempts it sleeps [`RetryPolicy::delay`], jittered by `seed`.
async fn run<T, F, Fut>(policy: &RetryPolicy, attempts: impl Fn(&Error) -> u32, seed: u64, mut call: F) -> Run<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        let result = call().await;
        let limit = result.as_ref().err().map_or(0, &attempts);
        match result {
            Err(e) if limit > 0 => {
                if attempt + 1 >= limit {
                    return Run { result: Err(e), attempts: attempt + 1, gave_up: true };
                }
                let delay = policy.delay(attempt, seed.wrapping_mul(31).wrapping_add(u64::from(attempt)));
                tracing::info!(attempt = attempt + 1, ?delay, error = %e, "retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            result => return Run { result, attempts: attempt + 1, gave_up: false },
        }
    }
}

/// Counters of a [`Retrying`] cloud (shared with the clouds obtained from it by `assume_role`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryStats {
    /// Calls made by the caller.
    pub calls: u64,
    /// Requests sent (calls plus retries).
    pub attempts: u64,
    /// Calls that failed transiently at least once and were retried.
    pub retried_calls: u64,
    /// Calls that were still failing transiently when the attempts ran out.
    pub gave_up: u64,
}

#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    attempts: AtomicU64,
    retried_calls: AtomicU64,
    gave_up: AtomicU64,
}

/// A [`Cloud`] that retries every call's transient errors with a [`RetryPolicy`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use detcloud_fake::FakeCloud;
/// use detcloud_provider::{Cloud, Error};
/// use detcloud_retry::Retrying;
///
/// let fake = FakeCloud::new("123456789012");
/// fake.faults().fail("ec2:DescribeVpcs", Error::Throttled { message: "slow down".into() }, 3);
/// let cloud = Retrying::new(Arc::new(fake.clone()));
/// assert!(cloud.network().describe_vpcs(&Default::default()).await.is_ok());
/// assert_eq!(cloud.stats().attempts, 4);
/// # }
/// ```
#[derive(Clone)]
pub struct Retrying {
    inner: Arc<dyn Cloud>,
    policy: RetryPolicy,
    counters: Arc<Counters>,
}

impl fmt::Debug for Retrying {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retrying").field("inner", &self.inner).field("policy", &self.policy).finish()
    }
}

impl Retrying {
    /// Wraps `inner` with [`RetryPolicy::CALLS`].
    pub fn new(inner: Arc<dyn Cloud>) -> Retrying {
        Retrying::with_policy(inner, RetryPolicy::CALLS)
    }

    /// Wraps `inner` with `policy`.
    pub fn with_policy(inner: Arc<dyn Cloud>, policy: RetryPolicy) -> Retrying {
        Retrying { inner, policy, counters: Arc::default() }
    }

    /// The counters so far.
    pub fn stats(&self) -> RetryStats {
        let c = &self.counters;
        RetryStats {
            calls: c.calls.load(Ordering::Relaxed),
            attempts: c.attempts.load(Ordering::Relaxed),
            retried_calls: c.retried_calls.load(Ordering::Relaxed),
            gave_up: c.gave_up.load(Ordering::Relaxed),
        }
    }

    /// Assumes a role as [`Cloud::assume_role`] does (the call retried and counted), but gives
    /// the role's cloud as the backend made it, for the caller to keep and [`wrap`](Self::wrap)
    /// each time it uses it.
    pub async fn assume_role_unwrapped(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        self.call(|| self.inner.assume_role(request.clone())).await
    }

    /// `inner` retried with this cloud's policy, its calls counted in this cloud's counters.
    pub fn wrap(&self, inner: Arc<dyn Cloud>) -> Retrying {
        Retrying { inner, policy: self.policy, counters: Arc::clone(&self.counters) }
    }

    async fn call<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let c = &self.counters;
        let seed = c.calls.fetch_add(1, Ordering::Relaxed);
        let policy = &self.policy;
        let attempts = |e: &Error| match e {
            Error::Throttled { .. } => policy.max_attempts,
            e if e.is_transient() => policy.server_error_attempts.min(policy.max_attempts),
            _ => 0,
        };
        let run = run(policy, attempts, seed, call).await;
        c.attempts.fetch_add(u64::from(run.attempts), Ordering::Relaxed);
        if run.attempts > 1 {
            c.retried_calls.fetch_add(1, Ordering::Relaxed);
        }
        if run.gave_up {
            c.gave_up.fetch_add(1, Ordering::Relaxed);
        }
        run.result
    }
}

#[async_trait]
impl Cloud for Retrying {
    detcloud_provider::services_from_self!();
    fn region(&self) -> String {
        self.inner.region()
    }
    fn capabilities(&self) -> detcloud_provider::Capabilities {
        self.inner.capabilities()
    }
    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        let inner = self.assume_role_unwrapped(request).await?;
        Ok(Arc::new(self.wrap(inner)))
    }
}

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;
    use detcloud_fake::FakeCloud;

    fn throttled() -> Error {
        Error::Throttled { message: "Rate exceeded".into() }
    }

    #[test]
    fn delays_double_to_the_cap_and_jitter_stays_in_the_upper_half() {
        let p = RetryPolicy::CALLS;
        for retry in 0..20 {
            let full = backoff_delay(retry, p.base_delay, p.max_delay, 1.0);
            for seed in 0..50 {
                let d = p.delay(retry, seed);
                assert!(d >= full / 2 && d <= full, "{retry} {seed}: {d:?} vs {full:?}");
            }
        }
        assert_eq!(p.delay(3, 9), p.delay(3, 9));
        assert_ne!(p.delay(3, 9), p.delay(3, 10));
        assert!(p.worst_case_wait() < Duration::from_secs(300), "{:?}", p.worst_case_wait());
    }

    #[tokio::test(start_paused = true)]
    async fn only_transient_errors_are_retried_and_attempts_are_bounded() {
        let fake = FakeCloud::new("123456789012");
        let cloud = Retrying::new(Arc::new(fake.clone()));
        // Not transient: returned at once.
        let e = cloud.network().delete_vpc("vpc-0000000000000000a").await.unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(cloud.stats(), RetryStats { calls: 1, attempts: 1, retried_calls: 0, gave_up: 0 });
        fake.faults().fail("ec2:CreateVpc", Error::Unavailable { message: "503".into() }, 2);
        // (a server error twice, then success: within the server-error attempts)
        let vpc = cloud.network().create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap();
        assert_eq!(fake.network().describe_vpcs(&Filter::id(&vpc.id)).await.unwrap().len(), 1);
        assert_eq!(cloud.stats().attempts, 4);
        // Forever throttled: gives up after max_attempts, having waited at most the worst case.
        fake.faults().fail("ec2:DescribeVpcs", throttled(), 1000);
        let start = tokio::time::Instant::now();
        let e = cloud.network().describe_vpcs(&Filter::default()).await.unwrap_err();
        assert!(matches!(e, Error::Throttled { .. }));
        assert!(start.elapsed() <= RetryPolicy::CALLS.worst_case_wait());
        let s = cloud.stats();
        assert_eq!((s.calls, s.attempts, s.retried_calls, s.gave_up), (3, 4 + 16, 2, 1));
        // A server that keeps failing: fewer attempts than throttling gets.
        fake.faults().clear();
        fake.faults().fail("ec2:DescribeVpcs", Error::Unavailable { message: "500".into() }, 1000);
        let e = cloud.network().describe_vpcs(&Filter::default()).await.unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }));
        assert_eq!(cloud.stats().attempts, 20 + RetryPolicy::CALLS.server_error_attempts as u64);
    }

    #[tokio::test(start_paused = true)]
    async fn assumed_roles_retry_too_and_share_the_counters() {
        let fake = FakeCloud::new("123456789012");
        let cloud = Retrying::new(Arc::new(fake.clone()));
        let role = fake
            .iam()
            .create_role(CreateRole {
                name: "r".into(),
                path: "/".into(),
                trust_policy: detcloud_policy::PolicyDocument::parse(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
                )
                .unwrap(),
                description: None,
                permissions_boundary: None,
                tags: Tags::new(),
            })
            .await
            .unwrap();
        fake.faults().fail("sts:AssumeRole", throttled(), 1);
        let assumed = Cloud::assume_role(
            &cloud,
            AssumeRoleRequest {
                role_arn: role.arn,
                session_name: "retry-test".into(),
                external_id: None,
                duration: None,
            },
        )
        .await
        .unwrap();
        fake.faults().fail("ec2:DescribeVpcs", throttled(), 1);
        // The role has no permissions: the retried call ends in AccessDenied, not Throttled.
        let e = assumed.network().describe_vpcs(&Filter::default()).await.unwrap_err();
        assert!(matches!(e, Error::AccessDenied { .. }), "{e}");
        assert_eq!(cloud.stats().attempts, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn the_retry_function_honours_its_predicate() {
        let mut calls = 0;
        let r: Result<()> = retry(&RetryPolicy::CALLS, Error::is_transient, || {
            calls += 1;
            async { Err(Error::invalid("no")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let r: Result<()> = retry(
            &RetryPolicy { max_attempts: 3, ..RetryPolicy::CALLS },
            |_| true,
            || {
                calls += 1;
                async { Err(Error::invalid("no")) }
            },
        )
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);
    }
}
