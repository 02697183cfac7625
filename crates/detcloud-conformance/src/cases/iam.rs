//! IAM: roles, inline and managed policies, versions, attachments, instance profiles, tags.

use std::collections::BTreeSet;

use detcloud_policy::{PolicyDocument, Statement};
use detcloud_provider::{AttachedPolicy, Cloud, CreatePolicy, CreateRole, IamExt, Role, Tags};

use crate::fixtures::{account, account_trust, allow, ec2_trust, managed_policy, role, role_with_policy, IAM_PATH};
use crate::kit::{ensure, ensure_eq, expect_err, skipped, Ctx, Fail, Needs, Res, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer, RUN_TAG};

/// A distinct, valid policy document per `i`.
fn versioned_doc(i: u32) -> PolicyDocument {
    PolicyDocument::new(vec![Statement::allow(["s3:GetObject"], [format!("arn:aws:s3:::detcloud-conformance-{i}/*")])])
}

/// A request for a role named `name` under [`IAM_PATH`] with the run tag.
fn role_request(s: &Scope<'_>, name: &str) -> CreateRole {
    CreateRole {
        name: name.to_string(),
        path: IAM_PATH.to_string(),
        trust_policy: ec2_trust(),
        description: Some("detcloud conformance".into()),
        permissions_boundary: None,
        tags: s.tags(),
    }
}

/// A create that must fail: if it succeeds anyway, the role is tracked for cleanup.
async fn create_role_expecting(s: &Scope<'_>, request: CreateRole, want: Want, what: &str) -> Step<()> {
    match s.cloud.iam().create_role(request).await {
        Ok(role) => {
            s.track(Res::Role(role.name.clone()));
            Err(Fail(format!("{what}: expected Error::{want:?}, got Ok({role:?})")))
        }
        Err(e) => expect_err::<Role>(Err(e), want, what).map(|_| ()),
    }
}

/// Create, get (path, ARN, trust policy, description, tags), delete, then NotFound.
pub async fn role_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("role_lifecycle", cloud, caps, names);
    s.run(Needs::NONE, async {
        let account = account(&s).await?;
        let created = role(&s, ec2_trust()).await?;
        ensure_eq!(created.path, IAM_PATH, "create_role path");
        ensure_eq!(created.arn, format!("arn:aws:iam::{account}:role{IAM_PATH}{}", created.name), "create_role ARN");
        let iam = s.cloud.iam();
        let got = iam.get_role(&created.name).await.ctx("get_role")?;
        ensure_eq!(got.name, created.name, "get_role name");
        ensure_eq!(got.arn, created.arn, "get_role ARN");
        ensure_eq!(got.path, IAM_PATH, "get_role path");
        ensure!(got.trust_policy.semantically_eq(&ec2_trust()), "get_role trust policy differs: {}", got.trust_policy);
        ensure_eq!(got.description.as_deref(), Some("detcloud conformance"), "get_role description");
        ensure_eq!(got.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "get_role run tag");
        s.delete(&Res::Role(created.name.clone()), "delete_role").await?;
        expect_err(iam.get_role(&created.name).await, Want::NotFound, "get_role after delete_role")?;
        expect_err(iam.delete_role(&created.name).await, Want::NotFound, "delete_role twice")?;
        Ok(())
    })
    .await
}

/// A second role whose name differs only in case fails with AlreadyExists and changes nothing.
pub async fn role_names_case_insensitive(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.iam_case_insensitive_names {
        return skipped("iam_case_insensitive_names", "the endpoint treats `Role` and `ROLE` as different roles");
    }
    let s = Scope::new("role_names_case_insensitive", cloud, caps, names);
    s.run(Needs::NONE, async {
        let original = role(&s, ec2_trust()).await?;
        let mut duplicate = role_request(&s, &original.name.to_uppercase());
        duplicate.description = Some("the duplicate".into());
        create_role_expecting(&s, duplicate, Want::AlreadyExists, "create_role with the name in upper case").await?;
        let mut same = role_request(&s, &original.name);
        same.description = Some("the duplicate".into());
        create_role_expecting(&s, same, Want::AlreadyExists, "create_role with the same name").await?;
        let got = s.cloud.iam().get_role(&original.name).await.ctx("get_role")?;
        ensure_eq!(got.description.as_deref(), Some("detcloud conformance"), "the original's description");
        Ok(())
    })
    .await
}

