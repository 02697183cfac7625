//! EC2 compute: instance types, key pairs, instances and their status.

use detcloud_provider::{Cloud, Filter, InstanceState};

use crate::cases::network::{refused_delete, Refused};
use crate::fixtures::{
    describe_instance, ec2_trust, launch, launch_request, network, role, wait_instance, ED25519_KEYS, IAM_PATH,
};
use crate::kit::{ensure, ensure_eq, expect_err, skipped, Backoff, Ctx, Needs, Res, Scope, Want};
use crate::{Capabilities, CaseResult, Namer, RUN_TAG};

/// Instance types describe with their vCPUs, memory and GPUs.
pub async fn describe_instance_types(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("describe_instance_types", cloud, caps, names);
    s.run(Needs::NONE, async {
        let wanted = ["t3.micro".to_string(), "m5.large".to_string()];
        let mut types = s.cloud.compute().describe_instance_types(&wanted).await.ctx("describe_instance_types")?;
        types.sort_by(|a, b| a.name.cmp(&b.name));
        let got: Vec<(&str, u32, u64, u32)> =
            types.iter().map(|t| (t.name.as_str(), t.vcpus, t.memory_mib, t.gpus)).collect();
        ensure_eq!(got, vec![("m5.large", 2, 8192, 0), ("t3.micro", 2, 1024, 0)], "instance types");
        Ok(())
    })
    .await
}

/// An ed25519 public key imports (tagged, with a fingerprint), describes by name, refuses a
/// duplicate name (AlreadyExists), deletes, and is then NotFound.
pub async fn key_pair_import(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("key_pair_import", cloud, caps, names);
    s.run(Needs::NONE, async {
        let compute = s.cloud.compute();
        let name = s.name("key");
        let key = compute.import_key_pair(&name, ED25519_KEYS[0], &s.tags()).await.ctx("import_key_pair")?;
        s.track(Res::KeyPair(name.clone()));
        ensure_eq!(key.name, name, "key name");
        ensure!(key.id.starts_with("key-"), "key id {:?}", key.id);
        ensure!(!key.fingerprint.is_empty(), "empty fingerprint");
        let listed = compute.describe_key_pairs(&Filter::id(&name)).await.ctx("describe_key_pairs")?;
        ensure!(listed.len() == 1 && listed[0].id == key.id, "describe_key_pairs: {listed:?}");
        ensure_eq!(listed[0].tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "key tags");
        expect_err(
            compute.import_key_pair(&name, ED25519_KEYS[1], &s.tags()).await,
            Want::AlreadyExists,
            "import_key_pair with a taken name",
        )?;
        s.delete(&Res::KeyPair(name.clone()), "delete_key_pair").await?;
        expect_err(compute.describe_key_pairs(&Filter::id(&name)).await, Want::NotFound, "describe after delete")?;
        Ok(())
    })
    .await
}

/// Deleting a key pair that does not exist succeeds, as on EC2.
pub async fn delete_missing_key_pair_succeeds(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("delete_missing_key_pair_succeeds", cloud, caps, names);
    s.run(Needs::NONE, async {
        s.cloud.compute().delete_key_pair(&s.name("missing")).await.ctx("delete_key_pair of a missing key")?;
        Ok(())
    })
    .await
}

/// An instance with IMDSv2 required, an encrypted gp3 root volume, a key pair, user data and tags
/// launches `pending` or `running`, describes with all of it, is found by tag, runs, terminates
/// (twice: no error), and ends `terminated`.
pub async fn run_instance(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("run_instance", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let compute = s.cloud.compute();
        let built = network().subnets(1).build(&s).await?;
        let (vpc, subnet) = (&built.vpc, built.subnet()?);
        let key = s.name("key");
        compute.import_key_pair(&key, ED25519_KEYS[2], &s.tags()).await.ctx("import_key_pair")?;
        s.track(Res::KeyPair(key.clone()));
        let marker = s.name("marker");
        let mut request = launch_request(&s, &subnet.id);
        request.key_name = Some(key.clone());
        request.user_data = Some("#!/bin/sh\necho detcloud-conformance\n".into());
        request.tags = s.tags_with("dcc:marker", &marker);
        let launched = launch(&s, request).await?;
        ensure!(launched.id.starts_with("i-"), "instance id {:?}", launched.id);
        ensure!(
            matches!(launched.state, InstanceState::Pending | InstanceState::Running),
            "new state {}",
            launched.state
        );
        let got = describe_instance(&s, &launched.id).await?;
        ensure_eq!(got.instance_type, s.caps.instance_type, "instance type");
        if !s.caps.image_id.starts_with("resolve:ssm:") {
            ensure_eq!(got.image_id, s.caps.image_id, "image id");
        }
        ensure_eq!(got.subnet_id.as_deref(), Some(subnet.id.as_str()), "subnet");
        ensure_eq!(got.vpc_id.as_deref(), Some(vpc.id.as_str()), "VPC");
        ensure_eq!(got.key_name.as_deref(), Some(key.as_str()), "key name");
        ensure!(got.imdsv2_required, "IMDSv2 is not required");
        ensure!(
            got.private_ip.as_deref().is_some_and(|ip| ip.starts_with("10.0.1.")),
            "private IP {:?}",
            got.private_ip
        );
        ensure!(got.launch_time.is_some(), "no launch time");
        ensure_eq!(got.tags.get("dcc:marker"), Some(&marker), "instance tags");
        ensure_eq!(got.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "instance run tag");
        let by_tag =
            compute.describe_instances(&Filter::tag("dcc:marker", &marker)).await.ctx("describe_instances by tag")?;
        let ids: Vec<&str> = by_tag.iter().map(|i| i.id.as_str()).collect();
        ensure_eq!(ids, vec![launched.id.as_str()], "describe_instances by tag");
        wait_instance(&s, &launched.id, InstanceState::Running).await?;
        let ids = std::slice::from_ref(&launched.id);
        compute.terminate_instances(ids).await.ctx("terminate_instances")?;
        let gone = describe_instance(&s, &launched.id).await?;
        ensure!(gone.state.is_gone(), "state right after terminate: {}", gone.state);
        wait_instance(&s, &launched.id, InstanceState::Terminated).await?;
        compute.terminate_instances(ids).await.ctx("terminate_instances of a terminated instance")?;
        Ok(())
    })
    .await
}

