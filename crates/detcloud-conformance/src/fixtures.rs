//! Resources several cases need (a VPC with subnets, an instance, a role, an Aurora cluster),
//! created tagged and tracked for cleanup, and the documents and keys they use.

use std::time::Duration;

use detcloud_policy::{ConditionValue, PolicyDocument, Principal, Statement};
use detcloud_provider::{
    Address, CreateDbCluster, CreatePolicy, CreateRole, CreateSubnet, DbCluster, DbSubnetGroup, Filter, Instance,
    InstanceState, InternetGateway, ManagedPolicy, NetworkInterface, Role, RootVolume, RunInstance, Secret,
    SecurityGroup, Subnet, Vpc,
};

use crate::kit::{ensure, Backoff, Ctx, Fail, Res, Scope, Step};

/// The IAM path of every role, policy and profile the suite creates.
pub(crate) const IAM_PATH: &str = "/detcloud-conformance/";

/// Valid OpenSSH ed25519 public keys (their private halves were discarded).
pub(crate) const ED25519_KEYS: [&str; 4] = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO680E7bxS2bfLVdF1jFeL8hBYjjpaKTf085AuimXsT9 detcloud-conformance-1",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILnJuvR30MWgL+b5f/Y1yMttULIYsn5R5r7RFuzoQ2uM detcloud-conformance-2",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC3gIVcRYOArznIwwkSiE7iNVPpbUt5pxMdDnEM+gMa+ detcloud-conformance-3",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIUIEE62XEFjC83CdcHTaoRO4BNRxaDaod1j4IRUk9Af detcloud-conformance-4",
];

/// How long an instance may take to reach a state.
pub(crate) const INSTANCE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long an Aurora cluster may take to become available (about eight minutes on AWS).
pub(crate) const DB_TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// A trust policy for EC2 instances.
pub(crate) fn ec2_trust() -> PolicyDocument {
    PolicyDocument::new(vec![Statement::trust(Principal::single("Service", "ec2.amazonaws.com"), "sts:AssumeRole")])
}

/// A trust policy for the whole account `account`, optionally requiring an external id.
pub(crate) fn account_trust(account: &str, external_id: Option<&str>) -> PolicyDocument {
    let mut statement =
        Statement::trust(Principal::single("AWS", format!("arn:aws:iam::{account}:root")), "sts:AssumeRole");
    if let Some(id) = external_id {
        statement = statement.with_condition("StringEquals", "sts:ExternalId", vec![ConditionValue::from(id)]);
    }
    PolicyDocument::new(vec![statement])
}

/// An identity policy allowing `actions` on everything.
pub(crate) fn allow(actions: &[&str]) -> PolicyDocument {
    PolicyDocument::new(vec![Statement::allow(actions.iter().copied(), ["*"])])
}

/// The caller's account id.
pub(crate) async fn account(s: &Scope<'_>) -> Step<String> {
    Ok(s.cloud.identity().caller_identity().await.ctx("caller_identity")?.account)
}

/// A role under [`IAM_PATH`] with the run tag, tracked.
pub(crate) async fn role(s: &Scope<'_>, trust: PolicyDocument) -> Step<Role> {
    let request = CreateRole {
        name: s.name("role"),
        path: IAM_PATH.to_string(),
        trust_policy: trust,
        description: Some("detcloud conformance".into()),
        permissions_boundary: None,
        tags: s.tags(),
    };
    let role = s.cloud.iam().create_role(request).await.ctx("create_role")?;
    s.track(Res::Role(role.name.clone()));
    Ok(role)
}

/// A customer-managed policy under [`IAM_PATH`] with the run tag, tracked.
pub(crate) async fn managed_policy(s: &Scope<'_>, document: PolicyDocument) -> Step<ManagedPolicy> {
    let request = CreatePolicy {
        name: s.name("policy"),
        path: IAM_PATH.to_string(),
        document,
        description: Some("detcloud conformance".into()),
        tags: s.tags(),
    };
    let policy = s.cloud.iam().create_policy(request).await.ctx("create_policy")?;
    s.track(Res::Policy(policy.arn.clone()));
    Ok(policy)
}

/// An EC2 role ([`role`]) with a customer-managed policy of `document` ([`managed_policy`])
/// attached, tracked; the attachment is returned too, for a case that detaches it itself.
pub(crate) async fn role_with_policy(s: &Scope<'_>, document: PolicyDocument) -> Step<(ManagedPolicy, Role, Res)> {
    let policy = managed_policy(s, document).await?;
    let role = role(s, ec2_trust()).await?;
    s.cloud.iam().attach_policy(&role.name, &policy.arn).await.ctx("attach_policy")?;
    let attachment = Res::Attachment { role: role.name.clone(), policy_arn: policy.arn.clone() };
    s.track(attachment.clone());
    Ok((policy, role, attachment))
}

