//! The backend over real HTTP against a local wiremock server: the endpoint override, S3
//! path-style addressing, and the standard retry mode on a throttled call. Nothing leaves
//! 127.0.0.1.

use std::sync::Once;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use detcloud_aws::{AwsCloud, AwsOptions};
use detcloud_provider::{BucketCreation, Cloud, Error};
use wiremock::matchers::{body_string_contains, method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDENTITY: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/alice</Arn>
    <UserId>AIDAEXAMPLEUSERID</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

const THROTTLED: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>01234567-89ab-cdef-0123-456789abcdee</RequestId>
</ErrorResponse>"#;

/// Static test credentials, and no instance metadata lookups, for `AwsCloud::load`.
fn test_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/detcloud-test-config");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/detcloud-test-credentials");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_ENDPOINT_URL");
    });
}

/// The backend in us-west-2 against `server`, one attempt per call.
async fn cloud_at(server: &MockServer) -> AwsCloud {
    AwsCloud::load(&AwsOptions {
        region: Some("us-west-2".into()),
        endpoint_url: Some(server.uri()),
        max_attempts: Some(1),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn the_endpoint_override_reaches_the_local_server() {
    test_env();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=GetCallerIdentity"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "text/xml").set_body_string(IDENTITY))
        .expect(1)
        .mount(&server)
        .await;
    let cloud = cloud_at(&server).await;
    assert_eq!(cloud.region(), "us-west-2");
    let who = cloud.identity().caller_identity().await.unwrap();
    // An incomplete fixture would deserialize silently into empty strings: check the values.
    assert_eq!(who.account, "123456789012");
    assert_eq!(who.arn, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(who.user_id, "AIDAEXAMPLEUSERID");
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    test_env();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).insert_header("content-type", "text/xml").set_body_string(THROTTLED))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "text/xml").set_body_string(IDENTITY))
        .with_priority(2)
        .mount(&server)
        .await;
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(server.uri())
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
        .retry_config(RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(5)))
        .load()
        .await;
    let cloud = AwsCloud::from_config(config);
    let who = cloud.identity().caller_identity().await.unwrap();
    assert_eq!(who.account, "123456789012");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn throttling_past_the_attempts_is_a_throttled_error() {
    test_env();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).insert_header("content-type", "text/xml").set_body_string(THROTTLED))
        .mount(&server)
        .await;
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(server.uri())
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
        .retry_config(RetryConfig::standard().with_max_attempts(2).with_initial_backoff(Duration::from_millis(5)))
        .load()
        .await;
    let err = AwsCloud::from_config(config).identity().caller_identity().await.unwrap_err();
    assert!(matches!(err, Error::Throttled { ref message } if message == "Rate exceeded"), "{err:?}");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn s3_uses_path_style_against_an_endpoint_override() {
    test_env();
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path_regex("^/det-checkpoints/?$"))
        .and(body_string_contains("<LocationConstraint>us-west-2</LocationConstraint>"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let cloud = cloud_at(&server).await;
    let created = cloud.storage().create_bucket("det-checkpoints", "us-west-2").await.unwrap();
    assert_eq!(created, BucketCreation::Created);
    let requests = server.received_requests().await.unwrap_or_default();
    let host = requests[0].headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
    assert!(!host.starts_with("det-checkpoints."), "virtual-hosted style: {host}");
}

#[tokio::test]
async fn a_bucket_in_another_region_is_created_there() {
    test_env();
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path_regex("^/det-eu/?$"))
        .and(body_string_contains("<LocationConstraint>eu-central-1</LocationConstraint>"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let cloud = cloud_at(&server).await;
    cloud.storage().create_bucket("det-eu", "eu-central-1").await.unwrap();
    let requests = server.received_requests().await.unwrap_or_default();
    let auth = requests[0].headers.get("authorization").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
    assert!(auth.contains("/eu-central-1/s3/aws4_request"), "signed for the wrong region: {auth}");
}

/// A server answering every request with `status` and an HTML page (no AWS error code).
async fn answering_html(status: u16) -> (MockServer, AwsCloud) {
    test_env();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><body><h1>Request refused</h1></body></html>"),
        )
        .mount(&server)
        .await;
    let cloud = cloud_at(&server).await;
    (server, cloud)
}

#[tokio::test]
async fn an_unparseable_answer_is_named_by_its_http_status() {
    // STS (query protocol, XML), EC2 (its own XML protocol) and CloudWatch Logs (JSON): each
    // refused with an HTML page the SDK cannot parse.
    for status in [401u16, 403, 404, 429, 500] {
        let (_server, cloud) = answering_html(status).await;
        let errors = [
            cloud.identity().caller_identity().await.map(|_| ()).unwrap_err(),
            cloud.network().describe_vpcs(&Default::default()).await.map(|_| ()).unwrap_err(),
            cloud.logs().describe_log_groups("/detcloud/").await.map(|_| ()).unwrap_err(),
        ];
        for err in errors {
            let text = err.to_string();
            assert!(text.contains(&format!("HTTP {status}")), "{status}: {text}");
            match status {
                401 => assert!(matches!(err, Error::Credentials { .. }), "{status}: {err:?}"),
                403 => {
                    assert!(matches!(err, Error::AccessDenied { .. }), "{status}: {err:?}");
                    assert!(!text.contains("may not implement"), "{text}");
                }
                404 => assert!(matches!(err, Error::Unsupported { .. }), "{status}: {err:?}"),
                429 => assert!(matches!(err, Error::Throttled { .. }), "{status}: {err:?}"),
                _ => assert!(matches!(err, Error::Unavailable { .. }) && err.is_retryable(), "{status}: {err:?}"),
            }
        }
    }
}

#[tokio::test]
async fn an_operation_answered_501_is_unsupported_whatever_its_code() {
    // LocalStack's answer for a service it does not emulate: an AWS error code that alone would
    // read as a passing fault (InternalFailure), with 501 Not Implemented.
    test_env();
    let server = MockServer::start().await;
    let body =
        "<?xml version='1.0' encoding='utf-8'?>\n<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\
                <Error><Code>InternalFailure</Code><Message>The API for service rds is either not included in your \
                current license plan or has not yet been emulated by LocalStack.</Message></Error>\
                <RequestId>b6d148a5</RequestId></ErrorResponse>";
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(501).insert_header("content-type", "text/xml").set_body_string(body))
        .mount(&server)
        .await;
    let cloud = cloud_at(&server).await;
    let err = cloud.database().describe_db_clusters(&Default::default()).await.map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("HTTP 501") && text.contains("not yet been emulated"), "{text}");
    // Not retried: one request.
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 1);
}
