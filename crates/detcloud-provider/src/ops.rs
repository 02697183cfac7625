//! The smaller service areas: KMS keys, CloudWatch Logs, SSM parameters and commands, Service
//! Quotas, CloudWatch metrics, Route53 records.

use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::{Result, Secret, Tags};

/// A KMS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The key id.
    pub id: String,
    /// The key ARN.
    pub arn: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: String,
    /// `CUSTOMER` or `AWS`.
    pub manager: String,
    /// `ENCRYPT_DECRYPT`, ...
    pub usage: String,
}

impl Key {
    /// True when the key can encrypt now.
    pub fn is_usable(&self) -> bool {
        self.state == "Enabled" && self.usage == "ENCRYPT_DECRYPT"
    }
}

/// KMS.
///
/// # Contract
/// `describe_key` accepts a key id, ARN or alias (`alias/...`); a missing key fails NotFound.
#[async_trait]
pub trait Keys: Send + Sync + fmt::Debug + 'static {
    /// `kms:CreateKey` (symmetric; for tests and tooling — not granted to the cross-account role).
    async fn create_key(&self, description: &str, tags: &Tags) -> Result<Key>;
    /// `kms:DescribeKey`.
    async fn describe_key(&self, key_id: &str) -> Result<Key>;
    /// `kms:CreateGrant`; returns the grant id.
    async fn create_grant(&self, key_id: &str, grantee_principal: &str, operations: &[String]) -> Result<String>;
}

/// A CloudWatch log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    /// The name.
    pub name: String,
    /// Retention in days; `None` keeps logs forever.
    pub retention_days: Option<u32>,
    /// Tags.
    pub tags: Tags,
}

/// CloudWatch Logs.
///
/// # Contract
/// Creating an existing group fails with AlreadyExists (`ResourceAlreadyExistsException`); the
/// idempotent path accepts it. Retention must be one of CloudWatch's values (1, 3, 5, 7, 14, 30,
/// 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
#[async_trait]
pub trait Logs: Send + Sync + fmt::Debug + 'static {
    /// `logs:CreateLogGroup`, with tags.
    async fn create_log_group(&self, name: &str, tags: &Tags) -> Result<()>;
    /// `logs:PutRetentionPolicy`.
    async fn put_retention_policy(&self, name: &str, days: u32) -> Result<()>;
    /// `logs:TagResource`.
    async fn tag_log_group(&self, name: &str, tags: &Tags) -> Result<()>;
    /// `logs:DeleteLogGroup`.
    async fn delete_log_group(&self, name: &str) -> Result<()>;
    /// `logs:DescribeLogGroups` under a name prefix (inspection; not granted to the cross-account role).
    async fn describe_log_groups(&self, prefix: &str) -> Result<Vec<LogGroup>>;
}

/// A request to write a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutParameter {
    /// The name, such as `/detcloud/prod/db-password`.
    pub name: String,
    /// The value.
    pub value: Secret,
    /// Store as `SecureString` (encrypted with KMS).
    pub secure: bool,
    /// The KMS key for a `SecureString`; `None` for `alias/aws/ssm`.
    pub kms_key_id: Option<String>,
    /// Replace an existing value (otherwise AlreadyExists).
    pub overwrite: bool,
    /// A description.
    pub description: Option<String>,
}

/// A parameter read back (inspection; not granted to the cross-account role or the master).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The name.
    pub name: String,
    /// The value, decrypted.
    pub value: Secret,
    /// `String`, `StringList` or `SecureString`.
    pub kind: String,
    /// The version, from 1.
    pub version: u64,
}

/// A request to run a shell script on instances through SSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCommand {
    /// The target instances.
    pub instance_ids: Vec<String>,
    /// The lines of the `AWS-RunShellScript` document.
    pub commands: Vec<String>,
    /// A comment shown in the console.
    pub comment: Option<String>,
    /// Seconds before the command times out.
    pub timeout_seconds: Option<u32>,
}

