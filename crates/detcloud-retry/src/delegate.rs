//! The provider traits implemented for [`Retrying`] by delegation: each method sends its request
//! through [`Retrying::call`]. The compiler checks that no method is missing.

use std::time::SystemTime;

use async_trait::async_trait;
use detcloud_policy::PolicyDocument;
#[allow(clippy::wildcard_imports)]
use detcloud_provider::*;

use crate::Retrying;

#[async_trait]
impl Compute for Retrying {
    async fn describe_instance_types(&self, names: &[String]) -> Result<Vec<InstanceTypeInfo>> {
        self.call(|| self.inner.compute().describe_instance_types(names)).await
    }
    async fn import_key_pair(&self, name: &str, public_key: &str, tags: &Tags) -> Result<KeyPair> {
        self.call(|| self.inner.compute().import_key_pair(name, public_key, tags)).await
    }
    async fn delete_key_pair(&self, name: &str) -> Result<()> {
        self.call(|| self.inner.compute().delete_key_pair(name)).await
    }
    async fn describe_key_pairs(&self, filter: &Filter) -> Result<Vec<KeyPair>> {
        self.call(|| self.inner.compute().describe_key_pairs(filter)).await
    }
    async fn run_instance(&self, request: RunInstance) -> Result<Instance> {
        self.call(|| self.inner.compute().run_instance(request.clone())).await
    }
    async fn describe_instances(&self, filter: &Filter) -> Result<Vec<Instance>> {
        self.call(|| self.inner.compute().describe_instances(filter)).await
    }
    async fn describe_instance_status(&self, ids: &[String]) -> Result<Vec<InstanceStatus>> {
        self.call(|| self.inner.compute().describe_instance_status(ids)).await
    }
    async fn terminate_instances(&self, ids: &[String]) -> Result<()> {
        self.call(|| self.inner.compute().terminate_instances(ids)).await
    }
    async fn describe_spot_requests(&self, filter: &Filter) -> Result<Vec<SpotRequest>> {
        self.call(|| self.inner.compute().describe_spot_requests(filter)).await
    }
    async fn cancel_spot_requests(&self, ids: &[String]) -> Result<()> {
        self.call(|| self.inner.compute().cancel_spot_requests(ids)).await
    }
}

#[async_trait]
impl Database for Retrying {
    async fn create_db_subnet_group(
        &self,
        name: &str,
        description: &str,
        subnet_ids: &[String],
        tags: &Tags,
    ) -> Result<DbSubnetGroup> {
        self.call(|| self.inner.database().create_db_subnet_group(name, description, subnet_ids, tags)).await
    }
    async fn describe_db_subnet_groups(&self, filter: &Filter) -> Result<Vec<DbSubnetGroup>> {
        self.call(|| self.inner.database().describe_db_subnet_groups(filter)).await
    }
    async fn delete_db_subnet_group(&self, name: &str) -> Result<()> {
        self.call(|| self.inner.database().delete_db_subnet_group(name)).await
    }
    async fn create_db_cluster(&self, request: CreateDbCluster) -> Result<DbCluster> {
        self.call(|| self.inner.database().create_db_cluster(request.clone())).await
    }
    async fn describe_db_clusters(&self, filter: &Filter) -> Result<Vec<DbCluster>> {
        self.call(|| self.inner.database().describe_db_clusters(filter)).await
    }
    async fn modify_db_cluster(&self, request: ModifyDbCluster) -> Result<DbCluster> {
        self.call(|| self.inner.database().modify_db_cluster(request.clone())).await
    }
    async fn delete_db_cluster(&self, id: &str, final_snapshot_id: Option<&str>) -> Result<()> {
        self.call(|| self.inner.database().delete_db_cluster(id, final_snapshot_id)).await
    }
    async fn restore_db_cluster(&self, request: RestoreDbCluster) -> Result<DbCluster> {
        self.call(|| self.inner.database().restore_db_cluster(request.clone())).await
    }
    async fn create_db_instance(&self, request: CreateDbInstance) -> Result<DbInstance> {
        self.call(|| self.inner.database().create_db_instance(request.clone())).await
    }
    async fn describe_db_instances(&self, filter: &Filter) -> Result<Vec<DbInstance>> {
        self.call(|| self.inner.database().describe_db_instances(filter)).await
    }
    async fn delete_db_instance(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.database().delete_db_instance(id)).await
    }
    async fn describe_db_cluster_snapshots(&self, cluster_id: &str) -> Result<Vec<DbClusterSnapshot>> {
        self.call(|| self.inner.database().describe_db_cluster_snapshots(cluster_id)).await
    }
}

