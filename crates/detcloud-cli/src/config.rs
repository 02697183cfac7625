//! Settings from flags, the environment, the config file and built-in defaults, resolved once.
//!
//! Precedence, highest first: a command-line flag, an environment variable (`AWS_REGION`,
//! `AWS_PROFILE`, `AWS_ENDPOINT_URL`, `DETCLOUD_*`), the config file
//! (`$XDG_CONFIG_HOME/detcloud/config.toml`, `~/.config/detcloud/config.toml`, or `--config FILE`
//! / `DETCLOUD_CONFIG`), then the built-in default. [`resolve`] runs before any command: it
//! validates every value with the validator of the matching flag, writes the effective values
//! back into the parsed command line, and records where each came from for `detcloud config show`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use detcloud_connect::options::{apply_name_prefix, DEFAULT_DETERMINED_ACCOUNT_ID};
use detcloud_connect::ConnectOptions;
use serde_json::json;

use crate::exit::CliError;
use crate::style::Table;
use crate::{Command, ConnectCommand, DisconnectCommand, GlobalArgs, OutputFormat, VerifyCommand};

/// The keys a config file may hold.
pub(crate) const KEYS: [&str; 8] =
    ["region", "profile", "endpoint_url", "account_id", "external_id", "name_prefix", "tags", "output"];

/// Where a setting's value came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag (its name).
    Flag(&'static str),
    /// An environment variable (its name).
    Env(&'static str),
    /// The config file.
    File,
    /// detcloud's built-in default.
    #[default]
    Default,
}

impl Source {
    fn kind(&self) -> &'static str {
        match self {
            Source::Flag(_) => "flag",
            Source::Env(_) => "env",
            Source::File => "file",
            Source::Default => "default",
        }
    }
}

/// One effective setting: its value (none: unset) and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Setting<T> {
    /// The value, if any.
    pub value: Option<T>,
    /// Where it came from.
    pub source: Source,
}

/// The config file in use.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Its path (none when neither XDG_CONFIG_HOME nor HOME is set and no --config was given).
    pub path: Option<PathBuf>,
    /// How it was chosen: `--config`, `DETCLOUD_CONFIG`, or the default location.
    pub source: Source,
    /// Whether it exists (a missing default file is fine).
    pub exists: bool,
}

/// The effective settings of this run (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The config file.
    pub file: ConfigFile,
    /// AWS region.
    pub region: Setting<String>,
    /// AWS profile.
    pub profile: Setting<String>,
    /// Endpoint for every AWS call.
    pub endpoint_url: Setting<String>,
    /// The Determined account the cross-account role trusts.
    pub account_id: Setting<String>,
    /// The sts:ExternalId the cross-account role requires.
    pub external_id: Setting<String>,
    /// Prefix of the three names `connect aws` creates.
    pub name_prefix: Setting<String>,
    /// Tags added to every resource detcloud creates.
    pub tags: Setting<BTreeMap<String, String>>,
    /// Output format.
    pub output: Setting<OutputFormat>,
}

/// `detcloud config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every effective setting and where it came from: flag, env, file or default.
    Show,
    /// Print the config file's path (whether or not it exists).
    Path,
}

fn env(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The rule a region breaks, if any (the check of `--region`).
pub(crate) fn check_region(region: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&region.len())
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && region.chars().any(|c| c.is_ascii_lowercase())
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("must be a region name such as us-west-2 (lower-case letters, digits and hyphens; got {region:?})"))
    }
}

/// The rule an endpoint URL breaks, if any (the check of `--endpoint-url`).
pub(crate) fn check_endpoint(url: &str) -> Result<(), String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if ok {
        Ok(())
    } else {
        Err(format!("must be an http:// or https:// URL such as http://127.0.0.1:5000 (got {url:?})"))
    }
}

fn check_profile(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        Err(format!("must be a profile name from ~/.aws/config (got {name:?})"))
    } else {
        Ok(())
    }
}

fn check_account_id(id: &str) -> Result<(), String> {
    let options = ConnectOptions { determined_account_id: id.to_string(), ..ConnectOptions::default() };
    options.validate().map_err(|e| e.message)
}

fn check_external_id(id: &str) -> Result<(), String> {
    detcloud_policy::names::validate_external_id(id).map_err(|e| e.0)
}

fn check_name_prefix(prefix: &str) -> Result<(), String> {
    apply_name_prefix(&mut ConnectOptions::default(), prefix).map_err(|e| e.message)
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), String> {
    let options = ConnectOptions { tags: tags.clone().into(), ..ConnectOptions::default() };
    options.validate().map_err(|e| e.message)
}