/// The same name twice fails with AlreadyExists (even where case is significant).
pub async fn role_duplicate_already_exists(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("role_duplicate_already_exists", cloud, caps, names);
    s.run(Needs::NONE, async {
        let original = role(&s, ec2_trust()).await?;
        create_role_expecting(&s, role_request(&s, &original.name), Want::AlreadyExists, "create_role twice").await?;
        Ok(())
    })
    .await
}

/// Names longer than 64 characters or with spaces fail with InvalidInput.
pub async fn role_name_validated(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.iam_validates_names {
        return skipped("iam_validates_names", "the endpoint accepts role names IAM rejects");
    }
    let s = Scope::new("role_name_validated", cloud, caps, names);
    s.run(Needs::NONE, async {
        let long = format!("{}-{}", s.name("long"), "x".repeat(64));
        create_role_expecting(&s, role_request(&s, &long), Want::InvalidInput, "create_role with 65+ characters")
            .await?;
        let spaced = format!("{} bad!", s.name("bad"));
        create_role_expecting(&s, role_request(&s, &spaced), Want::InvalidInput, "create_role with a space").await?;
        Ok(())
    })
    .await
}

/// Reads and deletes of roles, policies and profiles that do not exist fail with NotFound.
pub async fn missing_entities_not_found(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("missing_entities_not_found", cloud, caps, names);
    s.run(Needs::NONE, async {
        let account = account(&s).await?;
        let missing = s.name("missing");
        let iam = s.cloud.iam();
        expect_err(iam.get_role(&missing).await, Want::NotFound, "get_role")?;
        expect_err(iam.delete_role(&missing).await, Want::NotFound, "delete_role")?;
        expect_err(iam.list_inline_policies(&missing).await, Want::NotFound, "list_inline_policies")?;
        expect_err(iam.list_attached_policies(&missing).await, Want::NotFound, "list_attached_policies")?;
        let arn = format!("arn:aws:iam::{account}:policy{IAM_PATH}{missing}");
        expect_err(iam.get_policy(&arn).await, Want::NotFound, "get_policy")?;
        expect_err(iam.delete_policy(&arn).await, Want::NotFound, "delete_policy")?;
        expect_err(iam.get_instance_profile(&missing).await, Want::NotFound, "get_instance_profile")?;
        expect_err(iam.delete_instance_profile(&missing).await, Want::NotFound, "delete_instance_profile")?;
        Ok(())
    })
    .await
}

/// A role with an attached or inline policy cannot be deleted (DependencyViolation, nothing
/// changes); once both are removed, it can.
pub async fn delete_conflicts(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("delete_conflicts", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let (policy, role, attachment) = role_with_policy(&s, allow(&["s3:ListAllMyBuckets"])).await?;
        expect_err(iam.delete_role(&role.name).await, Want::DependencyViolation, "delete_role with a policy attached")?;
        iam.get_role(&role.name).await.ctx("get_role after the refused delete")?;
        s.delete(&attachment, "detach_policy").await?;

        iam.put_inline_policy(&role.name, "inline", &allow(&["s3:ListAllMyBuckets"])).await.ctx("put_inline_policy")?;
        let inline = Res::InlinePolicy { role: role.name.clone(), name: "inline".into() };
        s.track(inline.clone());
        expect_err(iam.delete_role(&role.name).await, Want::DependencyViolation, "delete_role with an inline policy")?;
        s.delete(&inline, "delete_inline_policy").await?;

        s.delete(&Res::Role(role.name.clone()), "delete_role once free").await?;
        iam.delete_policy(&policy.arn).await.ctx("delete_policy once detached")?;
        s.forget(&Res::Policy(policy.arn.clone()));
        Ok(())
    })
    .await
}

