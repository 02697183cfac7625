//! The one path every call takes: record → inject faults → authorize → run.
//!
//! Service modules describe a call with its IAM action, a [`Target`] (the resource ARN and the
//! request's condition keys, computed from the world) and a closure that performs it on the
//! world; [`FakeCloud::call`] does everything else, so that each rule lives in one place.

use detcloud_provider::Result;

use crate::call_log::{error_code, CallRecord};
use crate::cloud::FakeCloud;
use crate::enforce::{self, Caller};
use crate::region::At;
use crate::target::{Enforcement, Target};
use crate::world::{Account, World};

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
        self.call_enforced(action, |w, caller, _| target(w, caller), |w, caller, _| run(w, caller)).await
    }

    /// [`call`](Self::call), telling `target` and `run` how the caller is authorized (what the
    /// target must carry).
    pub(crate) async fn call_enforced<T>(
        &self,
        action: &'static str,
        target: impl FnOnce(&World, &Caller, Enforcement) -> Target,
        run: impl FnOnce(&mut World, &Caller, Enforcement) -> Result<T>,
    ) -> Result<T> {
        let delay = self.lock().runtime.faults.delay_for(action);
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let mut guard = self.lock();
        let shared = &mut *guard;
        let caller = &*self.caller;
        // The policies that decide this caller's requests (none for an administrator).
        let role_policies = shared.runtime.policies.resolve(&shared.world, &self.caller);
        let enforced = role_policies.is_some();
        let how = Enforcement {
            enforced,
            reads_tags: role_policies.as_ref().is_some_and(|c| c.reads_tags()),
            reads_context: role_policies.as_ref().is_some_and(|c| c.reads_context()),
        };
        let target = target(&shared.world, caller, how);
        if enforced {
            // The call's own action is in the call log (`CallRecord::enforced`).
            shared.runtime.further_actions.extend(target.further_actions());
        }
        let existed = shared.world.accounts.contains_key(&caller.account);
        let result = shared
            .runtime
            .faults
            .inject(action, &caller.account, &self.region)
            .and_then(|()| {
                enforce::authorize(
                    &shared.world,
                    &mut shared.runtime.policies,
                    caller,
                    role_policies.as_ref(),
                    &self.region,
                    action,
                    &target,
                )
            })
            .and_then(|()| run(&mut shared.world, caller, how));
        let iam_read = |a: &str| a.starts_with("Get") || a.starts_with("List") || a.starts_with("Simulate");
        if action.strip_prefix("iam:").is_some_and(|a| !iam_read(a)) {
            // An IAM write may have changed a role's policies: compile them again when next needed.
            shared.runtime.policies.clear();
        }
        if result.is_err() && !existed {
            // A failed call creates no account (first use means first successful write).
            let empty = shared.world.accounts.get(&caller.account).is_some_and(|a| *a == Account::default());
            if empty {
                shared.world.accounts.remove(&caller.account);
            }
        }
        shared.runtime.calls.push(CallRecord {
            principal: caller.arn.clone(),
            action,
            resource: target.resource,
            outcome: result.as_ref().map(|_| ()).map_err(error_code),
            enforced,
        });
        result
    }
}

impl FakeCloud {
    /// [`FakeCloud::call`](Self::call) for a regional service: the target gets
    /// `aws:RequestedRegion`, and the region's finished transitions are settled before `run`.
    pub(crate) async fn regional<T>(
        &self,
        action: &'static str,
        target: impl FnOnce(&World, At<'_>) -> Target,
        run: impl FnOnce(&mut World, At<'_>) -> Result<T>,
    ) -> Result<T> {
        let region: &str = &self.region;
        self.call_enforced(
            action,
            |w, caller, how| Target { regional: true, ..target(w, At { caller, region, how }) },
            |w, caller, how| {
                w.settle(&caller.account, region);
                run(w, At { caller, region, how })
            },
        )
        .await
    }
}
