//! What a call acts on: the resource ARN, the request's condition keys and the further checks a
//! request needs, as service modules describe them for [`crate::call`] and [`crate::enforce`].

use std::collections::BTreeMap;
use std::sync::Arc;

use detcloud_policy::eval::CompiledPolicy;
use detcloud_provider::Tags;

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
