//! Picks the backend: the sandbox (in-memory fake, persisted) or AWS.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use detcloud_aws::{AwsCloud, AwsOptions};
use detcloud_fake::FakeCloud;
use detcloud_provider::Cloud;
use detcloud_retry::Retrying;

use crate::exit::{CliError, Code};
use crate::GlobalArgs;

/// The account id of a new sandbox (the spec's example account).
pub(crate) const SANDBOX_ACCOUNT_ID: &str = "123456789012";

/// A backend for one command; `finish` persists the sandbox. Every call of its cloud retries
/// throttling, 5xx and timeouts ([`Retrying`]).
pub(crate) struct Backend {
    pub(crate) cloud: Arc<dyn Cloud>,
    /// The same cloud without the retrying wrapper (for callers that wrap calls themselves).
    raw: Arc<dyn Cloud>,
    sandbox: Option<(FakeCloud, PathBuf)>,
}

impl Backend {
    /// Opens the backend the global flags ask for.
    pub(crate) async fn open(global: &GlobalArgs) -> Result<Backend, CliError> {
        if global.sandbox {
            let path = match &global.sandbox_state {
                Some(p) => p.clone(),
                None => default_state_path()?,
            };
            let caller = match &global.sandbox_caller {
                Some(arn) => Some(validate_principal(arn)?),
                None => None,
            };
            tracing::info!(state = %path.display(), caller = caller.as_deref().unwrap_or("administrator"), "using the sandbox");
            let fake = load_sandbox(&path)?;
            // In the sandbox, resources are ready at once: nobody wants to wait eight real
            // minutes for a pretend database.
            fake.set_timings(detcloud_fake::Timings::instant());
            let cloud: Arc<dyn Cloud> = match caller {
                Some(arn) => Arc::new(fake.as_principal(&arn)),
                None => Arc::new(fake.clone()),
            };
            Ok(Backend { cloud: Arc::new(Retrying::new(Arc::clone(&cloud))), raw: cloud, sandbox: Some((fake, path)) })
        } else {
            if global.sandbox_caller.is_some() {
                return Err(CliError::usage("--sandbox-caller: only applies with --sandbox"));
            }
            // Region and endpoint were checked when the settings were resolved (crate::config).
            tracing::info!(
                profile = global.profile.as_deref().unwrap_or("(default chain)"),
                region = global.region.as_deref().unwrap_or("(profile's)"),
                endpoint = global.endpoint_url.as_deref().unwrap_or("(AWS)"),
                "using AWS"
            );
            let options = AwsOptions {
                profile: global.profile.clone(),
                region: global.region.clone(),
                endpoint_url: global.endpoint_url.clone(),
                // Retrying retries every call with one policy for every backend (16 attempts when
                // throttled, 6 on 5xx, timeouts and connection failures); SDK retries under it
                // would multiply the attempts.
                max_attempts: Some(1),
            };
            let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud::load(&options).await);
            Ok(Backend { cloud: Arc::new(Retrying::new(Arc::clone(&cloud))), raw: cloud, sandbox: None })
        }
    }

    /// The sandbox's fake, when this is the sandbox.
    pub(crate) fn sandbox_fake(&self) -> Option<&FakeCloud> {
        self.sandbox.as_ref().map(|(fake, _)| fake)
    }

    /// The cloud without retries.
    pub(crate) fn unretried(&self) -> Arc<dyn Cloud> {
        Arc::clone(&self.raw)
    }

    /// Saves the sandbox state (whatever the command's outcome: the state is what happened).
    pub(crate) fn finish(&self) -> Result<(), CliError> {
        self.finisher().finish()
    }

    /// What saves the sandbox later, after the backend itself has been handed away.
    pub(crate) fn finisher(&self) -> Finisher {
        Finisher { sandbox: self.sandbox.clone() }
    }
}

/// Saves the sandbox's state when the command is done.
pub(crate) struct Finisher {
    sandbox: Option<(FakeCloud, PathBuf)>,
}

impl Finisher {
    /// Saves the sandbox state, if this is the sandbox.
    pub(crate) fn finish(&self) -> Result<(), CliError> {
        if let Some((fake, path)) = &self.sandbox {
            save_sandbox(fake, path)?;
            tracing::debug!(state = %path.display(), "saved the sandbox");
        }
        Ok(())
    }
}

fn validate_principal(arn: &str) -> Result<String, CliError> {
    let ok = arn.parse::<detcloud_policy::Arn>().is_ok_and(|a| {
        a.account.len() == 12
            && matches!(
                (a.service.as_str(), a.resource_type()),
                ("iam", "role" | "user" | "root") | ("sts", "assumed-role")
            )
    });
    if ok {
        Ok(arn.to_string())
    } else {
        Err(CliError::usage(format!(
            "--sandbox-caller: must be the ARN of a role, user or assumed-role session, such as arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role (got {arn:?})"
        )))
    }
}

fn default_state_path() -> Result<PathBuf, CliError> {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("detcloud").join("sandbox.json"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/state/detcloud/sandbox.json")),
        None => Err(CliError::usage(
            "--sandbox-state: HOME is not set; name the sandbox state file with --sandbox-state FILE",
        )),
    }
}

fn load_sandbox(path: &Path) -> Result<FakeCloud, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => FakeCloud::from_json(&text).map_err(|e| {
            CliError::new(
                Code::Usage,
                format!("--sandbox-state: {} is not a detcloud sandbox state file: {e} (move it away to start a new sandbox)", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FakeCloud::new(SANDBOX_ACCOUNT_ID)),
        Err(e) => Err(CliError::new(Code::Usage, format!("--sandbox-state: cannot read {}: {e}", path.display()))),
    }
}

fn save_sandbox(fake: &FakeCloud, path: &Path) -> Result<(), CliError> {
    let write = || -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, fake.to_json()).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
    };
    write().map_err(|e| CliError::new(Code::Failure, format!("saving the sandbox state: {e:#}")))
}
