//! The conformance suite through `detcloud-aws` against an AWS-compatible endpoint: moto (started
//! by `cargo xtask e2e` / `cargo xtask ci`), or LocalStack.
//!
//! - `DETCLOUD_E2E_ENDPOINT`: the endpoint; without it the test says so and returns.
//! - `DETCLOUD_E2E_CAPABILITIES`: `moto` (default), `localstack`, `aws` or `fake`.
//! - `DETCLOUD_E2E_HOSTED_ZONE`: a Route53 zone id for the DNS cases; on an emulator the test
//!   creates one through the emulator's Route53 API when unset.
//! - `DETCLOUD_CONFORMANCE_FILTER`: only cases whose `area::name` contains it.
//!
//! On LocalStack (or with `DETCLOUD_E2E_PROBE=1`), after the suite, the probe measures every
//! capability flag on the endpoint (each flag's cases run with every flag on) and the test fails
//! when the profile disagrees with the measurement: a skip is never copied from another emulator.
//! (On moto the probe takes over ten minutes, its cases waiting out deadlines for states moto never
//! shows, so CI measures moto only through `cargo xtask probe`.) `DETCLOUD_PROBE_ONLY=1`
//! (`cargo xtask probe`) runs only the probe and prints each flag as measured.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use detcloud_aws::{AwsCloud, AwsOptions};
use detcloud_conformance::{probe, record_skips, run_with, Capabilities, RunOptions};

/// Not us-east-1: there S3 answers a repeated CreateBucket by its owner with a plain success (a
/// legacy of that region), which the contract reports as `Created`.
const REGION: &str = "us-west-2";

/// Credentials and configuration for an emulator, so that nothing from the machine's AWS setup
/// leaks in. Called before the runtime starts its threads.
fn use_emulator_credentials() {
    for (key, value) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", REGION),
        ("AWS_CONFIG_FILE", "/nonexistent/detcloud-conformance"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/detcloud-conformance"),
    ] {
        std::env::set_var(key, value);
    }
    for key in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"] {
        std::env::remove_var(key);
    }
}

/// Creates a public hosted zone through the emulator's Route53 REST API (plain HTTP; emulators do
/// not check signatures) and returns its id.
fn create_emulator_zone(endpoint: &str, domain: &str, reference: &str) -> Result<String, String> {
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("{endpoint} is not a plain-HTTP endpoint"))?
        .trim_end_matches('/');
    let body = format!(
        "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>{domain}</Name>\
         <CallerReference>{reference}</CallerReference></CreateHostedZoneRequest>"
    );
    let request = format!(
        "POST /2013-04-01/hostedzone HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/xml\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/route53/aws4_request, \
         SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(authority).map_err(|e| format!("connect {authority}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| format!("read: {e}"))?;
    let id = response.split("<Id>/hostedzone/").nth(1).and_then(|rest| rest.split('<').next()).ok_or_else(|| {
        format!("no hosted zone id in the answer: {}", response.chars().take(300).collect::<String>())
    })?;
    Ok(id.to_string())
}

/// Configures everything (environment included) before any runtime thread exists, then runs the
/// suite on a multi-threaded runtime.
#[test]
fn e2e() {
    let endpoint = match std::env::var("DETCLOUD_E2E_ENDPOINT") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!("SKIPPED: set DETCLOUD_E2E_ENDPOINT (cargo xtask e2e)");
            return;
        }
    };
    let (profile, mut caps) = Capabilities::from_env().unwrap_or_else(|e| panic!("{e}"));
    let emulator = !profile.eq_ignore_ascii_case("aws");
    if emulator {
        use_emulator_credentials();
    }
    let zone = match std::env::var("DETCLOUD_E2E_HOSTED_ZONE") {
        Ok(zone) if !zone.is_empty() => Some(zone),
        _ if emulator => {
            let reference = format!("detcloud-conformance-{}", std::process::id());
            match create_emulator_zone(&endpoint, "conformance.example.com", &reference) {
                Ok(zone) => Some(zone),
                Err(e) => {
                    eprintln!("note: could not create a hosted zone on {endpoint} ({e}); the DNS cases will skip");
                    None
                }
            }
        }
        _ => None,
    };
    if let Some(zone) = zone {
        caps = caps.with_hosted_zone(zone);
    }

    let options = AwsOptions {
        region: Some(REGION.into()),
        endpoint_url: Some(endpoint.clone()),
        // Emulators answer what they lack with HTTP 500: fail fast instead of backing off.
        max_attempts: Some(if emulator { 2 } else { 5 }),
        ..AwsOptions::default()
    };
    let run = RunOptions {
        filter: std::env::var("DETCLOUD_CONFORMANCE_FILTER").unwrap_or_default(),
        concurrency: if emulator { 8 } else { 4 },
        // The default budget (four VPCs, five elastic IPs) fits AWS's default quotas.
        ..RunOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    if std::env::var_os("DETCLOUD_PROBE_ONLY").is_some() {
        let measured = runtime.block_on(async { probe(&AwsCloud::load(&options).await, &caps, &run).await });
        println!("probe of {endpoint} (profile `{profile}` for the endpoint facts):\n{measured}");
        for line in measured.differences(&caps) {
            println!("  differs from `{profile}`: {line}");
        }
        return;
    }
    eprintln!("conformance: {endpoint} with capabilities `{profile}`");
    let probing = profile.eq_ignore_ascii_case("localstack") || std::env::var_os("DETCLOUD_E2E_PROBE").is_some();
    let (report, measured) = runtime.block_on(async {
        let cloud = AwsCloud::load(&options).await;
        let report = run_with(&cloud, &caps, &run).await;
        (report, if probing { Some(probe(&cloud, &caps, &run).await) } else { None })
    });
    print!("{report}");
    let skips: Vec<String> =
        report.skipped.iter().map(|(name, reason)| format!("conformance {name}: {reason}")).collect();
    record_skips(&skips);
    assert!(report.failed.is_empty(), "{} case(s) failed on {endpoint}:\n{report}", report.failed.len());
    let Some(measured) = measured else { return };
    print!("{measured}");
    let differences = measured.differences(&caps);
    assert!(
        differences.is_empty(),
        "the `{profile}` profile disagrees with what the probe measured on {endpoint}:\n{}\n{measured}",
        differences.join("\n")
    );
}
