//! A throwaway PostgreSQL server on a free loopback port, for the control plane's store tests.
//!
//! Made from the machine's server binaries (`initdb`, `pg_ctl`, `postgres`: on PATH, else the
//! newest `/usr/lib/postgresql/*/bin`), in a new temp dir, with trust authentication on loopback
//! only and no fsync (the data is thrown away). PostgreSQL refuses to run as root: as root, the
//! server runs as the `postgres` system user, which Debian's packages create. Stopped and removed
//! when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running server; stopped (immediately) and its directory removed when dropped.
pub(crate) struct Server {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<String>,
}

/// The user the server runs as, and the role tests connect as.
const ROLE: &str = "detcloud";

impl Server {
    /// Creates a cluster in a temp dir and starts it; fails with what to install when the
    /// binaries are missing.
    pub(crate) fn start() -> Result<Server, String> {
        let bin = binaries()?;
        let port = crate::free_port()?;
        let dir = std::env::temp_dir().join(format!("detcloud-postgres-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let is_root = crate::is_root();
        let run_as = if is_root {
            let ok = Command::new("chown").args(["-R", "postgres:"]).arg(&dir).status().is_ok_and(|s| s.success());
            if !ok {
                return Err(format!(
                    "PostgreSQL does not run as root, and {} cannot be given to the postgres user \
                     (is there one? apt-get install postgresql-common creates it)",
                    dir.display()
                ));
            }
            Some("postgres".to_string())
        } else {
            None
        };
        let server = Server { bin, dir, port, run_as };
        let data = server.dir.join("data");
        let log = server.dir.join("server.log");
        eprintln!("==> starting PostgreSQL on 127.0.0.1:{port} (data and log: {})", server.dir.display());
        let mut initdb = server.command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", ROLE, "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
            .stdout(Stdio::null());
        server.run("initdb", &mut initdb)?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c full_page_writes=off \
             -c max_connections=200",
            server.dir.display()
        );
        let mut start = server.command("pg_ctl");
        start.arg("-D").arg(&data).arg("-l").arg(&log).args(["-o", &options, "-w", "-t", "60", "start"]);
        start.stdout(Stdio::null());
        if let Err(e) = server.run("pg_ctl start", &mut start) {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(format!("{e}\n{}", tail.join("\n")));
        }
        Ok(server)
    }

    /// The URL of the server's `postgres` database, as the role tests use.
    pub(crate) fn url(&self) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/postgres", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(path);
                cmd
            }
            None => Command::new(path),
        }
    }

    fn run(&self, step: &str, cmd: &mut Command) -> Result<(), String> {
        let status = cmd.status().map_err(|e| format!("PostgreSQL {step}: cannot start: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("PostgreSQL {step} failed ({status})"))
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn binaries() -> Result<PathBuf, String> {
    let wanted = ["initdb", "pg_ctl", "postgres"];
    let has_all = |dir: &Path| wanted.iter().all(|b| dir.join(b).is_file());
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_all(d)) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| has_all(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "the PostgreSQL server binaries (initdb, pg_ctl, postgres) are neither on PATH nor under \
         /usr/lib/postgresql/*/bin: apt-get install postgresql-15"
            .to_string()
    })
}
