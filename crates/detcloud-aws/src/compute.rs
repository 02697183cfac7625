//! EC2 compute over `aws-sdk-ec2`: instance types, key pairs, instances, spot requests.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    self as ec2, BlockDeviceMapping, EbsBlockDevice, HttpTokensState, IamInstanceProfileSpecification,
    InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, InstanceType, ResourceType, VolumeType,
};
use aws_sdk_ec2::Client;
use detcloud_provider::{
    Compute, Error, Filter, Instance, InstanceState, InstanceStatus, InstanceTypeInfo, KeyPair, Result, RunInstance,
    SpotRequest, Tags,
};

use crate::ec2::{ids, keep, keep_vpcless, server_filters, tag_spec, tag_specs, tags_of, tags_or};
use crate::error::{about, done, every, map, missing};

/// The root device name used for the root volume mapping (Amazon Linux and most AMIs).
pub const ROOT_DEVICE_NAME: &str = "/dev/xvda";

/// EC2 compute through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsCompute {
    client: Client,
}

impl AwsCompute {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsCompute { client }
    }
}

fn s(v: Option<&str>) -> String {
    v.unwrap_or_default().to_string()
}

fn state_of(name: Option<&ec2::InstanceStateName>) -> InstanceState {
    use ec2::InstanceStateName as N;
    match name {
        Some(N::Running) => InstanceState::Running,
        Some(N::Stopping) => InstanceState::Stopping,
        Some(N::Stopped) => InstanceState::Stopped,
        Some(N::ShuttingDown) => InstanceState::ShuttingDown,
        Some(N::Terminated) => InstanceState::Terminated,
        _ => InstanceState::Pending,
    }
}

fn instance_of(i: &ec2::Instance) -> Instance {
    Instance {
        id: s(i.instance_id()),
        state: state_of(i.state().and_then(|st| st.name())),
        instance_type: i.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        image_id: s(i.image_id()),
        subnet_id: i.subnet_id().filter(|x| !x.is_empty()).map(str::to_string),
        vpc_id: i.vpc_id().filter(|x| !x.is_empty()).map(str::to_string),
        private_ip: i.private_ip_address().map(str::to_string),
        public_ip: i.public_ip_address().map(str::to_string),
        key_name: i.key_name().map(str::to_string),
        instance_profile_arn: i.iam_instance_profile().and_then(|p| p.arn()).map(str::to_string),
        imdsv2_required: i.metadata_options().and_then(|m| m.http_tokens()) == Some(&HttpTokensState::Required),
        security_group_ids: i.security_groups().iter().filter_map(|g| g.group_id().map(str::to_string)).collect(),
        launch_time: i.launch_time().and_then(|t| SystemTime::try_from(*t).ok()),
        spot_request_id: i.spot_instance_request_id().map(str::to_string),
        tags: tags_of(i.tags()),
    }
}

fn key_pair_of(k: &ec2::KeyPairInfo) -> KeyPair {
    KeyPair {
        name: s(k.key_name()),
        id: s(k.key_pair_id()),
        fingerprint: s(k.key_fingerprint()),
        tags: tags_of(k.tags()),
    }
}

fn instance_type_of(t: &ec2::InstanceTypeInfo) -> InstanceTypeInfo {
    InstanceTypeInfo {
        name: t.instance_type().map(|x| x.as_str().to_string()).unwrap_or_default(),
        vcpus: t.v_cpu_info().and_then(|v| v.default_v_cpus()).unwrap_or(0).max(0) as u32,
        memory_mib: t.memory_info().and_then(|m| m.size_in_mib()).unwrap_or(0).max(0) as u64,
        gpus: t.gpu_info().map(|g| g.gpus().iter().map(|d| d.count().unwrap_or(0).max(0) as u32).sum()).unwrap_or(0),
    }
}

/// The RunInstances user data: base64 of the plain text, as EC2 requires.
pub(crate) fn encode_user_data(text: &str) -> String {
    aws_smithy_types::base64::encode(text.as_bytes())
}

#[async_trait]
impl Compute for AwsCompute {
    async fn describe_instance_types(&self, names: &[String]) -> Result<Vec<InstanceTypeInfo>> {
        let pages = self
            .client
            .describe_instance_types()
            .set_instance_types(
                (!names.is_empty()).then(|| names.iter().map(|n| InstanceType::from(n.as_str())).collect()),
            )
            .into_paginator()
            .items()
            .send();
        let subject = names.join(",");
        every(pages, about("instance type", &subject), |item| Some(instance_type_of(&item))).await
    }

    async fn import_key_pair(&self, name: &str, public_key: &str, tags: &Tags) -> Result<KeyPair> {
        let out = self
            .client
            .import_key_pair()
            .key_name(name)
            // The SDK base64-encodes blobs on the wire.
            .public_key_material(Blob::new(public_key.trim().as_bytes()))
            .set_tag_specifications(tag_spec(ResourceType::KeyPair, tags))
            .send()
            .await
            .map_err(|e| map(e, about("key pair", name)))?;
        Ok(KeyPair {
            name: out.key_name().unwrap_or(name).to_string(),
            id: s(out.key_pair_id()),
            fingerprint: s(out.key_fingerprint()),
            tags: tags_or(out.tags(), tags),
        })
    }

