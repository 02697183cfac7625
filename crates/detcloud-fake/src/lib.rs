//! An in-memory cloud for tests, stricter than moto.
//!
//! [`FakeCloud`] implements the whole provider contract ([`Cloud`](detcloud_provider::Cloud) and every service trait: STS,
//! IAM, EC2 networking and compute, RDS, S3, KMS, CloudWatch Logs, SSM, Service Quotas, CloudWatch
//! metrics, Route53) over a world of AWS accounts held in memory, with AWS's rules:
//!
//! - IAM names unique case-insensitively, IAM's name, path, tag and document validation, its
//!   quotas (policy sizes, five versions, ten attached policies, one role per instance profile,
//!   fifty tags) and its dependency rules (`DeleteConflict`);
//! - STS trust policies evaluated for the caller, with `sts:ExternalId`, and IAM's propagation
//!   delay in tokio's virtual time ([`FakeCloud::set_consistency_delay`]), which also keeps a new
//!   instance profile from `ec2:RunInstances` for a while;
//! - regional services per account and region ([`FakeCloud::with_region`]; `us-west-2` by
//!   default): EC2 ids, CIDR rules, dependency violations, quotas with their Service Quotas codes
//!   ([`FakeCloud::set_quota`]), and AWS's asynchronous transitions (instances, NAT gateways,
//!   Aurora, snapshots, commands) on tokio's clock ([`Timings`], [`FakeCloud::set_timings`]);
//! - S3 bucket names global across accounts, bucket policies that bind every request;
//! - every call of an assumed-role session evaluated against its role's policies and permissions
//!   boundary, with the IAM action and resource ARN AWS uses (and the extra actions a request
//!   needs: `ec2:CreateTags` for tags on creation, `iam:PassRole` for an instance profile, ...),
//!   with AWS's `AccessDenied` wording (any other principal may do everything in its own
//!   account and only `sts:AssumeRole` in others);
//! - a call log ([`FakeCloud::calls`], [`FakeCloud::actions_used`]), fault injection
//!   ([`FakeCloud::faults`]) and JSON snapshots ([`FakeCloud::to_json`]).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use detcloud_fake::FakeCloud;
//! use detcloud_provider::{Cloud, CreateRole, Iam};
//! use detcloud_policy::{PolicyDocument, Principal, Statement};
//!
//! let cloud = FakeCloud::new("111111111111");
//! let trust = PolicyDocument::new(vec![Statement::trust(
//!     Principal::single("Service", "ec2.amazonaws.com"),
//!     "sts:AssumeRole",
//! )]);
//! let request = |name: &str| CreateRole {
//!     name: name.into(),
//!     path: "/".into(),
//!     trust_policy: trust.clone(),
//!     description: None,
//!     permissions_boundary: None,
//!     tags: Default::default(),
//! };
//! let role = cloud.iam().create_role(request("agent")).await.unwrap();
//! assert_eq!(role.arn, "arn:aws:iam::111111111111:role/agent");
//! // Names are unique ignoring case, as in IAM.
//! let again = cloud.iam().create_role(request("AGENT")).await;
//! assert!(again.unwrap_err().is_already_exists());
//! # });
//! ```
#![warn(missing_docs)]

mod aws_managed;
mod call;
mod call_log;
mod cidr;
mod clock;
mod cloud;
mod determined;
mod ec2;
mod ec2_compute;
mod ec2_network;
mod enforce;
mod faults;
mod iam;
mod kms;
pub mod limits;
mod logs;
mod metrics;
mod query;
pub mod quotas;
mod rds;
mod region;
mod rng;
mod route53;
mod runtime;
mod s3;
mod snapshot;
mod ssm;
mod state;
mod sts;
mod target;
mod world;

pub use call_log::{error_code, CallRecord};
pub use clock::Timings;
pub use cloud::FakeCloud;
pub use faults::Faults;
pub use logs::RETENTION_DAYS;
pub use metrics::SYNTHETIC_CPU;
pub use rds::{DEFAULT_ENGINE_VERSION, ENGINE};
pub use region::DEFAULT_REGION;
pub use runtime::{CommandHandler, MasterBehaviour};
pub use snapshot::{SnapshotError, FORMAT};
