//! A LocalStack (community, on the host, no Docker) on a free loopback port, from a Python 3.13
//! venv under `target/localstack-venv` that is installed once and kept between runs.
//!
//! localstack-core 2026.3.0 imports `warnings.deprecated`, new in Python 3.13; the pins below are
//! the ones it starts with on these machines (see `LOCAL-ENDPOINTS.md`). Its data lives in a temp
//! dir removed after; the whole process group is stopped when the [`Server`] is dropped.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What `pip` installs; the venv is rebuilt when this changes.
const PACKAGES: &[&str] =
    &["localstack-core[runtime]==2026.3.0", "cbor2<6", "pyopenssl<26", "cryptography<47", "service-identity"];

/// How long LocalStack may take to answer its health check (about 3-15 s here).
const READY_WITHIN: Duration = Duration::from_secs(90);

/// A running LocalStack; its process group is stopped and its data removed when dropped.
pub(crate) struct Server {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Server {
    /// Installs LocalStack if needed and starts it.
    pub(crate) fn start(root: &Path) -> Result<Server, String> {
        let python = venv_python(root)?;
        let port = crate::free_port()?;
        let data = std::env::temp_dir().join(format!("detcloud-localstack-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        let log = root.join("target").join("localstack.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        eprintln!("==> starting LocalStack on 127.0.0.1:{port} (log: {})", log.display());
        let child = Command::new(&python)
            .args(["-m", "localstack.runtime.main"])
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("LOCALSTACK_VOLUME_DIR", &data)
            // Loopback only: no certificate download, no DNS server, no analytics.
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("DNS_ADDRESS", "0")
            .env("DISABLE_EVENTS", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start LocalStack with {}: {e}", python.display()))?;
        let mut server = Server { child, port, data };
        server.wait_ready()?;
        Ok(server)
    }

    /// The endpoint URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let healthy = |answer: &str| answer.lines().next().is_some_and(|status| status.contains(" 200"));
        let took = crate::moto::wait_for_http(
            &mut self.child,
            self.port,
            "/_localstack/health",
            healthy,
            READY_WITHIN,
            "LocalStack",
        )?;
        eprintln!("==> LocalStack ready in {:.1}s", took.as_secs_f64());
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The runtime starts helper processes: stop the whole group, politely first.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// True when `python` runs and is at least 3.13.
fn is_313(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python 3.13 or newer: `DETCLOUD_PYTHON313`, `python3.13`/`python3.14`/`python3` on PATH, or
/// one that pyenv installed (a pyenv shim fails unless that version is selected, so the versions
/// directory is searched too).
fn find_python() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("DETCLOUD_PYTHON313") {
        candidates.push(path.into());
    }
    candidates.extend(["python3.13", "python3.14", "python3"].map(PathBuf::from));
    let pyenv_root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")));
    if let Some(versions) = pyenv_root.map(|r| r.join("versions")) {
        let mut found: Vec<PathBuf> = std::fs::read_dir(versions)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin").join("python3"))
            .collect();
        found.sort();
        candidates.extend(found.into_iter().rev());
    }
    candidates.into_iter().find(|p| is_313(p)).ok_or_else(|| {
        "LocalStack needs Python 3.13 or newer, and none was found (tried DETCLOUD_PYTHON313, python3.13, python3 \
         and pyenv's versions): install one with `pyenv install 3.13`, or point DETCLOUD_PYTHON313 at it"
            .to_string()
    })
}

/// The venv's Python, creating the venv and installing [`PACKAGES`] when it is missing or was
/// made for other pins.
fn venv_python(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target").join("localstack-venv");
    let python = venv.join("bin").join("python");
    let marker = venv.join("detcloud-packages.txt");
    let wanted = PACKAGES.join("\n");
    if python.exists() && std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return Ok(python);
    }
    let base = find_python()?;
    let started = Instant::now();
    eprintln!("==> installing LocalStack into {} with {}", venv.display(), base.display());
    let _ = std::fs::remove_dir_all(&venv);
    let ok = Command::new(&base).args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success());
    if !ok {
        return Err(format!("cannot create a venv with {}", base.display()));
    }
    let ok = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args(PACKAGES)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err(format!("pip install {} failed", PACKAGES.join(" ")));
    }
    std::fs::write(&marker, wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    eprintln!("==> LocalStack installed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(python)
}
