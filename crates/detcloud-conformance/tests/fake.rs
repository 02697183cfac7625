//! The conformance suite on `detcloud-fake`: every case must pass, none may be skipped (the fake
//! models AWS, so it has every capability), on tokio's paused clock so that waits cost nothing.
//!
//! `DETCLOUD_CONFORMANCE_FILTER=network::` runs a subset.

use detcloud_conformance::{probe, run_all, run_with, Capabilities, Measured, Outcome, RunOptions, RUN_TAG};
use detcloud_fake::FakeCloud;
use detcloud_provider::{Cloud, Error, Filter};

const ACCOUNT: &str = "123456789012";

fn fake_caps(cloud: &FakeCloud) -> Capabilities {
    Capabilities::fake().with_hosted_zone(cloud.create_hosted_zone("conformance.example.com"))
}

#[tokio::test(start_paused = true)]
async fn every_case_passes_on_the_fake() {
    let cloud = FakeCloud::new(ACCOUNT);
    let caps = fake_caps(&cloud);
    let filter = std::env::var("DETCLOUD_CONFORMANCE_FILTER").unwrap_or_default();
    let report = run_all(&cloud, &caps, &filter).await;
    print!("{report}");
    assert!(report.failed.is_empty(), "{report}");
    assert!(report.skipped.is_empty(), "the fake must support every case:\n{report}");
    assert!(!report.passed.is_empty(), "{report}");
}

#[tokio::test(start_paused = true)]
async fn runs_overlap_and_repeat_on_the_same_world() {
    let cloud = FakeCloud::new(ACCOUNT);
    let caps = fake_caps(&cloud);
    let network = RunOptions { filter: "network::".into(), concurrency: 32, ..RunOptions::default() };
    let iam = RunOptions { filter: "iam::".into(), concurrency: 32, ..RunOptions::default() };
    // Two runs at once (their names never collide), then the first again.
    let (a, b) = tokio::join!(run_with(&cloud, &caps, &network), run_with(&cloud, &caps, &iam));
    let c = run_with(&cloud, &caps, &network).await;
    for report in [&a, &b, &c] {
        assert!(report.failed.is_empty() && !report.passed.is_empty(), "{report}");
    }
    assert_ne!(a.run_id, c.run_id);
    // Nothing any run created is left.
    for run in [&a.run_id, &b.run_id, &c.run_id] {
        let vpcs = cloud.network().describe_vpcs(&Filter::tag(RUN_TAG, run.as_str())).await.unwrap();
        assert!(vpcs.is_empty(), "run {run} leaked {vpcs:?}");
        let addresses = cloud.network().describe_addresses(&Filter::tag(RUN_TAG, run.as_str())).await.unwrap();
        assert!(addresses.is_empty(), "run {run} leaked {addresses:?}");
    }
    assert!(cloud.iam().list_roles("/detcloud-conformance/").await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failing_case_reports_and_still_cleans_up() {
    let cloud = FakeCloud::new(ACCOUNT);
    // The first DescribeVpcs fails: vpc_lifecycle calls it once its VPC exists.
    cloud.faults().fail("ec2:DescribeVpcs", Error::Throttled { message: "Rate exceeded (injected)".into() }, 1);
    let report = run_all(&cloud, &Capabilities::fake(), "network::vpc_lifecycle").await;
    assert_eq!(report.summary_line(), "conformance: 0 passed, 1 failed, 0 skipped");
    let (name, message) = &report.failed[0];
    assert_eq!(name, "network::vpc_lifecycle");
    assert!(message.contains("describe_vpcs") && message.contains("Throttled"), "{message}");
    let left = cloud.network().describe_vpcs(&Filter::tag(RUN_TAG, report.run_id.as_str())).await.unwrap();
    assert!(left.is_empty(), "the failed case leaked {left:?}");
}

#[tokio::test(start_paused = true)]
async fn missing_capabilities_skip_loudly() {
    let cloud = FakeCloud::new(ACCOUNT);
    let report = run_all(&cloud, &Capabilities::moto(), "").await;
    assert!(report.failed.is_empty(), "{report}");
    let text = report.to_string();
    assert!(text.contains("SKIPPED network::nat_gateway_states: capability `intermediate_states` is off"), "{text}");
    assert!(text.contains("SKIPPED dns::record_upsert_list_delete: capability `hosted_zone_id` is off"), "{text}");
    // One case called directly gives the same outcome.
    let caps = Capabilities::localstack();
    let names = detcloud_conformance::Namer::new();
    let outcome = detcloud_conformance::cases::database::db_cluster_lifecycle(&cloud, &caps, &names).await;
    assert!(matches!(outcome, Ok(Outcome::Skipped(ref why)) if why.contains("`rds`")), "{outcome:?}");
}

/// The probe finds every flag on for the fake (which models AWS), whatever profile it starts
/// from, and a flag off once its behaviour breaks (the simulator made unavailable).
#[tokio::test(start_paused = true)]
async fn the_probe_measures_every_flag_on_the_fake() {
    let cloud = FakeCloud::new(ACCOUNT);
    let caps = fake_caps(&cloud);
    let moto = Capabilities::moto().with_hosted_zone(caps.hosted_zone_id.clone().unwrap());
    let measured = probe(&cloud, &moto, &RunOptions::default()).await;
    print!("{measured}");
    assert!(measured.flags.iter().all(|(_, m)| *m == Measured::On), "{measured}");
    assert_eq!(measured.capabilities(&moto), caps);
    assert_eq!(measured.differences(&caps), Vec::<String>::new());
    assert_eq!(measured.differences(&moto).len(), 20, "{measured}");

    let unavailable = Error::Unavailable { message: "HTTP 500 (injected)".into() };
    cloud.faults().fail("iam:SimulatePrincipalPolicy", unavailable, 100);
    let measured = probe(&cloud, &caps, &RunOptions { filter: "iam::".into(), ..RunOptions::default() }).await;
    let simulator = measured.flags.iter().find(|(flag, _)| *flag == "policy_simulator").unwrap();
    assert!(matches!(&simulator.1, Measured::Off(why) if why.starts_with("iam::simulate_role_policy: ")), "{measured}");
    assert_eq!(measured.differences(&caps).len(), 1, "{measured}");
    let outside = measured.flags.iter().find(|(flag, _)| *flag == "rds").unwrap();
    assert!(matches!(&outside.1, Measured::Unmeasured(why) if why.contains("not run (filter)")), "{measured}");
}
