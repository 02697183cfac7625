//! The master's bootstrap: golden user data and `master.yaml` for fixture clusters, the
//! configuration read back by an independent YAML parser and compared with the cluster's
//! resources, shellcheck on every script, and the scripts run in a scratch directory with stub
//! `docker`, `aws`, `curl` and `systemctl` that record their arguments.
//!
//! `DETCLOUD_UPDATE_GOLDEN=1 cargo test -p detcloud-cluster --test bootstrap` rewrites the golden
//! files under `fixtures/bootstrap/` after an intended change; review the diff.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use detcloud_cluster::bootstrap::config::{AUX_POOL, COMPUTE_POOL};
use detcloud_cluster::bootstrap::{Bootstrap, MasterConfig, MasterResources, AGENT_TAG, CONFIG_PATH, ENV_PATH};
use detcloud_cluster::context::Names;
use detcloud_cluster::ClusterSpec;

const ACCOUNT: &str = "123456789012";
/// What the stub `aws` answers for the password parameter.
const FAKE_PASSWORD: &str = "Fake9Password9From9Stub9Aws9x7Q";

fn resources(spec: &ClusterSpec, names: &Names) -> MasterResources {
    MasterResources {
        bucket: names.bucket.clone(),
        db_endpoint: format!("{}.cluster-c0ffee123456.{}.rds.amazonaws.com", names.db_cluster, spec.region),
        agent_instance_profile_arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/det-cloud-customer-agent"),
        private_subnets: (0..spec.az_count).map(|i| format!("subnet-0{i}aaaabbbbccccdddd")).collect(),
        security_group: "sg-0123456789abcdef0".into(),
        key_pair: names.key_pair.clone(),
        log_group: names.log_group.clone(),
        agent_ami: "ami-026f60e56edbd01dc".into(),
        compute_gpus: 1,
    }
}

/// The fixture clusters: the defaults, and one with every agent setting changed, a mirror
/// registry, three zones and tags YAML would misread unquoted (the spec allows no quotes or
/// dollars in tags).
fn fixtures() -> Vec<(&'static str, ClusterSpec)> {
    let plain = ClusterSpec::new("ml-demo", "us-west-2");
    let mut busy = ClusterSpec::new("vision-prod", "eu-central-1");
    busy.az_count = 3;
    busy.determined.version = "0.31.0".into();
    busy.determined.image_prefix = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/det".into();
    busy.agents.instance_type = "g4dn.12xlarge".into();
    busy.agents.aux_instance_type = "m6i.large".into();
    busy.agents.min_instances = 1;
    busy.agents.max_instances = 8;
    busy.agents.spot = true;
    busy.agents.spot_max_price = Some("2.50".into());
    busy.agents.max_idle_minutes = 30;
    busy.tags = BTreeMap::from([
        ("team".into(), "vision: on = yes @ 1.0e3".into()),
        ("cost: centre".into(), "on".into()),
        ("DETCLOUD_END_OF_FILE".into(), "DETCLOUD_END_OF_FILE".into()),
    ]);
    busy.validate().unwrap();
    vec![("ml-demo", plain), ("vision-prod", busy)]
}

fn bootstrap(spec: &ClusterSpec) -> (Bootstrap, MasterResources) {
    let names = Names::new(spec, ACCOUNT);
    let r = resources(spec, &names);
    (Bootstrap::new(spec, &names, &r), r)
}

fn golden_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bootstrap").join(name)
}

/// Compares `actual` with the golden file, or rewrites it under DETCLOUD_UPDATE_GOLDEN.
fn check_golden(name: &str, file: &str, actual: &str) {
    let path = golden_dir(name).join(file);
    if std::env::var_os("DETCLOUD_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with DETCLOUD_UPDATE_GOLDEN=1 to write it", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0) + 1;
        panic!(
            "{} differs from the rendered text from line {line} (DETCLOUD_UPDATE_GOLDEN=1 rewrites it after an intended change):\n{actual}",
            path.display()
        );
    }
}

#[test]
fn user_data_master_yaml_and_reconfiguration_match_their_golden_files() {
    for (name, spec) in fixtures() {
        let (b, _) = bootstrap(&spec);
        check_golden(name, "user-data.sh", &b.user_data());
        check_golden(name, "master.yaml", &b.config.to_yaml());
        check_golden(name, "reconfigure.sh", &(b.reconfigure_commands().join("\n") + "\n"));
    }
}

