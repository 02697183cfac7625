//! `detcloud serve` as a process on the sandbox: tokens, the API from an empty store to a Ready
//! cluster and back, bad requests refused with nothing stored, SIGTERM ending it with exit 0.

mod common;

use std::time::Duration;

use common::serve::Served;
use common::{run_sandbox, sandbox_command};

const ACCOUNT: &str = "123456789012";

#[test]
fn serve_takes_a_cluster_from_a_put_to_ready_and_back_to_nothing() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("sandbox.json");
    let db = format!("sqlite://{}", home.path().join("control.db").display());
    let (code, _, stderr) =
        run_sandbox(&state, home.path(), &["connect", "aws", "--external-id", "acme-7f3c9b2e", "--yes"], "");
    assert_eq!(code, 0, "{stderr}");
    // Tokens: printed once, listed by name, refused once revoked.
    let (code, token, stderr) =
        run_sandbox(&state, home.path(), &["serve", "token", "create", "--name", "ops", "--database", &db], "");
    assert_eq!(code, 0, "{stderr}");
    let token = token.trim().to_string();
    assert!(token.starts_with("dct_") && token.len() == 68, "{token}");
    let (code, _, stderr) =
        run_sandbox(&state, home.path(), &["serve", "token", "create", "--name", "ops", "--database", &db], "");
    assert_eq!(code, 3, "a taken name: {stderr}");
    let (code, _, stderr) =
        run_sandbox(&state, home.path(), &["serve", "token", "create", "--name", "bad name", "--database", &db], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: --name: "), "{stderr}");
    let (_, spare, _) =
        run_sandbox(&state, home.path(), &["serve", "token", "create", "--name", "spare", "--database", &db], "");
    let (code, listed, _) =
        run_sandbox(&state, home.path(), &["serve", "token", "list", "--database", &db, "-o", "json"], "");
    assert_eq!(code, 0);
    let names: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&listed)
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["ops", "spare"]);
    assert!(!listed.contains(&token[4..]), "a listing shows no token");
    assert_eq!(run_sandbox(&state, home.path(), &["serve", "token", "revoke", "spare", "--database", &db], "").0, 0);

    // Bad flags are refused before anything starts.
    for (flag, value) in [("--listen", "localhost"), ("--interval", "0"), ("--database", "mysql://x")] {
        let (code, _, stderr) = run_sandbox(&state, home.path(), &["serve", flag, value, "--database", &db], "");
        assert_eq!(code, 2, "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag) || stderr.contains("--database"), "{stderr}");
    }

    let served = Served::start(sandbox_command(
        &state,
        home.path(),
        &["serve", "--listen", "127.0.0.1:0", "--interval", "1", "--database", &db],
    ));
    assert_eq!(served.call("GET", "/healthz", None, None).0, 200);
    assert_eq!(served.call("GET", "/readyz", None, None).0, 200);
    assert_eq!(served.call("GET", "/v1/accounts", None, None).0, 401);
    assert_eq!(served.call("GET", "/v1/accounts", Some(spare.trim()), None).0, 401, "a revoked token");
    let account = format!(
        r#"{{"role_arn": "arn:aws:iam::{ACCOUNT}:role/det-cloud-customer-xacct-mgmt", "external_id": "acme-7f3c9b2e", "regions": ["us-west-2"]}}"#
    );
    served.json("PUT", &format!("/v1/accounts/{ACCOUNT}"), &token, Some(&account), 201);
    let uri = format!("/v1/accounts/{ACCOUNT}/clusters/ml-demo");
    // A bad spec stores nothing.
    let (status, text) = served.call("PUT", &uri, Some(&token), Some(r#"{"agents": {"max_instances": 0}}"#));
    assert_eq!(status, 400, "{text}");
    assert!(text.contains(r#""field":"agents.max_instances""#), "{text}");
    assert_eq!(served.call("GET", &uri, Some(&token), None).0, 404);

    let put = served.json("PUT", &uri, &token, Some(r#"{"master": {"inbound_cidrs": ["203.0.113.0/24"]}}"#), 201);
    assert_eq!(put["generation"], 1);
    let ready =
        served.wait_for(&uri, &token, Duration::from_secs(60), |s, v| s == 200 && v["status"]["phase"] == "Ready");
    assert_eq!(ready["status"]["observed_generation"], 1);
    assert!(ready["status"]["master"]["url"].as_str().unwrap().ends_with(":8080"), "{ready}");
    let metrics = served.call("GET", "/metrics", None, None).1;
    assert!(metrics.contains("detcloud_clusters{phase=\"Ready\"} 1"), "{metrics}");
    assert!(metrics.contains(&format!("detcloud_provider_calls_total{{account=\"{ACCOUNT}\"}}")), "{metrics}");

    let deleting = served.json("DELETE", &format!("{uri}?purge=true"), &token, None, 202);
    assert_eq!(deleting["status"]["phase"], "Deleting");
    served.wait_for(&uri, &token, Duration::from_secs(60), |s, _| s == 404);
    let events = served.json("GET", "/v1/events", &token, None, 200);
    let reasons: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
    for reason in
        ["AccountRegistered", "ClusterDeclared", "ClusterConverged", "ClusterDeletionRequested", "ClusterDeleted"]
    {
        assert!(reasons.contains(&reason), "{reason} missing from {reasons:?}");
    }
    served.json("DELETE", &format!("/v1/accounts/{ACCOUNT}"), &token, None, 204);

    let status = served.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM ends serve with 0");
    // The sandbox holds nothing of the cluster.
    let (_, out, _) = run_sandbox(&state, home.path(), &["cluster", "list", "--region", "us-west-2"], "");
    assert!(!out.contains("ml-demo"), "{out}");
}
