//! The Determined master's configuration (`/etc/determined/master.yaml`) as a typed model, built
//! from the cluster's spec and its real resources.
//!
//! The model holds no secret: the database password reaches the master as `DET_DB_PASSWORD` in
//! an environment file that the master's unit writes at each start from the SSM SecureString
//! (Determined reads any `db.*` setting from `DET_DB_*`).

use serde::{Deserialize, Serialize};

use crate::spec::ClusterSpec;

/// The port the master serves its API and web UI on.
pub const MASTER_PORT: u16 = 8080;

/// The tag Determined puts on the agents it launches (`tag_key`), valued with the cluster's name
/// (`tag_value`); the master finds its agents by it. The master itself does not carry it, so the
/// master never takes itself for an agent.
pub const AGENT_TAG: &str = "detcloud:agent-of";

/// The auxiliary pool (CPU tasks).
pub const AUX_POOL: &str = "aux-pool";
/// The compute pool (GPU work).
pub const COMPUTE_POOL: &str = "compute-pool";

/// The resources of the cluster the configuration names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterResources {
    /// The checkpoint bucket.
    pub bucket: String,
    /// The Aurora cluster's writer endpoint.
    pub db_endpoint: String,
    /// The agent instance profile's ARN.
    pub agent_instance_profile_arn: String,
    /// The private subnets, in zone order (agents run there, behind the NAT gateway).
    pub private_subnets: Vec<String>,
    /// The security group of the master, the agents and the database.
    pub security_group: String,
    /// The SSH key pair of the master and the agents.
    pub key_pair: String,
    /// The CloudWatch log group.
    pub log_group: String,
    /// The agents' AMI.
    pub agent_ami: String,
    /// GPUs of the compute pool's instance type (its slots; 0 offers one CPU slot).
    pub compute_gpus: u32,
}

/// `master.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MasterConfig {
    /// The port of the API and web UI.
    pub port: u16,
    /// Where checkpoints go.
    pub checkpoint_storage: CheckpointStorage,
    /// The database (the password comes from `DET_DB_PASSWORD`).
    pub db: Database,
    /// How work is scheduled onto agents.
    pub resource_manager: ResourceManager,
    /// The agent pools the master launches.
    pub resource_pools: Vec<ResourcePool>,
}

/// `checkpoint_storage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointStorage {
    /// `s3`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The bucket.
    pub bucket: String,
    /// Checkpoints kept per experiment, best first.
    pub save_experiment_best: u32,
    /// Per trial, best first.
    pub save_trial_best: u32,
    /// Per trial, latest first.
    pub save_trial_latest: u32,
}

/// `db`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// The user.
    pub user: String,
    /// The writer endpoint.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The database.
    pub name: String,
    /// TLS to the database (`require`).
    pub ssl_mode: String,
}

/// `resource_manager`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceManager {
    /// `agent`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The pool of CPU-only tasks.
    pub default_aux_resource_pool: String,
    /// The pool of GPU work.
    pub default_compute_resource_pool: String,
    /// The scheduler.
    pub scheduler: Scheduler,
}

/// `resource_manager.scheduler`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheduler {
    /// `fair_share`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One entry of `resource_pools`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcePool {
    /// The pool's name.
    pub pool_name: String,
    /// CPU-only containers an agent of the pool runs at once.
    pub max_aux_containers_per_agent: u32,
    /// How the master launches the pool's agents.
    pub provider: AwsProvider,
}

/// `resource_pools[].provider` of type `aws`: Determined's EC2 provisioner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsProvider {
    /// `aws`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The region.
    pub region: String,
    /// How agents reach the master: `http://local-ipv4:8080` (the master puts its private address
    /// in place of `local-ipv4`).
    pub master_url: String,
    /// The agents' container image.
    pub agent_docker_image: String,
    /// The agents' instance type.
    pub instance_type: String,
    /// Slots per agent (its GPUs).
    pub instance_slots: u32,
    /// An agent without GPUs offers one CPU slot.
    pub cpu_slots_allowed: bool,
    /// The agents' AMI.
    pub image_id: String,
    /// The agents' `Name` tag.
    pub instance_name: String,
    /// The agent instance profile.
    pub iam_instance_profile_arn: String,
    /// The agents' key pair.
    pub ssh_key_name: String,
    /// Root volume size in GiB.
    pub root_volume_size: u32,
    /// Where agents are placed.
    pub network_interface: NetworkInterface,
    /// The tag by which the master finds its agents ([`AGENT_TAG`]).
    pub tag_key: String,
    /// Its value: the cluster's name.
    pub tag_value: String,
    /// Further tags on every agent: detcloud's ownership tags and the spec's tags.
    pub custom_tags: Vec<Tag>,
    /// The agents' log group.
    pub log_group: String,
    /// Their log stream.
    pub log_stream: String,
    /// Agents kept running even when idle.
    pub min_instances: u32,
    /// Agents at most.
    pub max_instances: u32,
    /// How long an idle agent lives (`10m`).
    pub max_idle_agent_period: String,
    /// How long an agent may take to start.
    pub max_agent_starting_period: String,
    /// Spot instances.
    pub spot: bool,
    /// The spot price limit; absent: the on-demand price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_max_price: Option<String>,
}