#[test]
fn user_data_fits_ec2_s_limit_and_names_no_secret() {
    for (name, spec) in fixtures() {
        let (b, _) = bootstrap(&spec);
        let text = b.user_data();
        assert!(text.len() < 16 * 1024, "{name}: {} bytes of user data; EC2 takes 16 KiB", text.len());
        assert!(!text.to_ascii_lowercase().contains("password:"), "{name}: a password field in the user data");
        assert!(!text.contains("DET_DB_PASSWORD=") || text.contains("printf 'DET_DB_PASSWORD=%s\\n'"), "{name}");
    }
}

/// The `master.yaml` of the user data, cut out between its here-document lines.
fn embedded_master_yaml(user_data: &str) -> String {
    let start =
        user_data.find(&format!("cat > \"$root\"'{CONFIG_PATH}.detcloud-new' <<'")).expect("master.yaml is written");
    let rest = &user_data[start..];
    let (first, body) = rest.split_once('\n').unwrap();
    let delimiter = first.rsplit_once("<<'").unwrap().1.trim_end_matches('\'');
    body.split(&format!("\n{delimiter}\n")).next().unwrap().to_string() + "\n"
}

#[test]
fn master_yaml_reads_back_field_by_field_as_the_cluster_s_resources() {
    for (name, spec) in fixtures() {
        let (b, r) = bootstrap(&spec);
        let yaml = embedded_master_yaml(&b.user_data());
        let parsed: MasterConfig = serde_norway::from_str(&yaml).unwrap_or_else(|e| panic!("{name}: {e}\n{yaml}"));
        assert_eq!(parsed, b.config, "{name}: the YAML reads back as the model");
        assert_eq!(parsed.checkpoint_storage.kind, "s3");
        assert_eq!(parsed.checkpoint_storage.bucket, r.bucket);
        assert_eq!(
            (parsed.db.host.as_str(), parsed.db.port, parsed.db.name.as_str(), parsed.db.user.as_str()),
            (r.db_endpoint.as_str(), 5432, "determined", "determined")
        );
        assert_eq!(parsed.db.ssl_mode, "require");
        let pools: BTreeMap<&str, _> =
            parsed.resource_pools.iter().map(|p| (p.pool_name.as_str(), &p.provider)).collect();
        assert_eq!(pools.keys().copied().collect::<Vec<_>>(), [AUX_POOL, COMPUTE_POOL]);
        assert_eq!(pools[COMPUTE_POOL].instance_type, spec.agents.instance_type);
        assert_eq!(pools[AUX_POOL].instance_type, spec.agents.aux_instance_type);
        assert_eq!(pools[COMPUTE_POOL].instance_slots, r.compute_gpus);
        for p in pools.values() {
            assert_eq!(p.kind, "aws");
            assert_eq!(p.region, spec.region);
            assert_eq!(p.iam_instance_profile_arn, r.agent_instance_profile_arn);
            assert_eq!(p.image_id, r.agent_ami);
            assert_eq!(p.agent_docker_image, spec.determined.agent_image());
            assert!(r.private_subnets.contains(&p.network_interface.subnet_id), "{name}: agents in a private subnet");
            assert!(!p.network_interface.public_ip);
            assert_eq!(p.network_interface.security_group_id, r.security_group);
            assert_eq!((p.tag_key.as_str(), p.tag_value.as_str()), (AGENT_TAG, spec.name.as_str()));
            assert_eq!(p.log_group, r.log_group);
            assert_eq!(p.ssh_key_name, r.key_pair);
            assert_eq!((p.min_instances, p.max_instances), (spec.agents.min_instances, spec.agents.max_instances));
            assert_eq!((p.spot, p.spot_max_price.clone()), (spec.agents.spot, spec.agents.spot_max_price.clone()));
            assert_eq!(p.master_url, "http://local-ipv4:8080");
            let tag = |k: &str| p.custom_tags.iter().find(|t| t.key == k).map(|t| t.value.as_str());
            assert_eq!(tag("detcloud:managed-by"), Some("detcloud"));
            assert_eq!(tag("detcloud:cluster"), Some(spec.name.as_str()));
            for (k, v) in &spec.tags {
                assert_eq!(tag(k), Some(v.as_str()), "{name}: the spec's tag {k} reaches the agents");
            }
        }
        // The agents of the two pools spread over two zones.
        assert_ne!(pools[COMPUTE_POOL].network_interface.subnet_id, pools[AUX_POOL].network_interface.subnet_id);
    }
}

