//! The contract between detcloud's engines and the clouds they drive.
//!
//! Engines (`detcloud-connect`, `detcloud-cluster`) and other teams program against the traits here;
//! backends (`detcloud-aws` over the AWS SDK, `detcloud-fake` in memory) implement them.
//!
//! - [`Cloud`]: one account seen through one set of credentials; hands out the service traits and
//!   can become another role ([`Cloud::assume_role`]).
//! - [`Identity`] (STS) and [`Iam`] (roles, policies, instance profiles), with conveniences in
//!   [`IamExt`]; [`Network`] and [`Compute`] (EC2), [`Database`] (RDS), [`Storage`] (S3),
//!   [`Keys`] (KMS), [`Logs`], [`Parameters`] (SSM), [`Quotas`], [`Metrics`] (CloudWatch) and
//!   [`Dns`] (Route53); every describe takes a [`Filter`] (ids, tags, VPC).
//! - [`Error`]: the one error type, classified ([`Error::is_retryable`]).
//! - [`tags`]: the ownership tags that tell detcloud's resources from the customer's.
//!
//! Every trait is object safe and has `Send + Sync + Debug + 'static` supertraits, so
//! `Arc<dyn Cloud>` can be shared across tasks.
//!
//! **Architecture Invariant:** this crate depends on no AWS crate and no async runtime; it is
//! data types and trait definitions only.
#![warn(missing_docs)]

mod compute;
mod database;
mod error;
mod filter;
mod iam;
mod identity;
mod network;
mod ops;
mod storage;
pub mod tags;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub use compute::{
    Compute, Instance, InstanceState, InstanceStatus, InstanceTypeInfo, KeyPair, RootVolume, RunInstance, SpotRequest,
};
pub use database::{
    CreateDbCluster, CreateDbInstance, Database, DbCluster, DbClusterSnapshot, DbInstance, DbSubnetGroup,
    ModifyDbCluster, RestoreDbCluster,
};
pub use error::{backoff_delay, done_if_missing, Error, Result};
pub use filter::Filter;
pub use iam::{
    AttachedPolicy, CreatePolicy, CreateRole, Iam, IamExt, InstanceProfile, ManagedPolicy, PolicyVersion, Role,
    SimulatedDecision,
};
pub use identity::{AssumeRoleRequest, CallerIdentity, Identity, Secret, SessionCredentials};
pub use network::{
    format_cidr, Address, AvailabilityZone, CreateNatGateway, CreateSubnet, InternetGateway, NatGateway,
    NatGatewayState, Network, NetworkInterface, PeeringConnection, PeeringState, Route, RouteTable,
    RouteTableAssociation, RouteTarget, SecurityGroup, SecurityRule, Subnet, Vpc,
};
pub use ops::{
    CommandInvocation, Dns, Key, Keys, LogGroup, Logs, MetricQuery, MetricSeries, Metrics, Parameter, Parameters,
    PutParameter, Quota, Quotas, RecordSet, SendCommand,
};
pub use storage::{Bucket, BucketCreation, BucketEncryption, Storage};
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
    /// EC2 networking.
    fn network(&self) -> &dyn Network;
    /// EC2 compute.
    fn compute(&self) -> &dyn Compute;
    /// RDS.
    fn database(&self) -> &dyn Database;
    /// S3.
    fn storage(&self) -> &dyn Storage;
    /// KMS.
    fn keys(&self) -> &dyn Keys;
    /// CloudWatch Logs.
    fn logs(&self) -> &dyn Logs;
    /// SSM parameters and Run Command.
    fn parameters(&self) -> &dyn Parameters;
    /// Service Quotas.
    fn quotas(&self) -> &dyn Quotas;
    /// CloudWatch metrics.
    fn metrics(&self) -> &dyn Metrics;
    /// Route53.
    fn dns(&self) -> &dyn Dns;
    /// The region the regional services act in.
    fn region(&self) -> String;
    /// What this backend can do beyond the calls themselves (see [`Capabilities`]). The default
    /// is everything AWS does.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    /// The same account seen as the role `request.role_arn`, through `sts:AssumeRole`.
    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>>;
}

/// The twelve service accessors of [`Cloud`] for a type that implements every service trait
/// itself (the fake, a wrapper that adds something to each call): each returns `self`. Use it
/// inside `impl Cloud for ...`, which then adds `region` and `assume_role` (and `capabilities`).
#[macro_export]
macro_rules! services_from_self {
    () => {
        fn identity(&self) -> &dyn $crate::Identity {
            self
        }
        fn iam(&self) -> &dyn $crate::Iam {
            self
        }
        fn network(&self) -> &dyn $crate::Network {
            self
        }
        fn compute(&self) -> &dyn $crate::Compute {
            self
        }
        fn database(&self) -> &dyn $crate::Database {
            self
        }
        fn storage(&self) -> &dyn $crate::Storage {
            self
        }
        fn keys(&self) -> &dyn $crate::Keys {
            self
        }
        fn logs(&self) -> &dyn $crate::Logs {
            self
        }
        fn parameters(&self) -> &dyn $crate::Parameters {
            self
        }
        fn quotas(&self) -> &dyn $crate::Quotas {
            self
        }
        fn metrics(&self) -> &dyn $crate::Metrics {
            self
        }
        fn dns(&self) -> &dyn $crate::Dns {
            self
        }
    };
}

#[async_trait]
impl<T: Cloud + ?Sized> Cloud for Arc<T> {
    fn identity(&self) -> &dyn Identity {
        (**self).identity()
    }
    fn iam(&self) -> &dyn Iam {
        (**self).iam()
    }
    fn network(&self) -> &dyn Network {
        (**self).network()
    }
    fn compute(&self) -> &dyn Compute {
        (**self).compute()
    }
    fn database(&self) -> &dyn Database {
        (**self).database()
    }
    fn storage(&self) -> &dyn Storage {
        (**self).storage()
    }
    fn keys(&self) -> &dyn Keys {
        (**self).keys()
    }
    fn logs(&self) -> &dyn Logs {
        (**self).logs()
    }
    fn parameters(&self) -> &dyn Parameters {
        (**self).parameters()
    }
    fn quotas(&self) -> &dyn Quotas {
        (**self).quotas()
    }
    fn metrics(&self) -> &dyn Metrics {
        (**self).metrics()
    }
    fn dns(&self) -> &dyn Dns {
        (**self).dns()
    }
    fn region(&self) -> String {
        (**self).region()
    }
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        (**self).assume_role(request).await
    }
}

/// What a backend can do beyond answering calls, where local emulators differ from AWS.
///
/// Engines read it to decide what they can verify: a backend that accepts `ssm:SendCommand` but
/// runs nothing (moto) cannot show that a cluster's master answers, so readiness is reported as
/// not verified instead of being waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Commands sent with [`Parameters::send_command`] run on the instances and report their real
    /// exit code and output.
    pub runs_commands: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities { runs_commands: true }
    }
}

impl Capabilities {
    /// These capabilities, with [`runs_commands`](Self::runs_commands) set to `runs`.
    pub fn with_runs_commands(mut self, runs: bool) -> Self {
        self.runs_commands = runs;
        self
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
