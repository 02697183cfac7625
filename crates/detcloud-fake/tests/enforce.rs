//! Identity-policy enforcement for assumed-role sessions, and the call log.

mod common;

use common::*;
use detcloud_fake::{CallRecord, FakeCloud};
use detcloud_policy::{Effect, PolicyDocument, Statement};
use detcloud_provider::Cloud;

const DEPLOYER: &str = "arn:aws:iam::111111111111:role/deployer";
const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/deployer/test-session";

/// The customer world and a session of the role `deployer` (trusted by the vendor, with `policy`
/// inline when given).
async fn session_with(policy: Option<PolicyDocument>) -> (FakeCloud, FakeCloud) {
    let admin = customer();
    let mut req = role("deployer");
    req.trust_policy = trust_aws(VENDOR_ROLE);
    admin.iam().create_role(req).await.unwrap();
    if let Some(policy) = policy {
        admin.iam().put_inline_policy("deployer", "inline", &policy).await.unwrap();
    }
    let session = admin.as_principal(VENDOR_ROLE).assume_role(assume(DEPLOYER, None)).await.unwrap();
    (admin, session)
}

#[tokio::test]
async fn a_missing_permission_is_denied_naming_the_action_until_granted() {
    let (admin, session) = session_with(Some(allow(&["iam:GetRole"], &["*"]))).await;
    let (action, message) = denied(session.iam().create_role(role("new-role")).await);
    assert_eq!(action.as_deref(), Some("iam:CreateRole"));
    assert_eq!(
        message,
        format!("User: {SESSION} is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/new-role because no identity-based policy allows the iam:CreateRole action")
    );
    assert!(admin.iam().get_role("new-role").await.unwrap_err().is_not_found());
    // Policies are evaluated at call time: granting takes effect for the running session.
    let grant = admin
        .iam()
        .create_policy(policy("create-roles", allow(&["iam:CreateRole"], &["arn:aws:iam::111111111111:role/*"])))
        .await
        .unwrap();
    admin.iam().attach_policy("deployer", &grant.arn).await.unwrap();
    session.iam().create_role(role("new-role")).await.unwrap();
    session.iam().get_role("new-role").await.unwrap();
    denied(session.iam().delete_role("new-role").await);
}

