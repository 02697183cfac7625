//! The flags that name the account connection: the spec's four, shared by `connect`, `verify`,
//! `disconnect` and `policy export`.

use clap::Args;
use detcloud_connect::options::{
    apply_name_prefix, DEFAULT_AGENT_INSTANCE_PROFILE_NAME, DEFAULT_DETERMINED_ACCOUNT_ID,
    DEFAULT_MASTER_INSTANCE_PROFILE_NAME, DEFAULT_XACCT_ROLE_NAME,
};
use detcloud_connect::ConnectOptions;

use crate::exit::CliError;

/// Names and accounts of the cross-account role and the instance profiles.
#[derive(Debug, Clone, Args)]
pub struct AccountArgs {
    /// ID of the Determined Account to connect with (default: 544296492693)
    /// (or DETCLOUD_ACCOUNT_ID, or the config file's `account_id`)
    #[arg(short = 'a', long = "account-id", value_name = "ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Name of the cross-acount role to be assumed by Determined Cloud (default: det-cloud-customer-xacct-mgmt)
    #[arg(long, value_name = "XACCT_ROLE_NAME", default_value = DEFAULT_XACCT_ROLE_NAME, hide_default_value = true)]
    pub xacct_role_name: String,
    /// Name of the master instance profile (default: det-cloud-customer-master)
    #[arg(long, value_name = "MASTER_INSTANCE_PROFILE_NAME", default_value = DEFAULT_MASTER_INSTANCE_PROFILE_NAME, hide_default_value = true)]
    pub master_instance_profile_name: String,
    /// Name of the agent instance profile (default: det-cloud-customer-agent)
    #[arg(long, value_name = "AGENT_INSTANCE_PROFILE_NAME", default_value = DEFAULT_AGENT_INSTANCE_PROFILE_NAME, hide_default_value = true)]
    pub agent_instance_profile_name: String,
    /// IAM path of every role, policy and instance profile, such as /determined/ (default: /).
    #[arg(long, value_name = "PATH", default_value = "/", hide_default_value = true)]
    pub path: String,
    /// Put this in front of all three names, e.g. "team-a-" gives team-a-det-cloud-customer-master
    /// (default: DETCLOUD_NAME_PREFIX, or the config file's `name_prefix`).
    #[arg(long, value_name = "PREFIX")]
    pub name_prefix: Option<String>,
    /// The sts:ExternalId Determined Cloud must present (2-1224 characters of [A-Za-z0-9+=,.@:/_-];
    /// default: DETCLOUD_EXTERNAL_ID, or the config file's `external_id`).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
}

impl AccountArgs {
    /// The options these flags describe, validated (no side effect on failure).
    pub(crate) fn options(&self) -> Result<ConnectOptions, CliError> {
        let mut options = ConnectOptions {
            determined_account_id: self.account_id.clone().unwrap_or_else(|| DEFAULT_DETERMINED_ACCOUNT_ID.into()),
            xacct_role_name: self.xacct_role_name.clone(),
            master_instance_profile_name: self.master_instance_profile_name.clone(),
            agent_instance_profile_name: self.agent_instance_profile_name.clone(),
            external_id: self.external_id.clone(),
            path: self.path.clone(),
            ..ConnectOptions::default()
        };
        if let Some(prefix) = &self.name_prefix {
            apply_name_prefix(&mut options, prefix)?;
        }
        options.validate()?;
        Ok(options)
    }
}
