//! The contract between detcloud's engines and the clouds they drive.
//!
//! Engines (`detcloud-connect`, `detcloud-cluster`) and other teams program against the traits here;
//! backends (`detcloud-aws` over the AWS SDK, `detcloud-fake` in memory) implement them.
//!
//! - [`Cloud`]: one account seen through one set of credentials; hands out the service traits and
//!   can become another role ([`Cloud::assume_role`]).
//! - [`Identity`] (STS) and [`Iam`] (roles, policies, instance profiles), with conveniences in
//!   [`IamExt`].
//! - [`Error`]: the one error type, classified ([`Error::is_retryable`]).
//! - [`tags`]: the ownership tags that tell detcloud's resources from the customer's.
//!
//! Every trait is object safe and has `Send + Sync + Debug + 'static` supertraits, so
//! `Arc<dyn Cloud>` can be shared across tasks.
//!
//! **Architecture Invariant:** this crate depends on no AWS crate and no async runtime; it is
//! data types and trait definitions only.
#![warn(missing_docs)]

mod error;
mod iam;
mod identity;
pub mod tags;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub use error::{backoff_delay, Error, Result};
pub use iam::{
    AttachedPolicy, CreatePolicy, CreateRole, Iam, IamExt, InstanceProfile, ManagedPolicy, PolicyVersion, Role,
    SimulatedDecision,
};
pub use identity::{AssumeRoleRequest, CallerIdentity, Identity, Secret, SessionCredentials};
pub use tags::Tags;

/// One AWS account as seen through one set of credentials.
///
/// # Contract
/// - The service handles are cheap to obtain and share the backend's connection pool.
/// - [`assume_role`](Cloud::assume_role) returns a new `Cloud` whose every call runs as the assumed
///   role; the original is unchanged.
#[async_trait]
pub trait Cloud: Send + Sync + fmt::Debug + 'static {
    /// STS.
    fn identity(&self) -> &dyn Identity;
    /// IAM.
    fn iam(&self) -> &dyn Iam;
    /// The same account seen as the role `request.role_arn`, through `sts:AssumeRole`.
    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>>;
}

#[async_trait]
impl<T: Cloud + ?Sized> Cloud for Arc<T> {
    fn identity(&self) -> &dyn Identity {
        (**self).identity()
    }
    fn iam(&self) -> &dyn Iam {
        (**self).iam()
    }
    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        (**self).assume_role(request).await
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
