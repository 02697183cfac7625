//! A moto server on a free loopback port, installed into a local venv when the machine has none.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server; stopped when dropped.
pub(crate) struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Installs moto if needed and starts it with the AWS managed policies loaded.
    pub(crate) fn start(root: &Path) -> Result<Server, String> {
        let python = python_with_moto(root)?;
        let port = crate::free_port()?;
        let log = root.join("target").join("moto.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        eprintln!("==> starting moto on 127.0.0.1:{port} (log: {})", log.display());
        let child = Command::new(&python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start moto with {}: {e}", python.display()))?;
        let mut server = Server { child, port };
        server.wait_ready()?;
        Ok(server)
    }

    /// The endpoint URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        wait_for_http(&mut self.child, self.port, "/moto-api/", |_| true, Duration::from_secs(30), "moto")?;
        Ok(())
    }
}

/// Polls `GET path` on `port` until an answer satisfies `ready` (given the whole response), for
/// at most `within`; fails early when `child` exits. `what` names the server and its log
/// (`target/<what>.log`, lower-case). Returns how long it took.
pub(crate) fn wait_for_http(
    child: &mut Child,
    port: u16,
    path: &str,
    ready: fn(&str) -> bool,
    within: Duration,
    what: &str,
) -> Result<Duration, String> {
    let log = format!("target/{}.log", what.to_ascii_lowercase());
    let started = Instant::now();
    while started.elapsed() < within {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited early ({status}); see {log}"));
        }
        if http_get(port, path).is_some_and(|answer| ready(&answer)) {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{what} did not answer within {} s; see {log}", within.as_secs()))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The answer to `GET path` on the loopback port, when it is HTTP.
pub(crate) fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.starts_with("HTTP/").then_some(response)
}

fn has_moto(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import moto, moto.server, flask, flask_cors"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python that can run `moto.server`: the venv under target/, the machine's python3, or a new
/// venv with `moto[server]` from PyPI.
fn python_with_moto(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target").join("moto-venv");
    let venv_python = venv.join("bin").join("python");
    if venv_python.exists() && has_moto(&venv_python) {
        return Ok(venv_python);
    }
    let system = PathBuf::from("python3");
    if std::env::var_os("DETCLOUD_FORCE_MOTO_VENV").is_none() && has_moto(&system) {
        return Ok(system);
    }
    eprintln!("==> installing moto[server] into {}", venv.display());
    let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success());
    if !ok {
        return Err("cannot create a Python venv (is python3 with the venv module installed?)".into());
    }
    let ok = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "moto[server]>=5.1,<6"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok || !has_moto(&venv_python) {
        return Err("pip install 'moto[server]' failed".into());
    }
    Ok(venv_python)
}