#[async_trait]
impl Iam for Retrying {
    async fn get_role(&self, name: &str) -> Result<Role> {
        self.call(|| self.inner.iam().get_role(name)).await
    }
    async fn create_role(&self, request: CreateRole) -> Result<Role> {
        self.call(|| self.inner.iam().create_role(request.clone())).await
    }
    async fn update_trust_policy(&self, role: &str, document: &PolicyDocument) -> Result<()> {
        self.call(|| self.inner.iam().update_trust_policy(role, document)).await
    }
    async fn set_permissions_boundary(&self, role: &str, boundary_arn: Option<&str>) -> Result<()> {
        self.call(|| self.inner.iam().set_permissions_boundary(role, boundary_arn)).await
    }
    async fn delete_role(&self, name: &str) -> Result<()> {
        self.call(|| self.inner.iam().delete_role(name)).await
    }
    async fn tag_role(&self, name: &str, tags: &Tags) -> Result<()> {
        self.call(|| self.inner.iam().tag_role(name, tags)).await
    }
    async fn list_roles(&self, path_prefix: &str) -> Result<Vec<Role>> {
        self.call(|| self.inner.iam().list_roles(path_prefix)).await
    }
    async fn list_inline_policies(&self, role: &str) -> Result<Vec<String>> {
        self.call(|| self.inner.iam().list_inline_policies(role)).await
    }
    async fn get_inline_policy(&self, role: &str, name: &str) -> Result<PolicyDocument> {
        self.call(|| self.inner.iam().get_inline_policy(role, name)).await
    }
    async fn put_inline_policy(&self, role: &str, name: &str, document: &PolicyDocument) -> Result<()> {
        self.call(|| self.inner.iam().put_inline_policy(role, name, document)).await
    }
    async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<()> {
        self.call(|| self.inner.iam().delete_inline_policy(role, name)).await
    }
    async fn list_attached_policies(&self, role: &str) -> Result<Vec<AttachedPolicy>> {
        self.call(|| self.inner.iam().list_attached_policies(role)).await
    }
    async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<()> {
        self.call(|| self.inner.iam().attach_policy(role, policy_arn)).await
    }
    async fn detach_policy(&self, role: &str, policy_arn: &str) -> Result<()> {
        self.call(|| self.inner.iam().detach_policy(role, policy_arn)).await
    }
    async fn create_policy(&self, request: CreatePolicy) -> Result<ManagedPolicy> {
        self.call(|| self.inner.iam().create_policy(request.clone())).await
    }
    async fn get_policy(&self, arn: &str) -> Result<ManagedPolicy> {
        self.call(|| self.inner.iam().get_policy(arn)).await
    }
    async fn get_policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyDocument> {
        self.call(|| self.inner.iam().get_policy_version(arn, version_id)).await
    }
    async fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>> {
        self.call(|| self.inner.iam().list_policy_versions(arn)).await
    }
    async fn create_policy_version(&self, arn: &str, document: &PolicyDocument, set_default: bool) -> Result<String> {
        self.call(|| self.inner.iam().create_policy_version(arn, document, set_default)).await
    }
    async fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<()> {
        self.call(|| self.inner.iam().delete_policy_version(arn, version_id)).await
    }
    async fn delete_policy(&self, arn: &str) -> Result<()> {
        self.call(|| self.inner.iam().delete_policy(arn)).await
    }
    async fn tag_policy(&self, arn: &str, tags: &Tags) -> Result<()> {
        self.call(|| self.inner.iam().tag_policy(arn, tags)).await
    }
    async fn create_instance_profile(&self, name: &str, path: &str, tags: &Tags) -> Result<InstanceProfile> {
        self.call(|| self.inner.iam().create_instance_profile(name, path, tags)).await
    }
    async fn get_instance_profile(&self, name: &str) -> Result<InstanceProfile> {
        self.call(|| self.inner.iam().get_instance_profile(name)).await
    }
    async fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> Result<()> {
        self.call(|| self.inner.iam().add_role_to_instance_profile(profile, role)).await
    }
    async fn remove_role_from_instance_profile(&self, profile: &str, role: &str) -> Result<()> {
        self.call(|| self.inner.iam().remove_role_from_instance_profile(profile, role)).await
    }
    async fn delete_instance_profile(&self, name: &str) -> Result<()> {
        self.call(|| self.inner.iam().delete_instance_profile(name)).await
    }
    async fn tag_instance_profile(&self, name: &str, tags: &Tags) -> Result<()> {
        self.call(|| self.inner.iam().tag_instance_profile(name, tags)).await
    }
    async fn simulate_role_policy(
        &self,
        role_arn: &str,
        actions: &[String],
        resource: &str,
    ) -> Result<Vec<SimulatedDecision>> {
        self.call(|| self.inner.iam().simulate_role_policy(role_arn, actions, resource)).await
    }
}