/// A directory of executables: the stubs, and links to the few real tools the scripts use, so
/// that nothing else on this machine (a real docker client, say) is found on PATH.
struct Stubs {
    dir: tempfile::TempDir,
    root: tempfile::TempDir,
}

impl Stubs {
    fn new(with: &[&str]) -> Stubs {
        let dir = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        for tool in ["mkdir", "cat", "chmod", "mv", "sleep", "bash", "sh", "env"] {
            let real = ["/usr/bin", "/bin"].iter().map(|d| Path::new(d).join(tool)).find(|p| p.exists()).unwrap();
            std::os::unix::fs::symlink(real, dir.path().join(tool)).unwrap();
        }
        let log = root.path().join("stub-calls.log");
        for name in with {
            let answer = match *name {
                "aws" => format!("printf '%s\\n' '{FAKE_PASSWORD}'"),
                "curl" => "printf '%s' '{\"version\":\"0.32.1\"}'".to_string(),
                _ => String::new(),
            };
            let script = format!("#!/bin/bash\nprintf '%s\\n' \"{name} $*\" >> '{}'\n{answer}\n", log.display());
            let path = dir.path().join(name);
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Stubs { dir, root }
    }

    /// Runs `program` (a file) with `shell`, DETCLOUD_ROOT set and only the stubs on PATH.
    fn run(&self, shell: &str, program: &Path) -> std::process::Output {
        Command::new(self.dir.path().join(shell))
            .arg(program)
            .env_clear()
            .env("PATH", self.dir.path())
            .env("DETCLOUD_ROOT", self.root.path())
            .output()
            .unwrap()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.root.path().join("stub-calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn file(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.path().join(path.trim_start_matches('/'))).unwrap()
    }

    fn mode(&self, path: &str) -> u32 {
        std::fs::metadata(self.root.path().join(path.trim_start_matches('/'))).unwrap().permissions().mode() & 0o7777
    }

    /// Every file under the scratch root whose text contains `needle`.
    fn files_containing(&self, needle: &str) -> Vec<String> {
        fn walk(dir: &Path, needle: &str, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, needle, out);
                } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains(needle)) {
                    out.push(path.display().to_string());
                }
            }
        }
        let mut out = vec![];
        walk(self.root.path(), needle, &mut out);
        out
    }
}

fn write_script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_user_data_writes_the_files_and_starts_the_unit_and_the_password_lands_only_in_the_env_file() {
    for (name, spec) in fixtures() {
        let (b, _) = bootstrap(&spec);
        let stubs = Stubs::new(&["docker", "aws", "curl", "systemctl"]);
        let scripts = tempfile::tempdir().unwrap();
        let user_data = write_script(scripts.path(), "user-data.sh", &b.user_data());
        let out = stubs.run("bash", &user_data);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        // Every file, with its mode; master.yaml as rendered.
        for f in b.files() {
            assert_eq!(stubs.file(f.path), f.content, "{name}: {}", f.path);
            assert_eq!(stubs.mode(f.path), f.mode, "{name}: {}", f.path);
        }
        assert_eq!(
            stubs.calls(),
            [
                "systemctl enable --now docker",
                "systemctl daemon-reload",
                "systemctl enable determined-master",
                "systemctl restart determined-master"
            ],
            "{name}: Docker and the AWS CLI were there, so only the units are touched"
        );
        // systemd runs the unit's helper before each start: it reads the password with the
        // instance's role into the environment file, readable by root only.
        let helper = stubs.root.path().join("usr/local/libexec/detcloud/determined-master-env");
        let out = stubs.run("bash", &helper);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(stubs.file(ENV_PATH), format!("DET_DB_PASSWORD={FAKE_PASSWORD}\n"));
        assert_eq!(stubs.mode(ENV_PATH), 0o600);
        let parameter = format!("/detcloud/{}/db-password", spec.name);
        assert!(
            stubs.calls().iter().any(|c| c
                == &format!(
                    "aws ssm get-parameter --region {} --name {parameter} --with-decryption --query Parameter.Value --output text",
                    spec.region
                )),
            "{name}: {:?}",
            stubs.calls()
        );
        let holders = stubs.files_containing(FAKE_PASSWORD);
        assert_eq!(holders, [stubs.root.path().join(ENV_PATH.trim_start_matches('/')).display().to_string()]);
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(FAKE_PASSWORD),
            "{name}: the helper prints nothing of it"
        );
        // The unit passes the file to the container and ships its logs to the log group.
        let unit = stubs.file("/etc/systemd/system/determined-master.service");
        assert!(unit.contains(&format!("--env-file {ENV_PATH}")), "{unit}");
        assert!(unit.contains(&format!("awslogs-group=/detcloud/{}", spec.name)), "{unit}");
        assert!(
            unit.contains(&format!("ExecStartPre=/usr/bin/docker pull {}", spec.determined.master_image())),
            "{unit}"
        );
    }
}