/// Inline policies: put, list, get (decoded), replace, delete; a missing one is NotFound.
pub async fn inline_policies(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("inline_policies", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let role = role(&s, ec2_trust()).await?;
        for (name, i) in [("a", 1), ("b", 2)] {
            iam.put_inline_policy(&role.name, name, &versioned_doc(i)).await.ctx("put_inline_policy")?;
            s.track(Res::InlinePolicy { role: role.name.clone(), name: name.into() });
        }
        let listed: BTreeSet<String> =
            iam.list_inline_policies(&role.name).await.ctx("list_inline_policies")?.into_iter().collect();
        ensure_eq!(listed, BTreeSet::from(["a".to_string(), "b".to_string()]), "list_inline_policies");
        let a = iam.get_inline_policy(&role.name, "a").await.ctx("get_inline_policy")?;
        ensure!(a.semantically_eq(&versioned_doc(1)), "get_inline_policy differs: {a}");
        iam.put_inline_policy(&role.name, "a", &versioned_doc(3)).await.ctx("put_inline_policy (replace)")?;
        let a = iam.get_inline_policy(&role.name, "a").await.ctx("get_inline_policy after replace")?;
        ensure!(a.semantically_eq(&versioned_doc(3)), "the replaced inline policy differs: {a}");
        s.delete(&Res::InlinePolicy { role: role.name.clone(), name: "b".into() }, "delete_inline_policy").await?;
        let listed = iam.list_inline_policies(&role.name).await.ctx("list_inline_policies after delete")?;
        ensure_eq!(listed, vec!["a".to_string()], "list_inline_policies after delete");
        expect_err(iam.get_inline_policy(&role.name, "b").await, Want::NotFound, "get_inline_policy of a deleted one")?;
        expect_err(iam.delete_inline_policy(&role.name, "b").await, Want::NotFound, "delete_inline_policy twice")?;
        Ok(())
    })
    .await
}

/// Attaching twice is not an error and lists once; AWS managed policies attach too; detaching
/// what is not attached fails with NotFound.
pub async fn attach_detach(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("attach_detach", cloud, caps, names);
    s.run(Needs::NONE, async {
        const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        let iam = s.cloud.iam();
        let policy = managed_policy(&s, allow(&["s3:ListAllMyBuckets"])).await?;
        let role = role(&s, ec2_trust()).await?;
        let arns = [policy.arn.clone(), READ_ONLY.to_string()];
        for arn in &arns {
            iam.attach_policy(&role.name, arn).await.ctx("attach_policy")?;
            s.track(Res::Attachment { role: role.name.clone(), policy_arn: arn.clone() });
        }
        ensure_eq!(iam.get_policy(&policy.arn).await.ctx("get_policy")?.attachment_count, 1, "attachment_count");
        iam.attach_policy(&role.name, &policy.arn).await.ctx("attach_policy of an attached policy")?;
        let mut attached = iam.list_attached_policies(&role.name).await.ctx("list_attached_policies")?;
        attached.sort();
        let mut want = vec![
            AttachedPolicy { name: policy.name.clone(), arn: policy.arn.clone() },
            AttachedPolicy { name: "ReadOnlyAccess".into(), arn: READ_ONLY.into() },
        ];
        want.sort();
        ensure_eq!(attached, want, "list_attached_policies after attaching one of them twice");
        for arn in &arns {
            s.delete(&Res::Attachment { role: role.name.clone(), policy_arn: arn.clone() }, "detach_policy").await?;
        }
        ensure!(
            iam.list_attached_policies(&role.name).await.ctx("list_attached_policies")?.is_empty(),
            "still attached"
        );
        expect_err(iam.detach_policy(&role.name, &policy.arn).await, Want::NotFound, "detach_policy twice")?;
        Ok(())
    })
    .await
}

