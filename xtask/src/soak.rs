//! `cargo xtask soak [--schedules N] [--seed S]`: the reliability suite of detcloud-cluster
//! (`tests/faults.rs`) at soak strength. It runs N random fault schedules (default 10,000; CI runs
//! 1,000) through create, modify and delete on the fake, then the crash-at-every-call and
//! throttling-storm tests, and prints the counts the tests report: schedules run, faults injected,
//! operations that completed at once or after their documented recovery, leaks (must be 0) and
//! changes to resources detcloud does not own (must be 0).

use std::process::Command;

/// The default number of schedules.
const DEFAULT_SCHEDULES: u64 = 10_000;

/// The soak's settings.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Soak {
    pub(crate) schedules: u64,
    pub(crate) seed: Option<u64>,
}

/// Parses the arguments after `soak`.
pub(crate) fn parse(args: &[String]) -> Result<Soak, String> {
    let mut soak = Soak { schedules: DEFAULT_SCHEDULES, seed: None };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag}: needs a number"))?;
        let n = value.parse::<u64>().map_err(|_| format!("{flag}: must be a whole number (got {value:?})"))?;
        match flag.as_str() {
            "--schedules" if n > 0 => soak.schedules = n,
            "--schedules" => return Err("--schedules: must be at least 1".into()),
            "--seed" => soak.seed = Some(n),
            other => {
                return Err(format!("unknown soak option {other} (usage: cargo xtask soak [--schedules N] [--seed S])"))
            }
        }
    }
    Ok(soak)
}

/// Runs the soak; fails when any schedule breaks an invariant.
pub(crate) fn run(mut cargo: Command, soak: &Soak) -> Result<(), String> {
    cargo
        .args([
            "test",
            "--locked",
            "-p",
            "detcloud-cluster",
            "--test",
            "faults",
            "--",
            "--nocapture",
            "--test-threads",
            "2",
        ])
        .env("DETCLOUD_FAULT_SCHEDULES", soak.schedules.to_string());
    if let Some(seed) = soak.seed {
        cargo.env("DETCLOUD_FAULT_SEED", seed.to_string());
    }
    crate::run(&format!("{} fault schedules, crash points and a throttling storm", soak.schedules), &mut cargo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        assert_eq!(parse(&[]).unwrap(), Soak { schedules: 10_000, seed: None });
        assert_eq!(
            parse(&args(&["--schedules", "20000", "--seed", "7"])).unwrap(),
            Soak { schedules: 20_000, seed: Some(7) }
        );
        assert!(parse(&args(&["--schedules"])).unwrap_err().contains("needs a number"));
        assert!(parse(&args(&["--schedules", "0"])).unwrap_err().contains("at least 1"));
        assert!(parse(&args(&["--schedules", "many"])).unwrap_err().contains("whole number"));
        assert!(parse(&args(&["--fast", "1"])).unwrap_err().contains("unknown soak option"));
    }
}
