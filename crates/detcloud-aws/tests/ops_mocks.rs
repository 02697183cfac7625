//! The smaller services on mocked SDK clients: KMS, CloudWatch Logs, SSM, Service Quotas,
//! CloudWatch metrics and Route53.

use std::time::{Duration, UNIX_EPOCH};

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::DateTime;
use detcloud_aws::{AwsDns, AwsKeys, AwsLogs, AwsMetrics, AwsParameters, AwsQuotas};
use detcloud_provider::{
    Dns, Error, Keys, Logs, MetricQuery, Metrics, Parameters, PutParameter, Quotas, RecordSet, Secret, SendCommand,
};

macro_rules! meta {
    ($krate:ident, $code:expr, $msg:expr) => {
        $krate::error::ErrorMetadata::builder().code($code).message($msg).build()
    };
}

// --- KMS ---

#[tokio::test]
async fn kms_describe_key_maps_metadata_and_missing_keys() {
    use aws_sdk_kms::operation::describe_key::{DescribeKeyError, DescribeKeyOutput};
    use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeyState, KeyUsageType};
    let found = mock!(aws_sdk_kms::Client::describe_key)
        .match_requests(|r| r.key_id() == Some("alias/det"))
        .then_output(|| {
            DescribeKeyOutput::builder()
                .key_metadata(
                    KeyMetadata::builder()
                        .key_id("1234abcd")
                        .arn("arn:aws:kms:us-west-2:123456789012:key/1234abcd")
                        .key_state(KeyState::Enabled)
                        .key_manager(KeyManagerType::Customer)
                        .key_usage(KeyUsageType::EncryptDecrypt)
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let missing =
        mock!(aws_sdk_kms::Client::describe_key).match_requests(|r| r.key_id() == Some("alias/nope")).then_error(
            || DescribeKeyError::generic(meta!(aws_sdk_kms, "NotFoundException", "Alias alias/nope is not found.")),
        );
    let kms = AwsKeys::new(mock_client!(aws_sdk_kms, RuleMode::MatchAny, [&found, &missing], |c| c
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())));
    let key = kms.describe_key("alias/det").await.unwrap();
    assert_eq!(key.id, "1234abcd");
    assert_eq!(
        (key.state.as_str(), key.manager.as_str(), key.usage.as_str()),
        ("Enabled", "CUSTOMER", "ENCRYPT_DECRYPT")
    );
    assert!(key.is_usable());
    assert_eq!(kms.describe_key("alias/nope").await.unwrap_err(), Error::not_found("key", "alias/nope"));
}

#[tokio::test]
async fn kms_create_grant_sends_operations() {
    use aws_sdk_kms::operation::create_grant::CreateGrantOutput;
    use aws_sdk_kms::types::GrantOperation;
    let rule = mock!(aws_sdk_kms::Client::create_grant)
        .match_requests(|r| {
            r.grantee_principal() == Some("arn:aws:iam::123456789012:role/det-master")
                && r.operations() == [GrantOperation::Encrypt, GrantOperation::Decrypt]
        })
        .then_output(|| CreateGrantOutput::builder().grant_id("grant-1").build());
    let kms = AwsKeys::new(mock_client!(aws_sdk_kms, [&rule]));
    let id = kms
        .create_grant("k", "arn:aws:iam::123456789012:role/det-master", &["Encrypt".into(), "Decrypt".into()])
        .await
        .unwrap();
    assert_eq!(id, "grant-1");
}

// --- CloudWatch Logs ---

fn sts_mock() -> aws_sdk_sts::Client {
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity)
        .then_output(|| GetCallerIdentityOutput::builder().account("123456789012").arn("arn").user_id("u").build());
    mock_client!(aws_sdk_sts, [&rule])
}

#[tokio::test]
async fn logs_existing_group_is_already_exists_and_tags_go_to_the_arn() {
    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
    use aws_sdk_cloudwatchlogs::operation::tag_resource::TagResourceOutput;
    let create = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group).then_error(|| {
        CreateLogGroupError::generic(meta!(
            aws_sdk_cloudwatchlogs,
            "ResourceAlreadyExistsException",
            "The specified log group already exists"
        ))
    });
    let tag = mock!(aws_sdk_cloudwatchlogs::Client::tag_resource)
        .match_requests(|r| {
            r.resource_arn() == Some("arn:aws:logs:us-west-2:123456789012:log-group:/detcloud/c1")
                && r.tags().and_then(|t| t.get("detcloud:managed-by")).map(String::as_str) == Some("detcloud")
        })
        .then_output(|| TagResourceOutput::builder().build());
    let logs = AwsLogs::new(
        mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&create, &tag], |c| c
            .retry_config(aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled())),
        sts_mock(),
        "us-west-2",
    );
    let tags = detcloud_provider::tags::managed_tags([]);
    assert_eq!(
        logs.create_log_group("/detcloud/c1", &tags).await.unwrap_err(),
        Error::already_exists("log group", "/detcloud/c1")
    );
    logs.tag_log_group("/detcloud/c1", &tags).await.unwrap();
    assert_eq!(tag.num_calls(), 1);
}