/// Five versions at most: a sixth fails with QuotaExceeded; `replace_policy_document` prunes the
/// oldest non-default version and makes the new one the default; the default cannot be deleted.
pub async fn policy_versions(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("policy_versions", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let policy = managed_policy(&s, versioned_doc(1)).await?;
        ensure_eq!(policy.default_version_id, "v1", "a new policy's default version");
        let mut ids = vec![policy.default_version_id.clone()];
        for i in 2..=5 {
            let id =
                iam.create_policy_version(&policy.arn, &versioned_doc(i), false).await.ctx("create_policy_version")?;
            ensure!(!ids.contains(&id), "create_policy_version reused id {id}");
            ids.push(id);
        }
        let versions = iam.list_policy_versions(&policy.arn).await.ctx("list_policy_versions")?;
        ensure_eq!(versions.len(), 5, "versions after four more");
        let defaults: Vec<&str> = versions.iter().filter(|v| v.is_default).map(|v| v.version_id.as_str()).collect();
        ensure_eq!(defaults, vec!["v1"], "default versions");
        expect_err(
            iam.create_policy_version(&policy.arn, &versioned_doc(6), false).await,
            Want::QuotaExceeded,
            "create_policy_version of a sixth",
        )?;
        ensure_eq!(
            iam.list_policy_versions(&policy.arn).await.ctx("list_policy_versions")?.len(),
            5,
            "versions after the refused sixth"
        );

        let new = iam.replace_policy_document(&policy.arn, &versioned_doc(7)).await.ctx("replace_policy_document")?;
        ensure!(!ids.contains(&new), "replace_policy_document reused id {new}");
        let versions = iam.list_policy_versions(&policy.arn).await.ctx("list_policy_versions")?;
        let listed: BTreeSet<&str> = versions.iter().map(|v| v.version_id.as_str()).collect();
        let want: BTreeSet<&str> = [ids[0].as_str(), &ids[2], &ids[3], &ids[4], &new].into_iter().collect();
        ensure_eq!(listed, want, "versions after replace_policy_document (the oldest non-default pruned)");
        ensure!(versions.iter().any(|v| v.version_id == new && v.is_default), "{new} is not the default: {versions:?}");
        ensure_eq!(iam.get_policy(&policy.arn).await.ctx("get_policy")?.default_version_id, new, "default_version_id");
        let document = iam.get_policy_document(&policy.arn).await.ctx("get_policy_document")?;
        ensure!(document.semantically_eq(&versioned_doc(7)), "the default document differs: {document}");
        let v1 = iam.get_policy_version(&policy.arn, &ids[0]).await.ctx("get_policy_version v1")?;
        ensure!(v1.semantically_eq(&versioned_doc(1)), "v1 differs: {v1}");
        let missing = iam.get_policy_version(&policy.arn, &ids[1]).await;
        expect_err(missing, Want::NotFound, "get_policy_version of the pruned")?;
        expect_err(
            iam.delete_policy_version(&policy.arn, &new).await,
            Want::DependencyViolation,
            "delete_policy_version of the default",
        )?;
        Ok(())
    })
    .await
}

/// `delete_policy` refuses while the policy is attached and while it has non-default versions
/// (DependencyViolation); detached, `delete_policy_with_versions` deletes it.
pub async fn delete_policy_conflicts(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.delete_policy_checks_dependents {
        return skipped("delete_policy_checks_dependents", "the endpoint deletes attached and versioned policies");
    }
    let s = Scope::new("delete_policy_conflicts", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let (policy, _, attachment) = role_with_policy(&s, versioned_doc(1)).await?;
        expect_err(iam.delete_policy(&policy.arn).await, Want::DependencyViolation, "delete_policy while attached")?;
        ensure_eq!(iam.get_policy(&policy.arn).await.ctx("get_policy")?.attachment_count, 1, "attachment_count");
        s.delete(&attachment, "detach_policy").await?;
        iam.create_policy_version(&policy.arn, &versioned_doc(2), false).await.ctx("create_policy_version")?;
        expect_err(iam.delete_policy(&policy.arn).await, Want::DependencyViolation, "delete_policy with two versions")?;
        s.delete(&Res::Policy(policy.arn.clone()), "delete_policy_with_versions").await?;
        expect_err(iam.get_policy(&policy.arn).await, Want::NotFound, "get_policy after delete")?;
        Ok(())
    })
    .await
}