#[tokio::test]
async fn every_iam_call_is_checked_with_its_action_and_resource() {
    let (admin, session) = session_with(Some(allow(&["sts:GetCallerIdentity"], &["*"]))).await;
    admin.iam().create_role(role("target")).await.unwrap();
    let policy_arn = admin.iam().create_policy(policy("p", allow(&["s3:*"], &["*"]))).await.unwrap().arn;
    admin.iam().create_instance_profile("ip", "/x/", &Default::default()).await.unwrap();
    let role_arn = "arn:aws:iam::111111111111:role/target";
    let profile_arn = "arn:aws:iam::111111111111:instance-profile/x/ip";
    let iam = session.iam();
    let doc = allow(&["s3:*"], &["*"]);
    let t = tags(&[("a", "b")]);
    let cases: Vec<(&str, &str, detcloud_provider::Result<()>)> = vec![
        ("iam:GetRole", role_arn, iam.get_role("target").await.map(drop)),
        ("iam:UpdateAssumeRolePolicy", role_arn, iam.update_trust_policy("target", &trust_ec2()).await),
        ("iam:PutRolePermissionsBoundary", role_arn, iam.set_permissions_boundary("target", Some(&policy_arn)).await),
        ("iam:DeleteRolePermissionsBoundary", role_arn, iam.set_permissions_boundary("target", None).await),
        ("iam:DeleteRole", role_arn, iam.delete_role("target").await),
        ("iam:TagRole", role_arn, iam.tag_role("target", &t).await),
        ("iam:ListRoles", "arn:aws:iam::111111111111:role/", iam.list_roles("/").await.map(drop)),
        ("iam:ListRolePolicies", role_arn, iam.list_inline_policies("target").await.map(drop)),
        ("iam:GetRolePolicy", role_arn, iam.get_inline_policy("target", "x").await.map(drop)),
        ("iam:PutRolePolicy", role_arn, iam.put_inline_policy("target", "x", &doc).await),
        ("iam:DeleteRolePolicy", role_arn, iam.delete_inline_policy("target", "x").await),
        ("iam:ListAttachedRolePolicies", role_arn, iam.list_attached_policies("target").await.map(drop)),
        ("iam:AttachRolePolicy", role_arn, iam.attach_policy("target", &policy_arn).await),
        ("iam:DetachRolePolicy", role_arn, iam.detach_policy("target", &policy_arn).await),
        (
            "iam:CreatePolicy",
            "arn:aws:iam::111111111111:policy/q",
            iam.create_policy(policy("q", doc.clone())).await.map(drop),
        ),
        ("iam:GetPolicy", &policy_arn, iam.get_policy(&policy_arn).await.map(drop)),
        ("iam:GetPolicyVersion", &policy_arn, iam.get_policy_version(&policy_arn, "v1").await.map(drop)),
        ("iam:ListPolicyVersions", &policy_arn, iam.list_policy_versions(&policy_arn).await.map(drop)),
        ("iam:CreatePolicyVersion", &policy_arn, iam.create_policy_version(&policy_arn, &doc, true).await.map(drop)),
        ("iam:DeletePolicyVersion", &policy_arn, iam.delete_policy_version(&policy_arn, "v1").await),
        ("iam:DeletePolicy", &policy_arn, iam.delete_policy(&policy_arn).await),
        ("iam:TagPolicy", &policy_arn, iam.tag_policy(&policy_arn, &t).await),
        (
            "iam:CreateInstanceProfile",
            "arn:aws:iam::111111111111:instance-profile/ip2",
            iam.create_instance_profile("ip2", "/", &Default::default()).await.map(drop),
        ),
        ("iam:GetInstanceProfile", profile_arn, iam.get_instance_profile("ip").await.map(drop)),
        ("iam:AddRoleToInstanceProfile", profile_arn, iam.add_role_to_instance_profile("ip", "target").await),
        ("iam:RemoveRoleFromInstanceProfile", profile_arn, iam.remove_role_from_instance_profile("ip", "target").await),
        ("iam:DeleteInstanceProfile", profile_arn, iam.delete_instance_profile("ip").await),
        ("iam:TagInstanceProfile", profile_arn, iam.tag_instance_profile("ip", &t).await),
        ("sts:AssumeRole", role_arn, session.identity().assume_role(assume(role_arn, None)).await.map(drop)),
    ];
    for (expected, resource, result) in cases {
        let (action, message) = denied(result);
        assert_eq!(action.as_deref(), Some(expected));
        assert!(message.contains(&format!("perform: {expected} on resource: {resource} because")), "{message}");
    }
    // GetCallerIdentity needs no permission at all.
    session.identity().caller_identity().await.unwrap();
    // Nothing changed.
    assert_eq!(admin.iam().get_role("target").await.unwrap().permissions_boundary, None);
    admin.iam().get_instance_profile("ip").await.unwrap();
}

#[tokio::test]
async fn explicit_denies_and_boundaries_are_named() {
    let mut doc = allow(&["iam:*"], &["*"]);
    doc.statements.push(Statement { effect: Effect::Deny, ..Statement::allow(["iam:DeleteRole"], ["*"]) });
    let (admin, session) = session_with(Some(doc)).await;
    admin.iam().create_role(role("victim")).await.unwrap();
    let (_, message) = denied(session.iam().delete_role("victim").await);
    assert!(message.ends_with("with an explicit deny in an identity-based policy"), "{message}");

    let boundary =
        admin.iam().create_policy(policy("read-only", allow(&["iam:Get*", "iam:List*"], &["*"]))).await.unwrap().arn;
    admin.iam().set_permissions_boundary("deployer", Some(&boundary)).await.unwrap();
    session.iam().get_role("victim").await.unwrap();
    let (_, message) = denied(session.iam().tag_role("victim", &tags(&[("a", "b")])).await);
    assert!(message.ends_with("because no permissions boundary allows the iam:TagRole action"), "{message}");
}

