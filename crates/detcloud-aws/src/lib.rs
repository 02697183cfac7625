//! The AWS backend of the detcloud provider contract, over the official AWS SDK for Rust.
//!
//! [`AwsCloud::load`] resolves credentials and region through the standard chain (environment,
//! profiles, SSO, IMDS, `AWS_ENDPOINT_URL`, `AWS_REGION`), with optional overrides from
//! [`AwsOptions`]. Every SDK error is mapped by its code to a typed
//! [`detcloud_provider::Error`].
//!
//! **Architecture Invariant:** this is the only crate that names an `aws-sdk-*` or `aws-smithy-*`
//! type. Nothing it exports mentions one.
#![warn(missing_docs)]

mod error;
mod iam;
mod sts;

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use detcloud_provider::{AssumeRoleRequest, Cloud, Iam, Identity, Result};

pub use iam::AwsIam;
pub use sts::AwsIdentity;

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
    pub max_attempts: Option<u32>,
}

/// One AWS account through one set of credentials.
#[derive(Debug, Clone)]
pub struct AwsCloud {
    config: SdkConfig,
    identity: AwsIdentity,
    iam: AwsIam,
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

    /// Builds the backend from an already loaded SDK configuration.
    pub fn from_config(config: SdkConfig) -> AwsCloud {
        AwsCloud {
            identity: AwsIdentity::new(aws_sdk_sts::Client::new(&config)),
            iam: AwsIam::new(aws_sdk_iam::Client::new(&config)),
            config,
        }
    }

    /// The region in use.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }
}

#[async_trait]
impl Cloud for AwsCloud {
    fn identity(&self) -> &dyn Identity {
        &self.identity
    }

    fn iam(&self) -> &dyn Iam {
        &self.iam
    }

    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        // One explicit call proves the trust policy admits us (and fails fast with a typed error);
        // the provider below then refreshes the session before it expires.
        self.identity.assume_role(request.clone()).await?;
        let mut builder = AssumeRoleProvider::builder(&request.role_arn).session_name(&request.session_name);
        if let Some(id) = &request.external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.configure(&self.config).build().await;
        let config = self
            .config
            .to_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
            .build();
        Ok(Arc::new(AwsCloud::from_config(config)))
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