/// The result of a command on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandInvocation {
    /// The command id.
    pub command_id: String,
    /// The instance.
    pub instance_id: String,
    /// `Pending`, `InProgress`, `Success`, `Failed`, `TimedOut`, `Cancelled`, ...
    pub status: String,
    /// The exit code, once finished.
    pub exit_code: Option<i32>,
    /// Standard output (SSM keeps the first 24,000 characters).
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CommandInvocation {
    /// True once the command has stopped, successfully or not.
    pub fn is_finished(&self) -> bool {
        !matches!(self.status.as_str(), "Pending" | "InProgress" | "Delayed")
    }
}

/// SSM: parameters and Run Command.
///
/// # Contract
/// Values are [`Secret`]s and never appear in errors or logs. `get_command_invocation` right
/// after `send_command` may fail with NotReady (`InvocationDoesNotExist`): retry.
#[async_trait]
pub trait Parameters: Send + Sync + fmt::Debug + 'static {
    /// `ssm:PutParameter`; returns the new version.
    async fn put_parameter(&self, request: PutParameter) -> Result<u64>;
    /// `ssm:GetParameter` with decryption.
    async fn get_parameter(&self, name: &str) -> Result<Parameter>;
    /// `ssm:DeleteParameter`.
    async fn delete_parameter(&self, name: &str) -> Result<()>;
    /// `ssm:SendCommand` (`AWS-RunShellScript`); returns the command id.
    async fn send_command(&self, request: SendCommand) -> Result<String>;
    /// `ssm:GetCommandInvocation`.
    async fn get_command_invocation(&self, command_id: &str, instance_id: &str) -> Result<CommandInvocation>;
}

/// A service quota.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// The service code, such as `vpc` or `ec2`.
    pub service_code: String,
    /// The quota code, such as `L-F678F1CE` (VPCs per region).
    pub quota_code: String,
    /// The quota's name.
    pub name: String,
    /// The applied value.
    pub value: f64,
}

/// Service Quotas.
#[async_trait]
pub trait Quotas: Send + Sync + fmt::Debug + 'static {
    /// `servicequotas:GetServiceQuota`.
    async fn get_service_quota(&self, service_code: &str, quota_code: &str) -> Result<Quota>;
}

/// One metric query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// An id for the result (lower-case letter first).
    pub id: String,
    /// The namespace, such as `AWS/EC2`.
    pub namespace: String,
    /// The metric, such as `CPUUtilization`.
    pub metric_name: String,
    /// Dimensions, such as `InstanceId`.
    pub dimensions: Vec<(String, String)>,
    /// `Average`, `Maximum`, ...
    pub stat: String,
    /// Seconds per data point (a multiple of 60).
    pub period_seconds: u32,
}

/// The values of one query.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// The query's id.
    pub id: String,
    /// Data points, oldest first.
    pub points: Vec<(SystemTime, f64)>,
}

/// CloudWatch metrics.
#[async_trait]
pub trait Metrics: Send + Sync + fmt::Debug + 'static {
    /// `cloudwatch:GetMetricData`.
    async fn get_metric_data(
        &self,
        queries: &[MetricQuery],
        start: SystemTime,
        end: SystemTime,
    ) -> Result<Vec<MetricSeries>>;
    /// `cloudwatch:PutMetricData` of one value (tests and tooling).
    async fn put_metric(
        &self,
        namespace: &str,
        metric_name: &str,
        dimensions: &[(String, String)],
        value: f64,
    ) -> Result<()>;
}

/// A DNS record set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    /// The fully qualified name, with or without the trailing dot.
    pub name: String,
    /// `A`, `CNAME`, `TXT`, ...
    pub record_type: String,
    /// Seconds.
    pub ttl: u32,
    /// The values.
    pub values: Vec<String>,
}

/// Route53 records, in a hosted zone of the caller's (the vendor's own zone: the customer's role
/// has no Route53 permission).
#[async_trait]
pub trait Dns: Send + Sync + fmt::Debug + 'static {
    /// `route53:ChangeResourceRecordSets` with `UPSERT`.
    async fn upsert_record(&self, zone_id: &str, record: &RecordSet) -> Result<()>;
    /// `route53:ChangeResourceRecordSets` with `DELETE` (a missing record fails NotFound).
    async fn delete_record(&self, zone_id: &str, record: &RecordSet) -> Result<()>;
    /// `route53:ListResourceRecordSets`.
    async fn list_records(&self, zone_id: &str) -> Result<Vec<RecordSet>>;
}