// --- SSM ---

#[tokio::test]
async fn ssm_put_parameter_request_and_errors_without_the_value() {
    use aws_sdk_ssm::operation::put_parameter::{PutParameterError, PutParameterOutput};
    use aws_sdk_ssm::types::ParameterType;
    let rule = mock!(aws_sdk_ssm::Client::put_parameter)
        .match_requests(|r| {
            r.r#type() == Some(&ParameterType::SecureString)
                && r.key_id() == Some("alias/det")
                && r.overwrite() == Some(true)
                && r.value() == Some("s3cr3t-value")
        })
        .sequence()
        .output(|| PutParameterOutput::builder().version(3).build())
        .error(|| {
            PutParameterError::generic(meta!(aws_sdk_ssm, "ParameterAlreadyExists", "The parameter already exists."))
        })
        .error(|| {
            PutParameterError::generic(meta!(
                aws_sdk_ssm,
                "ValidationException",
                "Value 's3cr3t-value' at 'value' failed to satisfy constraint"
            ))
        })
        .build();
    let ssm = AwsParameters::new(mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&rule], |c| c
        .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())));
    let req = PutParameter {
        name: "/detcloud/c1/db-password".into(),
        value: Secret::new("s3cr3t-value"),
        secure: true,
        kms_key_id: Some("alias/det".into()),
        overwrite: true,
        description: None,
    };
    assert_eq!(ssm.put_parameter(req.clone()).await.unwrap(), 3);
    assert!(ssm.put_parameter(req.clone()).await.unwrap_err().is_already_exists());
    let err = ssm.put_parameter(req).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t-value"), "{err:?}");
}

#[tokio::test]
async fn ssm_get_parameter_decrypts_and_missing_is_not_found() {
    use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
    use aws_sdk_ssm::types::{Parameter, ParameterType};
    let found = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/p") && r.with_decryption() == Some(true))
        .then_output(|| {
            GetParameterOutput::builder()
                .parameter(
                    Parameter::builder()
                        .name("/p")
                        .value("plain")
                        .r#type(ParameterType::SecureString)
                        .version(2)
                        .build(),
                )
                .build()
        });
    let missing = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/nope"))
        .then_error(|| GetParameterError::generic(meta!(aws_sdk_ssm, "ParameterNotFound", "")));
    let ssm = AwsParameters::new(mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&found, &missing], |c| c
        .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())));
    let p = ssm.get_parameter("/p").await.unwrap();
    assert_eq!((p.value.expose(), p.kind.as_str(), p.version), ("plain", "SecureString", 2));
    assert_eq!(ssm.get_parameter("/nope").await.unwrap_err(), Error::not_found("parameter", "/nope"));
}

#[tokio::test]
async fn ssm_run_command_and_its_invocation() {
    use aws_sdk_ssm::operation::get_command_invocation::{GetCommandInvocationError, GetCommandInvocationOutput};
    use aws_sdk_ssm::operation::send_command::SendCommandOutput;
    use aws_sdk_ssm::types::{Command, CommandInvocationStatus};
    let send = mock!(aws_sdk_ssm::Client::send_command)
        .match_requests(|r| {
            r.document_name() == Some("AWS-RunShellScript")
                && r.instance_ids() == ["i-1"]
                && r.parameters().and_then(|p| p.get("commands")).map(Vec::as_slice)
                    == Some(&["echo hi".to_string()][..])
        })
        .then_output(|| SendCommandOutput::builder().command(Command::builder().command_id("cmd-1").build()).build());
    let invocation = mock!(aws_sdk_ssm::Client::get_command_invocation)
        .sequence()
        .error(|| GetCommandInvocationError::generic(meta!(aws_sdk_ssm, "InvocationDoesNotExist", "")))
        .output(|| {
            GetCommandInvocationOutput::builder()
                .status(CommandInvocationStatus::Success)
                .response_code(0)
                .standard_output_content("hi\n")
                .build()
        })
        .build();
    let ssm = AwsParameters::new(mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&send, &invocation], |c| c
        .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())));
    let id = ssm
        .send_command(SendCommand {
            instance_ids: vec!["i-1".into()],
            commands: vec!["echo hi".into()],
            comment: None,
            timeout_seconds: None,
        })
        .await
        .unwrap();
    assert_eq!(id, "cmd-1");
    let first = ssm.get_command_invocation("cmd-1", "i-1").await.unwrap_err();
    assert!(matches!(first, Error::NotReady { .. }), "{first:?}");
    let done = ssm.get_command_invocation("cmd-1", "i-1").await.unwrap();
    assert!(done.is_finished());
    assert_eq!((done.status.as_str(), done.exit_code, done.stdout.as_str()), ("Success", Some(0), "hi\n"));
}

