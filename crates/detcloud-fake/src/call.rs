//! The one path every call takes: record → inject faults → authorize → run.
//!
//! Service modules describe a call with its IAM action, a [`Target`] (the resource ARN and the
//! request's condition keys, computed from the world) and a closure that performs it on the
//! world; [`FakeCloud::call`] does everything else, so that each rule lives in one place.

use std::collections::BTreeMap;

use detcloud_provider::{Error, Result, Tags};
use tokio::time::Instant;

use crate::enforce::{self, Caller};
use crate::world::{Account, World};
use crate::FakeCloud;

/// Condition keys and their values, as in `detcloud_policy::eval::Request::context`.
pub(crate) type Context = BTreeMap<String, Vec<String>>;

/// What a call acts on, for the call log and for authorization.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    /// The ARN of the resource the action applies to (`*` for actions without one).
    pub(crate) resource: String,
    /// The request's own condition keys (`aws:RequestTag/...`, `iam:PolicyARN`, ...).
    pub(crate) context: Context,
    /// Further actions the same request needs on the same resource (`iam:TagRole` for a
    /// `CreateRole` with tags).
    pub(crate) also: Vec<&'static str>,
}

impl Target {
    /// A call on `resource`.
    pub(crate) fn new(resource: impl Into<String>) -> Self {
        Target { resource: resource.into(), ..Target::default() }
    }

    /// The same target with one more condition key.
    pub(crate) fn with(mut self, key: &str, values: Vec<String>) -> Self {
        self.context.insert(key.to_string(), values);
        self
    }

    /// The same target with the resource's tags as `aws:ResourceTag/...` and
    /// `iam:ResourceTag/...`.
    pub(crate) fn with_resource_tags(mut self, tags: &Tags) -> Self {
        for (k, v) in tags {
            self.context.insert(format!("aws:ResourceTag/{k}"), vec![v.clone()]);
            self.context.insert(format!("iam:ResourceTag/{k}"), vec![v.clone()]);
        }
        self
    }

    /// The same target with the request's tags as `aws:RequestTag/...` and `aws:TagKeys`, and
    /// `tag_action` also required when there are any.
    pub(crate) fn with_request_tags(mut self, tags: &Tags, tag_action: Option<&'static str>) -> Self {
        if tags.is_empty() {
            return self;
        }
        for (k, v) in tags {
            self.context.insert(format!("aws:RequestTag/{k}"), vec![v.clone()]);
        }
        self.context.insert("aws:TagKeys".to_string(), tags.keys().cloned().collect());
        self.also.extend(tag_action);
        self
    }
}

/// One call made to the fake, as the call log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The ARN of the caller (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`, ...).
    pub principal: String,
    /// The IAM action, such as `iam:CreateRole` or `sts:AssumeRole`.
    pub action: String,
    /// The ARN of the resource acted on (`*` when the action has none).
    pub resource: String,
    /// `Ok`, or the AWS-style error code of the failure (see [`error_code`]).
    pub outcome: Result<(), String>,
    /// True when the caller's identity policies were evaluated (an assumed-role session, or a role
    /// that exists in the world).
    pub enforced: bool,
}

/// The AWS error code closest to `error`: `NoSuchEntity`, `EntityAlreadyExists`, `DeleteConflict`,
/// `AccessDenied`, `Throttling`, `LimitExceeded`, `ValidationError`, ...
pub fn error_code(error: &Error) -> String {
    match error {
        Error::NotFound { .. } => "NoSuchEntity",
        Error::AlreadyExists { .. } => "EntityAlreadyExists",
        Error::DependencyViolation { .. } => "DeleteConflict",
        Error::AccessDenied { .. } => "AccessDenied",
        Error::Throttled { .. } => "Throttling",
        Error::QuotaExceeded { .. } => "LimitExceeded",
        Error::InvalidInput { message } if message.starts_with("MalformedPolicyDocument") => "MalformedPolicyDocument",
        Error::InvalidInput { .. } => "ValidationError",
        Error::NotReady { .. } => "NotReady",
        Error::Credentials { .. } => "ExpiredToken",
        Error::Unavailable { .. } => "ServiceFailure",
        Error::Timeout { .. } => "RequestTimeout",
        Error::Unsupported { .. } => "NotImplemented",
        Error::Other { code, .. } => return code.clone(),
        _ => "UnknownError",
    }
    .to_string()
}

impl FakeCloud {
    /// Performs one call: waits out an injected delay, then, under the lock, records the call,
    /// injects a planned failure, authorizes the caller and runs `run`. A failure at any step
    /// leaves the world untouched.
    pub(crate) async fn call<T>(
        &self,
        action: &'static str,
        target: impl FnOnce(&World, &Caller) -> Target,
        run: impl FnOnce(&mut World, &Caller) -> Result<T>,
    ) -> Result<T> {
        let delay = self.lock().runtime.faults.delay_for(action);
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let mut guard = self.lock();
        let shared = &mut *guard;
        let caller = &*self.caller;
        let target = target(&shared.world, caller);
        let enforced = enforce::is_enforced(&shared.world, caller);
        if enforced {
            let used = &mut shared.runtime.actions_used;
            used.insert(action.to_string());
            used.extend(target.also.iter().map(|a| a.to_string()));
        }
        let existed = shared.world.accounts.contains_key(&caller.account);
        let result = shared
            .runtime
            .faults
            .inject(action)
            .and_then(|()| enforce::authorize(&shared.world, caller, action, &target, Instant::now()))
            .and_then(|()| run(&mut shared.world, caller));
        if result.is_err() && !existed {
            // A failed call creates no account (first use means first successful write).
            let empty = shared.world.accounts.get(&caller.account).is_some_and(|a| *a == Account::default());
            if empty {
                shared.world.accounts.remove(&caller.account);
            }
        }
        shared.runtime.calls.push(CallRecord {
            principal: caller.arn.clone(),
            action: action.to_string(),
            resource: target.resource,
            outcome: result.as_ref().map(|_| ()).map_err(error_code),
            enforced,
        });
        result
    }
}
