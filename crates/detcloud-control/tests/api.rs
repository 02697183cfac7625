//! The HTTP API's contract, request by request, on a SQLite store: status codes, bodies, ETags,
//! and that a refused request stores nothing.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use detcloud_control::api::{self, ApiOptions};
use detcloud_control::metrics::Metrics;
use detcloud_control::{SqlStore, Store};
use serde_json::{json, Value};
use tower::ServiceExt;

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/detcloud-xacct";

struct Server {
    router: axum::Router,
    store: Arc<dyn Store>,
    token: String,
    wake: Arc<tokio::sync::Notify>,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
    text: String,
}

impl Server {
    async fn new(options: ApiOptions) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("control.db").display());
        let store: Arc<dyn Store> = Arc::new(SqlStore::open(&url).await.unwrap());
        let token = detcloud_control::token::generate().unwrap();
        store.create_token("ci", &detcloud_control::token::hash(&token)).await.unwrap();
        let wake = Arc::new(tokio::sync::Notify::new());
        let router =
            api::router(api::Api::new(Arc::clone(&store), Arc::clone(&wake), Arc::new(Metrics::default()), options));
        Server { router, store, token, wake, _dir: dir }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, headers, body, text }
    }

    fn request(&self, method: Method, uri: &str) -> axum::http::request::Builder {
        Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {}", self.token))
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        let builder = self.request(method, uri);
        let request = match body {
            Some(b) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    async fn put_account(&self) -> Answer {
        let body = json!({"role_arn": ROLE, "external_id": "detcloud-ext-1", "regions": ["us-west-2"]});
        self.call(Method::PUT, &format!("/v1/accounts/{ACCOUNT}"), Some(body)).await
    }

    async fn event_count(&self) -> usize {
        self.store.events(0, 10_000).await.unwrap().len()
    }
}

fn error_of(a: &Answer) -> (&str, Option<&str>) {
    let e = &a.body["error"];
    assert!(e["message"].is_string(), "no error message in {}", a.text);
    (e["code"].as_str().unwrap_or(""), e["field"].as_str())
}

#[tokio::test]
async fn every_v1_request_needs_a_known_token() {
    let s = Server::new(ApiOptions::default()).await;
    let bare = Request::get("/v1/accounts").body(Body::empty()).unwrap();
    let a = s.send(bare).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(&a), ("unauthorized", Some("Authorization")));
    assert_eq!(a.headers[header::WWW_AUTHENTICATE], "Bearer");
    let unknown = detcloud_control::token::generate().unwrap();
    for value in [format!("Bearer {unknown}"), "Bearer nonsense".into(), format!("Basic {}", s.token)] {
        let r = Request::get("/v1/accounts").header(header::AUTHORIZATION, value.as_str()).body(Body::empty()).unwrap();
        assert_eq!(s.send(r).await.status, StatusCode::UNAUTHORIZED, "{value}");
    }
    assert_eq!(s.call(Method::GET, "/v1/accounts", None).await.status, StatusCode::OK);
    s.store.revoke_token("ci").await.unwrap();
    assert_eq!(s.call(Method::GET, "/v1/accounts", None).await.status, StatusCode::UNAUTHORIZED);
    // Probes need none.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let a = s.send(Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
    }
}