/// The names of at least `n` available zones.
pub(crate) async fn zones(s: &Scope<'_>, n: usize) -> Step<Vec<String>> {
    let zones = s.cloud.network().describe_availability_zones().await.ctx("describe_availability_zones")?;
    let names: Vec<String> = zones.into_iter().filter(|z| z.state == "available").map(|z| z.name).collect();
    ensure!(names.len() >= n, "describe_availability_zones: need {n} available zones, got {names:?}");
    Ok(names)
}

/// A VPC with the run tag, tracked (counted against the case's reservation).
pub(crate) async fn vpc(s: &Scope<'_>, cidr: &str) -> Step<Vpc> {
    s.take_vpc()?;
    let vpc = s.cloud.network().create_vpc(cidr, &s.tags()).await.ctx("create_vpc")?;
    s.track(Res::Vpc(vpc.id.clone()));
    Ok(vpc)
}

/// A subnet with the run tag, tracked.
pub(crate) async fn subnet(s: &Scope<'_>, vpc_id: &str, cidr: &str, zone: &str) -> Step<Subnet> {
    let request = CreateSubnet {
        vpc_id: vpc_id.to_string(),
        cidr: cidr.to_string(),
        availability_zone: zone.to_string(),
        tags: s.tags(),
    };
    let subnet = s.cloud.network().create_subnet(request).await.ctx("create_subnet")?;
    s.track(Res::Subnet(subnet.id.clone()));
    Ok(subnet)
}

/// The set-up of a case that stands on a network of its own: a VPC `10.0.0.0/16` (the caller
/// reserves it, [`Needs`](crate::kit::Needs)), `N` subnets `10.0.1.0/24`, `10.0.2.0/24`, ... one
/// per available zone, and optionally an attached internet gateway, an elastic IP, a network
/// interface in the first subnet (with the VPC's default security group) and an instance there,
/// created in that order, tagged and tracked. Start from [`network()`], then [`build`](Self::build).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NetworkSetup {
    subnets: usize,
    internet_gateway: bool,
    address: bool,
    interface: bool,
    instance: bool,
    /// Wait until the instance runs.
    running: bool,
}

/// A VPC alone; add to it with the [`NetworkSetup`] methods.
pub(crate) fn network() -> NetworkSetup {
    NetworkSetup::default()
}

/// What [`NetworkSetup::build`] made.
#[derive(Debug)]
pub(crate) struct Network {
    pub(crate) vpc: Vpc,
    /// In zone order.
    pub(crate) subnets: Vec<Subnet>,
    internet_gateway: Option<InternetGateway>,
    address: Option<Address>,
    interface: Option<NetworkInterface>,
    instance: Option<Instance>,
}

impl NetworkSetup {
    /// `n` subnets in `n` distinct zones.
    pub(crate) fn subnets(self, n: usize) -> Self {
        NetworkSetup { subnets: n, ..self }
    }

    /// An internet gateway attached to the VPC.
    pub(crate) fn internet_gateway(self) -> Self {
        NetworkSetup { internet_gateway: true, ..self }
    }

    /// An elastic IP (the caller reserves it too).
    pub(crate) fn address(self) -> Self {
        NetworkSetup { address: true, ..self }
    }

    /// A network interface in the first subnet, in the VPC's default security group.
    pub(crate) fn interface(self) -> Self {
        NetworkSetup { interface: true, ..self }
    }

    /// An instance ([`launch_request`]) in the first subnet, just launched.
    pub(crate) fn launched_instance(self) -> Self {
        NetworkSetup { instance: true, running: false, ..self }
    }

    /// An instance ([`launch_request`]) in the first subnet, waited for until it runs.
    pub(crate) fn running_instance(self) -> Self {
        NetworkSetup { instance: true, running: true, ..self }
    }

    /// Creates it all, in the order the fields are listed.
    pub(crate) async fn build(self, s: &Scope<'_>) -> Step<Network> {
        let zones = if self.subnets > 0 { zones(s, self.subnets).await? } else { Vec::new() };
        let vpc = vpc(s, "10.0.0.0/16").await?;
        let mut subnets = Vec::new();
        for (i, zone) in zones.iter().take(self.subnets).enumerate() {
            subnets.push(subnet(s, &vpc.id, &format!("10.0.{}.0/24", i + 1), zone).await?);
        }
        let first = |what: &str| {
            subnets.first().map(|x| x.id.clone()).ok_or_else(|| Fail(format!("suite bug: {what} needs a subnet")))
        };
        let internet_gateway = if self.internet_gateway { Some(attached_igw(s, &vpc.id).await?) } else { None };
        let address = if self.address { Some(address(s).await?) } else { None };
        let interface = if self.interface {
            let group = default_group(s, &vpc.id).await?;
            let subnet_id = first("an interface")?;
            let eni = s.cloud.network().create_network_interface(&subnet_id, &[group.id], &s.tags()).await;
            let eni = eni.ctx("create_network_interface")?;
            s.track(Res::NetworkInterface(eni.id.clone()));
            Some(eni)
        } else {
            None
        };
        let instance = if self.instance {
            let launched = launch(s, launch_request(s, &first("an instance")?)).await?;
            Some(if self.running { wait_instance(s, &launched.id, InstanceState::Running).await? } else { launched })
        } else {
            None
        };
        Ok(Network { vpc, subnets, internet_gateway, address, interface, instance })
    }
}

