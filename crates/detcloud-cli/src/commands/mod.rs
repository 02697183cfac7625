//! One module per command.

pub(crate) mod account;
pub(crate) mod cluster;
pub(crate) mod connect;
pub(crate) mod disconnect;
pub(crate) mod policy;
pub(crate) mod serve;
pub(crate) mod verify;

use std::io::Read;
use std::path::Path;

use crate::exit::CliError;

/// The largest input file detcloud reads (a policy document, a cluster spec, a public key): far
/// above what any of them needs (IAM's largest policy is 10,240 characters), far below what
/// would exhaust memory.
pub(crate) const MAX_INPUT_FILE: u64 = 1024 * 1024;

/// Reads a UTF-8 text file given with `flag`; a missing, unreadable, non-UTF-8 or oversized file
/// is invalid input naming the flag.
pub(crate) fn read_input_file(flag: &str, path: &Path) -> Result<String, CliError> {
    let cannot = |e: &dyn std::fmt::Display| CliError::usage(format!("{flag}: cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    let mut bytes = vec![];
    file.take(MAX_INPUT_FILE + 1).read_to_end(&mut bytes).map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > MAX_INPUT_FILE {
        return Err(CliError::usage(format!(
            "{flag}: {} is larger than {} KiB, the most detcloud reads",
            path.display(),
            MAX_INPUT_FILE / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|_| cannot(&"the file is not UTF-8 text"))
}
