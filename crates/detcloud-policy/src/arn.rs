//! Amazon Resource Names.

use std::fmt;
use std::str::FromStr;

/// A parsed ARN: `arn:partition:service:region:account-id:resource`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    /// The service namespace (`iam`, `ec2`, `s3`, ...).
    pub service: String,
    /// The region; empty for global services such as IAM and S3.
    pub region: String,
    /// The 12-digit account id; empty for S3 buckets and AWS managed policies (`aws`).
    pub account: String,
    /// Everything after the fifth colon (`role/name`, `instance/i-123`, `bucket/key`).
    pub resource: String,
}

/// Why a string is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed ARN {input:?}: {reason}")]
pub struct ArnError {
    /// The string that was given.
    pub input: String,
    /// The rule it breaks.
    pub reason: &'static str,
}

impl Arn {
    /// The ARN of an IAM role.
    pub fn iam_role(account: &str, path: &str, name: &str) -> Arn {
        Arn::iam(account, format!("role{path}{name}"))
    }

    /// The ARN of an IAM instance profile.
    pub fn iam_instance_profile(account: &str, path: &str, name: &str) -> Arn {
        Arn::iam(account, format!("instance-profile{path}{name}"))
    }

    /// The ARN of a customer-managed IAM policy.
    pub fn iam_policy(account: &str, path: &str, name: &str) -> Arn {
        Arn::iam(account, format!("policy{path}{name}"))
    }

    fn iam(account: &str, resource: String) -> Arn {
        Arn { partition: "aws".into(), service: "iam".into(), region: String::new(), account: account.into(), resource }
    }

    /// The resource type, the part of `resource` before the first `/` or `:`.
    pub fn resource_type(&self) -> &str {
        self.resource.split(['/', ':']).next().unwrap_or("")
    }

    /// The last segment of the resource (the name of a role, profile or policy).
    pub fn resource_name(&self) -> &str {
        self.resource.rsplit(['/', ':']).next().unwrap_or("")
    }
}

impl FromStr for Arn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ArnError { input: s.to_string(), reason };
        let mut parts = s.splitn(6, ':');
        let (Some(prefix), Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err("expected arn:partition:service:region:account-id:resource"));
        };
        if prefix != "arn" {
            return Err(err("must start with 'arn:'"));
        }
        if !matches!(
            partition,
            "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b" | "aws-iso-e" | "aws-iso-f" | "aws-eusc"
        ) {
            return Err(err("unknown partition (expected aws, aws-cn, aws-us-gov, ...)"));
        }
        if service.is_empty() || !service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(err("the service must be a lower-case namespace such as iam or s3"));
        }
        if !region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(err("the region must look like us-west-2"));
        }
        let account_ok = account.is_empty()
            || account == "aws"
            || account.contains(['*', '?'])
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
        if !account_ok {
            return Err(err("the account must be 12 digits, 'aws' or empty"));
        }
        if resource.is_empty() {
            return Err(err("the resource part is empty"));
        }
        Ok(Arn {
            partition: partition.into(),
            service: service.into(),
            region: region.into(),
            account: account.into(),
            resource: resource.into(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in [
            "arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt",
            "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy",
            "arn:aws:s3:::bucket/key:with:colons",
            "arn:aws:ec2:us-west-2:123456789012:instance/i-0abc",
            "arn:aws-cn:iam::123456789012:instance-profile/a/b/c",
        ] {
            let arn: Arn = s.parse().unwrap();
            assert_eq!(arn.to_string(), s);
        }
        let arn: Arn = "arn:aws:iam::123456789012:role/path/name".parse().unwrap();
        assert_eq!((arn.resource_type(), arn.resource_name()), ("role", "name"));
        assert_eq!(Arn::iam_role("123456789012", "/", "x").to_string(), "arn:aws:iam::123456789012:role/x");
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "arn",
            "arn:aws:iam::123:role/x",
            "urn:aws:iam::123456789012:role/x",
            "arn:aws:IAM::123456789012:role/x",
            "arn:aws:iam::123456789012:",
            "arn:foo:iam::123456789012:role/x",
        ] {
            assert!(s.parse::<Arn>().is_err(), "{s}");
        }
    }
}
