//! The one path every call takes: record → inject faults → authorize → run.
//!
//! Service modules describe a call with its IAM action, a [`Target`] (the resource ARN and the
//! request's condition keys, computed from the world) and a closure that performs it on the
//! world; [`FakeCloud::call`] does everything else, so that each rule lives in one place.

use std::collections::BTreeMap;
use std::sync::Arc;

use detcloud_policy::eval::CompiledPolicy;
use detcloud_provider::{Error, Result, Tags};

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
    /// Actions the request needs on other resources, checked before the main action
    /// (`iam:PassRole` on an instance profile's role for `ec2:RunInstances`).
    pub(crate) before: Vec<Check>,
    /// Actions the request needs on other resources, checked after the main action (the subnet
    /// and security groups of `ec2:RunInstances`, the other instances of a `TerminateInstances`).
    pub(crate) after: Vec<Check>,
    /// The account owning the resource when its ARN does not say (S3 buckets).
    pub(crate) owner: Option<String>,
    /// The resource's own policy (a bucket policy), evaluated for every check of the request.
    pub(crate) resource_policy: Option<Arc<CompiledPolicy>>,
    /// The resource's tags, seen as `aws:ResourceTag/...` and `iam:ResourceTag/...`: added to the
    /// context only when a policy is evaluated (formatting the keys on every call is costly).
    pub(crate) resource_tags: Tags,
    /// The request's tags, seen as `aws:RequestTag/...` and `aws:TagKeys` (also added only when a
    /// policy is evaluated).
    pub(crate) request_tags: Tags,
    /// A call to a regional service: the request has `aws:RequestedRegion`, the caller's region.
    pub(crate) regional: bool,
    /// False when no policy will read the tags (a caller whose policies are not evaluated, on a
    /// resource without a resource policy): `with_resource_tags` and `with_request_tags` then
    /// copy nothing.
    pub(crate) wants_tags: bool,
    /// False when no policy will read the request context (the same callers and resources):
    /// [`with`](Self::with) then adds nothing.
    pub(crate) wants_context: bool,
}

/// How a call's caller is authorized, as far as building its [`Target`] is concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Enforcement {
    /// The caller's identity policies are evaluated: the target names every action the request
    /// needs (`ec2:CreateTags` for a create with tags).
    pub(crate) enforced: bool,
    /// Those policies read tags (`aws:ResourceTag/...`, `aws:RequestTag/...`, `aws:TagKeys`): the
    /// target carries the request's and the resources' tags.
    pub(crate) reads_tags: bool,
    /// Those policies read some request-context key: the target carries the service's own keys
    /// (`ec2:CreateAction`, `iam:PassedToService`, ...; see [`Target::wants_context`]).
    pub(crate) reads_context: bool,
}

/// No tags, for a resource that does not exist (yet).
pub(crate) static NO_TAGS: Tags = Tags::new();

/// One more action a request needs, on its own resource with its own condition keys.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    /// The IAM action.
    pub(crate) action: &'static str,
    /// The resource ARN.
    pub(crate) resource: String,
    /// The condition keys of this check (the request's are not inherited).
    pub(crate) context: Context,
    /// The resource's tags, seen as `aws:ResourceTag/...` when a policy is evaluated.
    pub(crate) resource_tags: Tags,
    /// As [`Target::wants_tags`].
    pub(crate) wants_tags: bool,
    /// As [`Target::wants_context`].
    pub(crate) wants_context: bool,
}

