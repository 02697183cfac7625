//! How a cluster's EC2 instance becomes a running Determined master.
//!
//! [`Bootstrap`] is the typed model of what the master needs: the Determined release, where the
//! database password lives, the log group, and its configuration ([`MasterConfig`], built from
//! the cluster's real resources). From it come:
//!
//! - [`Bootstrap::user_data`]: the script cloud-init runs at first boot. It installs Docker and
//!   the AWS CLI where the image lacks them, writes three files ([`Bootstrap::files`]) and starts
//!   the systemd unit `determined-master`;
//! - [`Bootstrap::reconfigure_commands`]: the same files and a restart, for SSM Run Command when
//!   `modify` changes the configuration of a running master;
//! - [`probe_commands`] and [`log_commands`]: what readiness and diagnostics run on the master.
//!
//! **No secret is in any of them.** The unit's `ExecStartPre` helper reads the database password
//! from its SSM SecureString with the instance's role at each start and writes it, as
//! `DET_DB_PASSWORD`, to `/run/determined/master.env` (root only, in memory), which `docker run
//! --env-file` passes to the master. The master's container runs with the host's network (so it
//! reaches the instance metadata service for its role, with IMDSv2's hop limit of one) and logs
//! to the cluster's CloudWatch log group through Docker's `awslogs` driver.

pub mod config;
pub mod shell;
pub mod yaml;

use serde::Deserialize;

pub use config::{MasterConfig, MasterResources, AGENT_TAG, MASTER_PORT};
pub use shell::File;

use crate::context::Names;
use crate::spec::ClusterSpec;

/// Where the master's configuration lives on the instance.
pub const CONFIG_PATH: &str = "/etc/determined/master.yaml";
/// The systemd unit.
pub const UNIT_PATH: &str = "/etc/systemd/system/determined-master.service";
/// The helper that writes the master's environment before each start.
pub const ENV_HELPER_PATH: &str = "/usr/local/libexec/detcloud/determined-master-env";
/// The environment file the master reads (root only, in memory).
pub const ENV_PATH: &str = "/run/determined/master.env";
/// Where a reconfiguration keeps the bootstrap it runs.
pub const BOOTSTRAP_PATH: &str = "/var/lib/detcloud/bootstrap.sh";
/// The master's container, and the unit's name.
pub const CONTAINER: &str = "determined-master";
/// The first line of every script detcloud runs on a master, so that a reader of SSM's history
/// (and the fake's model of a master) knows what each one is.
pub const MARKER: &str = "# detcloud:";

/// Everything the master's instance needs, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// The cluster.
    pub cluster: String,
    /// Its region.
    pub region: String,
    /// The master's image, `<prefix>/determined-master:<version>`.
    pub master_image: String,
    /// The SecureString holding the database password.
    pub password_parameter: String,
    /// The log group the master's output goes to.
    pub log_group: String,
    /// `master.yaml`.
    pub config: MasterConfig,
}

/// A systemd unit word: the value itself when it holds only characters systemd and the shell
/// leave alone, else double-quoted with systemd's escapes.
fn unit_word(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "_./:@=,+-".contains(c)) {
        value.to_string()
    } else {
        let escaped: String = value
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                '%' => vec!['%', '%'],
                '$' => vec!['$', '$'],
                c => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    }
}

const USER_DATA_PROGRAM: &str = r#"set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# On the instance every file goes under /; the tests set DETCLOUD_ROOT to a scratch directory.
root="${DETCLOUD_ROOT:-}"

log() {
  printf 'detcloud-bootstrap: %s\n' "$*"
}

have() {
  command -v "$1" >/dev/null 2>&1
}

# Runs a command up to five times, 10, 20, 30 and 40 seconds apart: package mirrors and image
# registries fail now and then.
retry() {
  local attempt=1
  until "$@"; do
    if [ "$attempt" -ge 5 ]; then
      log "gave up after $attempt attempts: $*"
      return 1
    fi
    sleep $((attempt * 10))
    attempt=$((attempt + 1))
  done
}

