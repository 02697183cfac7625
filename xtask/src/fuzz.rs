//! `cargo xtask fuzz [--seconds N]`: runs each cargo-fuzz target of `fuzz/` (the policy-document
//! parser and the cluster-spec parser) for N seconds (default 60) with `cargo +nightly fuzz run`,
//! seeded with the repository's fixtures, and reports per target how many inputs it executed and
//! whether it found a crash (the crashing input is left in `fuzz/artifacts/<target>/`).
//!
//! Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). Not part of
//! `cargo xtask ci`: the stable proptests in detcloud-policy and detcloud-cluster feed the same
//! entry points there.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// The targets and the fixture directory that seeds each one's corpus.
const TARGETS: [(&str, &str); 2] = [("policy_document", "fixtures/policies"), ("cluster_spec", "fixtures/clusters")];

/// What one target's run found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    /// Inputs executed (libFuzzer's `Done N runs`, or its last status line after a crash).
    executions: u64,
    /// The crashing input libFuzzer wrote, if it found one.
    crash: Option<String>,
}

/// Parses `--seconds N` from the arguments after `fuzz`.
pub(crate) fn parse_seconds(args: &[String]) -> Result<u64, String> {
    match args {
        [] => Ok(60),
        [flag, n] if flag == "--seconds" => n
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("--seconds: must be a positive number (got {n:?})")),
        other => Err(format!("unknown fuzz options {other:?} (usage: cargo xtask fuzz [--seconds N])")),
    }
}

/// Runs every target for `seconds` seconds; fails when one crashed or could not run.
pub(crate) fn run(root: &Path, seconds: u64) -> Result<(), String> {
    let mut results = vec![];
    for (target, seeds) in TARGETS {
        let corpus = root.join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        eprintln!("\n==> fuzz {target} for {seconds}s (corpus {}, seeds {seeds})", corpus.display());
        let mut child = Command::new("cargo")
            .current_dir(root)
            .env_remove("RUSTUP_TOOLCHAIN")
            // fuzz/ has its own workspace and target dir (its builds are instrumented).
            .env_remove("CARGO_TARGET_DIR")
            .args(["+nightly", "fuzz", "run", target])
            .arg(&corpus)
            .arg(root.join(seeds))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-timeout=10")
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!("cannot start cargo +nightly fuzz (install it: cargo install cargo-fuzz --locked): {e}")
            })?;
        let mut outcome = Outcome::default();
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                read_line(&line, &mut outcome);
                // libFuzzer's progress lines (`#1234 NEW ...`) and its recommended dictionary
                // (`"ab" # Uses: 3`) would bury everything else.
                if !line.starts_with('#') && !line.starts_with("INFO:") && !line.contains("# Uses: ") {
                    eprintln!("{line}");
                }
            }
        }
        let status = child.wait().map_err(|e| format!("fuzz {target}: {e}"))?;
        if !status.success() && outcome.crash.is_none() {
            outcome.crash = Some(format!("the run failed ({status}); see the output above"));
        }
        results.push((target, outcome));
    }
    eprintln!("\n{:<16} {:>14}  result", "target", "executions");
    for (target, o) in &results {
        let result = o.crash.as_deref().map_or("no crash".to_string(), |c| format!("CRASH: {c}"));
        eprintln!("{target:<16} {:>14}  {result}", o.executions);
    }
    let crashed: Vec<&str> = results.iter().filter(|(_, o)| o.crash.is_some()).map(|(t, _)| *t).collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzzing found a crash in {}", crashed.join(", ")))
    }
}

/// Reads what matters from one line of libFuzzer's output.
fn read_line(line: &str, outcome: &mut Outcome) {
    if let Some(rest) = line.strip_prefix("Done ") {
        if let Some(n) = rest.split_whitespace().next().and_then(|n| n.parse().ok()) {
            outcome.executions = n;
        }
    } else if let Some(rest) = line.strip_prefix('#') {
        // `#123456\tpulse  cov: ...`: the latest count, in case the run ends in a crash.
        if let Some(n) = rest.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()) {
            outcome.executions = outcome.executions.max(n);
        }
    } else if let Some(path) = line.split("Test unit written to ").nth(1) {
        outcome.crash = Some(path.trim().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_output() {
        let mut o = Outcome::default();
        for line in ["#2\tINITED cov: 10", "#4096\tpulse  cov: 20", "Done 123456 runs in 60 second(s)"] {
            read_line(line, &mut o);
        }
        assert_eq!(o, Outcome { executions: 123_456, crash: None });
        let mut o = Outcome::default();
        for line in [
            "#777\tNEW cov: 3",
            "==1== ERROR: libFuzzer: deadly signal",
            "artifact_prefix='x/'; Test unit written to fuzz/artifacts/t/crash-1",
        ] {
            read_line(line, &mut o);
        }
        assert_eq!(o, Outcome { executions: 777, crash: Some("fuzz/artifacts/t/crash-1".into()) });
    }

    #[test]
    fn seconds_default_to_60() {
        assert_eq!(parse_seconds(&[]), Ok(60));
        assert_eq!(parse_seconds(&["--seconds".into(), "5".into()]), Ok(5));
        assert!(parse_seconds(&["--seconds".into(), "0".into()]).is_err());
        assert!(parse_seconds(&["--minutes".into()]).is_err());
    }
}
