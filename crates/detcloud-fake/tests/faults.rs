//! Fault injection: planned failures, delays, seeded random failures.

mod common;

use std::time::Duration;

use common::*;
use detcloud_fake::FakeCloud;
use detcloud_provider::{Cloud, Error};

fn throttled() -> Error {
    Error::Throttled { message: "Rate exceeded".into() }
}

#[tokio::test]
async fn fail_twice_then_succeed_without_side_effects() {
    let cloud = customer();
    cloud.faults().fail("iam:CreateRole", throttled(), 2);
    let before = cloud.to_json();
    assert_eq!(cloud.iam().create_role(role("r")).await.unwrap_err(), throttled());
    assert_eq!(cloud.iam().create_role(role("r")).await.unwrap_err(), throttled());
    // Nothing was created, no id was drawn.
    assert_eq!(cloud.to_json(), before);
    assert!(cloud.iam().get_role("r").await.unwrap_err().is_not_found());
    cloud.iam().create_role(role("r")).await.unwrap();
    assert_eq!(cloud.faults().injected("iam:CreateRole"), 2);
    assert_eq!(cloud.faults().injected("IAM:createrole"), 2);
    assert_eq!(cloud.faults().injected("iam:GetRole"), 0);
    let outcomes: Vec<_> =
        cloud.calls().into_iter().filter(|c| c.action == "iam:CreateRole").map(|c| c.outcome).collect();
    assert_eq!(outcomes, [Err("Throttling".to_string()), Err("Throttling".to_string()), Ok(())]);
}

#[tokio::test]
async fn failures_apply_to_deletes_before_any_effect_and_queue_up() {
    let cloud = customer();
    cloud.iam().create_role(role("r")).await.unwrap();
    cloud.faults().fail("iam:DeleteRole", Error::Unavailable { message: "boom".into() }, 1).fail(
        "iam:DeleteRole",
        throttled(),
        1,
    );
    assert!(matches!(cloud.iam().delete_role("r").await, Err(Error::Unavailable { .. })));
    assert!(matches!(cloud.iam().delete_role("r").await, Err(Error::Throttled { .. })));
    cloud.iam().get_role("r").await.unwrap();
    cloud.iam().delete_role("r").await.unwrap();
    // Faults come before authorization: a denied caller sees them too, and they are shared by
    // every view of the world.
    let vendor = cloud.as_principal(VENDOR_ROLE);
    cloud.faults().fail("sts:AssumeRole", throttled(), 1);
    assert_eq!(
        vendor.identity().assume_role(assume("arn:aws:iam::111111111111:role/r", None)).await.unwrap_err(),
        throttled()
    );
    denied(vendor.identity().assume_role(assume("arn:aws:iam::111111111111:role/r", None)).await);
    assert_eq!(vendor.faults().injected("*"), 3);
}

#[tokio::test]
async fn delays_use_tokio_time() {
    tokio::time::pause();
    let cloud = customer();
    cloud.faults().delay("iam:GetRole", Duration::from_secs(30));
    let start = tokio::time::Instant::now();
    assert!(cloud.iam().get_role("nope").await.unwrap_err().is_not_found());
    assert!(start.elapsed() >= Duration::from_secs(30));
    let start = tokio::time::Instant::now();
    cloud.iam().list_roles("/").await.unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
    cloud.faults().delay("*", Duration::from_secs(5));
    let start = tokio::time::Instant::now();
    cloud.iam().list_roles("/").await.unwrap();
    assert_eq!(start.elapsed().as_secs(), 5);
    cloud.faults().clear();
    let start = tokio::time::Instant::now();
    cloud.iam().get_role("nope").await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(cloud.faults().injected("*"), 0);
}

async fn random_pattern(seed: u64) -> Vec<bool> {
    let cloud = customer();
    cloud.faults().random(0.5, seed, vec![throttled(), Error::Unavailable { message: "5xx".into() }]);
    let mut pattern = Vec::new();
    for _ in 0..64 {
        let r = cloud.iam().list_roles("/").await;
        if let Err(e) = &r {
            assert!(e.is_retryable());
        }
        pattern.push(r.is_err());
    }
    assert_eq!(cloud.faults().injected("iam:ListRoles") as usize, pattern.iter().filter(|f| **f).count());
    pattern
}

#[tokio::test]
async fn random_failures_are_seeded() {
    let a = random_pattern(42).await;
    assert_eq!(a, random_pattern(42).await);
    assert_ne!(a, random_pattern(43).await);
    let failures = a.iter().filter(|f| **f).count();
    assert!((16..=48).contains(&failures), "{failures}");

    let cloud = FakeCloud::new(CUSTOMER);
    cloud.faults().random(1.0, 1, vec![]);
    assert!(matches!(cloud.identity().caller_identity().await, Err(Error::Throttled { .. })));
    cloud.faults().random(0.0, 1, vec![]);
    cloud.identity().caller_identity().await.unwrap();
}
