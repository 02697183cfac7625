//! What the binary tests share: running `detcloud` on a sandbox state file.
#![allow(dead_code)] // Each test file uses a part.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

pub(crate) mod serve;

/// Runs `detcloud --sandbox --sandbox-state STATE ARGS...` with `stdin`, HOME set to `home`
/// (generated keys land there), and no AWS settings from the environment; returns the exit code,
/// stdout and stderr.
pub(crate) fn run_sandbox(state: &Path, home: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = sandbox_output(state, home, args, stdin);
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// [`run_sandbox`] with any arguments (also ones that are not UTF-8), returning the raw output.
pub(crate) fn sandbox_output<S: AsRef<OsStr>>(state: &Path, home: &Path, args: &[S], stdin: &str) -> Output {
    Command::cargo_bin("detcloud")
        .unwrap()
        .arg("--sandbox")
        .arg("--sandbox-state")
        .arg(state)
        .args(args)
        .env("HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("DETCLOUD_SANDBOX_STATE")
        // No settings from a config file or the environment (see `detcloud config show`).
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DETCLOUD_CONFIG")
        .env_remove("DETCLOUD_OUTPUT")
        .env_remove("DETCLOUD_ACCOUNT_ID")
        .env_remove("DETCLOUD_EXTERNAL_ID")
        .env_remove("DETCLOUD_NAME_PREFIX")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("RUST_LOG")
        .write_stdin(stdin)
        .output()
        .unwrap()
}

/// `detcloud --sandbox --sandbox-state STATE ARGS...` as a process to spawn, with the same
/// environment as [`run_sandbox`] (XDG_STATE_HOME under `home`).
pub(crate) fn sandbox_command(state: &Path, home: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("detcloud"));
    cmd.arg("--sandbox")
        .arg("--sandbox-state")
        .arg(state)
        .args(args)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"));
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
        "AWS_REGION",
        "DETCLOUD_SANDBOX_STATE",
        "XDG_CONFIG_HOME",
        "DETCLOUD_CONFIG",
        "DETCLOUD_OUTPUT",
        "DETCLOUD_ACCOUNT_ID",
        "DETCLOUD_EXTERNAL_ID",
        "DETCLOUD_NAME_PREFIX",
        "DETCLOUD_DATABASE",
        "AWS_DEFAULT_REGION",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}