#[test]
fn missing_docker_and_aws_cli_are_installed_with_the_image_s_package_manager() {
    let (b, _) = bootstrap(&fixtures()[0].1);
    // An Amazon Linux-like image: dnf, no Docker, no AWS CLI.
    let stubs = Stubs::new(&["dnf", "systemctl"]);
    let scripts = tempfile::tempdir().unwrap();
    let out = stubs.run("bash", &write_script(scripts.path(), "user-data.sh", &b.user_data()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let calls = stubs.calls();
    assert_eq!(calls[..2], ["dnf install -y docker", "dnf install -y awscli-2"], "{calls:?}");
    // An Ubuntu-like image: apt-get and snap.
    let stubs = Stubs::new(&["apt-get", "snap", "systemctl"]);
    let out = stubs.run("bash", &write_script(scripts.path(), "user-data.sh", &b.user_data()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stubs.calls()[..3],
        ["apt-get update -q", "apt-get install -y -q docker.io", "snap install aws-cli --classic"],
        "{:?}",
        stubs.calls()
    );
    // An image with neither: the bootstrap fails, saying why, and starts nothing.
    let stubs = Stubs::new(&["systemctl"]);
    let out = stubs.run("bash", &write_script(scripts.path(), "user-data.sh", &b.user_data()));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot install Docker"), "{out:?}");
    assert!(stubs.calls().is_empty(), "{:?}", stubs.calls());
}

#[test]
fn a_reconfiguration_runs_the_bootstrap_again_with_sh_and_restarts_the_master() {
    let (b, _) = bootstrap(&fixtures()[1].1);
    let stubs = Stubs::new(&["docker", "aws", "systemctl"]);
    let scripts = tempfile::tempdir().unwrap();
    // SSM's AWS-RunShellScript runs the lines as one sh script.
    let command = write_script(scripts.path(), "command.sh", &(b.reconfigure_commands().join("\n") + "\n"));
    let out = stubs.run("sh", &command);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stubs.file(CONFIG_PATH), b.config.to_yaml());
    assert_eq!(stubs.file("/var/lib/detcloud/bootstrap.sh"), b.user_data());
    assert_eq!(stubs.mode("/var/lib/detcloud/bootstrap.sh"), 0o700);
    assert_eq!(stubs.calls().last().map(String::as_str), Some("systemctl restart determined-master"));
    assert!(!b.reconfigure_commands().join("\n").to_ascii_lowercase().contains("password:"));
}

#[test]
fn shellcheck_finds_nothing_in_the_scripts() {
    let found = Command::new("shellcheck").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("DETCLOUD_REQUIRE_SHELLCHECK").is_none(),
            "shellcheck is required (DETCLOUD_REQUIRE_SHELLCHECK) but not installed"
        );
        eprintln!("SKIPPED: shellcheck is not installed (apt-get install shellcheck); `cargo xtask ci` installs it");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, spec) in fixtures() {
        let (b, _) = bootstrap(&spec);
        let helper = b.files().into_iter().find(|f| f.path.ends_with("determined-master-env")).unwrap().content;
        let scripts = [
            (format!("{name}-user-data.sh"), "bash", b.user_data()),
            (format!("{name}-env-helper.sh"), "bash", helper),
            (format!("{name}-reconfigure.sh"), "sh", b.reconfigure_commands().join("\n") + "\n"),
            (
                format!("{name}-probe.sh"),
                "sh",
                detcloud_cluster::bootstrap::probe_commands(&spec.name, "0123456789abcdef").join("\n") + "\n",
            ),
            (
                format!("{name}-logs.sh"),
                "sh",
                detcloud_cluster::bootstrap::log_commands(&spec.name, "0123456789abcdef", 20).join("\n") + "\n",
            ),
        ];
        for (file, shell, text) in scripts {
            let path = write_script(dir.path(), &file, &text);
            let out =
                Command::new("shellcheck").args(["--shell", shell, "--severity", "style"]).arg(&path).output().unwrap();
            assert!(out.status.success(), "shellcheck {file}:\n{}\n{text}", String::from_utf8_lossy(&out.stdout));
        }
    }
}
