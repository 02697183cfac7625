//! EC2 compute on mocked SDK clients: the RunInstances request, instance mapping, pagination
//! across reservations, and the compute error codes.

use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::delete_key_pair::DeleteKeyPairError;
use aws_sdk_ec2::operation::describe_instance_status::DescribeInstanceStatusOutput;
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::operation::import_key_pair::ImportKeyPairError;
use aws_sdk_ec2::operation::run_instances::{RunInstancesError, RunInstancesOutput};
use aws_sdk_ec2::types::{
    self as ec2, GroupIdentifier, HttpTokensState, IamInstanceProfile, InstanceMetadataOptionsResponse,
    InstanceStateName, InstanceStatusSummary, Reservation, ResourceType, SummaryStatus, Tag,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use detcloud_aws::AwsCompute;
use detcloud_provider::{Compute, Error, Filter, InstanceState, RootVolume, RunInstance, Tags};

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn no_retry(c: aws_sdk_ec2::config::Builder) -> aws_sdk_ec2::config::Builder {
    c.retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
}

fn tags() -> Tags {
    detcloud_provider::tags::managed_tags([("detcloud:component".to_string(), "master".to_string())])
}

fn request() -> RunInstance {
    RunInstance {
        image_id: "ami-123".into(),
        instance_type: "m6i.large".into(),
        subnet_id: "subnet-1".into(),
        security_group_ids: vec!["sg-1".into()],
        key_name: Some("det-key".into()),
        instance_profile_name: Some("det-master".into()),
        user_data: Some("#!/bin/sh\necho hi\n".into()),
        imdsv2_required: true,
        root_volume: Some(RootVolume {
            size_gib: 200,
            volume_type: "gp3".into(),
            encrypted: true,
            kms_key_id: Some("alias/det".into()),
        }),
        client_token: Some("tok-1".into()),
        tags: tags(),
    }
}

fn sdk_instance(id: &str, state: InstanceStateName) -> ec2::Instance {
    ec2::Instance::builder()
        .instance_id(id)
        .image_id("ami-123")
        .instance_type(ec2::InstanceType::M6iLarge)
        .state(ec2::InstanceState::builder().name(state).code(0).build())
        .subnet_id("subnet-1")
        .vpc_id("vpc-1")
        .private_ip_address("10.0.1.10")
        .key_name("det-key")
        .iam_instance_profile(
            IamInstanceProfile::builder().arn("arn:aws:iam::123456789012:instance-profile/det-master").build(),
        )
        .metadata_options(InstanceMetadataOptionsResponse::builder().http_tokens(HttpTokensState::Required).build())
        .security_groups(GroupIdentifier::builder().group_id("sg-1").group_name("default").build())
        .launch_time(aws_smithy_types::DateTime::from_secs(1_700_000_000))
        .tags(Tag::builder().key("detcloud:managed-by").value("detcloud").build())
        .tags(Tag::builder().key("detcloud:component").value("master").build())
        .build()
}

#[tokio::test]
async fn run_instance_sends_encoded_user_data_imdsv2_root_volume_and_tags() {
    let rule = mock!(aws_sdk_ec2::Client::run_instances)
        .match_requests(|r| {
            let bdm = &r.block_device_mappings()[0];
            let ebs = bdm.ebs().unwrap();
            let specs: Vec<_> = r.tag_specifications().iter().filter_map(|s| s.resource_type().cloned()).collect();
            r.user_data() == Some("IyEvYmluL3NoCmVjaG8gaGkK")
                && r.metadata_options().and_then(|m| m.http_tokens()) == Some(&HttpTokensState::Required)
                && r.min_count() == Some(1)
                && r.max_count() == Some(1)
                && r.client_token() == Some("tok-1")
                && r.iam_instance_profile().and_then(|p| p.name()) == Some("det-master")
                && bdm.device_name() == Some("/dev/xvda")
                && ebs.volume_size() == Some(200)
                && ebs.encrypted() == Some(true)
                && ebs.kms_key_id() == Some("alias/det")
                && specs == [ResourceType::Instance, ResourceType::Volume]
        })
        .then_output(|| {
            RunInstancesOutput::builder().instances(sdk_instance("i-0abc", InstanceStateName::Pending)).build()
        });
    let compute = AwsCompute::new(mock_client!(aws_sdk_ec2, [&rule]));
    let i = compute.run_instance(request()).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(i.id, "i-0abc");
    assert_eq!(i.state, InstanceState::Pending);
    assert_eq!(i.instance_type, "m6i.large");
    assert_eq!(i.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(i.private_ip.as_deref(), Some("10.0.1.10"));
    assert_eq!(i.instance_profile_arn.as_deref(), Some("arn:aws:iam::123456789012:instance-profile/det-master"));
    assert!(i.imdsv2_required);
    assert_eq!(i.security_group_ids, ["sg-1"]);
    assert_eq!(
        i.launch_time.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs()),
        Some(1_700_000_000)
    );
    assert_eq!(i.tags, tags());
}

#[tokio::test]
async fn a_fresh_instance_profile_is_not_ready_and_vcpus_are_a_quota() {
    let rule = mock!(aws_sdk_ec2::Client::run_instances)
        .sequence()
        .error(|| {
            RunInstancesError::generic(meta(
                "InvalidParameterValue",
                "Value (det-master) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
            ))
        })
        .error(|| {
            RunInstancesError::generic(meta(
                "VcpuLimitExceeded",
                "You have requested more vCPU capacity than your current vCPU limit of 32 allows",
            ))
        })
        .error(|| RunInstancesError::generic(meta("InvalidParameterValue", "Invalid value 'x' for instanceType")))
        .build();
    let compute = AwsCompute::new(mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule], no_retry));
    let e1 = compute.run_instance(request()).await.unwrap_err();
    assert!(matches!(e1, Error::NotReady { .. }) && e1.is_retryable(), "{e1:?}");
    match compute.run_instance(request()).await.unwrap_err() {
        Error::QuotaExceeded { quota_code, .. } => assert_eq!(quota_code.as_deref(), Some("L-1216C47A")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(compute.run_instance(request()).await.unwrap_err(), Error::InvalidInput { .. }));
}