#[tokio::test]
async fn accounts_are_declared_read_listed_and_deleted() {
    let s = Server::new(ApiOptions::default()).await;
    let a = s.put_account().await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["id"], ACCOUNT);
    assert_eq!(a.body["regions"], json!(["us-west-2"]));
    assert_eq!(a.body["paused"], false);
    assert_eq!(s.put_account().await.status, StatusCode::OK);
    let got = s.call(Method::GET, &format!("/v1/accounts/{ACCOUNT}"), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["role_arn"], ROLE);
    assert!(got.body["created_at"].as_str().unwrap().ends_with('Z'));
    let list = s.call(Method::GET, "/v1/accounts", None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let a = s.call(Method::DELETE, &format!("/v1/accounts/{ACCOUNT}"), None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = s.call(Method::GET, &format!("/v1/accounts/{ACCOUNT}"), None).await;
    assert_eq!((a.status, error_of(&a).0), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn bad_account_requests_are_refused_naming_the_field_and_store_nothing() {
    let s = Server::new(ApiOptions { max_body: 4096, ..ApiOptions::default() }).await;
    let events = s.event_count().await;
    let uri = format!("/v1/accounts/{ACCOUNT}");
    let good = json!({"role_arn": ROLE, "external_id": "detcloud-ext-1", "regions": ["us-west-2"]});
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    let cases: Vec<(String, Value, &str)> = vec![
        (uri.clone(), with("role_arn", json!("arn:aws:iam::999999999999:role/x")), "role_arn"),
        (uri.clone(), with("role_arn", json!("not an arn")), "role_arn"),
        (uri.clone(), with("external_id", json!("x")), "external_id"),
        (uri.clone(), with("regions", json!([])), "regions"),
        (uri.clone(), with("regions", json!(["us-west-2", "moon-1"])), "regions[1]"),
        (uri.clone(), with("regions", json!(["us-west-2", "us-west-2"])), "regions[1]"),
        (uri.clone(), with("regions", json!("us-west-2")), "regions"),
        (uri.clone(), with("paused", json!("yes")), "paused"),
        (uri.clone(), with("surprise", json!(1)), "surprise"),
        (uri.clone(), json!({"role_arn": ROLE, "regions": ["us-west-2"]}), "body"),
        (uri.clone(), json!([1, 2]), "body"),
        ("/v1/accounts/12345".into(), good.clone(), "account_id"),
    ];
    for (uri, body, field) in cases {
        let a = s.call(Method::PUT, &uri, Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.text);
        let (code, got) = error_of(&a);
        assert_eq!((code, got), ("invalid", Some(field)), "{body}: {}", a.text);
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(!message.contains('\n') && !message.contains(" at line "), "{message}");
    }
    // Not JSON, not declared as JSON, too large.
    let raw = |content_type: &str, body: String| {
        s.request(Method::PUT, &uri).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap()
    };
    let a = s.send(raw("application/json", "{\"role_arn\": ".into())).await;
    assert_eq!((a.status, error_of(&a)), (StatusCode::BAD_REQUEST, ("malformed", Some("body"))));
    let a = s.send(raw("application/json", format!("{good} trailing"))).await;
    assert_eq!((a.status, error_of(&a).0), (StatusCode::BAD_REQUEST, "malformed"));
    let a = s.send(raw("text/plain", good.to_string())).await;
    assert_eq!(
        (a.status, error_of(&a)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, ("unsupported_media_type", Some("Content-Type")))
    );
    let big = json!({"role_arn": ROLE, "external_id": "x".repeat(5000), "regions": ["us-west-2"]}).to_string();
    let a = s.send(raw("application/json", big.clone())).await;
    assert_eq!((a.status, error_of(&a).0), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    // A body without a Content-Length (streamed) is cut off at the limit too.
    let stream = futures::stream::iter(
        big.into_bytes().chunks(512).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let r = s
        .request(Method::PUT, &uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap();
    assert_eq!(s.send(r).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(s.store.accounts().await.unwrap().is_empty());
    assert_eq!(s.event_count().await, events);
}

fn spec() -> Value {
    json!({"master": {"instance_type": "m6i.large", "inbound_cidrs": ["203.0.113.0/24"]}, "agents": {"max_instances": 4}})
}

#[tokio::test]
async fn clusters_are_declared_with_etags_and_preconditions() {
    let s = Server::new(ApiOptions::default()).await;
    s.put_account().await;
    let uri = format!("/v1/accounts/{ACCOUNT}/clusters/ml-demo");
    let a = s.call(Method::PUT, &uri, Some(spec())).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.headers[header::ETAG], "\"1\"");
    assert_eq!((a.body["name"].as_str(), a.body["generation"].as_i64()), (Some("ml-demo"), Some(1)));
    // The spec comes back whole: the region from the account, every default filled in.
    assert_eq!(a.body["spec"]["region"], "us-west-2");
    assert_eq!(a.body["spec"]["master"]["instance_type"], "m6i.large");
    assert!(a.body["spec"]["log_retention_days"].is_u64(), "{}", a.body["spec"]);
    // The same spec again changes nothing; its defaults spelled out are the same spec.
    let again = s.call(Method::PUT, &uri, Some(a.body["spec"].clone())).await;
    assert_eq!((again.status, again.body["generation"].as_i64()), (StatusCode::OK, Some(1)));
    // A change is a new generation, and wakes the reconciler.
    let woken = s.wake.notified();
    let mut changed = spec();
    changed["agents"]["max_instances"] = json!(8);
    let a = s.call(Method::PUT, &uri, Some(changed.clone())).await;
    assert_eq!((a.status, a.body["generation"].as_i64()), (StatusCode::OK, Some(2)));
    tokio::time::timeout(std::time::Duration::from_secs(1), woken).await.expect("the reconciler was woken");
    // Preconditions: a stale ETag, a create-only on an existing cluster, a malformed header.
    let events = s.event_count().await;
    for (name, value, status) in [
        ("If-Match", "\"1\"", StatusCode::PRECONDITION_FAILED),
        ("If-None-Match", "*", StatusCode::PRECONDITION_FAILED),
        ("If-Match", "yesterday", StatusCode::BAD_REQUEST),
    ] {
        let mut body = changed.clone();
        body["agents"]["max_instances"] = json!(9);
        let r = s
            .request(Method::PUT, &uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(name, value)
            .body(Body::from(body.to_string()))
            .unwrap();
        let a = s.send(r).await;
        assert_eq!(a.status, status, "{name}: {value}: {}", a.text);
        assert_eq!(error_of(&a).1, Some(name));
    }
    let r = s
        .request(Method::PUT, &uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("If-Match", "\"2\"")
        .body(Body::from(spec().to_string()))
        .unwrap();
    let a = s.send(r).await;
    assert_eq!((a.status, a.body["generation"].as_i64()), (StatusCode::OK, Some(3)), "{}", a.text);
    assert_eq!(s.event_count().await, events + 1);

    // Read back: the contract's shape.
    let got = s.call(Method::GET, &uri, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers[header::ETAG], "\"3\"");
    let status = &got.body["status"];
    assert_eq!(status["phase"], "Pending");
    for key in ["observed_generation", "conditions", "resources", "master", "last_reconciled", "last_error"] {
        assert!(status.get(key).is_some(), "status.{key} missing: {status}");
    }
    let list = s.call(Method::GET, &format!("/v1/accounts/{ACCOUNT}/clusters"), None).await;
    assert_eq!(list.body["items"][0]["name"], "ml-demo");
    assert_eq!(list.body["next"], Value::Null);
}

#[tokio::test]
async fn bad_cluster_specs_are_refused_naming_the_field_and_store_nothing() {
    let s = Server::new(ApiOptions::default()).await;
    s.put_account().await;
    let events = s.event_count().await;
    let uri = format!("/v1/accounts/{ACCOUNT}/clusters/ml-demo");
    let cases = [
        (json!({"agents": {"max_instances": 0}}), "agents.max_instances"),
        (json!({"agents": {"max_instnces": 3}}), "agents"),
        (json!({"master": {"instance_type": "huge"}}), "master.instance_type"),
        (json!({"master": {"inbound_cidrs": ["0.0.0.0/33"]}}), "master.inbound_cidrs[0]"),
        (json!({"region": "eu-west-1"}), "region"),
        (json!({"name": "other"}), "name"),
        (json!({"az_count": "two"}), "az_count"),
        (json!({"log_retention_days": 11}), "log_retention_days"),
        (json!("just a string"), "body"),
    ];
    for (body, field) in cases {
        let a = s.call(Method::PUT, &uri, Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.text);
        let (code, got) = error_of(&a);
        assert_eq!(code, "invalid", "{body}");
        assert!(got.is_some_and(|g| g.starts_with(field)), "{body}: field {got:?}, wanted {field}: {}", a.text);
    }
    let a = s.call(Method::PUT, &format!("/v1/accounts/{ACCOUNT}/clusters/Bad_Name"), Some(spec())).await;
    assert_eq!(error_of(&a).1, Some("name"));
    let a = s.call(Method::PUT, "/v1/accounts/210987654321/clusters/ml-demo", Some(spec())).await;
    assert_eq!((a.status, error_of(&a).0), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(s.event_count().await, events);
    assert!(s.store.clusters(ACCOUNT, None, 10).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn deletion_is_accepted_shows_deleting_and_blocks_the_account() {
    let s = Server::new(ApiOptions::default()).await;
    s.put_account().await;
    let uri = format!("/v1/accounts/{ACCOUNT}/clusters/ml-demo");
    s.call(Method::PUT, &uri, Some(spec())).await;
    let a = s.call(Method::DELETE, &format!("/v1/accounts/{ACCOUNT}"), None).await;
    assert_eq!((a.status, error_of(&a).0), (StatusCode::CONFLICT, "conflict"), "{}", a.text);
    // A region cannot go while a cluster lives in it.
    let body = json!({"role_arn": ROLE, "external_id": "detcloud-ext-1", "regions": ["eu-west-1"]});
    let a = s.call(Method::PUT, &format!("/v1/accounts/{ACCOUNT}"), Some(body)).await;
    assert_eq!((a.status, error_of(&a).1), (StatusCode::CONFLICT, Some("regions")));
    let a = s.call(Method::DELETE, &format!("{uri}?purge=maybe"), None).await;
    assert_eq!((a.status, error_of(&a).1), (StatusCode::BAD_REQUEST, Some("purge")));
    let a = s.call(Method::DELETE, &format!("{uri}?force=1"), None).await;
    assert_eq!((a.status, error_of(&a).1), (StatusCode::BAD_REQUEST, Some("force")));
    let a = s.call(Method::DELETE, &format!("{uri}?purge=true"), None).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    assert_eq!(a.body["status"]["phase"], "Deleting");
    assert_eq!(a.body["purge"], true);
    let got = s.call(Method::GET, &uri, None).await;
    assert_eq!(got.body["status"]["phase"], "Deleting");
    // A cluster being deleted takes no new spec.
    let a = s.call(Method::PUT, &uri, Some(spec())).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    let a = s.call(Method::DELETE, &format!("/v1/accounts/{ACCOUNT}/clusters/never-was"), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn events_page_and_say_who() {
    let s = Server::new(ApiOptions::default()).await;
    s.put_account().await;
    s.call(Method::PUT, &format!("/v1/accounts/{ACCOUNT}/clusters/ml-demo"), Some(spec())).await;
    let all = s.call(Method::GET, "/v1/events", None).await;
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", all.text);
    assert_eq!(items[0]["reason"], "TokenCreated");
    let items = &items[1..];
    assert!(items.iter().all(|e| e["actor"] == "ci"), "{}", all.text);
    let first = items[0]["id"].as_i64().unwrap();
    let rest = s.call(Method::GET, &format!("/v1/events?after={first}&limit=5"), None).await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["items"][0]["cluster"], "ml-demo");
    assert_eq!(rest.body["next"], items[1]["id"]);
    for bad in ["after=-1", "after=x", "limit=0", "limit=1001"] {
        let a = s.call(Method::GET, &format!("/v1/events?{bad}"), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn unknown_routes_methods_and_rates_answer_in_json() {
    let s = Server::new(ApiOptions { burst: 3, per_second: 0.01, ..ApiOptions::default() }).await;
    let a = s.call(Method::GET, "/v1/nothing-here", None).await;
    assert_eq!((a.status, error_of(&a).0), (StatusCode::NOT_FOUND, "not_found"));
    let a = s.call(Method::POST, "/v1/accounts", None).await;
    assert_eq!((a.status, error_of(&a).0), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    // A burst of three, then a hundredth of a request a second: the fourth request at most is refused.
    let mut answers = vec![];
    for _ in 0..4 {
        answers.push(s.call(Method::GET, "/v1/accounts", None).await);
    }
    assert_eq!(answers[0].status, StatusCode::OK);
    let a = answers.iter().find(|a| a.status != StatusCode::OK).expect("a request over the rate is refused");
    assert_eq!((a.status, error_of(a).0), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", a.text);
    assert!(a.headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let metrics = s.send(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert!(metrics.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
    assert!(
        metrics.text.contains("detcloud_http_requests_total{route=\"/v1/accounts\",status=\"429\"} 1"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("detcloud_clusters{phase=\"Pending\"} 0"), "{}", metrics.text);
}