fn check_output(text: &str) -> Result<OutputFormat, String> {
    match text {
        "text" => Ok(OutputFormat::Text),
        "json" => Ok(OutputFormat::Json),
        other => Err(format!("must be text or json (got {other:?})")),
    }
}

/// The default config file: `$XDG_CONFIG_HOME/detcloud/config.toml`, else
/// `~/.config/detcloud/config.toml`.
fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("detcloud").join("config.toml"));
    }
    std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".config/detcloud/config.toml"))
}

/// The values of a config file, checked.
#[derive(Debug, Default)]
struct FileValues {
    strings: BTreeMap<&'static str, String>,
    tags: Option<BTreeMap<String, String>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |t| t.matches('\n').count() + 1)
}

/// Parses and checks a config file: unknown keys, wrong types and values that break a flag's rule
/// are errors naming the file and the key.
fn parse_file(path: &Path, text: &str) -> Result<FileValues, CliError> {
    let at = |key: &str, rule: &str| CliError::usage(format!("config file {}: {key}: {rule}", path.display()));
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        let message = e.message().lines().next().unwrap_or("invalid TOML").to_string();
        CliError::usage(format!("config file {}: line {line}: not valid TOML: {message}", path.display()))
    })?;
    let mut values = FileValues::default();
    for (key, value) in &table {
        let Some(known) = KEYS.iter().copied().find(|k| k == key) else {
            return Err(at(key, &format!("unknown key (known keys: {})", KEYS.join(", "))));
        };
        if known == "tags" {
            let toml::Value::Table(t) = value else {
                return Err(at(key, "must be a table of strings, such as tags = { team = \"ml\" }"));
            };
            let mut tags = BTreeMap::new();
            for (k, v) in t {
                let toml::Value::String(v) = v else {
                    return Err(at(&format!("tags.{k}"), "must be a string"));
                };
                tags.insert(k.clone(), v.clone());
            }
            check_tags(&tags).map_err(|rule| at(key, &rule))?;
            values.tags = Some(tags);
            continue;
        }
        let toml::Value::String(text) = value else {
            return Err(at(key, "must be a string"));
        };
        let check: fn(&str) -> Result<(), String> = match known {
            "region" => check_region,
            "profile" => check_profile,
            "endpoint_url" => check_endpoint,
            "account_id" => check_account_id,
            "external_id" => check_external_id,
            "name_prefix" => check_name_prefix,
            _ => |t| check_output(t).map(|_| ()),
        };
        check(text).map_err(|rule| at(key, &rule))?;
        values.strings.insert(known, text.clone());
    }
    Ok(values)
}

