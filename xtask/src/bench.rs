//! `cargo xtask bench`: one release build of the benchmark and the CLI (the bench times
//! `detcloud --help` and the AWS backend, so both share the build and the SDK compiles once), a
//! moto server for the AWS backend's measures, then the benchmark.

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
    crate::run("benchmarks", &mut bench)
}