/// A profile holds one role (a second: QuotaExceeded); a role in a profile and a profile with a
/// role cannot be deleted (DependencyViolation); a duplicate profile fails with AlreadyExists.
pub async fn instance_profile_roles(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("instance_profile_roles", cloud, caps, names);
    s.run(Needs::NONE, async {
        let account = account(&s).await?;
        let iam = s.cloud.iam();
        let first = role(&s, ec2_trust()).await?;
        let second = role(&s, ec2_trust()).await?;
        let name = s.name("profile");
        let profile = iam.create_instance_profile(&name, IAM_PATH, &s.tags()).await.ctx("create_instance_profile")?;
        s.track(Res::InstanceProfile(name.clone()));
        ensure_eq!(profile.arn, format!("arn:aws:iam::{account}:instance-profile{IAM_PATH}{name}"), "profile ARN");
        ensure!(profile.roles.is_empty(), "a new profile holds {:?}", profile.roles);
        expect_err(
            iam.create_instance_profile(&name, IAM_PATH, &s.tags()).await,
            Want::AlreadyExists,
            "create_instance_profile twice",
        )?;

        iam.add_role_to_instance_profile(&name, &first.name).await.ctx("add_role_to_instance_profile")?;
        let membership = Res::ProfileRole { profile: name.clone(), role: first.name.clone() };
        s.track(membership.clone());
        let got = iam.get_instance_profile(&name).await.ctx("get_instance_profile")?;
        ensure_eq!(got.roles, vec![first.name.clone()], "roles in the profile");
        ensure_eq!(got.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "profile run tag");
        expect_err(
            iam.add_role_to_instance_profile(&name, &second.name).await,
            Want::QuotaExceeded,
            "add_role_to_instance_profile of a second role",
        )?;
        expect_err(
            iam.delete_role(&first.name).await,
            Want::DependencyViolation,
            "delete_role of a role in a profile",
        )?;
        expect_err(
            iam.delete_instance_profile(&name).await,
            Want::DependencyViolation,
            "delete_instance_profile with a role",
        )?;

        s.delete(&membership, "remove_role_from_instance_profile").await?;
        ensure!(
            iam.get_instance_profile(&name).await.ctx("get_instance_profile")?.roles.is_empty(),
            "the role is still in"
        );
        s.delete(&Res::InstanceProfile(name.clone()), "delete_instance_profile").await?;
        expect_err(iam.get_instance_profile(&name).await, Want::NotFound, "get_instance_profile after delete")?;
        Ok(())
    })
    .await
}

/// Removing a role that is not in the profile fails with NotFound.
pub async fn remove_missing_role_from_profile(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.strict_remove_role_from_profile {
        return skipped("strict_remove_role_from_profile", "the endpoint answers HTTP 500 instead of NoSuchEntity");
    }
    let s = Scope::new("remove_missing_role_from_profile", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let role = role(&s, ec2_trust()).await?;
        let name = s.name("profile");
        iam.create_instance_profile(&name, IAM_PATH, &s.tags()).await.ctx("create_instance_profile")?;
        s.track(Res::InstanceProfile(name.clone()));
        let missing = iam.remove_role_from_instance_profile(&name, &role.name).await;
        expect_err(missing, Want::NotFound, "remove_role_from_instance_profile of a role not in it")?;
        Ok(())
    })
    .await
}