    async fn delete_key_pair(&self, name: &str) -> Result<()> {
        match self.client.delete_key_pair().key_name(name).send().await {
            Ok(_) => Ok(()),
            // EC2 itself succeeds for a missing key; some emulators do not.
            Err(e) => match map(e, about("key pair", name)) {
                Error::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn describe_key_pairs(&self, filter: &Filter) -> Result<Vec<KeyPair>> {
        // DescribeKeyPairs has no pages; `ids` are key names.
        let out = self
            .client
            .describe_key_pairs()
            .set_key_names(ids(filter))
            .set_filters(server_filters(filter, None))
            .send()
            .await
            .map_err(|e| map(e, about("key pair", &filter.ids.join(","))))?;
        Ok(out.key_pairs().iter().map(key_pair_of).filter(|k| keep_vpcless(filter, &k.name, &k.tags)).collect())
    }

    async fn run_instance(&self, req: RunInstance) -> Result<Instance> {
        let mut call = self
            .client
            .run_instances()
            .image_id(&req.image_id)
            .instance_type(InstanceType::from(req.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .subnet_id(&req.subnet_id)
            .set_security_group_ids((!req.security_group_ids.is_empty()).then(|| req.security_group_ids.clone()))
            .set_key_name(req.key_name.clone())
            .set_client_token(req.client_token.clone())
            .set_user_data(req.user_data.as_deref().map(encode_user_data));
        if let Some(profile) = &req.instance_profile_name {
            call = call.iam_instance_profile(IamInstanceProfileSpecification::builder().name(profile).build());
        }
        if req.imdsv2_required {
            call = call.metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .build(),
            );
        }
        if let Some(root) = &req.root_volume {
            call = call.block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name(ROOT_DEVICE_NAME)
                    .ebs(
                        EbsBlockDevice::builder()
                            .volume_size(root.size_gib.min(i32::MAX as u32) as i32)
                            .volume_type(VolumeType::from(root.volume_type.as_str()))
                            .encrypted(root.encrypted)
                            .set_kms_key_id(root.kms_key_id.clone())
                            .delete_on_termination(true)
                            .build(),
                    )
                    .build(),
            );
        }
        call = call.set_tag_specifications(tag_specs(&[ResourceType::Instance, ResourceType::Volume], &req.tags));
        let out = call.send().await.map_err(|e| map(e, about("instance", &req.image_id)))?;
        let i = out.instances().first().ok_or_else(|| missing("instance"))?;
        let mut instance = instance_of(i);
        if instance.tags.is_empty() {
            instance.tags = req.tags;
        }
        // RunInstances answers before the metadata options are echoed by some endpoints.
        instance.imdsv2_required |= req.imdsv2_required && i.metadata_options().is_none();
        Ok(instance)
    }

    async fn describe_instances(&self, filter: &Filter) -> Result<Vec<Instance>> {
        let pages = self
            .client
            .describe_instances()
            .set_instance_ids(ids(filter))
            .set_filters(server_filters(filter, Some("vpc-id")))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("instance", &subject), |reservation| {
            let instances = reservation.instances().iter().map(instance_of);
            instances.filter(|i| keep(filter, &i.id, &i.tags, i.vpc_id.as_deref())).collect::<Vec<_>>()
        })
        .await
    }

    async fn describe_instance_status(&self, ids: &[String]) -> Result<Vec<InstanceStatus>> {
        let pages = self
            .client
            .describe_instance_status()
            .set_instance_ids((!ids.is_empty()).then(|| ids.to_vec()))
            .include_all_instances(false)
            .into_paginator()
            .items()
            .send();
        let summary = |x: Option<&ec2::InstanceStatusSummary>| {
            x.and_then(|x| x.status()).map(|x| x.as_str().to_string()).unwrap_or_else(|| "not-applicable".into())
        };
        let subject = ids.join(",");
        every(pages, about("instance", &subject), |st| {
            Some(InstanceStatus {
                instance_id: s(st.instance_id()),
                state: state_of(st.instance_state().and_then(|x| x.name())),
                system_status: summary(st.system_status()),
                instance_status: summary(st.instance_status()),
            })
        })
        .await
    }

    async fn terminate_instances(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let sent = self.client.terminate_instances().set_instance_ids(Some(ids.to_vec())).send().await;
        done(sent, about("instance", &ids.join(",")))
    }

    async fn describe_spot_requests(&self, filter: &Filter) -> Result<Vec<SpotRequest>> {
        let pages = self
            .client
            .describe_spot_instance_requests()
            .set_spot_instance_request_ids(ids(filter))
            .set_filters(server_filters(filter, None))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("spot request", &subject), |item| {
            let r = item;
            let req = SpotRequest {
                id: s(r.spot_instance_request_id()),
                state: r.state().map(|x| x.as_str().to_string()).unwrap_or_default(),
                instance_id: r.instance_id().map(str::to_string),
                tags: tags_of(r.tags()),
            };
            keep_vpcless(filter, &req.id, &req.tags).then_some(req)
        })
        .await
    }

    async fn cancel_spot_requests(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let sent =
            self.client.cancel_spot_instance_requests().set_spot_instance_request_ids(Some(ids.to_vec())).send().await;
        done(sent, about("spot request", &ids.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_is_base64() {
        assert_eq!(encode_user_data("#!/bin/sh\necho hi\n"), "IyEvYmluL3NoCmVjaG8gaGkK");
    }

    #[test]
    fn states_map() {
        assert_eq!(state_of(Some(&ec2::InstanceStateName::ShuttingDown)), InstanceState::ShuttingDown);
        assert_eq!(state_of(None), InstanceState::Pending);
    }
}