#[tokio::test]
async fn resources_and_conditions_are_honoured() {
    let mut doc = allow(&["iam:CreateRole", "iam:TagRole"], &["arn:aws:iam::111111111111:role/det-*"]);
    doc.statements.push(allow_when("iam:DeleteRole", "aws:ResourceTag/detcloud:managed-by", "detcloud"));
    let (admin, session) = session_with(Some(doc)).await;
    denied(session.iam().create_role(role("other")).await);
    session.iam().create_role(role("det-one")).await.unwrap();

    // Tags on creation also need iam:TagRole.
    admin.iam().put_inline_policy("deployer", "inline", &allow(&["iam:CreateRole"], &["*"])).await.unwrap();
    let mut tagged = role("det-tagged");
    tagged.tags = tags(&[("detcloud:managed-by", "detcloud")]);
    let (action, _) = denied(session.iam().create_role(tagged.clone()).await);
    assert_eq!(action.as_deref(), Some("iam:TagRole"));
    admin.iam().create_role(tagged).await.unwrap();

    let mut doc = allow(&["iam:CreateRole"], &["*"]);
    doc.statements.push(allow_when("iam:DeleteRole", "aws:ResourceTag/detcloud:managed-by", "detcloud"));
    admin.iam().put_inline_policy("deployer", "inline", &doc).await.unwrap();
    denied(session.iam().delete_role("det-one").await);
    session.iam().delete_role("det-tagged").await.unwrap();
}

#[tokio::test]
async fn a_session_outlives_neither_its_role_nor_a_namesake() {
    let (admin, session) = session_with(Some(allow(&["iam:*"], &["*"]))).await;
    session.iam().list_roles("/").await.unwrap();
    admin.iam().delete_inline_policy("deployer", "inline").await.unwrap();
    admin.iam().delete_role("deployer").await.unwrap();
    denied(session.iam().list_roles("/").await);
    let mut again = role("deployer");
    again.trust_policy = trust_aws(VENDOR_ROLE);
    admin.iam().create_role(again).await.unwrap();
    admin.iam().put_inline_policy("deployer", "inline", &allow(&["iam:*"], &["*"])).await.unwrap();
    denied(session.iam().list_roles("/").await);
    // A principal of a stored role is held to the role's policies too.
    let role_itself = admin.as_principal(DEPLOYER);
    role_itself.iam().list_roles("/").await.unwrap();
    admin.iam().delete_inline_policy("deployer", "inline").await.unwrap();
    denied(role_itself.iam().list_roles("/").await);
}

#[tokio::test]
async fn the_call_log_records_every_call_and_the_actions_used() {
    let (admin, session) = session_with(Some(allow(&["iam:GetRole", "iam:CreateRole"], &["*"]))).await;
    admin.clear_calls();
    session.iam().get_role("deployer").await.unwrap();
    let mut tagged = role("x");
    tagged.tags = tags(&[("k", "v")]);
    denied(session.iam().create_role(tagged).await);
    denied(session.iam().delete_role("deployer").await);
    admin.iam().list_roles("/").await.unwrap();
    session.identity().caller_identity().await.unwrap();

    let calls = admin.calls();
    assert_eq!(calls.len(), 5);
    assert_eq!(
        calls[0],
        CallRecord {
            principal: SESSION.into(),
            action: "iam:GetRole",
            resource: DEPLOYER.into(),
            outcome: Ok(()),
            enforced: true,
        }
    );
    assert_eq!(calls[1].outcome, Err("AccessDenied".to_string()));
    assert_eq!(&*calls[3].principal, "arn:aws:iam::111111111111:user/admin");
    assert!(!calls[3].enforced);
    let used: Vec<String> = admin.actions_used().into_iter().collect();
    assert_eq!(used, ["iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:TagRole", "sts:GetCallerIdentity"]);
    admin.clear_calls();
    assert!(admin.calls().is_empty() && admin.actions_used().is_empty());
}
