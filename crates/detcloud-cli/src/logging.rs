//! `tracing` logs on stderr: `-v` info, `-vv` debug, `-vvv` trace (detcloud's own crates); warnings
//! only by default; `RUST_LOG` replaces the filter when set.
//!
//! The libraries below detcloud that see request bodies or credentials on the wire (the HTTP
//! stack, TLS, request signing) stay at `info` unless `RUST_LOG` names them explicitly: their
//! trace logs are the one place a generated password could otherwise appear.

use tracing_subscriber::EnvFilter;

/// detcloud's crates, raised by `-v`.
const OWN: [&str; 7] = [
    "detcloud",
    "detcloud_cli",
    "detcloud_connect",
    "detcloud_cluster",
    "detcloud_aws",
    "detcloud_provider",
    "detcloud_retry",
];

/// Wire-level crates capped at `info` unless `RUST_LOG` names them.
const WIRE: [&str; 7] = ["hyper", "hyper_util", "h2", "rustls", "aws_smithy_runtime", "aws_smithy_http", "aws_sigv4"];

/// The filter for a verbosity (`-v` count), or `RUST_LOG` when set.
pub(crate) fn filter(verbose: u8, rust_log: Option<&str>) -> EnvFilter {
    let (mut filter, named) = match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        Some(spec) => (EnvFilter::builder().parse_lossy(spec), spec.to_string()),
        None => {
            let own = match verbose {
                0 => "warn",
                1 => "info",
                2 => "debug",
                _ => "trace",
            };
            let others = if verbose >= 2 { "info" } else { "warn" };
            let spec = std::iter::once(others.to_string())
                .chain(OWN.iter().map(|c| format!("{c}={own}")))
                .collect::<Vec<_>>()
                .join(",");
            (EnvFilter::builder().parse_lossy(&spec), String::new())
        }
    };
    for target in WIRE {
        if !named.contains(target) {
            if let Ok(d) = format!("{target}=info").parse() {
                filter = filter.add_directive(d);
            }
        }
    }
    filter
}

/// Installs the stderr subscriber (once; later calls do nothing).
pub(crate) fn init(verbose: u8, ansi: bool) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(verbose, rust_log.as_deref()))
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(verbose >= 2 || rust_log.is_some())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_picks_the_level_and_rust_log_wins() {
        assert!(filter(0, None).to_string().contains("detcloud_cli=warn"));
        assert!(filter(1, None).to_string().contains("detcloud_cluster=info"));
        assert!(filter(3, None).to_string().contains("detcloud_connect=trace"));
        let custom = filter(0, Some("detcloud_cli=debug")).to_string();
        assert!(custom.contains("detcloud_cli=debug") && custom.contains("hyper=info"), "{custom}");
        assert!(!filter(0, Some("hyper=trace")).to_string().contains("hyper=info"));
    }
}