impl Network {
    /// The first subnet of [`NetworkSetup::subnets`].
    pub(crate) fn subnet(&self) -> Step<&Subnet> {
        self.subnets.first().ok_or_else(|| Fail("suite bug: the network set-up has no subnet".into()))
    }

    /// The attached internet gateway of [`NetworkSetup::internet_gateway`].
    pub(crate) fn internet_gateway(&self) -> Step<&InternetGateway> {
        part(&self.internet_gateway, "an internet gateway")
    }

    /// The elastic IP of [`NetworkSetup::address`].
    pub(crate) fn address(&self) -> Step<&Address> {
        part(&self.address, "an elastic IP")
    }

    /// The network interface of [`NetworkSetup::interface`].
    pub(crate) fn interface(&self) -> Step<&NetworkInterface> {
        part(&self.interface, "a network interface")
    }

    /// The instance of [`NetworkSetup::launched_instance`] or [`NetworkSetup::running_instance`].
    pub(crate) fn instance(&self) -> Step<&Instance> {
        part(&self.instance, "an instance")
    }
}

fn part<'n, T>(part: &'n Option<T>, what: &str) -> Step<&'n T> {
    part.as_ref().ok_or_else(|| Fail(format!("suite bug: the network set-up has no {what}")))
}

/// The default security group of `vpc_id`.
pub(crate) async fn default_group(s: &Scope<'_>, vpc_id: &str) -> Step<SecurityGroup> {
    let filter = Filter::id("default").in_vpc(vpc_id);
    let list = s.cloud.network().describe_security_groups(&filter).await.ctx("describe_security_groups(default)")?;
    ensure!(
        list.len() == 1 && list[0].name == "default" && list[0].vpc_id == vpc_id,
        "the VPC's default security group: expected exactly one named `default` in {vpc_id}, got {list:?}"
    );
    Ok(list.into_iter().next().expect("one group"))
}

/// An elastic IP with the run tag, tracked (counted against the case's reservation).
pub(crate) async fn address(s: &Scope<'_>) -> Step<Address> {
    s.take_address()?;
    let address = s.cloud.network().allocate_address(&s.tags()).await.ctx("allocate_address")?;
    s.track(Res::Address(address.allocation_id.clone()));
    Ok(address)
}

/// An internet gateway attached to `vpc_id`, tracked (detached and deleted at the end).
pub(crate) async fn attached_igw(s: &Scope<'_>, vpc_id: &str) -> Step<InternetGateway> {
    let net = s.cloud.network();
    let igw = net.create_internet_gateway(&s.tags()).await.ctx("create_internet_gateway")?;
    s.track(Res::InternetGateway(igw.id.clone()));
    net.attach_internet_gateway(&igw.id, vpc_id).await.ctx("attach_internet_gateway")?;
    s.track(Res::IgwAttachment { igw: igw.id.clone(), vpc: vpc_id.to_string() });
    Ok(igw)
}

/// A launch request for one instance in `subnet_id` with the run tag and the capabilities' AMI
/// and type.
pub(crate) fn launch_request(s: &Scope<'_>, subnet_id: &str) -> RunInstance {
    RunInstance {
        image_id: s.caps.image_id.clone(),
        instance_type: s.caps.instance_type.clone(),
        subnet_id: subnet_id.to_string(),
        security_group_ids: Vec::new(),
        key_name: None,
        instance_profile_name: None,
        user_data: None,
        imdsv2_required: true,
        root_volume: Some(RootVolume { size_gib: 20, volume_type: "gp3".into(), encrypted: true, kms_key_id: None }),
        client_token: None,
        tags: s.tags(),
    }
}

