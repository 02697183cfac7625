//! EC2 compute: instance types, key pairs, instances, their status, and spot requests.

use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::{Filter, Result, Tags};

/// What an instance type offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceTypeInfo {
    /// The type, such as `m6i.large`.
    pub name: String,
    /// Default vCPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// GPUs (0 for none).
    pub gpus: u32,
}

/// An EC2 key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// The key name.
    pub name: String,
    /// `key-...`.
    pub id: String,
    /// The fingerprint AWS computed.
    pub fingerprint: String,
    /// Tags.
    pub tags: Tags,
}

/// The lifecycle state of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceState {
    /// Booting (about 30 seconds on AWS).
    Pending,
    /// Running.
    Running,
    /// Stopping.
    Stopping,
    /// Stopped.
    Stopped,
    /// Terminating.
    ShuttingDown,
    /// Gone; still listed for about an hour.
    Terminated,
}

impl InstanceState {
    /// True for `shutting-down` and `terminated`.
    pub fn is_gone(self) -> bool {
        matches!(self, InstanceState::ShuttingDown | InstanceState::Terminated)
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
        })
    }
}

/// The root volume of a new instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootVolume {
    /// Size in GiB.
    pub size_gib: u32,
    /// EBS volume type, such as `gp3`.
    pub volume_type: String,
    /// Encrypted at rest.
    pub encrypted: bool,
    /// The KMS key; `None` for the AWS-managed EBS key.
    pub kms_key_id: Option<String>,
}

/// A request to launch one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInstance {
    /// The AMI id.
    pub image_id: String,
    /// The instance type.
    pub instance_type: String,
    /// The subnet.
    pub subnet_id: String,
    /// Security groups.
    pub security_group_ids: Vec<String>,
    /// The key pair name.
    pub key_name: Option<String>,
    /// The instance profile name (needs `iam:PassRole` on its role).
    pub instance_profile_name: Option<String>,
    /// User data, plain text (backends encode it).
    pub user_data: Option<String>,
    /// Require IMDSv2 (`HttpTokens=required`).
    pub imdsv2_required: bool,
    /// The root volume.
    pub root_volume: Option<RootVolume>,
    /// An idempotency token: the same token returns the same instance.
    pub client_token: Option<String>,
    /// Tags on the instance and its volumes.
    pub tags: Tags,
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `i-...`.
    pub id: String,
    /// Its state.
    pub state: InstanceState,
    /// Its type.
    pub instance_type: String,
    /// Its AMI.
    pub image_id: String,
    /// Its subnet (absent once terminated).
    pub subnet_id: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Private IPv4 address.
    pub private_ip: Option<String>,
    /// Public IPv4 address.
    pub public_ip: Option<String>,
    /// The key pair.
    pub key_name: Option<String>,
    /// The instance profile's ARN.
    pub instance_profile_arn: Option<String>,
    /// True when IMDSv2 is required.
    pub imdsv2_required: bool,
    /// Security groups.
    pub security_group_ids: Vec<String>,
    /// When it was launched.
    pub launch_time: Option<SystemTime>,
    /// The spot request that launched it, if any.
    pub spot_request_id: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// Status checks of a running instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    /// The instance.
    pub instance_id: String,
    /// Its state.
    pub state: InstanceState,
    /// `ok`, `impaired`, `initializing`, `insufficient-data` or `not-applicable`.
    pub system_status: String,
    /// Same values, for the instance's own checks.
    pub instance_status: String,
}

/// A spot instance request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotRequest {
    /// `sir-...`.
    pub id: String,
    /// `open`, `active`, `closed`, `cancelled` or `failed`.
    pub state: String,
    /// The instance it launched.
    pub instance_id: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// EC2 compute.
///
/// # Contract
/// - `run_instance` returns the instance `pending`; it becomes `running` later. With a client
///   token, a repeated call returns the same instance. An instance profile created moments ago
///   may not be usable yet: EC2 answers InvalidParameterValue, mapped to
///   [`Error::NotReady`](crate::Error::NotReady) so callers retry.
/// - `terminate_instances` of a terminated instance succeeds; of an unknown id fails NotFound.
/// - Exceeding the vCPU quota fails with QuotaExceeded (`VcpuLimitExceeded`).
#[async_trait]
pub trait Compute: Send + Sync + fmt::Debug + 'static {
    /// `ec2:DescribeInstanceTypes`.
    async fn describe_instance_types(&self, names: &[String]) -> Result<Vec<InstanceTypeInfo>>;

    /// `ec2:ImportKeyPair` (an OpenSSH public key line).
    async fn import_key_pair(&self, name: &str, public_key: &str, tags: &Tags) -> Result<KeyPair>;
    /// `ec2:DeleteKeyPair` (deleting a missing key succeeds, as on EC2).
    async fn delete_key_pair(&self, name: &str) -> Result<()>;
    /// `ec2:DescribeKeyPairs` (`ids` match key names).
    async fn describe_key_pairs(&self, filter: &Filter) -> Result<Vec<KeyPair>>;

    /// `ec2:RunInstances` for one instance.
    async fn run_instance(&self, request: RunInstance) -> Result<Instance>;
    /// `ec2:DescribeInstances`.
    async fn describe_instances(&self, filter: &Filter) -> Result<Vec<Instance>>;
    /// `ec2:DescribeInstanceStatus` (running instances among `ids`).
    async fn describe_instance_status(&self, ids: &[String]) -> Result<Vec<InstanceStatus>>;
    /// `ec2:TerminateInstances`.
    async fn terminate_instances(&self, ids: &[String]) -> Result<()>;

    /// `ec2:DescribeSpotInstanceRequests`.
    async fn describe_spot_requests(&self, filter: &Filter) -> Result<Vec<SpotRequest>>;
    /// `ec2:CancelSpotInstanceRequests`.
    async fn cancel_spot_requests(&self, ids: &[String]) -> Result<()>;
}
