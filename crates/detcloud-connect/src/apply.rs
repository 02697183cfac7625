//! Applying a plan: components in parallel, each component's steps in order, retryable errors
//! retried with capped exponential backoff.

use std::future::Future;
use std::time::Duration;

use detcloud_provider::{Cloud, CreatePolicy, CreateRole, Error, IamExt, Result};
use detcloud_retry::RetryPolicy;
use futures::StreamExt;

use crate::catalog::RoleSpec;
use crate::plan::{Change, Fix, Plan, ResourceKind, Step};

/// Attempts per step, including the first.
pub const MAX_ATTEMPTS: u32 = 6;
const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: MAX_ATTEMPTS,
    server_error_attempts: MAX_ATTEMPTS,
    base_delay: Duration::from_millis(250),
    max_delay: Duration::from_secs(8),
};

/// A step failed. Steps of other components were still attempted; re-running `connect aws`
/// resumes from what exists.
#[derive(Debug, thiserror::Error)]
#[error("{} {}: {error}", failed.kind.label(), failed.name)]
pub struct ApplyError {
    /// Steps that changed something before or while the failure happened.
    pub completed: Vec<Step>,
    /// The step that failed.
    pub failed: Step,
    /// Why.
    pub error: Error,
}

/// Runs `call` until it succeeds, fails with an error that is neither retryable nor accepted by
/// `also_retry`, or [`MAX_ATTEMPTS`] pass. `also_retry` marks further errors as transient (IAM's
/// eventual consistency right after a create).
pub async fn with_retry<T, F, Fut>(call: F, also_retry: impl Fn(&Error) -> bool) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    detcloud_retry::retry(&POLICY, |e| e.is_retryable() || also_retry(e), call).await
}

fn never(_: &Error) -> bool {
    false
}

async fn run_step(cloud: &dyn Cloud, spec: &RoleSpec, step: &Step) -> Result<()> {
    let iam = cloud.iam();
    let adopting = matches!(step.change, Change::Adopt { .. });
    match step.kind {
        ResourceKind::Role => {
            if step.change == Change::Create {
                let req = CreateRole {
                    name: spec.role_name.clone(),
                    path: spec.path.clone(),
                    trust_policy: spec.trust_policy.clone(),
                    description: Some(spec.description.clone()),
                    permissions_boundary: spec.permissions_boundary.clone(),
                    tags: spec.tags.clone(),
                };
                with_retry(|| iam.create_role(req.clone()), never).await?;
            } else {
                if adopting || step.fixes.contains(&Fix::Tags) {
                    with_retry(|| iam.tag_role(&spec.role_name, &spec.tags), never).await?;
                }
                if step.fixes.contains(&Fix::Trust) {
                    with_retry(|| iam.update_trust_policy(&spec.role_name, &spec.trust_policy), never).await?;
                }
                if step.fixes.contains(&Fix::Boundary) {
                    let boundary = spec.permissions_boundary.as_deref();
                    with_retry(|| iam.set_permissions_boundary(&spec.role_name, boundary), never).await?;
                }
            }
        }
        ResourceKind::Policy if matches!(step.change, Change::Remove { .. }) => {
            match with_retry(|| iam.detach_policy(&spec.role_name, &step.arn), never).await {
                Err(e) if !e.is_not_found() => return Err(e),
                _ => {}
            }
            with_retry(|| iam.delete_policy_with_versions(&step.arn), never).await?;
        }
        ResourceKind::Policy => {
            if step.change == Change::Create {
                let req = CreatePolicy {
                    name: spec.policy_name.clone(),
                    path: spec.path.clone(),
                    document: spec.permissions.clone(),
                    description: Some(format!("Permissions of {} (managed by detcloud)", spec.role_name)),
                    tags: spec.tags.clone(),
                };
                with_retry(|| iam.create_policy(req.clone()), never).await?;
            } else {
                if adopting || step.fixes.contains(&Fix::Tags) {
                    with_retry(|| iam.tag_policy(&spec.policy_arn, &spec.tags), never).await?;
                }
                if step.fixes.contains(&Fix::Document) {
                    with_retry(|| iam.replace_policy_document(&spec.policy_arn, &spec.permissions), never).await?;
                }
            }
        }
        ResourceKind::PolicyAttachment => {
            // Right after CreateRole / CreatePolicy, IAM may not find them yet.
            with_retry(|| iam.attach_policy(&spec.role_name, &step.arn), Error::is_not_found).await?;
        }
        ResourceKind::InstanceProfile => {
            let profile = spec.instance_profile.as_ref().expect("profile steps only exist for profiles");
            if step.change == Change::Create {
                with_retry(|| iam.create_instance_profile(&profile.name, &spec.path, &spec.tags), never).await?;
            } else if adopting || step.fixes.contains(&Fix::Tags) {
                with_retry(|| iam.tag_instance_profile(&profile.name, &spec.tags), never).await?;
            }
        }
        ResourceKind::InstanceProfileRole => {
            let profile = spec.instance_profile.as_ref().expect("profile steps only exist for profiles");
            if let Some(other) = &step.replaces_role {
                with_retry(|| iam.remove_role_from_instance_profile(&profile.name, other), never).await?;
            }
            with_retry(|| iam.add_role_to_instance_profile(&profile.name, &spec.role_name), Error::is_not_found)
                .await?;
        }
    }
    Ok(())
}

/// Applies every change of `plan`; unchanged steps make no call.
///
/// Components run concurrently (they share nothing), the steps of one component in order
/// (role, policy, attachments, profile, profile role). On failure, the other components still
/// finish, and [`ApplyError`] lists what was done.
pub async fn apply(cloud: &dyn Cloud, plan: &Plan) -> Result<(), ApplyError> {
    apply_with(cloud, plan, usize::MAX).await
}

/// [`apply`] with at most `concurrency` components at a time (1: one component after another,
/// the sequential baseline the concurrent apply is measured against).
pub async fn apply_with(cloud: &dyn Cloud, plan: &Plan, concurrency: usize) -> Result<(), ApplyError> {
    let runs = plan.catalog.roles.iter().map(|spec| async move {
        let mut done = vec![];
        for step in plan.component_steps(spec.component).filter(|s| s.change.is_change()) {
            if let Err(error) = run_step(cloud, spec, step).await {
                return Err((done, step.clone(), error));
            }
            done.push(step.clone());
        }
        Ok(done)
    });
    let mut completed = vec![];
    let mut first_failure = None;
    let results: Vec<_> = futures::stream::iter(runs).buffered(concurrency.max(1)).collect().await;
    for result in results {
        match result {
            Ok(done) => completed.extend(done),
            Err((done, failed, error)) => {
                completed.extend(done);
                first_failure.get_or_insert((failed, error));
            }
        }
    }
    match first_failure {
        None => Ok(()),
        Some((failed, error)) => Err(ApplyError { completed, failed, error }),
    }
}
