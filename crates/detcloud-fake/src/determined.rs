//! A model of the Determined master that detcloud's bootstrap starts on an instance, so that the
//! commands detcloud sends it through SSM Run Command find what a real instance would.
//!
//! An instance runs the master when its user data (or the bootstrap a later reconfiguration sent
//! it) is detcloud's bootstrap script. The master answers on port 8080 once the instance has been
//! running for [`Timings::master_start`](crate::Timings) (Docker, the image pull, the start) after
//! its launch or last reconfiguration, and only if everything it needs at start works as on AWS:
//!
//! - its instance role may `ssm:GetParameter` the password parameter the bootstrap names (and
//!   `kms:Decrypt` it under a customer key), evaluated against the role's stored policies;
//! - the parameter exists;
//! - the database behind the configuration's `db.host` is available, with an available instance,
//!   and takes the parameter's value as its master password.
//!
//! Otherwise the master never answers, and its logs say why, as the real one would. A test can
//! also make it never answer ([`MasterBehaviour::Never`]). Recognised commands (by their first
//! line, `# detcloud: ...`): the probe (`curl .../info`), the logs, and the reconfiguration.
//! Nothing they print holds a secret.

use detcloud_policy::eval::{self, Request};
use tokio::time::Instant;

use crate::clock::{self, Timings};
use crate::enforce::Caller;
use crate::query;
use crate::region::At;
use crate::runtime::MasterBehaviour;
use crate::state::ec2::{instance_state, InstanceRec};
use crate::world::World;

/// The first line of detcloud's bootstrap user data.
const BOOTSTRAP: &str = "#!/bin/bash\n# detcloud: bootstrap of the Determined master";

/// What the model reads from a bootstrap script.
struct Script<'a> {
    version: &'a str,
    parameter: &'a str,
    db_host: &'a str,
    db_user: &'a str,
}

/// The text between `start` and the next `end` in `text`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn read_script(script: &str) -> Option<Script<'_>> {
    if !script.starts_with(BOOTSTRAP) {
        return None;
    }
    let image = between(script, "readonly MASTER_IMAGE='", "'\n")?;
    let db = between(script, "\ndb:\n", "\nresource_manager:")?;
    Some(Script {
        version: image.rsplit_once(':').map_or(image, |(_, v)| v),
        parameter: between(script, "--name '", "'")?,
        db_host: between(db, "  host: \"", "\"")?,
        db_user: between(db, "  user: \"", "\"")?,
    })
}

/// The bootstrap an instance runs: the one a reconfiguration sent last, else its user data.
fn script_of(i: &InstanceRec) -> Option<&str> {
    i.bootstrap.as_deref().or(i.user_data.as_deref())
}

/// Why the master of `i` does not answer now, or its version when it does.
fn master(
    w: &World,
    account: &str,
    region: &str,
    i: &InstanceRec,
    behaviour: &MasterBehaviour,
) -> Result<String, String> {
    let t: &Timings = &w.timings;
    let Some(script) = script_of(i).and_then(read_script) else {
        return Err("Failed to connect to 127.0.0.1 port 8080: Connection refused (nothing listens: no Determined master was installed)".into());
    };
    if instance_state(i, t) != detcloud_provider::InstanceState::Running {
        return Err("the instance is not running".into());
    }
    let started = match i.restarted {
        Some(restart) => clock::reached(Some(restart), t.master_start),
        None => clock::reached(i.since, t.instance_launch + t.master_start),
    };
    if !started {
        return Err(
            "Failed to connect to 127.0.0.1 port 8080: Connection refused (the master is still starting)".into()
        );
    }
    if let MasterBehaviour::Never(log) = behaviour {
        return Err(log.clone());
    }
    read_password(w, account, region, i, script.parameter).and_then(|password| {
        query::login(w, account, region, script.db_host, script.db_user, &password)
            .map_err(|e| format!("level=fatal msg=\"could not connect to the database: {e}\""))
    })?;
    Ok(script.version.to_string())
}