/// Launches `request`, retrying while EC2 answers NotReady (a fresh instance profile), tracked.
pub(crate) async fn launch(s: &Scope<'_>, request: RunInstance) -> Step<Instance> {
    let mut backoff = Backoff::new("run_instance to accept the request", Duration::from_secs(120));
    loop {
        match s.cloud.compute().run_instance(request.clone()).await {
            Ok(instance) => {
                s.track(Res::Instance(instance.id.clone()));
                return Ok(instance);
            }
            Err(e @ detcloud_provider::Error::NotReady { .. }) => backoff.wait(e).await?,
            Err(e) => return Err(Fail(format!("run_instance: unexpected error {e:?}"))),
        }
    }
}

/// Describes one instance, which must exist.
pub(crate) async fn describe_instance(s: &Scope<'_>, id: &str) -> Step<Instance> {
    let list = s.cloud.compute().describe_instances(&Filter::id(id)).await.ctx("describe_instances")?;
    ensure!(list.len() == 1, "describe_instances({id}): expected exactly that instance, got {list:?}");
    Ok(list.into_iter().next().expect("one instance"))
}

/// Waits until the instance is in `state`.
pub(crate) async fn wait_instance(s: &Scope<'_>, id: &str, state: InstanceState) -> Step<Instance> {
    let mut backoff = Backoff::new(format!("instance {id} to be {state}"), INSTANCE_TIMEOUT);
    loop {
        let instance = describe_instance(s, id).await?;
        if instance.state == state {
            return Ok(instance);
        }
        backoff.wait(instance.state).await?;
    }
}

/// A VPC with two subnets in two zones and a DB subnet group over them, tracked.
pub(crate) async fn db_subnet_group(s: &Scope<'_>) -> Step<DbSubnetGroup> {
    let network = network().subnets(2).build(s).await?;
    let subnets: Vec<String> = network.subnets.into_iter().map(|x| x.id).collect();
    let name = s.name("dbsubnets");
    let group = s
        .cloud
        .database()
        .create_db_subnet_group(&name, "detcloud conformance", &subnets, &s.tags())
        .await
        .ctx("create_db_subnet_group")?;
    s.track(Res::DbSubnetGroup(group.name.clone()));
    Ok(group)
}

/// A request for an encrypted Aurora PostgreSQL cluster in `group` with the run tag.
pub(crate) fn cluster_request(s: &Scope<'_>, group: &str) -> CreateDbCluster {
    CreateDbCluster {
        id: s.name("db"),
        engine: "aurora-postgresql".into(),
        engine_version: None,
        database_name: Some("detcloud".into()),
        master_username: "detcloud".into(),
        master_password: Secret::new(format!("Pw-{}-conformance", s.run_id())),
        subnet_group: group.to_string(),
        security_group_ids: Vec::new(),
        backup_retention_days: 1,
        storage_encrypted: true,
        kms_key_id: None,
        deletion_protection: false,
        tags: s.tags(),
    }
}

/// Creates a cluster, tracked.
pub(crate) async fn create_cluster(s: &Scope<'_>, request: CreateDbCluster) -> Step<DbCluster> {
    let cluster = s.cloud.database().create_db_cluster(request).await.ctx("create_db_cluster")?;
    s.track(Res::DbCluster(cluster.id.clone()));
    Ok(cluster)
}

/// Describes one cluster, which must exist.
pub(crate) async fn describe_cluster(s: &Scope<'_>, id: &str) -> Step<DbCluster> {
    let list = s.cloud.database().describe_db_clusters(&Filter::id(id)).await.ctx("describe_db_clusters")?;
    ensure!(list.len() == 1, "describe_db_clusters({id}): expected exactly that cluster, got {list:?}");
    Ok(list.into_iter().next().expect("one cluster"))
}

/// Waits until the cluster is `available`.
pub(crate) async fn wait_cluster_available(s: &Scope<'_>, id: &str) -> Step<DbCluster> {
    let mut backoff = Backoff::new(format!("DB cluster {id} to be available"), DB_TIMEOUT);
    loop {
        let cluster = describe_cluster(s, id).await?;
        if cluster.status == "available" {
            return Ok(cluster);
        }
        backoff.wait(&cluster.status).await?;
    }
}

/// Waits until the cluster is gone (describing it fails with NotFound or lists nothing).
pub(crate) async fn wait_cluster_gone(s: &Scope<'_>, id: &str) -> Step<()> {
    let mut backoff = Backoff::new(format!("DB cluster {id} to be gone"), DB_TIMEOUT);
    loop {
        match s.cloud.database().describe_db_clusters(&Filter::id(id)).await {
            Err(e) if e.is_not_found() => return Ok(()),
            Ok(list) if list.is_empty() => return Ok(()),
            Ok(list) => backoff.wait(list.iter().map(|c| c.status.clone()).collect::<Vec<_>>()).await?,
            Err(e) => return Err(Fail(format!("describe_db_clusters({id}): unexpected error {e:?}"))),
        }
    }
}