/// Picks the value of one setting: the flag, else the environment, else the file, each checked.
fn pick(
    flag: (&'static str, Option<&String>),
    envs: &[&'static str],
    file: Option<&String>,
    check: fn(&str) -> Result<(), String>,
) -> Result<Setting<String>, CliError> {
    if let (name, Some(v)) = flag {
        check(v).map_err(|rule| CliError::usage(format!("{name}: {rule}")))?;
        return Ok(Setting { value: Some(v.clone()), source: Source::Flag(name) });
    }
    for name in envs {
        if let Some(v) = env(name) {
            check(&v).map_err(|rule| CliError::usage(format!("{name} (environment): {rule}")))?;
            return Ok(Setting { value: Some(v), source: Source::Env(name) });
        }
    }
    // File values were checked when the file was read.
    Ok(match file {
        Some(v) => Setting { value: Some(v.clone()), source: Source::File },
        None => Setting::default(),
    })
}

/// Finds and reads the config file.
fn load(global: &GlobalArgs) -> Result<(ConfigFile, FileValues), CliError> {
    let (path, source) = match (&global.config, env("DETCLOUD_CONFIG")) {
        (Some(p), _) => (Some(p.clone()), Source::Flag("--config")),
        (None, Some(p)) => (Some(PathBuf::from(p)), Source::Env("DETCLOUD_CONFIG")),
        (None, None) => (default_path(), Source::Default),
    };
    let Some(path) = path else {
        return Ok((ConfigFile { path: None, source, exists: false }, FileValues::default()));
    };
    let label = match &source {
        Source::Flag(n) | Source::Env(n) => n.to_string(),
        _ => "config file".to_string(),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let values = parse_file(&path, &text)?;
            Ok((ConfigFile { path: Some(path), source, exists: true }, values))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && source == Source::Default => {
            Ok((ConfigFile { path: Some(path), source, exists: false }, FileValues::default()))
        }
        Err(e) => Err(CliError::usage(format!("{label}: cannot read {}: {e}", path.display()))),
    }
}

/// Resolves every setting (see the module docs) and writes the effective values into the
/// command line: the global flags, and the account, external id, name prefix and tag defaults of
/// the commands that take them. Invalid values are usage errors (exit code 2).
pub(crate) fn resolve(global: &mut GlobalArgs, command: &mut Command) -> Result<(), CliError> {
    let (file, values) = load(global)?;
    let s = |k: &str| values.strings.get(k);
    let region =
        pick(("--region", global.region.as_ref()), &["AWS_REGION", "AWS_DEFAULT_REGION"], s("region"), check_region)?;
    let profile = pick(("--profile", global.profile.as_ref()), &["AWS_PROFILE"], s("profile"), check_profile)?;
    let endpoint_url = pick(
        ("--endpoint-url", global.endpoint_url.as_ref()),
        &["AWS_ENDPOINT_URL"],
        s("endpoint_url"),
        check_endpoint,
    )?;
    let account_id = pick(("", None), &["DETCLOUD_ACCOUNT_ID"], s("account_id"), check_account_id)?;
    let external_id = pick(("", None), &["DETCLOUD_EXTERNAL_ID"], s("external_id"), check_external_id)?;
    let name_prefix = pick(("", None), &["DETCLOUD_NAME_PREFIX"], s("name_prefix"), check_name_prefix)?;
    let output_text = pick(("", None), &["DETCLOUD_OUTPUT"], s("output"), |t| check_output(t).map(|_| ()))?;
    let output = match global.output_flag {
        Some(f) => Setting { value: Some(f), source: Source::Flag("--output") },
        None => Setting {
            value: Some(output_text.value.as_deref().and_then(|t| check_output(t).ok()).unwrap_or_default()),
            source: output_text.source,
        },
    };
    let tags = match values.tags {
        Some(t) => Setting { value: Some(t), source: Source::File },
        None => Setting::default(),
    };
    let settings = Settings { file, region, profile, endpoint_url, account_id, external_id, name_prefix, tags, output };

    global.region = settings.region.value.clone();
    global.profile = settings.profile.value.clone();
    global.endpoint_url = settings.endpoint_url.value.clone();
    global.output = settings.output.value.unwrap_or_default();
    apply_defaults(&settings, command);
    global.settings = settings;
    Ok(())
}

/// Fills the per-command flags the user did not give from the settings.
fn apply_defaults(settings: &Settings, command: &mut Command) {
    let tags = settings.tags.value.clone().unwrap_or_default();
    let account = |a: &mut crate::commands::account::AccountArgs| {
        if a.account_id.is_none() {
            a.account_id = settings.account_id.value.clone();
        }
        if a.external_id.is_none() {
            a.external_id = settings.external_id.value.clone();
        }
        if a.name_prefix.is_none() {
            a.name_prefix = settings.name_prefix.value.clone();
        }
    };
    match command {
        Command::Connect(ConnectCommand::Aws(args)) => {
            account(&mut args.account);
            args.default_tags = tags;
        }
        Command::Verify(VerifyCommand::Aws(args)) => account(&mut args.account),
        Command::Disconnect(DisconnectCommand::Aws(args)) => account(&mut args.account),
        Command::Policy(crate::commands::policy::PolicyCommand::Export(args)) => account(&mut args.account),
        Command::Cluster(c) => {
            crate::commands::cluster::apply_defaults(c, settings.external_id.value.as_deref(), &tags)
        }
        _ => {}
    }
}

fn source_detail(source: &Source, file: &ConfigFile) -> Option<String> {
    match source {
        Source::Flag(n) | Source::Env(n) => Some(n.to_string()),
        Source::File => file.path.as_ref().map(|p| p.display().to_string()),
        Source::Default => None,
    }
}

/// The rows of `config show`: key, value (as text), source, where exactly.
fn rows(settings: &Settings) -> Vec<(&'static str, serde_json::Value, &Source)> {
    let text = |s: &Setting<String>, default: Option<&str>| match (&s.value, default) {
        (Some(v), _) => json!(v),
        (None, Some(d)) => json!(d),
        (None, None) => serde_json::Value::Null,
    };
    vec![
        ("region", text(&settings.region, None), &settings.region.source),
        ("profile", text(&settings.profile, None), &settings.profile.source),
        ("endpoint_url", text(&settings.endpoint_url, None), &settings.endpoint_url.source),
        ("account_id", text(&settings.account_id, Some(DEFAULT_DETERMINED_ACCOUNT_ID)), &settings.account_id.source),
        ("external_id", text(&settings.external_id, None), &settings.external_id.source),
        ("name_prefix", text(&settings.name_prefix, None), &settings.name_prefix.source),
        ("tags", json!(settings.tags.value.clone().unwrap_or_default()), &settings.tags.source),
        (
            "output",
            json!(if settings.output.value == Some(OutputFormat::Json) { "json" } else { "text" }),
            &settings.output.source,
        ),
    ]
}

/// What an unset setting means, for `config show`.
fn unset_meaning(key: &str) -> &'static str {
    match key {
        "region" => "(the profile's region, else us-east-1; the sandbox's own)",
        "profile" => "(the SDK's default chain)",
        "endpoint_url" => "(AWS)",
        "external_id" => "(none)",
        "name_prefix" => "(none)",
        _ => "-",
    }
}

/// Runs `config show` or `config path`.
pub(crate) fn run(global: &GlobalArgs, command: &ConfigCommand) -> Result<(), CliError> {
    let settings = &global.settings;
    let file = &settings.file;
    let path_text = file.path.as_ref().map(|p| p.display().to_string());
    let file_json = json!({
        "path": path_text,
        "exists": file.exists,
        "source": file.source.kind(),
    });
    match (command, global.output) {
        (ConfigCommand::Path, OutputFormat::Json) => crate::output::print_json(&file_json),
        (ConfigCommand::Path, OutputFormat::Text) => match &path_text {
            Some(p) => println!("{p}"),
            None => {
                return Err(CliError::usage(
                    "config path: neither XDG_CONFIG_HOME nor HOME is set; name a file with --config FILE",
                ))
            }
        },
        (ConfigCommand::Show, OutputFormat::Json) => {
            let mut map = serde_json::Map::new();
            for (key, value, source) in rows(settings) {
                map.insert(
                    key.to_string(),
                    json!({"value": value, "source": source.kind(), "origin": source_detail(source, file)}),
                );
            }
            crate::output::print_json(&json!({ "config_file": file_json, "settings": map }));
        }
        (ConfigCommand::Show, OutputFormat::Text) => {
            let state = match (&file.source, file.exists) {
                (Source::Default, false) => " (not present: built-in defaults apply)",
                _ => "",
            };
            println!("Config file: {}{state}", path_text.as_deref().unwrap_or("(none: HOME is not set)"));
            let mut table = Table::with_header(&["KEY", "VALUE", "SOURCE"]);
            for (key, value, source) in rows(settings) {
                let shown = match &value {
                    serde_json::Value::Null => unset_meaning(key).to_string(),
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Object(m) => m
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                let shown = if shown.is_empty() { "-".to_string() } else { shown };
                let origin = match source_detail(source, file) {
                    Some(d) if !matches!(source, Source::File) => format!("{} ({d})", source.kind()),
                    _ => source.kind().to_string(),
                };
                table.row([key.to_string(), shown, origin]);
            }
            table.print();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FileValues, String> {
        parse_file(Path::new("/c.toml"), text).map_err(|e| e.message)
    }

    #[test]
    fn a_good_file_parses() {
        let v = parse("region = \"us-west-2\"\noutput = \"json\"\n[tags]\nteam = \"ml\"\n").unwrap();
        assert_eq!(v.strings["region"], "us-west-2");
        assert_eq!(v.tags.unwrap()["team"], "ml");
    }

    #[test]
    fn bad_files_name_the_file_the_key_and_the_rule() {
        for (text, needle) in [
            ("regoin = \"x\"", "config file /c.toml: regoin: unknown key"),
            ("region = \"us west\"", "config file /c.toml: region: must be a region name"),
            ("region = 5", "config file /c.toml: region: must be a string"),
            ("account_id = \"12\"", "config file /c.toml: account_id: must be exactly 12 digits"),
            ("endpoint_url = \"localhost\"", "config file /c.toml: endpoint_url: must be an http://"),
            ("output = \"yaml\"", "config file /c.toml: output: must be text or json"),
            ("external_id = \"x\"", "config file /c.toml: external_id:"),
            ("name_prefix = \"bad prefix\"", "config file /c.toml: name_prefix:"),
            ("tags = \"x\"", "config file /c.toml: tags: must be a table"),
            ("[tags]\n\"detcloud:x\" = \"1\"", "config file /c.toml: tags: \"detcloud:x\""),
            ("region = ", "config file /c.toml: line 1: not valid TOML"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(needle), "{text:?}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }
}