install_docker() {
  if have docker; then
    return 0
  fi
  log "installing Docker"
  if have dnf; then
    retry dnf install -y docker
  elif have apt-get; then
    retry apt-get update -q
    retry apt-get install -y -q docker.io
  else
    log "cannot install Docker: this image has neither dnf nor apt-get"
    return 1
  fi
}

install_aws_cli() {
  if have aws; then
    return 0
  fi
  log "installing the AWS CLI"
  if have dnf; then
    retry dnf install -y awscli-2
  elif have snap; then
    retry snap install aws-cli --classic
  elif have apt-get; then
    retry apt-get install -y -q awscli
  else
    log "cannot install the AWS CLI: this image has neither dnf, snap nor apt-get"
    return 1
  fi
}

log "bootstrapping the Determined master of cluster $CLUSTER"
install_docker
install_aws_cli
systemctl enable --now docker
write_files
systemctl daemon-reload
systemctl enable determined-master
systemctl restart determined-master
log "started $MASTER_IMAGE as the unit determined-master (systemctl status determined-master; docker logs determined-master)"
"#;

impl Bootstrap {
    /// The bootstrap of the cluster `spec` over its `resources`.
    pub fn new(spec: &ClusterSpec, names: &Names, resources: &MasterResources) -> Bootstrap {
        Bootstrap {
            cluster: spec.name.clone(),
            region: spec.region.clone(),
            master_image: spec.determined.master_image(),
            password_parameter: names.password_parameter.clone(),
            log_group: names.log_group.clone(),
            config: MasterConfig::new(spec, resources),
        }
    }

    /// The unit file.
    fn unit(&self) -> String {
        let image = unit_word(&self.master_image);
        let run = [
            "/usr/bin/docker run --rm --name determined-master --network host".to_string(),
            format!("--env-file {ENV_PATH}"),
            format!("--volume {CONFIG_PATH}:{CONFIG_PATH}:ro"),
            "--log-driver awslogs".to_string(),
            format!("--log-opt {}", unit_word(&format!("awslogs-region={}", self.region))),
            format!("--log-opt {}", unit_word(&format!("awslogs-group={}", self.log_group))),
            "--log-opt awslogs-stream=determined-master".to_string(),
            image.clone(),
        ]
        .join(" ");
        format!(
            "# detcloud: the Determined master of cluster {cluster}. Generated by detcloud; do not edit.\n\
             [Unit]\n\
             Description=Determined master of detcloud cluster {cluster}\n\
             Wants=network-online.target\n\
             After=network-online.target docker.service\n\
             Requires=docker.service\n\
             \n\
             [Service]\n\
             Type=simple\n\
             ExecStartPre={ENV_HELPER_PATH}\n\
             ExecStartPre=-/usr/bin/docker rm --force determined-master\n\
             ExecStartPre=/usr/bin/docker pull {image}\n\
             ExecStart={run}\n\
             ExecStop=/usr/bin/docker stop determined-master\n\
             Restart=always\n\
             RestartSec=10\n\
             TimeoutStartSec=900\n\
             \n\
             [Install]\n\
             WantedBy=multi-user.target\n",
            cluster = self.cluster,
        )
    }

