//! shellcheck for the scripts detcloud runs on a cluster's master: the cluster crate's bootstrap
//! tests render them and check them with `shellcheck`; `cargo xtask ci` installs it from Debian's
//! packages when the machine lacks it and makes the tests require it.

use std::process::Command;

/// True when `shellcheck --version` runs.
fn present() -> bool {
    Command::new("shellcheck").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Makes sure `shellcheck` is on PATH: installs Debian's package (as root, or through sudo)
/// when it is missing, and says how to get it when that is not possible.
pub(crate) fn ensure() -> Result<(), String> {
    if present() {
        return Ok(());
    }
    eprintln!("==> shellcheck is missing: installing Debian's package");
    let is_root = crate::is_root();
    let apt = |args: &[&str]| {
        let mut cmd = if is_root { Command::new("apt-get") } else { Command::new("sudo") };
        if !is_root {
            cmd.args(["-n", "apt-get"]);
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd.status().is_ok_and(|s| s.success())
    };
    if !apt(&["install", "-y", "-q", "shellcheck"]) {
        // A fresh machine may have no package lists yet.
        let _ = apt(&["update", "-q"]);
        apt(&["install", "-y", "-q", "shellcheck"]);
    }
    if present() {
        Ok(())
    } else {
        Err("shellcheck is not installed and could not be installed (apt-get install shellcheck, as root); \
             the bootstrap scripts' tests need it"
            .into())
    }
}