#[async_trait]
impl Identity for Retrying {
    async fn caller_identity(&self) -> Result<CallerIdentity> {
        self.call(|| self.inner.identity().caller_identity()).await
    }
    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<SessionCredentials> {
        self.call(|| self.inner.identity().assume_role(request.clone())).await
    }
}

#[async_trait]
impl Network for Retrying {
    async fn describe_availability_zones(&self) -> Result<Vec<AvailabilityZone>> {
        self.call(|| self.inner.network().describe_availability_zones()).await
    }
    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> Result<Vpc> {
        self.call(|| self.inner.network().create_vpc(cidr, tags)).await
    }
    async fn describe_vpcs(&self, filter: &Filter) -> Result<Vec<Vpc>> {
        self.call(|| self.inner.network().describe_vpcs(filter)).await
    }
    async fn delete_vpc(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_vpc(id)).await
    }
    async fn create_subnet(&self, request: CreateSubnet) -> Result<Subnet> {
        self.call(|| self.inner.network().create_subnet(request.clone())).await
    }
    async fn describe_subnets(&self, filter: &Filter) -> Result<Vec<Subnet>> {
        self.call(|| self.inner.network().describe_subnets(filter)).await
    }
    async fn delete_subnet(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_subnet(id)).await
    }
    async fn create_internet_gateway(&self, tags: &Tags) -> Result<InternetGateway> {
        self.call(|| self.inner.network().create_internet_gateway(tags)).await
    }
    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()> {
        self.call(|| self.inner.network().attach_internet_gateway(igw_id, vpc_id)).await
    }
    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()> {
        self.call(|| self.inner.network().detach_internet_gateway(igw_id, vpc_id)).await
    }
    async fn delete_internet_gateway(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_internet_gateway(id)).await
    }
    async fn describe_internet_gateways(&self, filter: &Filter) -> Result<Vec<InternetGateway>> {
        self.call(|| self.inner.network().describe_internet_gateways(filter)).await
    }
    async fn allocate_address(&self, tags: &Tags) -> Result<Address> {
        self.call(|| self.inner.network().allocate_address(tags)).await
    }
    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> Result<String> {
        self.call(|| self.inner.network().associate_address(allocation_id, instance_id)).await
    }
    async fn release_address(&self, allocation_id: &str) -> Result<()> {
        self.call(|| self.inner.network().release_address(allocation_id)).await
    }
    async fn describe_addresses(&self, filter: &Filter) -> Result<Vec<Address>> {
        self.call(|| self.inner.network().describe_addresses(filter)).await
    }
    async fn create_nat_gateway(&self, request: CreateNatGateway) -> Result<NatGateway> {
        self.call(|| self.inner.network().create_nat_gateway(request.clone())).await
    }
    async fn delete_nat_gateway(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_nat_gateway(id)).await
    }
    async fn describe_nat_gateways(&self, filter: &Filter) -> Result<Vec<NatGateway>> {
        self.call(|| self.inner.network().describe_nat_gateways(filter)).await
    }
    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> Result<RouteTable> {
        self.call(|| self.inner.network().create_route_table(vpc_id, tags)).await
    }
    async fn create_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()> {
        self.call(|| self.inner.network().create_route(route_table_id, destination_cidr, target)).await
    }
    async fn replace_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()> {
        self.call(|| self.inner.network().replace_route(route_table_id, destination_cidr, target)).await
    }
    async fn delete_route(&self, route_table_id: &str, destination_cidr: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_route(route_table_id, destination_cidr)).await
    }
    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> Result<String> {
        self.call(|| self.inner.network().associate_route_table(route_table_id, subnet_id)).await
    }
    async fn disassociate_route_table(&self, association_id: &str) -> Result<()> {
        self.call(|| self.inner.network().disassociate_route_table(association_id)).await
    }
    async fn delete_route_table(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_route_table(id)).await
    }
    async fn describe_route_tables(&self, filter: &Filter) -> Result<Vec<RouteTable>> {
        self.call(|| self.inner.network().describe_route_tables(filter)).await
    }
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> Result<SecurityGroup> {
        self.call(|| self.inner.network().create_security_group(vpc_id, name, description, tags)).await
    }
    async fn delete_security_group(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_security_group(id)).await
    }
    async fn describe_security_groups(&self, filter: &Filter) -> Result<Vec<SecurityGroup>> {
        self.call(|| self.inner.network().describe_security_groups(filter)).await
    }
    async fn authorize_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        self.call(|| self.inner.network().authorize_ingress(group_id, rules)).await
    }
    async fn authorize_egress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        self.call(|| self.inner.network().authorize_egress(group_id, rules)).await
    }
    async fn revoke_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        self.call(|| self.inner.network().revoke_ingress(group_id, rules)).await
    }
    async fn create_network_interface(
        &self,
        subnet_id: &str,
        group_ids: &[String],
        tags: &Tags,
    ) -> Result<NetworkInterface> {
        self.call(|| self.inner.network().create_network_interface(subnet_id, group_ids, tags)).await
    }
    async fn delete_network_interface(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_network_interface(id)).await
    }
    async fn describe_network_interfaces(&self, filter: &Filter) -> Result<Vec<NetworkInterface>> {
        self.call(|| self.inner.network().describe_network_interfaces(filter)).await
    }
    async fn create_vpc_peering(&self, vpc_id: &str, peer_vpc_id: &str, tags: &Tags) -> Result<PeeringConnection> {
        self.call(|| self.inner.network().create_vpc_peering(vpc_id, peer_vpc_id, tags)).await
    }
    async fn accept_vpc_peering(&self, id: &str) -> Result<PeeringConnection> {
        self.call(|| self.inner.network().accept_vpc_peering(id)).await
    }
    async fn delete_vpc_peering(&self, id: &str) -> Result<()> {
        self.call(|| self.inner.network().delete_vpc_peering(id)).await
    }
    async fn describe_vpc_peerings(&self, filter: &Filter) -> Result<Vec<PeeringConnection>> {
        self.call(|| self.inner.network().describe_vpc_peerings(filter)).await
    }
    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> Result<()> {
        self.call(|| self.inner.network().create_tags(resource_ids, tags)).await
    }
}

