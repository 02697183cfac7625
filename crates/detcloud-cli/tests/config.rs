//! Settings (flag > env > config file > default), `config show|path`, logs (`-v`, `RUST_LOG`) and
//! colour (`--color`, `NO_COLOR`) through the real binary on the sandbox.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A home directory with a sandbox state file and a place for the config file.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The default config file: $HOME/.config/detcloud/config.toml.
    fn config(&self) -> PathBuf {
        self.path().join(".config/detcloud/config.toml")
    }

    fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.config().parent().unwrap()).unwrap();
        std::fs::write(self.config(), text).unwrap();
    }

    /// Runs `detcloud --sandbox --sandbox-state HOME/sandbox.json ARGS` with HOME set, `envs`
    /// added and no other detcloud or AWS setting from the environment.
    fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
        let mut cmd = Command::cargo_bin("detcloud").unwrap();
        cmd.arg("--sandbox").arg("--sandbox-state").arg(self.path().join("sandbox.json")).args(args);
        cmd.env("HOME", self.path());
        for var in [
            "XDG_CONFIG_HOME",
            "DETCLOUD_CONFIG",
            "DETCLOUD_OUTPUT",
            "DETCLOUD_EXTERNAL_ID",
            "DETCLOUD_ACCOUNT_ID",
            "DETCLOUD_NAME_PREFIX",
            "DETCLOUD_SANDBOX_STATE",
            "AWS_ENDPOINT_URL",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "RUST_LOG",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.write_stdin("").output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn show(&self, args: &[&str], envs: &[(&str, &str)]) -> Value {
        let mut all = vec!["config", "show", "-o", "json"];
        all.extend(args);
        let (code, stdout, stderr) = self.run(&all, envs);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    }
}

#[test]
fn flags_win_over_env_over_the_file_over_defaults() {
    let home = Home::new();
    home.write_config(
        "region = \"us-west-2\"\nprofile = \"from-file\"\nendpoint_url = \"http://127.0.0.1:5000\"\n\
         account_id = \"111122223333\"\n[tags]\nteam = \"ml\"\n",
    );
    let v = home.show(&["--region", "ap-south-1"], &[("AWS_REGION", "eu-west-1"), ("AWS_PROFILE", "from-env")]);
    let s = &v["settings"];
    assert_eq!(s["region"]["value"], "ap-south-1");
    assert_eq!(s["region"]["source"], "flag");
    assert_eq!(s["profile"]["value"], "from-env");
    assert_eq!(s["profile"]["source"], "env");
    assert_eq!(s["profile"]["origin"], "AWS_PROFILE");
    assert_eq!(s["endpoint_url"]["value"], "http://127.0.0.1:5000");
    assert_eq!(s["endpoint_url"]["source"], "file");
    assert_eq!(s["account_id"]["value"], "111122223333");
    assert_eq!(s["tags"]["value"]["team"], "ml");
    assert_eq!(s["external_id"]["source"], "default");
    assert_eq!(s["output"]["source"], "flag");
    assert_eq!(v["config_file"]["path"], home.config().display().to_string());
    assert_eq!(v["config_file"]["exists"], true);

    let v = home.show(&[], &[("AWS_REGION", "eu-west-1")]);
    assert_eq!(v["settings"]["region"]["value"], "eu-west-1");
    assert_eq!(v["settings"]["region"]["source"], "env");
    let v = home.show(&[], &[]);
    assert_eq!(v["settings"]["region"]["value"], "us-west-2");
    assert_eq!(v["settings"]["region"]["source"], "file");

    // The text form names the sources too.
    let (_, text, _) = home.run(&["config", "show"], &[("AWS_PROFILE", "from-env")]);
    assert!(text.lines().any(|l| l.starts_with("profile") && l.contains("env (AWS_PROFILE)")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("region") && l.ends_with("file")), "{text}");
}

#[test]
fn a_missing_default_file_is_fine_and_xdg_config_home_moves_it() {
    let home = Home::new();
    let v = home.show(&[], &[]);
    assert_eq!(v["config_file"]["exists"], false);
    let (_, text, _) = home.run(&["config", "show"], &[]);
    assert!(text.contains("(not present: built-in defaults apply)"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("output") && l.contains("text") && l.ends_with("default")), "{text}");
    assert_eq!(v["settings"]["account_id"]["value"], "544296492693");
    assert_eq!(v["settings"]["account_id"]["source"], "default");

    let xdg = home.path().join("xdg");
    std::fs::create_dir_all(xdg.join("detcloud")).unwrap();
    std::fs::write(xdg.join("detcloud/config.toml"), "output = \"json\"\n").unwrap();
    let xdg_text = xdg.display().to_string();
    let (code, stdout, stderr) = home.run(&["config", "path", "-o", "text"], &[("XDG_CONFIG_HOME", &xdg_text)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), xdg.join("detcloud/config.toml").display().to_string());
    // output = "json" from the file: `config show` prints JSON without -o.
    let (_, stdout, _) = home.run(&["config", "show"], &[("XDG_CONFIG_HOME", &xdg_text)]);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["settings"]["output"]["source"], "file");
}