/// Tags given at creation and added later (overwriting) read back on roles, policies and profiles.
pub async fn tags_round_trip(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("tags_round_trip", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let mut request = role_request(&s, &s.name("role"));
        request.tags = s.tags_with("dcc:color", "red");
        let role = iam.create_role(request).await.ctx("create_role")?;
        s.track(Res::Role(role.name.clone()));
        let added =
            s.tags_with("dcc:color", "blue").into_iter().chain([("dcc:size".to_string(), "xl".to_string())]).collect();
        iam.tag_role(&role.name, &added).await.ctx("tag_role")?;
        ensure_eq!(iam.get_role(&role.name).await.ctx("get_role")?.tags, added, "role tags");

        let policy = iam
            .create_policy(CreatePolicy {
                name: s.name("policy"),
                path: IAM_PATH.into(),
                document: allow(&["s3:ListAllMyBuckets"]),
                description: None,
                tags: s.tags_with("dcc:color", "red"),
            })
            .await
            .ctx("create_policy")?;
        s.track(Res::Policy(policy.arn.clone()));
        ensure_eq!(policy.tags, s.tags_with("dcc:color", "red"), "create_policy tags");
        iam.tag_policy(&policy.arn, &s.tags_with("dcc:color", "green")).await.ctx("tag_policy")?;
        ensure_eq!(
            iam.get_policy(&policy.arn).await.ctx("get_policy")?.tags,
            s.tags_with("dcc:color", "green"),
            "policy tags"
        );

        let profile = s.name("profile");
        iam.create_instance_profile(&profile, IAM_PATH, &s.tags_with("dcc:color", "red"))
            .await
            .ctx("create_instance_profile")?;
        s.track(Res::InstanceProfile(profile.clone()));
        iam.tag_instance_profile(&profile, &s.tags_with("dcc:shape", "round")).await.ctx("tag_instance_profile")?;
        let want: Tags = s
            .tags_with("dcc:color", "red")
            .into_iter()
            .chain([("dcc:shape".to_string(), "round".to_string())])
            .collect();
        ensure_eq!(iam.get_instance_profile(&profile).await.ctx("get_instance_profile")?.tags, want, "profile tags");
        Ok(())
    })
    .await
}

/// `list_roles(prefix)` returns exactly the roles under that path.
pub async fn list_roles_by_path(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("list_roles_by_path", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let path = format!("{IAM_PATH}{}/", s.name("path"));
        let mut want = BTreeSet::new();
        for _ in 0..2 {
            let mut request = role_request(&s, &s.name("role"));
            request.path = path.clone();
            let role = iam.create_role(request).await.ctx("create_role under a path")?;
            s.track(Res::Role(role.name.clone()));
            want.insert(role.name);
        }
        role(&s, ec2_trust()).await?; // a sibling outside the path
        let listed = iam.list_roles(&path).await.ctx("list_roles")?;
        let got: BTreeSet<String> = listed.iter().map(|r| r.name.clone()).collect();
        ensure_eq!(got, want, "list_roles({path})");
        ensure!(
            listed.iter().all(|r| r.path == path),
            "paths: {:?}",
            listed.iter().map(|r| &r.path).collect::<Vec<_>>()
        );
        let all = iam.list_roles(IAM_PATH).await.ctx("list_roles of the parent path")?;
        ensure!(want.iter().all(|n| all.iter().any(|r| &r.name == n)), "the parent path does not list its children");
        Ok(())
    })
    .await
}

