//! EC2 compute: instance lifecycle on the virtual clock, status checks, validation, idempotency,
//! vCPU quotas, addresses, spot requests, key pairs, instance-profile propagation and PassRole.

mod common;

use std::time::Duration;

use common::*;
use detcloud_provider::{Cloud, Error, Filter, InstanceState, RootVolume, Tags};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm0x3mS9o0y4zYbI9P2Fh8aQ8o1e0rVv5C8m0cXWkQn det@laptop";

#[tokio::test(start_paused = true)]
async fn instances_are_pending_then_running_then_shutting_down_then_terminated() {
    let cloud = customer();
    let (vpc, subnets) = network(&cloud).await;
    let compute = cloud.compute();
    let i = compute.run_instance(instance(&subnets[0].id)).await.unwrap();
    assert!(i.id.starts_with("i-") && i.id.len() == 19, "{}", i.id);
    assert_eq!(i.state, InstanceState::Pending);
    assert_eq!(i.vpc_id.as_deref(), Some(vpc.id.as_str()));
    assert_eq!(i.private_ip.as_deref(), Some("10.0.1.4"), "the first address after the four AWS reserves");
    assert_eq!(i.public_ip, None);
    assert!(i.imdsv2_required);
    assert!(i.launch_time.is_some());
    let state = || async { compute.describe_instances(&Filter::id(&i.id)).await.unwrap().remove(0) };
    advance(29).await;
    assert_eq!(state().await.state, InstanceState::Pending);
    assert!(compute.describe_instance_status(&[]).await.unwrap().is_empty(), "only running instances");
    advance(1).await;
    assert_eq!(state().await.state, InstanceState::Running);

    let status = compute.describe_instance_status(std::slice::from_ref(&i.id)).await.unwrap();
    assert_eq!(
        (status[0].system_status.as_str(), status[0].instance_status.as_str()),
        ("initializing", "initializing")
    );
    advance(60).await;
    let status = compute.describe_instance_status(&[]).await.unwrap();
    assert_eq!((status[0].system_status.as_str(), status[0].instance_status.as_str()), ("ok", "ok"));

    compute.terminate_instances(std::slice::from_ref(&i.id)).await.unwrap();
    assert_eq!(state().await.state, InstanceState::ShuttingDown);
    compute.terminate_instances(std::slice::from_ref(&i.id)).await.unwrap();
    advance(30).await;
    let gone = state().await;
    assert_eq!(gone.state, InstanceState::Terminated);
    assert_eq!((gone.subnet_id, gone.vpc_id, gone.private_ip), (None, None, None));
    compute.terminate_instances(std::slice::from_ref(&i.id)).await.unwrap();
    assert!(compute.terminate_instances(&["i-0123456789abcdef0".into()]).await.unwrap_err().is_not_found());
    assert!(compute.describe_instance_status(&["i-0123456789abcdef0".into()]).await.unwrap_err().is_not_found());

    // Listed as terminated for an hour, then gone, as in AWS.
    advance(3599).await;
    assert_eq!(state().await.state, InstanceState::Terminated);
    advance(1).await;
    assert!(compute.describe_instances(&Filter::id(&i.id)).await.unwrap_err().is_not_found());
    assert!(compute.describe_instances(&Filter::all()).await.unwrap().is_empty());
}