/// `tags` added to `into` when `wanted`: shared when `into` has none yet (the usual case), so a
/// target costs a reference count per tag map, not a copy of every pair.
fn add_tags(into: &mut Tags, tags: &Tags, wanted: bool) {
    if !wanted {
        return;
    }
    if into.is_empty() {
        *into = tags.clone();
    } else {
        into.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// `key` and its `values` added to `context` when `wanted`; the values are not even built
/// otherwise.
fn add_context<S: Into<String>>(context: &mut Context, key: &str, values: impl IntoIterator<Item = S>, wanted: bool) {
    if wanted {
        context.insert(key.to_string(), values.into_iter().map(Into::into).collect());
    }
}

impl Check {
    /// `action` on `resource`.
    pub(crate) fn new(action: &'static str, resource: impl Into<String>) -> Self {
        Check {
            action,
            resource: resource.into(),
            context: Context::new(),
            resource_tags: Tags::new(),
            wants_tags: true,
            wants_context: true,
        }
    }

    /// The same check with one more condition key (when it may be read).
    pub(crate) fn with<S: Into<String>>(mut self, key: &str, values: impl IntoIterator<Item = S>) -> Self {
        add_context(&mut self.context, key, values, self.wants_context);
        self
    }

    /// The same check with the resource's tags as `aws:ResourceTag/...`.
    pub(crate) fn with_resource_tags(mut self, tags: &Tags) -> Self {
        add_tags(&mut self.resource_tags, tags, self.wants_tags);
        self
    }
}

impl Target {
    /// A call on `resource`.
    pub(crate) fn new(resource: impl Into<String>) -> Self {
        Target { resource: resource.into(), wants_tags: true, wants_context: true, ..Target::default() }
    }

    /// The same target with one more condition key (when it may be read).
    pub(crate) fn with<S: Into<String>>(mut self, key: &str, values: impl IntoIterator<Item = S>) -> Self {
        add_context(&mut self.context, key, values, self.wants_context);
        self
    }

    /// The same target with the resource's tags as `aws:ResourceTag/...` and
    /// `iam:ResourceTag/...`.
    pub(crate) fn with_resource_tags(mut self, tags: &Tags) -> Self {
        add_tags(&mut self.resource_tags, tags, self.wants_tags);
        self
    }

    /// The same target with the request's tags as `aws:RequestTag/...` and `aws:TagKeys`, and
    /// `tag_action` also required when there are any.
    pub(crate) fn with_request_tags(mut self, tags: &Tags, tag_action: Option<&'static str>) -> Self {
        if tags.is_empty() {
            return self;
        }
        add_tags(&mut self.request_tags, tags, self.wants_tags);
        self.also.extend(tag_action);
        self
    }

    /// The same target with `action` also required on the same resource.
    pub(crate) fn also(mut self, action: &'static str) -> Self {
        self.also.push(action);
        self
    }

    /// The same target with a check on another resource, before the main action.
    pub(crate) fn before(mut self, check: Check) -> Self {
        self.before.push(check);
        self
    }

    /// The same target with a check on another resource, after the main action.
    pub(crate) fn after(mut self, check: Check) -> Self {
        self.after.push(check);
        self
    }

    /// The actions this request needs besides the call's own (before, with and after it).
    pub(crate) fn further_actions(&self) -> impl Iterator<Item = &'static str> + '_ {
        let before = self.before.iter().map(|c| c.action);
        before.chain(self.also.iter().copied()).chain(self.after.iter().map(|c| c.action))
    }
}

/// One call made to the fake, as the call log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The ARN of the caller (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`, ...).
    pub principal: Arc<str>,
    /// The IAM action, such as `iam:CreateRole` or `sts:AssumeRole`.
    pub action: &'static str,
    /// The ARN of the resource acted on (`*` when the action has none).
    pub resource: String,
    /// `Ok`, or the AWS-style error code of the failure (see [`error_code`]).
    pub outcome: Result<(), String>,
    /// True when the caller's identity policies were evaluated (an assumed-role session, or a role
    /// that exists in the world).
    pub enforced: bool,
}

/// The AWS error code closest to `error`: `NoSuchEntity`, `EntityAlreadyExists`, `DeleteConflict`,
/// `AccessDenied`, `Throttling`, `LimitExceeded`, `ValidationError`, ... A message that starts
/// with an AWS error code (`DependencyViolation: ...`, `InvalidAMIID.Malformed: ...`) gives that
/// code; an EC2, RDS or S3 resource that is not found gives the service's code
/// (`InvalidVpcID.NotFound`, `DBClusterNotFoundFault`, `NoSuchBucket`, ...).
pub fn error_code(error: &Error) -> String {
    match error {
        Error::InvalidInput { message }
        | Error::DependencyViolation { message }
        | Error::QuotaExceeded { message, .. }
        | Error::NotReady { message } => {
            if let Some(code) = leading_code(message) {
                return code.to_string();
            }
        }
        Error::NotFound { kind, .. } => {
            if let Some(code) = not_found_code(kind) {
                return code.to_string();
            }
        }
        Error::AlreadyExists { kind, .. } => {
            if let Some(code) = already_exists_code(kind) {
                return code.to_string();
            }
        }
        _ => {}
    }
    match error {
        Error::NotFound { .. } => "NoSuchEntity",
        Error::AlreadyExists { .. } => "EntityAlreadyExists",
        Error::DependencyViolation { .. } => "DeleteConflict",
        Error::AccessDenied { .. } => "AccessDenied",
        Error::Throttled { .. } => "Throttling",
        Error::QuotaExceeded { .. } => "LimitExceeded",
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

/// The AWS error code a message starts with (`Code: ...`), if any.
fn leading_code(message: &str) -> Option<&str> {
    let (code, _) = message.split_once(": ")?;
    let ok = code.len() <= 64
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    ok.then_some(code)
}

/// The service's code for a missing resource of `kind`, for the non-IAM kinds.
fn not_found_code(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "vpc" => "InvalidVpcID.NotFound",
        "subnet" => "InvalidSubnetID.NotFound",
        "internet gateway" => "InvalidInternetGatewayID.NotFound",
        "address" => "InvalidAllocationID.NotFound",
        "address association" => "InvalidAssociationID.NotFound",
        "NAT gateway" => "NatGatewayNotFound",
        "route table" => "InvalidRouteTableID.NotFound",
        "route table association" => "InvalidAssociationID.NotFound",
        "security group" => "InvalidGroup.NotFound",
        "security group rule" => "InvalidPermission.NotFound",
        "network interface" => "InvalidNetworkInterfaceID.NotFound",
        "VPC peering connection" => "InvalidVpcPeeringConnectionID.NotFound",
        "key pair" => "InvalidKeyPair.NotFound",
        "instance" => "InvalidInstanceID.NotFound",
        "spot instance request" => "InvalidSpotInstanceRequestID.NotFound",
        "EC2 resource" => "InvalidID",
        "DB subnet group" => "DBSubnetGroupNotFoundFault",
        "DB cluster" => "DBClusterNotFoundFault",
        "DB instance" => "DBInstanceNotFound",
        "bucket" => "NoSuchBucket",
        "KMS key" => "NotFoundException",
        "log group" => "ResourceNotFoundException",
        "parameter" => "ParameterNotFound",
        "command" => "InvalidCommandId",
        "quota" => "NoSuchResourceException",
        "hosted zone" => "NoSuchHostedZone",
        "record set" => "InvalidChangeBatch",
        _ => return None,
    })
}

/// The service's code for a duplicate of `kind`, for the non-IAM kinds.
fn already_exists_code(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "route" => "RouteAlreadyExists",
        "security group" => "InvalidGroup.Duplicate",
        "security group rule" => "InvalidPermission.Duplicate",
        "key pair" => "InvalidKeyPair.Duplicate",
        "route table association" => "Resource.AlreadyAssociated",
        "DB subnet group" => "DBSubnetGroupAlreadyExists",
        "DB cluster" => "DBClusterAlreadyExistsFault",
        "DB instance" => "DBInstanceAlreadyExists",
        "DB cluster snapshot" => "DBClusterSnapshotAlreadyExistsFault",
        "bucket" => "BucketAlreadyExists",
        "KMS alias" => "AlreadyExistsException",
        "log group" => "ResourceAlreadyExistsException",
        "parameter" => "ParameterAlreadyExists",
        _ => return None,
    })
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