/// The password parameter's value, read as the instance's role would read it.
fn read_password(w: &World, account: &str, region: &str, i: &InstanceRec, name: &str) -> Result<String, String> {
    let caller = Caller::admin(account);
    let at = At::unchecked(&caller, region);
    let arn = at.arn_of("ssm", "parameter/", name.trim_start_matches('/'));
    let denied = |action: &str, resource: &str, role: &str| {
        format!(
            "level=fatal msg=\"reading {name}: AccessDeniedException: User: arn:aws:sts::{account}:assumed-role/{role}/{} is not authorized to perform: {action} on resource: {resource}\"",
            i.id
        )
    };
    let profile = i
        .instance_profile_arn
        .as_deref()
        .and_then(|a| a.rsplit('/').next())
        .and_then(|p| w.account(account).iam.profile(p).ok())
        .ok_or_else(|| "level=fatal msg=\"no credentials: the instance has no instance profile\"".to_string())?;
    let role = profile
        .roles
        .first()
        .and_then(|r| w.account(account).iam.role(r).ok())
        .ok_or_else(|| "level=fatal msg=\"no credentials: the instance profile holds no role\"".to_string())?;
    let (policies, boundary) = crate::enforce::role_policies(w, account, role);
    if !eval::evaluate(&policies, boundary.as_ref(), &Request::new("ssm:GetParameter", arn.clone())).is_allowed() {
        return Err(denied("ssm:GetParameter", &arn, &role.name));
    }
    let parameter = w
        .region(account, region)
        .ssm
        .parameters
        .get(name)
        .ok_or_else(|| format!("level=fatal msg=\"reading {name}: ParameterNotFound\""))?;
    if let Some(key) = parameter.kms_key_id.as_deref().filter(|k| query::is_customer_key(w, at, k)) {
        let key_arn = query::target_arn(w, at, key);
        let request = Request::new("kms:Decrypt", key_arn.clone())
            .with_context("kms:EncryptionContext:PARAMETER_ARN", [arn.clone()])
            .with_context("kms:ViaService", [format!("ssm.{region}.amazonaws.com")]);
        if !eval::evaluate(&policies, boundary.as_ref(), &request).is_allowed() {
            return Err(denied("kms:Decrypt", &key_arn, &role.name));
        }
    }
    Ok(parameter.value.expose().to_string())
}

/// The nonce line a command echoes first (`echo 'detcloud-probe N'`), as the shell prints it.
fn echoed(commands: &[String]) -> String {
    commands
        .iter()
        .filter_map(|c| c.strip_prefix("echo "))
        .map(|rest| rest.trim().trim_matches('\'').to_string() + "\n")
        .find(|l| l.starts_with("detcloud-probe "))
        .unwrap_or_default()
}

/// What a command of detcloud's does on instance `id` of the account's region, if the model
/// knows it: (exit code, standard output, standard error). A reconfiguration also records the
/// bootstrap it carries and restarts the master.
pub(crate) fn run(
    w: &mut World,
    account: &str,
    region: &str,
    id: &str,
    commands: &[String],
    behaviour: &MasterBehaviour,
) -> Option<(i32, String, String)> {
    let first = commands.first()?;
    let kind = first.strip_prefix("# detcloud: ")?;
    let now: Instant = clock::now();
    if kind.starts_with("reconfigure the Determined master") {
        let script =
            commands.iter().find_map(|c| between(c, "<<'DETCLOUD_END_OF_SCRIPT'\n", "\nDETCLOUD_END_OF_SCRIPT"));
        let rec = w.region_mut(account, region).ec2.instances.get_mut(id)?;
        return Some(match script {
            Some(s) => {
                rec.bootstrap = Some(format!("{s}\n"));
                rec.restarted = Some(now);
                (0, "detcloud-bootstrap: started the Determined master\n".into(), String::new())
            }
            None => (1, String::new(), "detcloud: no bootstrap in the command\n".into()),
        });
    }
    let i = w.region(account, region).ec2.instances.get(id)?;
    let state = master(w, account, region, i, behaviour);
    let nonce = echoed(commands);
    if kind.starts_with("probe the Determined master") {
        return Some(match state {
            Ok(version) => {
                let info = format!(
                    "{{\"version\":\"{version}\",\"cluster_id\":\"{:016x}\",\"master_id\":\"{}\"}}",
                    detcloud_provider::tags::stable_hash(account.as_bytes()),
                    i.id
                );
                (0, format!("{nonce}{info}"), String::new())
            }
            Err(why) => (7, nonce, format!("curl: (7) {why}\n")),
        });
    }
    if kind.starts_with("logs of the Determined master") {
        let version = script_of(i).and_then(read_script).map_or("", |s| s.version).to_string();
        let lines = match state {
            Ok(_) => format!(
                "level=info msg=\"Determined master {version} listening on :8080\"\nlevel=info msg=\"connected to the database\"\n"
            ),
            Err(why) => format!("level=info msg=\"Determined master {version} starting\"\n{why}\n"),
        };
        // The readiness check's diagnostics print a header per source; `cluster logs` does not.
        let header = if commands.iter().any(|c| c.contains("--- docker logs")) {
            "--- docker logs determined-master\n"
        } else {
            ""
        };
        return Some((0, format!("{nonce}{header}{lines}"), String::new()));
    }
    None
}

impl crate::cloud::FakeCloud {
    /// The `db.host` of the configuration the master on instance `instance_id` (in this view's
    /// account and region) runs now: that of the bootstrap a reconfiguration sent last, else of
    /// its user data. `None` when the instance does not run detcloud's bootstrap. Lets a test see
    /// which database a master points at, as its `master.yaml` would show.
    pub fn master_db_host(&self, instance_id: &str) -> Option<String> {
        let shared = self.lock();
        let region = shared.world.region(&self.caller.account, &self.region);
        let script = read_script(script_of(region.ec2.instances.get(instance_id)?)?)?;
        Some(script.db_host.to_string())
    }
}