// --- Service Quotas ---

#[tokio::test]
async fn service_quota_value_and_missing_quota() {
    use aws_sdk_servicequotas::operation::get_service_quota::{GetServiceQuotaError, GetServiceQuotaOutput};
    use aws_sdk_servicequotas::types::ServiceQuota;
    let found = mock!(aws_sdk_servicequotas::Client::get_service_quota)
        .match_requests(|r| r.service_code() == Some("vpc") && r.quota_code() == Some("L-F678F1CE"))
        .then_output(|| {
            GetServiceQuotaOutput::builder()
                .quota(
                    ServiceQuota::builder()
                        .service_code("vpc")
                        .quota_code("L-F678F1CE")
                        .quota_name("VPCs per Region")
                        .value(5.0)
                        .build(),
                )
                .build()
        });
    let missing = mock!(aws_sdk_servicequotas::Client::get_service_quota)
        .match_requests(|r| r.quota_code() == Some("L-NOPE"))
        .then_error(|| {
            GetServiceQuotaError::generic(meta!(aws_sdk_servicequotas, "NoSuchResourceException", "no such quota"))
        });
    let sq = AwsQuotas::new(mock_client!(aws_sdk_servicequotas, RuleMode::MatchAny, [&found, &missing], |c| c
        .retry_config(aws_sdk_servicequotas::config::retry::RetryConfig::disabled())));
    let q = sq.get_service_quota("vpc", "L-F678F1CE").await.unwrap();
    assert_eq!((q.name.as_str(), q.value), ("VPCs per Region", 5.0));
    assert!(sq.get_service_quota("vpc", "L-NOPE").await.unwrap_err().is_not_found());
}

// --- CloudWatch metrics ---

#[tokio::test]
async fn metric_data_pages_are_merged_per_query() {
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    let page1 = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| r.next_token().is_none() && r.metric_data_queries().len() == 1)
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(
                    MetricDataResult::builder().id("cpu").timestamps(DateTime::from_secs(60)).values(1.5).build(),
                )
                .next_token("t2")
                .build()
        });
    let page2 = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| r.next_token() == Some("t2"))
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(
                    MetricDataResult::builder().id("cpu").timestamps(DateTime::from_secs(120)).values(2.5).build(),
                )
                .build()
        });
    let cw = AwsMetrics::new(mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&page1, &page2]));
    let q = MetricQuery {
        id: "cpu".into(),
        namespace: "AWS/EC2".into(),
        metric_name: "CPUUtilization".into(),
        dimensions: vec![("InstanceId".into(), "i-1".into())],
        stat: "Average".into(),
        period_seconds: 60,
    };
    let series = cw.get_metric_data(&[q], UNIX_EPOCH, UNIX_EPOCH + Duration::from_secs(600)).await.unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(
        series[0].points,
        [(UNIX_EPOCH + Duration::from_secs(60), 1.5), (UNIX_EPOCH + Duration::from_secs(120), 2.5)]
    );
}

// --- Route53 ---

#[tokio::test]
async fn route53_missing_record_is_not_found_and_listing_pages() {
    use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError;
    use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};
    let delete = mock!(aws_sdk_route53::Client::change_resource_record_sets).then_error(|| {
        ChangeResourceRecordSetsError::generic(meta!(
            aws_sdk_route53,
            "InvalidChangeBatch",
            "[Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found]"
        ))
    });
    let set = |name: &str| {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::A)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value("10.0.0.1").build().unwrap())
            .build()
            .unwrap()
    };
    let page1 = mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .match_requests(|r| r.start_record_name().is_none())
        .then_output(move || {
            ListResourceRecordSetsOutput::builder()
                .resource_record_sets(set("a.example.com."))
                .is_truncated(true)
                .next_record_name("b.example.com.")
                .next_record_type(RrType::A)
                .max_items(1)
                .build()
                .unwrap()
        });
    let page2 = mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .match_requests(|r| {
            r.start_record_name() == Some("b.example.com.") && r.start_record_type() == Some(&RrType::A)
        })
        .then_output(move || {
            ListResourceRecordSetsOutput::builder()
                .resource_record_sets(set("b.example.com."))
                .is_truncated(false)
                .max_items(1)
                .build()
                .unwrap()
        });
    let dns = AwsDns::new(mock_client!(aws_sdk_route53, RuleMode::MatchAny, [&delete, &page1, &page2], |c| c
        .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled())));
    let record =
        RecordSet { name: "x.example.com".into(), record_type: "A".into(), ttl: 60, values: vec!["10.0.0.1".into()] };
    assert!(dns.delete_record("Z1", &record).await.unwrap_err().is_not_found());
    let records = dns.list_records("Z1").await.unwrap();
    let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a.example.com.", "b.example.com."]);
    assert_eq!((records[0].ttl, records[0].values.as_slice()), (60, &["10.0.0.1".to_string()][..]));
}