    /// The helper that writes the master's environment (the password) before each start.
    fn env_helper(&self) -> String {
        format!(
            r#"#!/bin/bash
# detcloud: writes the Determined master's environment before each start of determined-master: the
# database password, read from SSM Parameter Store with the instance's role, into a file only root
# may read, in /run (memory, never on disk). Generated by detcloud; do not edit.
set -euo pipefail
PATH="${{PATH:+$PATH:}}/usr/local/bin:/usr/bin:/bin:/snap/bin"
root="${{DETCLOUD_ROOT:-}}"
umask 077
mkdir -p "$root/run/determined"
password="$(aws ssm get-parameter --region {region} --name {parameter} --with-decryption --query Parameter.Value --output text)"
case "$password" in
  '' | None)
    echo "detcloud: the parameter "{parameter}" holds no password" >&2
    exit 1
    ;;
  *$'\n'*)
    echo "detcloud: the parameter "{parameter}" holds more than one line" >&2
    exit 1
    ;;
esac
printf 'DET_DB_PASSWORD=%s\n' "$password" > "$root{env}.new"
mv -f "$root{env}.new" "$root{env}"
"#,
            region = shell::quote(&self.region),
            parameter = shell::quote(&self.password_parameter),
            env = ENV_PATH,
        )
    }

    /// The files the master needs: its configuration, its unit, and the environment helper.
    pub fn files(&self) -> Vec<File> {
        vec![
            File { path: CONFIG_PATH, mode: 0o644, content: self.config.to_yaml() },
            File { path: UNIT_PATH, mode: 0o644, content: self.unit() },
            File { path: ENV_HELPER_PATH, mode: 0o755, content: self.env_helper() },
        ]
    }

    /// The lines of `write_files`, shared by the user data and the reconfiguration.
    fn write_files_lines(&self) -> Vec<String> {
        self.files().iter().flat_map(File::write_lines).collect()
    }

    /// The script cloud-init runs at the instance's first boot (bash).
    pub fn user_data(&self) -> String {
        let settings = [("CLUSTER", &self.cluster), ("MASTER_IMAGE", &self.master_image)];
        let mut out = String::new();
        out.push_str("#!/bin/bash\n");
        out.push_str(&format!(
            "{MARKER} bootstrap of the Determined master of cluster {}. Generated by detcloud; do not edit.\n",
            self.cluster
        ));
        out.push_str(
            "# It installs Docker and the AWS CLI where the image lacks them, writes the master's configuration,\n\
             # its systemd unit and the unit's environment helper, and starts the unit. This script holds no\n\
             # secret: the helper reads the database password from SSM Parameter Store at each start.\n",
        );
        for (name, value) in settings {
            out.push_str(&format!("readonly {name}={}\n", shell::quote(value)));
        }
        out.push('\n');
        out.push_str("write_files() {\n");
        // Here-document bodies and their delimiters stay at column 0, as `<<'END'` needs.
        for line in self.write_files_lines() {
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str("}\n\n");
        out.push_str(USER_DATA_PROGRAM);
        out
    }

    /// The lines of an SSM Run Command that runs the bootstrap again on a running master (after
    /// a change of its configuration or release): it keeps the script in
    /// `/var/lib/detcloud/bootstrap.sh` and runs it with bash, which installs what is missing,
    /// rewrites the files and restarts the master. They hold no secret.
    pub fn reconfigure_commands(&self) -> Vec<String> {
        let script = File { path: BOOTSTRAP_PATH, mode: 0o700, content: self.user_data() };
        let mut lines = vec![
            format!("{MARKER} reconfigure the Determined master of cluster {}", self.cluster),
            "set -eu".to_string(),
            "root=\"${DETCLOUD_ROOT:-}\"".to_string(),
        ];
        lines.extend(script.write_lines());
        lines.push(format!("bash \"$root\"{}", shell::quote(BOOTSTRAP_PATH)));
        lines
    }

    /// A fingerprint of the files (16 hex digits): the master carries it in a tag, so that a
    /// run knows whether the running master has the configuration the spec asks for.
    pub fn fingerprint(&self) -> String {
        let text: String = self.files().iter().map(|f| format!("{}\n{:o}\n{}\0", f.path, f.mode, f.content)).collect();
        format!("{:016x}", detcloud_provider::tags::stable_hash(text.as_bytes()))
    }
}

