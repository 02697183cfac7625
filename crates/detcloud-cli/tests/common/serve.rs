//! Driving a running `detcloud serve`: start it, speak HTTP/1.1 to it, stop it with a signal.
#![allow(dead_code)] // Each test file uses a part.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A `detcloud serve` process, killed when dropped.
pub(crate) struct Served {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// `127.0.0.1:PORT`.
    pub(crate) address: String,
}

impl Served {
    /// Starts `command` (a `detcloud ... serve --listen 127.0.0.1:0 ...`) and waits for the line
    /// that says where it listens.
    pub(crate) fn start(mut command: Command) -> Served {
        let mut child = command.stdout(Stdio::piped()).stdin(Stdio::null()).spawn().expect("detcloud serve starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let address = line
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("serve did not say where it listens: {line:?} {err}")
            })
            .to_string();
        Served { child, _stdout: stdout, address }
    }

    /// One request; the status and the body.
    pub(crate) fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
        request(&self.address, method, path, token, body)
    }

    /// The body as JSON of a request that must answer `status`.
    pub(crate) fn json(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&str>,
        status: u16,
    ) -> serde_json::Value {
        let (got, text) = self.call(method, path, Some(token), body);
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// Polls `GET path` until `done` holds of its answer, for at most `within`.
    pub(crate) fn wait_for(
        &self,
        path: &str,
        token: &str,
        within: Duration,
        done: impl Fn(u16, &serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let (status, text) = self.call("GET", path, Some(token), None);
            let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
            if done(status, &value) {
                return value;
            }
            assert!(start.elapsed() < within, "GET {path} still {status} {text} after {within:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "serve did not stop within a minute of SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills it (SIGKILL): no lease is released.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `address` (a fresh connection, closed after).
pub(crate) fn request(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("the API accepts connections");
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "PUT" {
        head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    (status, if chunked { dechunk(body) } else { body.to_string() })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}
