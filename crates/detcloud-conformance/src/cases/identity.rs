//! Identity (STS): who the caller is, and becoming a role.

use std::time::{Duration, SystemTime};

use detcloud_provider::{AssumeRoleRequest, Cloud, Error, Role, SessionCredentials};

use crate::fixtures::{account, account_trust, role};
use crate::kit::{ensure, ensure_eq, expect_err, skipped, Backoff, Ctx, Fail, Needs, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer};

/// How long a new role may take to become assumable (IAM propagation).
const PROPAGATION: Duration = Duration::from_secs(90);

fn request(role: &Role, external_id: Option<&str>) -> AssumeRoleRequest {
    AssumeRoleRequest {
        role_arn: role.arn.clone(),
        session_name: "detcloud-conformance".into(),
        external_id: external_id.map(str::to_string),
        duration: None,
    }
}

/// Assumes with the right request, retrying AccessDenied while the new role propagates.
async fn assume_when_propagated(s: &Scope<'_>, request: &AssumeRoleRequest) -> Step<SessionCredentials> {
    let mut backoff = Backoff::new("a new role to become assumable", PROPAGATION);
    loop {
        match s.cloud.identity().assume_role(request.clone()).await {
            Ok(credentials) => return Ok(credentials),
            Err(e @ Error::AccessDenied { .. }) => backoff.wait(e).await?,
            Err(e) => return Err(Fail(format!("assume_role with the right external id: unexpected error {e:?}"))),
        }
    }
}

/// `caller_identity` answers a 12-digit account, an ARN and a user id; the region is set.
pub async fn caller_identity(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("caller_identity", cloud, caps, names);
    s.run(Needs::NONE, async {
        let me = s.cloud.identity().caller_identity().await.ctx("caller_identity")?;
        ensure!(me.account.len() == 12 && me.account.bytes().all(|b| b.is_ascii_digit()), "account {:?}", me.account);
        ensure!(me.arn.starts_with("arn:aws:"), "caller ARN {:?}", me.arn);
        ensure!(me.arn.contains(&me.account), "caller ARN {:?} does not name account {}", me.arn, me.account);
        ensure!(!me.user_id.is_empty(), "empty user id");
        ensure!(!s.cloud.region().is_empty(), "Cloud::region() is empty");
        Ok(())
    })
    .await
}

/// `assume_role` with the external id the trust policy requires gives credentials for a session of
/// that role, and `Cloud::assume_role` gives a cloud that calls as that session.
pub async fn assume_role(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("assume_role", cloud, caps, names);
    s.run(Needs::NONE, async {
        let before = s.cloud.identity().caller_identity().await.ctx("caller_identity")?;
        let account = before.account.clone();
        let external_id = format!("{}-tenant", s.run_id());
        let role = role(&s, account_trust(&account, Some(&external_id))).await?;
        let request = request(&role, Some(&external_id));
        let credentials = assume_when_propagated(&s, &request).await?;
        ensure!(!credentials.access_key_id.is_empty(), "empty access key id");
        ensure!(!credentials.secret_access_key.expose().is_empty(), "empty secret access key");
        ensure!(!credentials.session_token.expose().is_empty(), "empty session token");
        ensure!(
            credentials.expiration.is_some_and(|t| t > SystemTime::now()),
            "expiration {:?} is not in the future",
            credentials.expiration
        );
        let session_suffix = format!("assumed-role/{}/detcloud-conformance", role.name);
        ensure!(
            credentials.assumed_role_arn.ends_with(&session_suffix),
            "assumed_role_arn {:?} does not end with {session_suffix}",
            credentials.assumed_role_arn
        );
        let session = s.cloud.assume_role(request).await.ctx("Cloud::assume_role")?;
        let me = session.identity().caller_identity().await.ctx("caller_identity of the session")?;
        ensure!(me.arn.ends_with(&session_suffix), "the session calls as {:?}, not as {session_suffix}", me.arn);
        ensure_eq!(me.account, account, "the session's account");
        // The original cloud is unchanged.
        let after = s.cloud.identity().caller_identity().await.ctx("caller_identity after assume_role")?;
        ensure_eq!(after, before, "the original cloud's identity after assume_role");
        Ok(())
    })
    .await
}

/// A trust policy that requires an external id refuses a request without it and one with the wrong
/// one (AccessDenied).
pub async fn assume_role_external_id_enforced(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.enforces_trust_policy {
        return skipped("enforces_trust_policy", "the endpoint ignores trust policies and external ids");
    }
    let s = Scope::new("assume_role_external_id_enforced", cloud, caps, names);
    s.run(Needs::NONE, async {
        let account = account(&s).await?;
        let external_id = format!("{}-tenant", s.run_id());
        let role = role(&s, account_trust(&account, Some(&external_id))).await?;
        // First prove the role is assumable at all, so that a refusal below is the trust policy's.
        assume_when_propagated(&s, &request(&role, Some(&external_id))).await?;
        let ids = s.cloud.identity();
        expect_err(ids.assume_role(request(&role, None)).await, Want::AccessDenied, "assume_role without external id")?;
        expect_err(
            ids.assume_role(request(&role, Some("someone-else"))).await,
            Want::AccessDenied,
            "assume_role with the wrong external id",
        )?;
        Ok(())
    })
    .await
}

/// Assuming a role that does not exist fails with AccessDenied, never NotFound.
pub async fn assume_missing_role_denied(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.enforces_trust_policy {
        return skipped("enforces_trust_policy", "the endpoint hands out credentials for roles that do not exist");
    }
    let s = Scope::new("assume_missing_role_denied", cloud, caps, names);
    s.run(Needs::NONE, async {
        let account = account(&s).await?;
        let arn = format!("arn:aws:iam::{account}:role/{}", s.name("missing"));
        let request = AssumeRoleRequest {
            role_arn: arn,
            session_name: "detcloud-conformance".into(),
            external_id: None,
            duration: None,
        };
        expect_err(s.cloud.identity().assume_role(request).await, Want::AccessDenied, "assume_role of a missing role")?;
        Ok(())
    })
    .await
}
