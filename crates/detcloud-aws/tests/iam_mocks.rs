//! Error mapping, pagination and document decoding of the IAM and STS backends, on mocked SDK
//! clients (aws-smithy-mocks): no network, no server.

use aws_sdk_iam::error::ErrorMetadata;
use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
use aws_sdk_iam::operation::list_roles::ListRolesOutput;
use aws_sdk_iam::types::{Role, Tag};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use detcloud_aws::{AwsIam, AwsIdentity};
use detcloud_provider::{AssumeRoleRequest, Error, Iam, Identity};

fn sdk_role(name: &str, document: &str) -> Role {
    Role::builder()
        .role_name(name)
        .role_id("AROAEXAMPLE")
        .arn(format!("arn:aws:iam::123456789012:role/{name}"))
        .path("/")
        .create_date(aws_smithy_types::DateTime::from_secs(0))
        .assume_role_policy_document(document)
        .tags(Tag::builder().key("detcloud:managed-by").value("detcloud").build().unwrap())
        .build()
        .unwrap()
}

const ENCODED_TRUST: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";

fn code_error(code: &str, message: &str) -> GetRoleError {
    GetRoleError::generic(ErrorMetadata::builder().code(code).message(message).build())
}

#[tokio::test]
async fn get_role_decodes_url_encoded_trust_policy_and_tags() {
    let rule = mock!(aws_sdk_iam::Client::get_role)
        .match_requests(|r| r.role_name() == Some("det-cloud-customer-master"))
        .then_output(|| GetRoleOutput::builder().role(sdk_role("det-cloud-customer-master", ENCODED_TRUST)).build());
    let iam = AwsIam::new(mock_client!(aws_sdk_iam, [&rule]));
    let role = iam.get_role("det-cloud-customer-master").await.unwrap();
    assert_eq!(role.arn, "arn:aws:iam::123456789012:role/det-cloud-customer-master");
    assert_eq!(
        role.trust_policy.statements[0].principal.as_ref().unwrap().principal().ids("Service"),
        ["ec2.amazonaws.com"]
    );
    assert_eq!(role.tags.get("detcloud:managed-by").map(String::as_str), Some("detcloud"));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn service_error_codes_become_typed_errors() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(&str, Check)> = vec![
        ("NoSuchEntity", |e| matches!(e, Error::NotFound { kind: "role", id } if id == "r")),
        ("AccessDenied", |e| matches!(e, Error::AccessDenied { action: Some(a), .. } if a == "iam:GetRole")),
        ("Throttling", |e| matches!(e, Error::Throttled { .. }) && e.is_retryable()),
        ("LimitExceeded", |e| matches!(e, Error::QuotaExceeded { .. })),
        ("ValidationError", |e| matches!(e, Error::InvalidInput { .. })),
        ("DeleteConflict", |e| matches!(e, Error::DependencyViolation { .. })),
        ("ServiceFailure", |e| matches!(e, Error::Unavailable { .. })),
        ("InvalidClientTokenId", |e| matches!(e, Error::Credentials { .. })),
        ("SomethingNew", |e| matches!(e, Error::Other { code, .. } if code == "SomethingNew")),
    ];
    for (code, check) in cases {
        let rule = mock!(aws_sdk_iam::Client::get_role).then_error(move || {
            code_error(
                code,
                "User: arn:aws:sts::1:assumed-role/a/b is not authorized to perform: iam:GetRole on resource: r",
            )
        });
        let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&rule], |c| c
            .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled()));
        let err = AwsIam::new(client).get_role("r").await.unwrap_err();
        assert!(check(&err), "{code} mapped to {err:?}");
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_standard_retry_mode() {
    let rule = mock!(aws_sdk_iam::Client::get_role)
        .sequence()
        .error(|| code_error("Throttling", "Rate exceeded"))
        .times(2)
        .output(|| GetRoleOutput::builder().role(sdk_role("r", ENCODED_TRUST)).build())
        .build();
    let client = mock_client!(aws_sdk_iam, RuleMode::Sequential, [&rule], |c| c.retry_config(
        aws_sdk_iam::config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(std::time::Duration::from_millis(1))
    ));
    let role = AwsIam::new(client).get_role("r").await.unwrap();
    assert_eq!(role.name, "r");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn list_roles_follows_every_page() {
    let page1 = mock!(aws_sdk_iam::Client::list_roles).match_requests(|r| r.marker().is_none()).then_output(|| {
        ListRolesOutput::builder()
            .roles(sdk_role("a", ENCODED_TRUST))
            .roles(sdk_role("b", ENCODED_TRUST))
            .is_truncated(true)
            .marker("page-2")
            .build()
            .unwrap()
    });
    let page2 =
        mock!(aws_sdk_iam::Client::list_roles).match_requests(|r| r.marker() == Some("page-2")).then_output(|| {
            ListRolesOutput::builder().roles(sdk_role("c", ENCODED_TRUST)).is_truncated(false).build().unwrap()
        });
    let iam = AwsIam::new(mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&page1, &page2]));
    let names: Vec<String> = iam.list_roles("/").await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
}

#[tokio::test]
async fn unreadable_policy_is_reported_not_panicked() {
    let rule = mock!(aws_sdk_iam::Client::get_role)
        .then_output(|| GetRoleOutput::builder().role(sdk_role("r", "%7Bnot%20json")).build());
    let err = AwsIam::new(mock_client!(aws_sdk_iam, [&rule])).get_role("r").await.unwrap_err();
    assert!(matches!(err, Error::Other { ref code, .. } if code == "UnreadablePolicy"), "{err:?}");
}

#[tokio::test]
async fn assume_role_passes_external_id_and_keeps_secrets_out_of_debug() {
    use aws_sdk_sts::operation::assume_role::AssumeRoleOutput;
    use aws_sdk_sts::types::{AssumedRoleUser, Credentials};
    let rule = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|r| r.external_id() == Some("tenant-7") && r.role_session_name() == Some("detcloud"))
        .then_output(|| {
            AssumeRoleOutput::builder()
                .credentials(
                    Credentials::builder()
                        .access_key_id("ASIAEXAMPLE")
                        .secret_access_key("very-secret")
                        .session_token("token-secret")
                        .expiration(aws_smithy_types::DateTime::from_secs(4_000_000_000))
                        .build()
                        .unwrap(),
                )
                .assumed_role_user(
                    AssumedRoleUser::builder()
                        .arn("arn:aws:sts::123456789012:assumed-role/x/detcloud")
                        .assumed_role_id("AROA:detcloud")
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let sts = AwsIdentity::new(mock_client!(aws_sdk_sts, [&rule]));
    let creds = sts
        .assume_role(AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/x".into(),
            session_name: "detcloud".into(),
            external_id: Some("tenant-7".into()),
            duration: None,
        })
        .await
        .unwrap();
    assert_eq!(creds.assumed_role_arn, "arn:aws:sts::123456789012:assumed-role/x/detcloud");
    assert_eq!(creds.secret_access_key.expose(), "very-secret");
    let debug = format!("{creds:?}");
    assert!(!debug.contains("very-secret") && !debug.contains("token-secret"), "{debug}");
}
