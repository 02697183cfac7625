//! Hostile input: every entry of `fixtures/hostile/corpus.toml` runs through the real binary on a
//! sandbox that is connected and has a cluster, and must be refused the documented way: exit code
//! 2, exactly one line on stderr (`error: ...`) that names the field at fault, nothing on stdout,
//! no panic, and nothing changed (the state file byte for byte, no file written).
//!
//! `DETCLOUD_HOSTILE_FILTER=SUBSTRING` runs only the entries whose id contains SUBSTRING.
#![cfg(unix)]

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Deserialize;

/// The corpus: a list of `[[case]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    case: Vec<Case>,
}

/// One hostile input (see the corpus file's header for the placeholders).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    args: Vec<String>,
    expect: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    long: Option<Long>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// `text` repeated `count` times, for `{long}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Long {
    text: String,
    count: usize,
}

const INVALID_UTF8: &str = "{invalid-utf8}";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn load_corpus() -> Vec<Case> {
    let path = fixtures().join("hostile/corpus.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let corpus: Corpus = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    corpus.case
}

/// Replaces `{long}` and turns `{invalid-utf8}` into the byte 0xFF.
fn expand(case: &Case, text: &str) -> Vec<u8> {
    let long = case.long.as_ref().map(|l| l.text.repeat(l.count)).unwrap_or_default();
    let text = text.replace("{long}", &long);
    let mut out = Vec::with_capacity(text.len());
    for (i, part) in text.split(INVALID_UTF8).enumerate() {
        if i > 0 {
            out.push(0xFF);
        }
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// Every file under `dir`, relative to it, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Runs one case on its own copy of `state`; returns why it failed, if it did.
fn check(case: &Case, state: &[u8]) -> Option<String> {
    let root = tempfile::tempdir().unwrap();
    let state_path = root.path().join("state.json");
    std::fs::write(&state_path, state).unwrap();
    let home = root.path().join("home");
    let work = root.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let input = work.join("input");
    if let Some(text) = &case.file {
        std::fs::write(&input, expand(case, text)).unwrap();
    }
    let work_before = listing(&work);
    let args: Vec<OsString> = case
        .args
        .iter()
        .map(|a| {
            let a = a
                .replace("{file}", &input.display().to_string())
                .replace("{dir}", &work.display().to_string())
                .replace("{fixtures}", &fixtures().display().to_string());
            OsString::from_vec(expand(case, &a))
        })
        .collect();
    let out = common::sandbox_output(&state_path, &home, &args, "");
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);

    let mut problems = vec![];
    if code != 2 {
        problems.push(format!("exit code {code}, not 2"));
    }
    if !stdout.is_empty() {
        problems.push(format!("stdout is not empty: {:?}", shorten(&stdout)));
    }
    if stderr.lines().count() != 1 || !stderr.ends_with('\n') || stderr.trim().is_empty() {
        problems.push(format!("stderr is not exactly one line: {} lines", stderr.lines().count()));
    }
    if !stderr.starts_with("error: ") {
        problems.push("stderr does not start with `error: `".into());
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") || stderr.contains("overflowed its stack") {
        problems.push("it panicked".into());
    }
    if !stderr.contains(&case.expect) {
        problems.push(format!("the error does not contain {:?}", case.expect));
    }
    if std::fs::read(&state_path).ok().as_deref() != Some(state) {
        problems.push("the sandbox state file changed".into());
    }
    let home_after = listing(&home);
    if !home_after.is_empty() {
        problems.push(format!("files were written to HOME: {home_after:?}"));
    }
    let work_after = listing(&work);
    if work_after != work_before {
        problems.push(format!("the working directory changed: {work_after:?}"));
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!("{}: {}\n    stderr: {:?}", case.id, problems.join("; "), shorten(&stderr)))
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= 400 {
        text.to_string()
    } else {
        format!("{}... ({} characters)", text.chars().take(400).collect::<String>(), text.chars().count())
    }
}

/// A sandbox that is connected and holds the cluster `ml-prod`: the state every case starts from.
fn prepared_state() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    for args in [
        &["connect", "aws", "--yes"][..],
        &["cluster", "create", "ml-prod", "--inbound-cidr", "203.0.113.0/24", "--yes"][..],
    ] {
        let (code, _, stderr) = common::run_sandbox(&state, dir.path(), args, "");
        assert_eq!(code, 0, "{args:?}: {stderr}");
    }
    std::fs::read(&state).unwrap()
}

#[test]
fn every_hostile_input_is_refused_with_one_line_and_changes_nothing() {
    let corpus = load_corpus();
    assert!(corpus.len() >= 100, "the corpus has only {} entries", corpus.len());
    let mut ids: Vec<&str> = corpus.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "corpus ids must be unique");

    let filter = std::env::var("DETCLOUD_HOSTILE_FILTER").unwrap_or_default();
    let cases: Vec<&Case> = corpus.iter().filter(|c| c.id.contains(&filter)).collect();
    let state = prepared_state();

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(vec![]);
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()).clamp(2, 8);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                if let Some(failure) = check(case, &state) {
                    failures.lock().unwrap().push(failure);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} hostile inputs were not refused properly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