#[tokio::test]
async fn requests_are_validated_like_ec2() {
    let cloud = customer();
    let (_, subnets) = network(&cloud).await;
    let compute = cloud.compute();
    for ami in ["ami-123", "ami-0123456789abcdefg", "img-01234567", "ami-0123456789abcdef01"] {
        let mut r = instance(&subnets[0].id);
        r.image_id = ami.into();
        let message = invalid_message(compute.run_instance(r).await);
        assert!(message.starts_with("InvalidAMIID.Malformed"), "{message}");
    }
    let mut short = instance(&subnets[0].id);
    short.image_id = "ami-0abc1234".into();
    compute.run_instance(short).await.unwrap();

    let message = invalid_message(compute.run_instance(typed(&subnets[0].id, "t3.humongous")).await);
    assert!(message.contains("t3.humongous"), "{message}");
    assert!(compute.run_instance(instance("subnet-0123456789abcdef0")).await.unwrap_err().is_not_found());
    let mut keyed = instance(&subnets[0].id);
    keyed.key_name = Some("missing".into());
    assert!(compute.run_instance(keyed).await.unwrap_err().is_not_found());
    let mut volume = instance(&subnets[0].id);
    volume.root_volume =
        Some(RootVolume { size_gib: 100, volume_type: "gp9".into(), encrypted: true, kms_key_id: None });
    invalid_message(compute.run_instance(volume).await);
    let mut data = instance(&subnets[0].id);
    data.user_data = Some("x".repeat(16385));
    invalid_message(compute.run_instance(data).await);
    assert_eq!(compute.describe_instances(&Filter::all()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_instance_type_catalogue() {
    let cloud = customer();
    let names: Vec<String> = ["t3.micro", "m6i.2xlarge", "g4dn.12xlarge", "p4d.24xlarge"].map(String::from).to_vec();
    let types = cloud.compute().describe_instance_types(&names).await.unwrap();
    let figures: Vec<(u32, u64, u32)> = types.iter().map(|t| (t.vcpus, t.memory_mib, t.gpus)).collect();
    assert_eq!(figures, [(2, 1024, 0), (8, 32768, 0), (48, 196_608, 4), (96, 1_179_648, 8)]);
    let all = cloud.compute().describe_instance_types(&[]).await.unwrap();
    for name in ["t3.small", "t3.medium", "t3.large", "t3.xlarge", "m5.large", "m5.4xlarge", "m6i.large", "c6i.xlarge"]
    {
        assert!(all.iter().any(|t| t.name == name), "{name}");
    }
    for name in ["r6i.large", "g4dn.xlarge", "g4dn.2xlarge", "g5.xlarge", "p3.2xlarge", "c6i.large", "m6i.4xlarge"] {
        assert!(all.iter().any(|t| t.name == name), "{name}");
    }
    let message = invalid_message(cloud.compute().describe_instance_types(&["x9.huge".into()]).await);
    assert!(message.contains("x9.huge"));
}

#[tokio::test]
async fn a_client_token_makes_run_instance_idempotent() {
    let cloud = customer();
    let (_, subnets) = network(&cloud).await;
    let mut r = instance(&subnets[0].id);
    r.client_token = Some("launch-1".into());
    let first = cloud.compute().run_instance(r.clone()).await.unwrap();
    let again = cloud.compute().run_instance(r.clone()).await.unwrap();
    assert_eq!(first.id, again.id);
    r.instance_type = "t3.small".into();
    assert!(invalid_message(cloud.compute().run_instance(r.clone()).await).starts_with("IdempotentParameterMismatch"));
    r.client_token = Some("t".repeat(65));
    invalid_message(cloud.compute().run_instance(r).await);
    assert_eq!(cloud.compute().describe_instances(&Filter::all()).await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn vcpu_quotas_per_instance_bucket() {
    let cloud = customer();
    let (_, subnets) = network(&cloud).await;
    let compute = cloud.compute();
    let s = &subnets[0].id;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(compute.run_instance(typed(s, "m5.4xlarge")).await.unwrap().id);
    }
    let err = compute.run_instance(typed(s, "t3.micro")).await;
    match &err {
        Err(Error::QuotaExceeded { message, .. }) => assert!(message.starts_with("VcpuLimitExceeded"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(quota_code(err), "L-1216C47A");
    // G and P instances have their own buckets.
    compute.run_instance(typed(s, "g4dn.2xlarge")).await.unwrap();
    assert_eq!(quota_code(compute.run_instance(typed(s, "g5.xlarge")).await), "L-DB2E81BA");
    assert_eq!(quota_code(compute.run_instance(typed(s, "p3.2xlarge")).await), "L-417A185B");
    cloud.set_quota("ec2", "L-417A185B", 8.0);
    compute.run_instance(typed(s, "p3.2xlarge")).await.unwrap();
    // Terminating gives the vCPUs back (already while shutting down).
    compute.terminate_instances(&ids[..1]).await.unwrap();
    compute.run_instance(typed(s, "m5.4xlarge")).await.unwrap();
    let quota = cloud.quotas().get_service_quota("ec2", "L-1216C47A").await.unwrap();
    assert_eq!((quota.value, quota.name.contains("Standard")), (64.0, true));
}

#[tokio::test(start_paused = true)]
async fn public_addresses() {
    let cloud = customer();
    let (_, subnets) = network(&cloud).await;
    cloud.set_map_public_ip_on_launch(&subnets[1].id, true).unwrap();
    let public = cloud.network().describe_subnets(&Filter::id(&subnets[1].id)).await.unwrap().remove(0);
    assert!(public.map_public_ip_on_launch);
    let i = cloud.compute().run_instance(instance(&subnets[1].id)).await.unwrap();
    let auto = i.public_ip.clone().expect("a public subnet maps a public IP");
    let private = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    assert_eq!(private.public_ip, None);
    let eip = cloud.network().allocate_address(&Tags::new()).await.unwrap();
    cloud.network().associate_address(&eip.allocation_id, &private.id).await.unwrap();
    let described = cloud.compute().describe_instances(&Filter::id(&private.id)).await.unwrap().remove(0);
    assert_eq!(described.public_ip, Some(eip.public_ip.clone()));
    assert_ne!(auto, eip.public_ip);
}

#[tokio::test(start_paused = true)]
async fn spot_instances_launched_by_the_master() {
    let cloud = customer();
    let (_, subnets) = network(&cloud).await;
    let cluster = tags(&[("detcloud:cluster", "c1")]);
    let mut request = typed(&subnets[0].id, "g4dn.xlarge");
    request.tags = cluster.clone();
    let (spot, i) = cloud.request_spot_instance(request.clone());
    assert!(spot.id.starts_with("sir-") && spot.id.len() == 12, "{}", spot.id);
    assert_eq!((spot.state.as_str(), spot.instance_id.as_deref()), ("active", Some(i.id.as_str())));
    assert_eq!(i.spot_request_id.as_deref(), Some(spot.id.as_str()));
    // Spot capacity does not count against the on-demand G quota.
    for _ in 0..3 {
        cloud.request_spot_instance(request.clone());
    }
    cloud.compute().run_instance(typed(&subnets[0].id, "g4dn.2xlarge")).await.unwrap();

    let mine = Filter::tag("detcloud:cluster", "c1");
    assert_eq!(cloud.compute().describe_spot_requests(&mine).await.unwrap().len(), 4);
    assert_eq!(cloud.compute().describe_instances(&mine).await.unwrap().len(), 4);
    cloud.compute().cancel_spot_requests(std::slice::from_ref(&spot.id)).await.unwrap();
    let cancelled = cloud.compute().describe_spot_requests(&Filter::id(&spot.id)).await.unwrap().remove(0);
    assert_eq!(cancelled.state, "cancelled");
    advance(30).await;
    let still = cloud.compute().describe_instances(&Filter::id(&i.id)).await.unwrap().remove(0);
    assert_eq!(still.state, InstanceState::Running, "cancelling a request leaves its instance running");
    assert!(cloud.compute().cancel_spot_requests(&["sir-00000000".into()]).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn key_pairs() {
    let cloud = customer();
    let compute = cloud.compute();
    let key = compute.import_key_pair("det", KEY, &tags(&[("k", "v")])).await.unwrap();
    assert!(key.id.starts_with("key-"));
    assert_eq!(key.fingerprint.split(':').count(), 16);
    assert!(compute.import_key_pair("det", KEY, &Tags::new()).await.unwrap_err().is_already_exists());
    invalid_message(compute.import_key_pair("bad", "not a key", &Tags::new()).await);
    assert_eq!(compute.describe_key_pairs(&Filter::id("det")).await.unwrap(), [key]);
    assert!(compute.describe_key_pairs(&Filter::id("other")).await.unwrap_err().is_not_found());
    compute.delete_key_pair("det").await.unwrap();
    compute.delete_key_pair("det").await.unwrap();
    assert!(compute.describe_key_pairs(&Filter::all()).await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_new_instance_profile_is_not_usable_at_once() {
    let cloud = customer();
    cloud.set_consistency_delay(Duration::from_secs(10));
    let (_, subnets) = network(&cloud).await;
    cloud.iam().create_role(role("agent")).await.unwrap();
    cloud.iam().create_instance_profile("agent", "/", &Tags::new()).await.unwrap();
    let mut r = instance(&subnets[0].id);
    r.instance_profile_name = Some("agent".into());
    let err = cloud.compute().run_instance(r.clone()).await;
    assert!(is_not_ready(&err));
    assert!(err.unwrap_err().to_string().contains("Invalid IAM Instance Profile name"));
    advance(10).await;
    cloud.iam().add_role_to_instance_profile("agent", "agent").await.unwrap();
    assert!(is_not_ready(&cloud.compute().run_instance(r.clone()).await), "adding the role restarts propagation");
    advance(10).await;
    let i = cloud.compute().run_instance(r.clone()).await.unwrap();
    assert_eq!(i.instance_profile_arn.as_deref(), Some("arn:aws:iam::111111111111:instance-profile/agent"));
    // A profile that does not exist looks the same to EC2.
    r.instance_profile_name = Some("missing".into());
    assert!(is_not_ready(&cloud.compute().run_instance(r).await));
}

#[tokio::test]
async fn run_instance_with_a_profile_needs_pass_role() {
    let (admin, session) = session_allowing(&["ec2:*"]).await;
    let (_, subnets) = network(&admin).await;
    let mut master = role("det-master");
    master.tags = tags(&[("detcloud:managed-by", "detcloud")]);
    admin.iam().create_role(master).await.unwrap();
    admin.iam().create_instance_profile("det-master", "/", &Tags::new()).await.unwrap();
    admin.iam().add_role_to_instance_profile("det-master", "det-master").await.unwrap();
    let mut r = instance(&subnets[0].id);
    r.instance_profile_name = Some("det-master".into());

    let (action, message) = denied(session.compute().run_instance(r.clone()).await);
    assert_eq!(action.as_deref(), Some("iam:PassRole"));
    assert!(message.contains("on resource: arn:aws:iam::111111111111:role/det-master"), "{message}");
    assert!(admin.compute().describe_instances(&Filter::all()).await.unwrap().is_empty());

    let mut doc = allow(&["ec2:*"], &["*"]);
    doc.statements.push(
        detcloud_policy::Statement::allow(["iam:PassRole"], ["arn:aws:iam::111111111111:role/det-master"])
            .with_condition(
                "StringEquals",
                "iam:PassedToService",
                vec![detcloud_policy::ConditionValue::from("ec2.amazonaws.com")],
            ),
    );
    admin.iam().put_inline_policy("deployer", "inline", &doc).await.unwrap();
    session.compute().run_instance(r).await.unwrap();
    let used = session.actions_used();
    assert!(used.contains("iam:PassRole") && used.contains("ec2:RunInstances"), "{used:?}");
}

#[tokio::test]
async fn run_instance_needs_ec2_run_instances_on_everything_it_uses() {
    let (admin, session) = session_allowing(&["ec2:Describe*"]).await;
    let (_, subnets) = network(&admin).await;
    let instances_only = allow(&["ec2:RunInstances"], &["arn:aws:ec2:us-west-2:111111111111:instance/*"]);
    admin.iam().put_inline_policy("deployer", "inline", &instances_only).await.unwrap();
    let (action, message) = denied(session.compute().run_instance(instance(&subnets[0].id)).await);
    assert_eq!(action.as_deref(), Some("ec2:RunInstances"));
    assert!(message.contains(&format!("subnet/{}", subnets[0].id)), "{message}");
    // Tags on launch also need ec2:CreateTags.
    admin.iam().put_inline_policy("deployer", "inline", &allow(&["ec2:RunInstances"], &["*"])).await.unwrap();
    session.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    let mut tagged = instance(&subnets[0].id);
    tagged.tags = tags(&[("detcloud:cluster", "c1")]);
    assert_eq!(denied(session.compute().run_instance(tagged).await).0.as_deref(), Some("ec2:CreateTags"));
}