/// `network_interface`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkInterface {
    /// Agents get no public address: they live in the private subnets.
    pub public_ip: bool,
    /// Their subnet.
    pub subnet_id: String,
    /// Their security group.
    pub security_group_id: String,
}

/// One of `custom_tags`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// The database name and user of every cluster.
pub const DB_NAME: &str = "determined";
/// See [`DB_NAME`].
pub const DB_USER: &str = "determined";

impl MasterConfig {
    /// The configuration of the cluster `spec` over its resources.
    pub fn new(spec: &ClusterSpec, r: &MasterResources) -> MasterConfig {
        let mut custom_tags: Vec<Tag> = crate::context::cluster_tags(spec)
            .iter()
            .map(|(key, value)| Tag { key: key.clone(), value: value.clone() })
            .collect();
        custom_tags.push(Tag { key: crate::context::RESOURCE.into(), value: "agent".into() });
        let subnet = |i: usize| r.private_subnets.get(i % r.private_subnets.len().max(1)).cloned().unwrap_or_default();
        let a = &spec.agents;
        let provider = |instance_type: &str, slots: u32, cpu_slots: bool, subnet_id: String| AwsProvider {
            kind: "aws".into(),
            region: spec.region.clone(),
            master_url: format!("http://local-ipv4:{MASTER_PORT}"),
            agent_docker_image: spec.determined.agent_image(),
            instance_type: instance_type.to_string(),
            instance_slots: slots,
            cpu_slots_allowed: cpu_slots,
            image_id: r.agent_ami.clone(),
            instance_name: format!("detcloud-{}-agent", spec.name),
            iam_instance_profile_arn: r.agent_instance_profile_arn.clone(),
            ssh_key_name: r.key_pair.clone(),
            root_volume_size: a.root_volume_gib,
            network_interface: NetworkInterface {
                public_ip: false,
                subnet_id,
                security_group_id: r.security_group.clone(),
            },
            tag_key: AGENT_TAG.into(),
            tag_value: spec.name.clone(),
            custom_tags: custom_tags.clone(),
            log_group: r.log_group.clone(),
            log_stream: "determined-agent".into(),
            min_instances: a.min_instances,
            max_instances: a.max_instances,
            max_idle_agent_period: format!("{}m", a.max_idle_minutes),
            max_agent_starting_period: "20m".into(),
            spot: a.spot,
            spot_max_price: a.spot_max_price.clone(),
        };
        MasterConfig {
            port: MASTER_PORT,
            checkpoint_storage: CheckpointStorage {
                kind: "s3".into(),
                bucket: r.bucket.clone(),
                save_experiment_best: 0,
                save_trial_best: 1,
                save_trial_latest: 1,
            },
            db: Database {
                user: DB_USER.into(),
                host: r.db_endpoint.clone(),
                port: 5432,
                name: DB_NAME.into(),
                ssl_mode: "require".into(),
            },
            resource_manager: ResourceManager {
                kind: "agent".into(),
                default_aux_resource_pool: AUX_POOL.into(),
                default_compute_resource_pool: COMPUTE_POOL.into(),
                scheduler: Scheduler { kind: "fair_share".into() },
            },
            resource_pools: vec![
                ResourcePool {
                    pool_name: AUX_POOL.into(),
                    max_aux_containers_per_agent: 100,
                    provider: provider(&a.aux_instance_type, 0, false, subnet(1)),
                },
                ResourcePool {
                    pool_name: COMPUTE_POOL.into(),
                    max_aux_containers_per_agent: 0,
                    provider: provider(&a.instance_type, r.compute_gpus, true, subnet(0)),
                },
            ],
        }
    }

    /// The configuration as YAML.
    pub fn to_yaml(&self) -> String {
        let value = serde_json::to_value(self).expect("the master configuration is plain data");
        super::yaml::to_yaml(&value)
    }
}
