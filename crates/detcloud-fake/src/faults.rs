//! Fault injection: planned failures, delays and seeded random failures, applied before a call
//! has any effect.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use detcloud_provider::Error;

use crate::rng::SplitMix64;
use crate::runtime::{FaultState, Planned, RandomFaults, Shared};

/// The fault plan of a world, shared by every `FakeCloud` of it: obtained with
/// [`FakeCloud::faults`](crate::cloud::FakeCloud::faults).
///
/// Actions are IAM action names such as `iam:CreateRole` or `sts:AssumeRole`, matched
/// case-insensitively; `*` stands for every action.
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Mutex<Shared>>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut FaultState) -> T) -> T {
        f(&mut crate::runtime::lock(&self.shared).runtime.faults)
    }

    /// The next `times` calls of `action` fail with `error` (after any failures planned earlier
    /// for it), then calls succeed again. A failed call has no effect.
    pub fn fail(&self, action: &str, error: Error, times: u32) -> &Self {
        if times > 0 {
            self.with(|f| f.planned.push(Planned { action: action.to_ascii_lowercase(), error, remaining: times }));
        }
        self
    }

    /// Every call of `action` first waits `delay` (tokio time, so a paused clock skips it).
    /// `Duration::ZERO` removes the delay.
    pub fn delay(&self, action: &str, delay: Duration) -> &Self {
        self.with(|f| {
            if delay.is_zero() {
                f.delays.remove(&action.to_ascii_lowercase());
            } else {
                f.delays.insert(action.to_ascii_lowercase(), delay);
            }
        });
        self
    }

    /// Every call (of any action) fails with probability `rate` with one of `errors` (a throttling
    /// error when empty), drawn from a generator seeded with `seed`: the same seed and the same
    /// sequence of calls fail the same way. A rate of 0 turns random failures off.
    pub fn random(&self, rate: f64, seed: u64, errors: Vec<Error>) -> &Self {
        let errors = if errors.is_empty() {
            vec![Error::Throttled { message: "Rate exceeded (injected)".to_string() }]
        } else {
            errors
        };
        let random = (rate > 0.0).then(|| RandomFaults { rate: rate.min(1.0), rng: SplitMix64::new(seed), errors });
        self.with(|f| f.random = random);
        self
    }

    /// Limits each account's request rate to each service in each region as AWS does, with a
    /// token bucket on tokio's clock: `burst` tokens, refilled at `per_second`, one per call (of
    /// any action of the service, by any principal of the account). A service is an action's
    /// prefix (`ec2`, `sts`, ...), and each has a bucket of its own, as each AWS service has its
    /// own quota. A call finding its bucket empty fails with `Throttled` ("Request limit
    /// exceeded.", counted by [`injected`](Self::injected)) and takes no token. `None` removes the
    /// limit; a service's own limit ([`rate_limit_service`](Self::rate_limit_service)) overrides
    /// this one.
    pub fn rate_limit(&self, limit: Option<(u32, f64)>) -> &Self {
        self.with(|f| {
            f.rate = limit.map(|(burst, per_second)| (f64::from(burst), per_second));
            f.buckets.clear();
        });
        self
    }

    /// Gives `service` (an action prefix such as `sts`) a rate limit of its own in place of the
    /// one of [`rate_limit`](Self::rate_limit): STS, for example, allows 600 calls a second to
    /// an account where EC2's describes allow 20. `None` returns the service to the common limit.
    pub fn rate_limit_service(&self, service: &str, limit: Option<(u32, f64)>) -> &Self {
        let service = service.to_ascii_lowercase();
        self.with(|f| {
            match limit {
                Some((burst, per_second)) => f.service_rates.insert(service, (f64::from(burst), per_second)),
                None => f.service_rates.remove(&service),
            };
            f.buckets.clear();
        });
        self
    }

    /// How many failures have been injected into calls of `action` (`*`: into all calls).
    pub fn injected(&self, action: &str) -> u32 {
        let action = action.to_ascii_lowercase();
        self.with(
            |f| if action == "*" { f.injected.values().sum() } else { f.injected.get(&action).copied().unwrap_or(0) },
        )
    }

    /// Removes every planned failure, delay and random failure, and resets the counters.
    pub fn clear(&self) {
        self.with(|f| *f = FaultState::default());
    }
}