/// Describing or terminating an instance that does not exist fails with NotFound.
pub async fn unknown_instance_not_found(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("unknown_instance_not_found", cloud, caps, names);
    s.run(Needs::NONE, async {
        let compute = s.cloud.compute();
        let id = "i-0123456789abcdef0".to_string();
        expect_err(compute.describe_instances(&Filter::id(&id)).await, Want::NotFound, "describe_instances")?;
        expect_err(compute.terminate_instances(&[id]).await, Want::NotFound, "terminate_instances")?;
        Ok(())
    })
    .await
}

/// Launching twice with the same client token returns the same instance.
pub async fn run_instance_client_token(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.ec2_client_token {
        return skipped("ec2_client_token", "the endpoint launches a new instance for a repeated client token");
    }
    let s = Scope::new("run_instance_client_token", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let built = network().subnets(1).build(&s).await?;
        let mut request = launch_request(&s, &built.subnet()?.id);
        request.client_token = Some(s.name("token"));
        let first = launch(&s, request.clone()).await?;
        let again = launch(&s, request).await?;
        ensure_eq!(again.id, first.id, "the repeated run_instance");
        let listed = s.cloud.compute().describe_instances(&Filter::all().in_vpc(&built.vpc.id)).await;
        let listed = listed.ctx("describe_instances in the VPC")?;
        ensure_eq!(listed.len(), 1, "instances in the VPC");
        Ok(())
    })
    .await
}

/// A running instance has a status entry (`running`, with system and instance checks).
pub async fn instance_status(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("instance_status", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let built = network().subnets(1).running_instance().build(&s).await?;
        let instance = built.instance()?;
        let statuses = s.cloud.compute().describe_instance_status(std::slice::from_ref(&instance.id)).await;
        let statuses = statuses.ctx("describe_instance_status")?;
        ensure!(
            statuses.len() == 1 && statuses[0].instance_id == instance.id,
            "describe_instance_status: {statuses:?}"
        );
        ensure_eq!(statuses[0].state, InstanceState::Running, "status state");
        const CHECKS: [&str; 5] = ["ok", "impaired", "initializing", "insufficient-data", "not-applicable"];
        ensure!(CHECKS.contains(&statuses[0].system_status.as_str()), "system status {:?}", statuses[0].system_status);
        ensure!(
            CHECKS.contains(&statuses[0].instance_status.as_str()),
            "instance status {:?}",
            statuses[0].instance_status
        );
        Ok(())
    })
    .await
}

/// `delete_subnet` with an instance in it fails with DependencyViolation.
pub async fn delete_subnet_with_instance_conflicts(
    cloud: &dyn Cloud,
    caps: &Capabilities,
    names: &Namer,
) -> CaseResult {
    if !caps.delete_subnet_checks_dependents {
        return skipped("delete_subnet_checks_dependents", "the endpoint deletes subnets that still hold instances");
    }
    let (setup, what) = (network().subnets(1).launched_instance(), "delete_subnet with an instance");
    refused_delete("delete_subnet_with_instance_conflicts", cloud, caps, names, setup, Refused::Subnet, what).await
}

/// An instance launched with an instance profile (retrying while the profile propagates)
/// describes with the profile's ARN.
pub async fn run_instance_with_profile(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.run_instances_with_profile {
        return skipped("run_instances_with_profile", "the endpoint refuses RunInstances with an instance profile");
    }
    let s = Scope::new("run_instance_with_profile", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let iam = s.cloud.iam();
        let role = role(&s, ec2_trust()).await?;
        let name = s.name("profile");
        let profile = iam.create_instance_profile(&name, IAM_PATH, &s.tags()).await.ctx("create_instance_profile")?;
        s.track(Res::InstanceProfile(name.clone()));
        iam.add_role_to_instance_profile(&name, &role.name).await.ctx("add_role_to_instance_profile")?;
        s.track(Res::ProfileRole { profile: name.clone(), role: role.name.clone() });
        let built = network().subnets(1).build(&s).await?;
        let mut request = launch_request(&s, &built.subnet()?.id);
        request.instance_profile_name = Some(name.clone());
        let instance = launch(&s, request).await?;
        // The association may show a moment after launch.
        let mut backoff =
            Backoff::new("the instance profile to show on the instance", std::time::Duration::from_secs(120));
        loop {
            let got = describe_instance(&s, &instance.id).await?;
            if got.instance_profile_arn.is_some() {
                ensure_eq!(got.instance_profile_arn.as_deref(), Some(profile.arn.as_str()), "instance profile ARN");
                break;
            }
            backoff.wait(&got.instance_profile_arn).await?;
        }
        Ok(())
    })
    .await
}