#[async_trait]
impl Keys for Retrying {
    async fn create_key(&self, description: &str, tags: &Tags) -> Result<Key> {
        self.call(|| self.inner.keys().create_key(description, tags)).await
    }
    async fn describe_key(&self, key_id: &str) -> Result<Key> {
        self.call(|| self.inner.keys().describe_key(key_id)).await
    }
    async fn create_grant(&self, key_id: &str, grantee_principal: &str, operations: &[String]) -> Result<String> {
        self.call(|| self.inner.keys().create_grant(key_id, grantee_principal, operations)).await
    }
}

#[async_trait]
impl Logs for Retrying {
    async fn create_log_group(&self, name: &str, tags: &Tags) -> Result<()> {
        self.call(|| self.inner.logs().create_log_group(name, tags)).await
    }
    async fn put_retention_policy(&self, name: &str, days: u32) -> Result<()> {
        self.call(|| self.inner.logs().put_retention_policy(name, days)).await
    }
    async fn tag_log_group(&self, name: &str, tags: &Tags) -> Result<()> {
        self.call(|| self.inner.logs().tag_log_group(name, tags)).await
    }
    async fn delete_log_group(&self, name: &str) -> Result<()> {
        self.call(|| self.inner.logs().delete_log_group(name)).await
    }
    async fn describe_log_groups(&self, prefix: &str) -> Result<Vec<LogGroup>> {
        self.call(|| self.inner.logs().describe_log_groups(prefix)).await
    }
}