#[test]
fn bad_files_and_values_exit_2_with_one_line_naming_file_key_and_rule() {
    let home = Home::new();
    let before = home.path().join("sandbox.json");
    let cases = [
        ("regoin = \"us-west-2\"\n", "regoin: unknown key"),
        ("region = \"US WEST\"\n", "region: must be a region name"),
        ("account_id = \"123\"\n", "account_id: must be exactly 12 digits"),
        ("endpoint_url = \"localhost:5000\"\n", "endpoint_url: must be an http://"),
        ("output = \"yaml\"\n", "output: must be text or json"),
        ("external_id = \"a b\"\n", "external_id:"),
        ("[tags]\n\"detcloud:owner\" = \"me\"\n", "tags: \"detcloud:owner\": the prefix 'detcloud:' is reserved"),
        ("region = [\"us-west-2\"]\n", "region: must be a string"),
        ("region = \n", "line 1: not valid TOML"),
    ];
    for (text, needle) in cases {
        home.write_config(text);
        let (code, stdout, stderr) = home.run(&["connect", "aws", "--yes"], &[]);
        assert_eq!(code, 2, "{text:?}: {stdout}{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{text:?}: {stderr}");
        let expected = format!("error: config file {}: {needle}", home.config().display());
        assert!(stderr.starts_with(&expected), "{text:?}: {stderr}");
        assert!(!before.exists(), "{text:?}: the sandbox was touched");
    }
    // An environment variable is checked with the same rule, and named.
    std::fs::remove_file(home.config()).unwrap();
    let (code, _, stderr) = home.run(&["connect", "aws", "--yes"], &[("AWS_REGION", "Mars 1")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: AWS_REGION (environment): must be a region name"), "{stderr}");
}

#[test]
fn an_explicit_config_file_must_exist() {
    let home = Home::new();
    let (code, _, stderr) = home.run(&["--config", "/nonexistent/detcloud.toml", "config", "show"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: --config: cannot read /nonexistent/detcloud.toml"), "{stderr}");
    let (code, _, stderr) = home.run(&["config", "show"], &[("DETCLOUD_CONFIG", "/nonexistent/x.toml")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: DETCLOUD_CONFIG: cannot read /nonexistent/x.toml"), "{stderr}");

    let file = home.path().join("team.toml");
    std::fs::write(&file, "name_prefix = \"team-a-\"\n").unwrap();
    let file_text = file.display().to_string();
    let v = home.show(&["--config", &file_text], &[]);
    assert_eq!(v["settings"]["name_prefix"]["value"], "team-a-");
    assert_eq!(v["config_file"]["source"], "flag");
}

#[test]
fn file_defaults_reach_the_commands_and_flags_still_win() {
    let home = Home::new();
    home.write_config("external_id = \"tenant-1\"\nname_prefix = \"team-a-\"\n[tags]\ncost-center = \"42\"\n");
    let (code, stdout, stderr) = home.run(&["connect", "aws", "--yes"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("role/team-a-det-cloud-customer-xacct-mgmt"), "{stdout}");
    let state = std::fs::read_to_string(home.path().join("sandbox.json")).unwrap();
    assert!(state.contains("cost-center"), "the config file's tag is missing from the sandbox");
    // The trust requires the file's external id: the self-test (run as Determined) passes
    // without --external-id on the command line.
    let (code, stdout, stderr) = home.run(
        &[
            "--sandbox-caller",
            "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role",
            "verify",
            "aws",
            "--role-arn",
            "arn:aws:iam::123456789012:role/team-a-det-cloud-customer-xacct-mgmt",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    // A flag wins over the file: another prefix names other resources, nothing to delete there.
    let (code, stdout, _) = home.run(&["disconnect", "aws", "--dry-run", "--name-prefix", "team-b-"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Nothing to delete"), "{stdout}");
    // --role-arn needs an external id from somewhere.
    std::fs::remove_file(home.config()).unwrap();
    let (code, _, stderr) = home.run(
        &["cluster", "status", "ml", "--role-arn", "arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt"],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--role-arn: needs --external-id"), "{stderr}");
}

#[test]
fn logs_go_to_stderr_only_when_asked() {
    let home = Home::new();
    let (code, stdout_quiet, quiet) = home.run(&["connect", "aws", "--yes"], &[]);
    assert_eq!(code, 0, "{quiet}");
    assert!(!quiet.contains("INFO") && !quiet.contains("DEBUG"), "{quiet}");
    let _ = home.run(&["disconnect", "aws", "--yes"], &[]);

    let (code, stdout, info) = home.run(&["-v", "connect", "aws", "--yes"], &[]);
    assert_eq!(code, 0, "{info}");
    assert_eq!(stdout, stdout_quiet, "logs must not change stdout");
    assert!(info.contains("INFO") && info.contains("applied"), "{info}");
    assert!(!info.contains("DEBUG"), "{info}");

    let (_, _, debug) = home.run(&["-vv", "verify", "aws"], &[]);
    assert!(debug.contains("DEBUG") && debug.contains("check"), "{debug}");

    // RUST_LOG replaces the filter: only what it names.
    let (_, _, custom) = home.run(&["-vvv", "verify", "aws"], &[("RUST_LOG", "detcloud_cli::backend=debug")]);
    assert!(custom.contains("using the sandbox"), "{custom}");
    assert!(!custom.contains("starting"), "{custom}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let home = Home::new();
    let (_, plain, _) = home.run(&["connect", "aws", "--yes"], &[]);
    assert!(!plain.contains('\x1b'), "{plain:?}");
    let _ = home.run(&["disconnect", "aws", "--yes"], &[]);
    let (_, colored, _) = home.run(&["--color", "always", "connect", "aws", "--yes"], &[("NO_COLOR", "1")]);
    assert!(colored.contains("\x1b[32mcreated\x1b[0m"), "{colored:?}");
    let (_, never, _) = home.run(&["--color", "never", "verify", "aws"], &[]);
    assert!(!never.contains('\x1b'), "{never:?}");
}
