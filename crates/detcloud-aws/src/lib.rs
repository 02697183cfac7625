//! The AWS backend of the detcloud provider contract, over the official AWS SDK for Rust.
//!
//! [`AwsCloud::load`] resolves credentials and region through the standard chain (environment,
//! profiles, SSO, IMDS, `AWS_ENDPOINT_URL`, `AWS_REGION`), with optional overrides from
//! [`AwsOptions`]. Every SDK error is mapped by its code to a typed
//! [`detcloud_provider::Error`].
//!
//! One struct per service area, each one trait of the contract: [`AwsIdentity`] (STS),
//! [`AwsIam`], [`AwsNetwork`] and [`AwsCompute`] (EC2), [`AwsDatabase`] (RDS), [`AwsStorage`]
//! (S3), [`AwsKeys`] (KMS), [`AwsLogs`] (CloudWatch Logs), [`AwsParameters`] (SSM),
//! [`AwsQuotas`] (Service Quotas), [`AwsMetrics`] (CloudWatch) and [`AwsDns`] (Route53).
//! [`waiters`] polls for engines that wait on AWS resources.
//!
//! **Architecture Invariant:** this is the only crate that names an `aws-sdk-*` or `aws-smithy-*`
//! type. Nothing it exports mentions one.
#![warn(missing_docs)]

mod compute;
mod database;
mod dns;
mod ec2;
mod error;
mod iam;
mod keys;
mod logs;
mod metrics;
mod network;
mod parameters;
mod quotas;
mod storage;
mod sts;
pub mod waiters;

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use detcloud_provider::{
    AssumeRoleRequest, Capabilities, Cloud, Compute, Database, Dns, Iam, Identity, Keys, Logs, Metrics, Network,
    Parameters, Quotas, Result, Storage,
};

pub use compute::{AwsCompute, ROOT_DEVICE_NAME};
pub use database::AwsDatabase;
pub use dns::AwsDns;
pub use iam::AwsIam;
pub use keys::AwsKeys;
pub use logs::AwsLogs;
pub use metrics::AwsMetrics;
pub use network::AwsNetwork;
pub use parameters::{AwsParameters, RUN_SHELL_SCRIPT};
pub use quotas::AwsQuotas;
pub use storage::AwsStorage;
pub use sts::AwsIdentity;
pub use waiters::{wait_until, wait_until_with, Backoff};

/// Region used when neither a flag, the environment nor the profile names one. IAM and STS work
/// from any region.
pub const FALLBACK_REGION: &str = "us-east-1";

/// Overrides of the standard AWS configuration chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// A named profile from `~/.aws/config` (`--profile`); otherwise `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    /// The region (`--region`); otherwise `AWS_REGION`, the profile, or [`FALLBACK_REGION`].
    pub region: Option<String>,
    /// An endpoint for every service (`--endpoint-url`), such as a local moto server; otherwise
    /// `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Attempts per call, including the first (standard retry mode with backoff). Default 3.
    /// Under `detcloud_retry::Retrying`, which retries every transient error itself, use 1 (as
    /// the CLI does): retries at both levels multiply.
    pub max_attempts: Option<u32>,
}

/// One AWS account through one set of credentials.
#[derive(Debug, Clone)]
pub struct AwsCloud {
    config: SdkConfig,
    identity: AwsIdentity,
    iam: AwsIam,
    network: AwsNetwork,
    compute: AwsCompute,
    database: AwsDatabase,
    storage: AwsStorage,
    keys: AwsKeys,
    logs: AwsLogs,
    parameters: AwsParameters,
    quotas: AwsQuotas,
    metrics: AwsMetrics,
    dns: AwsDns,
    capabilities: Capabilities,
}