/// `update_trust_policy` replaces the trust policy; a permissions boundary is set and removed.
pub async fn trust_policy_and_boundary(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("trust_policy_and_boundary", cloud, caps, names);
    s.run(Needs::NONE, async {
        let account = account(&s).await?;
        let iam = s.cloud.iam();
        let boundary = managed_policy(&s, allow(&["s3:*", "ec2:Describe*"])).await?;
        let role = role(&s, ec2_trust()).await?;
        let trust = account_trust(&account, Some("tenant"));
        iam.update_trust_policy(&role.name, &trust).await.ctx("update_trust_policy")?;
        let got = iam.get_role(&role.name).await.ctx("get_role")?;
        ensure!(got.trust_policy.semantically_eq(&trust), "trust policy after update: {}", got.trust_policy);
        iam.set_permissions_boundary(&role.name, Some(&boundary.arn)).await.ctx("set_permissions_boundary")?;
        let got = iam.get_role(&role.name).await.ctx("get_role")?;
        ensure_eq!(got.permissions_boundary.as_deref(), Some(boundary.arn.as_str()), "permissions boundary");
        iam.set_permissions_boundary(&role.name, None).await.ctx("set_permissions_boundary(None)")?;
        ensure_eq!(
            iam.get_role(&role.name).await.ctx("get_role")?.permissions_boundary,
            None,
            "boundary after removal"
        );
        Ok(())
    })
    .await
}

/// Documents IAM would reject (no action; an action without a service prefix) fail with
/// InvalidInput, for managed and inline policies alike.
pub async fn malformed_policy_rejected(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("malformed_policy_rejected", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let role = role(&s, ec2_trust()).await?;
        let mut no_action = Statement::allow(["s3:GetObject"], ["*"]);
        no_action.action = None;
        let bad = [
            ("a statement without Action", PolicyDocument::new(vec![no_action])),
            ("an action without a service prefix", allow(&["GetObject"])),
        ];
        let mut problems = Vec::new();
        for (what, document) in &bad {
            let request = CreatePolicy {
                name: s.name("badpolicy"),
                path: IAM_PATH.into(),
                document: document.clone(),
                description: None,
                tags: s.tags(),
            };
            let created = iam.create_policy(request).await;
            if let Ok(p) = &created {
                s.track(Res::Policy(p.arn.clone()));
            }
            if let Err(Fail(m)) = expect_err(created, Want::InvalidInput, &format!("create_policy with {what}")) {
                problems.push(m);
            }
            let inline = iam.put_inline_policy(&role.name, "bad", document).await;
            if inline.is_ok() {
                s.track(Res::InlinePolicy { role: role.name.clone(), name: "bad".into() });
            }
            if let Err(Fail(m)) = expect_err(inline, Want::InvalidInput, &format!("put_inline_policy with {what}")) {
                problems.push(m);
            }
        }
        ensure!(problems.is_empty(), "{}", problems.join("; "));
        Ok(())
    })
    .await
}

/// `simulate_role_policy` reports allowed for a granted action and implicitDeny for another.
pub async fn simulate_role_policy(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.policy_simulator {
        return skipped("policy_simulator", "the endpoint does not implement iam:SimulatePrincipalPolicy");
    }
    let s = Scope::new("simulate_role_policy", cloud, caps, names);
    s.run(Needs::NONE, async {
        let iam = s.cloud.iam();
        let role = role(&s, ec2_trust()).await?;
        iam.put_inline_policy(&role.name, "describe", &allow(&["ec2:DescribeVpcs"])).await.ctx("put_inline_policy")?;
        s.track(Res::InlinePolicy { role: role.name.clone(), name: "describe".into() });
        let actions = vec!["ec2:DescribeVpcs".to_string(), "ec2:RunInstances".to_string()];
        let decisions = iam.simulate_role_policy(&role.arn, &actions, "*").await.ctx("simulate_role_policy")?;
        ensure_eq!(decisions.len(), 2, "decisions");
        let of = |action: &str| decisions.iter().find(|d| d.action == action);
        let describe =
            of("ec2:DescribeVpcs").ok_or_else(|| Fail(format!("no decision for ec2:DescribeVpcs: {decisions:?}")))?;
        ensure!(describe.allowed && describe.decision == "allowed", "ec2:DescribeVpcs: {describe:?}");
        let run =
            of("ec2:RunInstances").ok_or_else(|| Fail(format!("no decision for ec2:RunInstances: {decisions:?}")))?;
        ensure!(!run.allowed && run.decision == "implicitDeny", "ec2:RunInstances: {run:?}");
        Ok(())
    })
    .await
}
