//! What the tests observe and control, beside the world: the call log, the fault plan, what SSM
//! commands print and how the Determined master behaves. Never saved.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use detcloud_provider::Error;
use tokio::time::Instant;

use crate::call_log::CallRecord;
use crate::enforce::PolicyCache;
use crate::rng::SplitMix64;
use crate::world::World;

/// Everything behind one `FakeCloud` and all the clones and principals derived from it.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The cloud itself.
    pub(crate) world: World,
    /// Observation and test control.
    pub(crate) runtime: Runtime,
}

/// Locks the world; a panic in another test thread does not poison it for good.
pub(crate) fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the tests observe and control: not part of the cloud, never saved.
#[derive(Debug, Default)]
pub(crate) struct Runtime {
    /// Every call, in order.
    pub(crate) calls: Vec<CallRecord>,
    /// The actions that calls of callers whose policies are enforced needed besides their own
    /// (`iam:TagRole` for a `CreateRole` with tags), in order: with the enforced calls in
    /// [`calls`](Self::calls), every action such a caller asked for. Checked per call, a set of
    /// names cost 1-5% of a lifecycle as the role; most calls need no further action.
    pub(crate) further_actions: Vec<&'static str>,
    /// Planned failures and delays.
    pub(crate) faults: FaultState,
    /// What an SSM command prints and exits with (the default when `None`).
    pub(crate) command_handler: Option<Handler>,
    /// How the Determined master on instances behaves.
    pub(crate) master_behaviour: MasterBehaviour,
    /// Roles' policies, compiled for the calls that evaluate them.
    pub(crate) policies: PolicyCache,
}

/// One planned failure.
#[derive(Debug)]
pub(crate) struct Planned {
    pub(crate) action: String,
    pub(crate) error: Error,
    pub(crate) remaining: u32,
}

/// Seeded random failures.
#[derive(Debug)]
pub(crate) struct RandomFaults {
    pub(crate) rate: f64,
    pub(crate) rng: SplitMix64,
    pub(crate) errors: Vec<Error>,
}

/// The faults planned for a world.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub(crate) planned: Vec<Planned>,
    pub(crate) delays: BTreeMap<String, Duration>,
    pub(crate) random: Option<RandomFaults>,
    pub(crate) injected: BTreeMap<String, u32>,
    /// The request rate limit of every service (bucket size, tokens per second), if any.
    pub(crate) rate: Option<(f64, f64)>,
    /// The services with a limit of their own, by action prefix.
    pub(crate) service_rates: BTreeMap<String, (f64, f64)>,
    /// Each account's bucket for each region and service: tokens left and when they were counted.
    pub(crate) buckets: HashMap<(String, String, String), (f64, Instant)>,
}

impl FaultState {
    /// The delay before a call of `action`, if any (its own, else the one for `*`).
    pub(crate) fn delay_for(&self, action: &str) -> Option<Duration> {
        if self.delays.is_empty() {
            return None;
        }
        let action = action.to_ascii_lowercase();
        self.delays.get(&action).or_else(|| self.delays.get("*")).copied()
    }

    /// Takes a token from the bucket of `account` for the service of `action` (lowercase) in
    /// `region`; false when it is empty.
    fn take_token(&mut self, action: &str, account: &str, region: &str) -> bool {
        let service = action.split_once(':').map_or(action, |(service, _)| service);
        let Some((burst, per_second)) = self.service_rates.get(service).copied().or(self.rate) else { return true };
        let now = Instant::now();
        let key = (account.to_string(), region.to_string(), service.to_string());
        let (tokens, at) = self.buckets.entry(key).or_insert((burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * per_second).min(burst);
        *at = now;
        // A caller that waited exactly for its token must get it despite rounding.
        if *tokens >= 1.0 - 1e-9 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The error to fail a call of `action` by `account` in `region` with, if one is planned or
    /// drawn, or the rate limit is exceeded; counts it.
    pub(crate) fn inject(&mut self, action: &str, account: &str, region: &str) -> Result<(), Error> {
        if self.rate.is_none() && self.service_rates.is_empty() && self.planned.is_empty() && self.random.is_none() {
            // No fault planned (the common case): nothing to draw or count.
            return Ok(());
        }
        let action = action.to_ascii_lowercase();
        if !self.take_token(&action, account, region) {
            *self.injected.entry(action).or_default() += 1;
            return Err(Error::Throttled { message: "Request limit exceeded.".to_string() });
        }
        let planned = self.planned.iter().position(|p| p.action == action || p.action == "*");
        let error = if let Some(i) = planned {
            let p = &mut self.planned[i];
            p.remaining -= 1;
            let error = p.error.clone();
            if p.remaining == 0 {
                self.planned.remove(i);
            }
            Some(error)
        } else if let Some(r) = &mut self.random {
            (r.rng.next_f64() < r.rate).then(|| {
                let i = r.rng.below(r.errors.len());
                r.errors[i].clone()
            })
        } else {
            None
        };
        match error {
            Some(error) => {
                *self.injected.entry(action).or_default() += 1;
                Err(error)
            }
            None => Ok(()),
        }
    }
}
/// What a command run through SSM does: given the lines of the script, its exit code, standard
/// output and standard error. Set with [`FakeCloud::set_command_handler`](crate::FakeCloud::set_command_handler); it is called once per
/// target instance, outside the world's lock.
pub type CommandHandler = dyn Fn(&[String]) -> (i32, String, String) + Send + Sync;

/// A command handler, for the runtime state.
#[derive(Clone)]
pub(crate) struct Handler(pub(crate) Arc<CommandHandler>);

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(..)")
    }
}

/// The handler when none is set and the master model does not know the command: exit 0; `echo`
/// commands print their arguments, as a shell would; nothing else prints (commands could carry
/// secrets, and invocation output is kept in snapshots and shown to users).
pub(crate) fn default_handler(commands: &[String]) -> (i32, String, String) {
    let mut out = String::new();
    for c in commands {
        if let Some(rest) = c.strip_prefix("echo ") {
            out.push_str(rest.trim().trim_matches(|q| q == '\'' || q == '"'));
            out.push('\n');
        }
    }
    (0, out, String::new())
}

/// How the Determined master on the fake's instances behaves (set with
/// [`FakeCloud::set_master_behaviour`](crate::cloud::FakeCloud::set_master_behaviour)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MasterBehaviour {
    /// It answers once it has started and everything it needs works (the default).
    #[default]
    Answers,
    /// It never answers; its logs end with this line.
    Never(String),
}