/// The lines of the readiness probe: `nonce` first (a backend that reports success without
/// running anything shows no nonce), then the master's `/info` from the instance itself.
pub fn probe_commands(cluster: &str, nonce: &str) -> Vec<String> {
    vec![
        format!("{MARKER} probe the Determined master of cluster {cluster}"),
        format!("echo {}", shell::quote(&format!("detcloud-probe {nonce}"))),
        format!("curl --silent --show-error --fail --max-time 10 http://127.0.0.1:{MASTER_PORT}/info"),
    ]
}

/// The lines that collect the master's recent logs: the container's output, the unit's journal
/// and the end of cloud-init's output (where the bootstrap writes), at most `lines` of each.
pub fn log_commands(cluster: &str, nonce: &str, lines: u32) -> Vec<String> {
    vec![
        format!("{MARKER} logs of the Determined master of cluster {cluster}"),
        format!("echo {}", shell::quote(&format!("detcloud-probe {nonce}"))),
        "echo '--- docker logs determined-master'".into(),
        format!("docker logs --tail {lines} {CONTAINER} 2>&1"),
        "echo '--- journalctl -u determined-master'".into(),
        format!("journalctl -u {CONTAINER} --no-pager -o short-iso -n {lines} 2>&1"),
        "echo '--- /var/log/cloud-init-output.log'".into(),
        format!("tail -n {lines} /var/log/cloud-init-output.log 2>&1"),
    ]
}

/// What the master's `/info` says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MasterInfo {
    /// Its release.
    pub version: String,
    /// The cluster id it generated for its database.
    #[serde(default)]
    pub cluster_id: String,
    /// Its id.
    #[serde(default)]
    pub master_id: String,
}

/// What a probe's output shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutput {
    /// The command ran and the master answered.
    Answered(MasterInfo),
    /// The command ran; the master did not answer (or not with `/info`).
    NoAnswer(String),
    /// The backend reported the command done without running it (no nonce in its output).
    NotRun,
}

/// Reads a probe's output (standard output, standard error, whether it exited 0).
pub fn read_probe(nonce: &str, stdout: &str, stderr: &str, success: bool) -> ProbeOutput {
    let marker = format!("detcloud-probe {nonce}");
    let Some(rest) = stdout.split_once(&marker).map(|(_, r)| r) else { return ProbeOutput::NotRun };
    if !success {
        let why = stderr.trim();
        return ProbeOutput::NoAnswer(if why.is_empty() { "curl failed".to_string() } else { why.to_string() });
    }
    match serde_json::from_str::<MasterInfo>(rest.trim()) {
        Ok(info) => ProbeOutput::Answered(info),
        Err(e) => ProbeOutput::NoAnswer(format!("port {MASTER_PORT} answered, but not with Determined's /info ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_words_are_quoted_only_when_needed() {
        assert_eq!(unit_word("determinedai/determined-master:0.32.1"), "determinedai/determined-master:0.32.1");
        assert_eq!(unit_word("a b\"$%"), "\"a b\\\"$$%%\"");
    }

    #[test]
    fn probes_tell_an_answer_from_silence_and_from_a_command_never_run() {
        let out = "detcloud-probe n1\n{\"version\":\"0.32.1\",\"cluster_id\":\"c\",\"master_id\":\"m\"}";
        let info = MasterInfo { version: "0.32.1".into(), cluster_id: "c".into(), master_id: "m".into() };
        assert_eq!(read_probe("n1", out, "", true), ProbeOutput::Answered(info));
        assert_eq!(
            read_probe("n1", "detcloud-probe n1\n", "curl: (7) Failed to connect", false),
            ProbeOutput::NoAnswer("curl: (7) Failed to connect".into())
        );
        assert!(matches!(read_probe("n1", "detcloud-probe n1\n<html>", "", true), ProbeOutput::NoAnswer(_)));
        assert_eq!(read_probe("n1", "", "", true), ProbeOutput::NotRun);
        assert_eq!(read_probe("n2", out, "", true), ProbeOutput::NotRun);
    }
}