#[async_trait]
impl Parameters for Retrying {
    async fn put_parameter(&self, request: PutParameter) -> Result<u64> {
        self.call(|| self.inner.parameters().put_parameter(request.clone())).await
    }
    async fn get_parameter(&self, name: &str) -> Result<Parameter> {
        self.call(|| self.inner.parameters().get_parameter(name)).await
    }
    async fn delete_parameter(&self, name: &str) -> Result<()> {
        self.call(|| self.inner.parameters().delete_parameter(name)).await
    }
    async fn send_command(&self, request: SendCommand) -> Result<String> {
        self.call(|| self.inner.parameters().send_command(request.clone())).await
    }
    async fn get_command_invocation(&self, command_id: &str, instance_id: &str) -> Result<CommandInvocation> {
        self.call(|| self.inner.parameters().get_command_invocation(command_id, instance_id)).await
    }
}

#[async_trait]
impl Quotas for Retrying {
    async fn get_service_quota(&self, service_code: &str, quota_code: &str) -> Result<Quota> {
        self.call(|| self.inner.quotas().get_service_quota(service_code, quota_code)).await
    }
}

#[async_trait]
impl Metrics for Retrying {
    async fn get_metric_data(
        &self,
        queries: &[MetricQuery],
        start: SystemTime,
        end: SystemTime,
    ) -> Result<Vec<MetricSeries>> {
        self.call(|| self.inner.metrics().get_metric_data(queries, start, end)).await
    }
    async fn put_metric(
        &self,
        namespace: &str,
        metric_name: &str,
        dimensions: &[(String, String)],
        value: f64,
    ) -> Result<()> {
        self.call(|| self.inner.metrics().put_metric(namespace, metric_name, dimensions, value)).await
    }
}

#[async_trait]
impl Dns for Retrying {
    async fn upsert_record(&self, zone_id: &str, record: &RecordSet) -> Result<()> {
        self.call(|| self.inner.dns().upsert_record(zone_id, record)).await
    }
    async fn delete_record(&self, zone_id: &str, record: &RecordSet) -> Result<()> {
        self.call(|| self.inner.dns().delete_record(zone_id, record)).await
    }
    async fn list_records(&self, zone_id: &str) -> Result<Vec<RecordSet>> {
        self.call(|| self.inner.dns().list_records(zone_id)).await
    }
}

#[async_trait]
impl Storage for Retrying {
    async fn create_bucket(&self, name: &str, region: &str) -> Result<BucketCreation> {
        self.call(|| self.inner.storage().create_bucket(name, region)).await
    }
    async fn put_bucket_encryption(&self, name: &str, encryption: &BucketEncryption) -> Result<()> {
        self.call(|| self.inner.storage().put_bucket_encryption(name, encryption)).await
    }
    async fn put_bucket_policy(&self, name: &str, policy: &PolicyDocument) -> Result<()> {
        self.call(|| self.inner.storage().put_bucket_policy(name, policy)).await
    }
    async fn delete_bucket(&self, name: &str) -> Result<()> {
        self.call(|| self.inner.storage().delete_bucket(name)).await
    }
    async fn describe_bucket(&self, name: &str) -> Result<Bucket> {
        self.call(|| self.inner.storage().describe_bucket(name)).await
    }
    async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<()> {
        self.call(|| self.inner.storage().put_object(bucket, key, body)).await
    }
    async fn empty_bucket(&self, name: &str) -> Result<u64> {
        self.call(|| self.inner.storage().empty_bucket(name)).await
    }
}