#[tokio::test]
async fn describe_instances_follows_pages_across_reservations() {
    let page1 =
        mock!(aws_sdk_ec2::Client::describe_instances).match_requests(|r| r.next_token().is_none()).then_output(|| {
            DescribeInstancesOutput::builder()
                .reservations(
                    Reservation::builder()
                        .instances(sdk_instance("i-1", InstanceStateName::Running))
                        .instances(sdk_instance("i-2", InstanceStateName::Terminated))
                        .build(),
                )
                .next_token("next")
                .build()
        });
    let page2 = mock!(aws_sdk_ec2::Client::describe_instances)
        .match_requests(|r| r.next_token() == Some("next"))
        .then_output(|| {
            DescribeInstancesOutput::builder()
                .reservations(
                    Reservation::builder().instances(sdk_instance("i-3", InstanceStateName::ShuttingDown)).build(),
                )
                .build()
        });
    let compute = AwsCompute::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&page1, &page2]));
    let all = compute.describe_instances(&Filter::tag("detcloud:component", "master")).await.unwrap();
    let got: Vec<(&str, InstanceState)> = all.iter().map(|i| (i.id.as_str(), i.state)).collect();
    assert_eq!(
        got,
        [("i-1", InstanceState::Running), ("i-2", InstanceState::Terminated), ("i-3", InstanceState::ShuttingDown)]
    );
    assert!(all[2].state.is_gone());
}

#[tokio::test]
async fn instance_status_asks_for_running_instances_only() {
    let rule = mock!(aws_sdk_ec2::Client::describe_instance_status)
        .match_requests(|r| r.include_all_instances() == Some(false) && r.instance_ids() == ["i-1"])
        .then_output(|| {
            DescribeInstanceStatusOutput::builder()
                .instance_statuses(
                    ec2::InstanceStatus::builder()
                        .instance_id("i-1")
                        .instance_state(ec2::InstanceState::builder().name(InstanceStateName::Running).build())
                        .system_status(InstanceStatusSummary::builder().status(SummaryStatus::Ok).build())
                        .instance_status(InstanceStatusSummary::builder().status(SummaryStatus::Initializing).build())
                        .build(),
                )
                .build()
        });
    let compute = AwsCompute::new(mock_client!(aws_sdk_ec2, [&rule]));
    let st = compute.describe_instance_status(&["i-1".to_string()]).await.unwrap();
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].state, InstanceState::Running);
    assert_eq!((st[0].system_status.as_str(), st[0].instance_status.as_str()), ("ok", "initializing"));
}

#[tokio::test]
async fn key_pairs_duplicate_and_missing() {
    let import = mock!(aws_sdk_ec2::Client::import_key_pair).then_error(|| {
        ImportKeyPairError::generic(meta("InvalidKeyPair.Duplicate", "The keypair 'det-key' already exists."))
    });
    let delete = mock!(aws_sdk_ec2::Client::delete_key_pair).then_error(|| {
        DeleteKeyPairError::generic(meta("InvalidKeyPair.NotFound", "The key pair 'gone' does not exist"))
    });
    let compute = AwsCompute::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&import, &delete], no_retry));
    let err = compute.import_key_pair("det-key", "ssh-ed25519 AAAA", &Tags::new()).await.unwrap_err();
    assert_eq!(err, Error::already_exists("key pair", "det-key"));
    // Deleting a missing key succeeds, as on EC2.
    compute.delete_key_pair("gone").await.unwrap();
}

#[tokio::test]
async fn terminating_an_unknown_instance_is_not_found_and_nothing_is_a_no_op() {
    let rule = mock!(aws_sdk_ec2::Client::terminate_instances).then_error(|| {
        aws_sdk_ec2::operation::terminate_instances::TerminateInstancesError::generic(meta(
            "InvalidInstanceID.NotFound",
            "The instance ID 'i-404' does not exist",
        ))
    });
    let compute = AwsCompute::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule], no_retry));
    assert_eq!(
        compute.terminate_instances(&["i-404".into()]).await.unwrap_err(),
        Error::not_found("instance", "i-404")
    );
    compute.terminate_instances(&[]).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
}