impl AwsCloud {
    /// Loads configuration and credentials through the standard chain with `options` applied.
    /// Credentials are resolved lazily, on the first call.
    pub async fn load(options: &AwsOptions) -> AwsCloud {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let mut default_region = aws_config::default_provider::region::DefaultRegionChain::builder();
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
            default_region = default_region.profile_name(profile);
        }
        let region = RegionProviderChain::first_try(options.region.clone().map(Region::new))
            .or_else(default_region.build())
            .or_else(Region::from_static(FALLBACK_REGION));
        loader = loader.region(region);
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(options.max_attempts.unwrap_or(3)));
        AwsCloud::from_config(loader.load().await)
    }

    /// Builds the backend from an already loaded SDK configuration. With an endpoint override
    /// (in `config`, or `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3`), S3 uses path-style addressing.
    pub fn from_config(config: SdkConfig) -> AwsCloud {
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let sts = aws_sdk_sts::Client::new(&config);
        let region = config.region().map(|r| r.to_string()).unwrap_or_else(|| FALLBACK_REGION.to_string());
        let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(has_endpoint_override(&config)).build();
        AwsCloud {
            identity: AwsIdentity::new(sts.clone()),
            iam: AwsIam::new(aws_sdk_iam::Client::new(&config)),
            network: AwsNetwork::new(ec2.clone()),
            compute: AwsCompute::new(ec2),
            database: AwsDatabase::new(aws_sdk_rds::Client::new(&config)),
            storage: AwsStorage::new(aws_sdk_s3::Client::from_conf(s3)),
            keys: AwsKeys::new(aws_sdk_kms::Client::new(&config)),
            logs: AwsLogs::new(aws_sdk_cloudwatchlogs::Client::new(&config), sts, region),
            parameters: AwsParameters::new(aws_sdk_ssm::Client::new(&config)),
            quotas: AwsQuotas::new(aws_sdk_servicequotas::Client::new(&config)),
            metrics: AwsMetrics::new(aws_sdk_cloudwatch::Client::new(&config)),
            dns: AwsDns::new(aws_sdk_route53::Client::new(&config)),
            capabilities: Capabilities::default(),
            config,
        }
    }

    /// The same backend, declaring `capabilities` (an emulator that runs no commands, say): AWS
    /// itself has them all, which is the default. Sessions from [`Cloud::assume_role`] keep them.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> AwsCloud {
        self.capabilities = capabilities;
        self
    }
}

/// True when every service, or S3, is pointed at an explicit endpoint (a local emulator).
fn has_endpoint_override(config: &SdkConfig) -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    config.endpoint_url().is_some() || (!ignored && (set("AWS_ENDPOINT_URL") || set("AWS_ENDPOINT_URL_S3")))
}

#[async_trait]
impl Cloud for AwsCloud {
    fn identity(&self) -> &dyn Identity {
        &self.identity
    }

    fn iam(&self) -> &dyn Iam {
        &self.iam
    }

    fn network(&self) -> &dyn Network {
        &self.network
    }

    fn compute(&self) -> &dyn Compute {
        &self.compute
    }

    fn database(&self) -> &dyn Database {
        &self.database
    }

    fn storage(&self) -> &dyn Storage {
        &self.storage
    }

    fn keys(&self) -> &dyn Keys {
        &self.keys
    }

    fn logs(&self) -> &dyn Logs {
        &self.logs
    }

    fn parameters(&self) -> &dyn Parameters {
        &self.parameters
    }

    fn quotas(&self) -> &dyn Quotas {
        &self.quotas
    }

    fn metrics(&self) -> &dyn Metrics {
        &self.metrics
    }

    fn dns(&self) -> &dyn Dns {
        &self.dns
    }

    fn region(&self) -> String {
        self.config.region().map(|r| r.to_string()).unwrap_or_else(|| FALLBACK_REGION.to_string())
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        // One explicit call proves the trust policy admits us (and fails fast with a typed error);
        // the provider below then refreshes the session before it expires.
        self.identity.assume_role(request.clone()).await?;
        let mut builder = AssumeRoleProvider::builder(&request.role_arn).session_name(&request.session_name);
        if let Some(id) = &request.external_id {
            builder = builder.external_id(id);
        }
        // Refreshing the session happens inside some other call, where no caller can retry it:
        // the refresh keeps the SDK's standard retries whatever `max_attempts` says.
        let refresh = self.config.to_builder().retry_config(RetryConfig::standard()).build();
        let provider = builder.configure(&refresh).build().await;
        let config = self
            .config
            .to_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
            .build();
        Ok(Arc::new(AwsCloud::from_config(config).with_capabilities(self.capabilities)))
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
