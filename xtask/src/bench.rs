//! `cargo xtask bench`: one release build of the benchmark and the CLI (the bench times
//! `detcloud --help` and the AWS backend, so both share the build and the SDK compiles once), a
//! moto server for the AWS backend's measures, then the benchmark; then the control plane's
//! benchmark (`detcloud-bench-control`) with a throwaway PostgreSQL for its replica measures,
//! whose JSON goes to `target/bench/control.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds, starts moto (the AWS measures are skipped, loudly, when it cannot start) and runs the
/// benchmark, which prints the table and writes `target/bench/report.json`.
pub(crate) fn run(root: &Path, mut build: Command) -> Result<(), String> {
    crate::run(
        "release build of the benchmark and the CLI",
        build.args(["build", "--release", "--quiet", "-p", "detcloud-bench", "-p", "detcloud-cli"]),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let mut bench = Command::new(target.join("release").join("detcloud-bench"));
    bench.current_dir(root);
    let server = match crate::moto::Server::start(root) {
        Ok(server) => Some(server),
        Err(e) => {
            eprintln!("xtask: no moto server ({e}): the AWS backend is not measured");
            None
        }
    };
    if let Some(server) = &server {
        bench
            .env("DETCLOUD_BENCH_ENDPOINT", server.url())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/nonexistent/detcloud-bench")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/detcloud-bench")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
    }
    crate::run("benchmarks", &mut bench)?;
    drop(server);

    let mut control = Command::new(target.join("release").join("detcloud-bench-control"));
    control.current_dir(root);
    let postgres = match crate::postgres::Server::start() {
        Ok(server) => Some(server),
        Err(e) => {
            eprintln!("xtask: no PostgreSQL ({e}): the replicas are not measured");
            None
        }
    };
    if let Some(pg) = &postgres {
        control.env("DETCLOUD_BENCH_POSTGRES_URL", pg.url());
    }
    eprintln!("==> control plane benchmark (10,000 clusters in 1,000 accounts, 50 ms per call)");
    let out = control.output().map_err(|e| format!("detcloud-bench-control: {e}"))?;
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("control.json"), &out.stdout).map_err(|e| format!("control.json: {e}"))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(format!("the control plane benchmark failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    eprintln!("written: target/bench/control.json");
    Ok(())
}
