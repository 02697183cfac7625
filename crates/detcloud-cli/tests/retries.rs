//! The real binary against an endpoint that answers every request with a server error: each call
//! is sent exactly as often as detcloud's retry policy allows (six attempts on 5xx; the AWS SDK's
//! own retries are off, so attempts do not multiply), then the command fails with one error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use assert_cmd::Command;

/// A local HTTP server answering every request `HTTP/1.1 {status}` with an empty body, and the
/// number of requests it has answered.
fn failing_endpoint(status: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&answered);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || serve(stream, status, &counter));
        }
    });
    (url, answered)
}

/// Answers the requests of one connection until the client closes it.
fn serve(stream: TcpStream, status: &str, answered: &AtomicUsize) {
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    loop {
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        answered.fetch_add(1, Ordering::SeqCst);
        let response = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        if (&stream).write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn a_failing_call_is_sent_six_times_in_all() {
    let (url, answered) = failing_endpoint("500 Internal Server Error");
    let home = tempfile::tempdir().unwrap();
    for file in ["config", "credentials"] {
        std::fs::write(home.path().join(file), "").unwrap();
    }
    let out = Command::cargo_bin("detcloud")
        .unwrap()
        .args(["--endpoint-url", &url, "--region", "us-east-1", "verify", "aws"])
        .env("HOME", home.path())
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DETCLOUD_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{stderr}");
    assert!(stderr.contains("500"), "the error names the failure: {stderr}");
    // The first call (who is calling) fails, and the command stops there.
    assert_eq!(answered.load(Ordering::SeqCst), 6, "{stderr}");
}
