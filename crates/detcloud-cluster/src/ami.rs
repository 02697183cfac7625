//! The default images of the master and of the agents, per region.
//!
//! The cross-account role may not call `ec2:DescribeImages`, so the defaults are data. They are
//! the images Determined's own installer, `det deploy aws`, launches: its CloudFormation template
//! `simple-rds.yaml` maps each region to a `Master` and an `Agent` AMI. This table holds that
//! mapping as published, and says only what the source says about each image:
//!
//! - **source**: determined-ai/determined, `harness/determined/deploy/aws/templates/simple-rds.yaml`,
//!   `Mappings.RegionMap`, at commit `003d15ae8e5137f872d55e90acaa127ca36a652a`, read on
//!   2026-12-06 ([`SOURCE`], [`TAKEN`]);
//! - **operating system**: the master image is Ubuntu (the template installs Docker on it with
//!   `apt-get` from Docker's Ubuntu repository, root device `/dev/sda1`); the agent image is
//!   Determined's agent image (Docker and the GPU drivers preinstalled: the template starts agents
//!   on it without installing anything);
//! - **architecture**: x86_64 (the template pairs both with x86_64 types only: m5.large, t2.xlarge,
//!   g4dn.metal);
//! - **owner**: the template does not name the owning account. Check an id before relying on it:
//!   `aws ec2 describe-images --region REGION --image-ids AMI --query 'Images[].[Name,OwnerId,Architecture,CreationDate]'`.
//!
//! To refresh the table, read the same mapping at a newer commit of that file, or look the images
//! up with `describe-images` in each region, and update [`TABLE`], [`SOURCE`] and [`TAKEN`]
//! together. A spec's `master.ami` and `agents.ami` (`--ami`, `--agent-ami`) override the table;
//! regions it lacks need them.

use serde::Serialize;

/// Where the table's ids were read.
pub const SOURCE: &str = "determined-ai/determined harness/determined/deploy/aws/templates/simple-rds.yaml \
     (Mappings.RegionMap) at 003d15ae8e5137f872d55e90acaa127ca36a652a";

/// When they were read.
pub const TAKEN: &str = "2026-12-06";

/// One default image, with what its source establishes about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Image {
    /// The AMI id, in its region.
    pub id: &'static str,
    /// What the image is, as the source names it.
    pub name: &'static str,
    /// The operating system, as far as the source shows it.
    pub os: &'static str,
    /// The CPU architecture.
    pub architecture: &'static str,
    /// The owning account, when the source names it.
    pub owner: Option<&'static str>,
}

impl Image {
    /// For plans, beside the id: what it is and where it comes from.
    pub fn describe(&self, region: &str) -> String {
        format!(
            "{} for {region}; {}, {}; owner {}; from {SOURCE}, read {TAKEN}",
            self.name,
            self.os,
            self.architecture,
            self.owner.unwrap_or("not named by the source")
        )
    }
}

const fn master(id: &'static str) -> Image {
    Image { id, name: "det deploy aws master image", os: "Ubuntu", architecture: "x86_64", owner: None }
}

const fn agent(id: &'static str) -> Image {
    Image {
        id,
        name: "det deploy aws agent image",
        os: "Determined's agent image (Docker, GPU drivers)",
        architecture: "x86_64",
        owner: None,
    }
}

/// Region, master image, agent image.
pub const TABLE: &[(&str, Image, Image)] = &[
    ("ap-northeast-1", master("ami-00910ef9457f0df47"), agent("ami-0351906ab94d8fdd5")),
    ("eu-central-1", master("ami-0abbe417ed83c0b29"), agent("ami-03ae92f69e6843980")),
    ("eu-west-1", master("ami-0e3f7dd2dc743e48a"), agent("ami-0577e9411a5a8332a")),
    ("us-east-1", master("ami-0172070f66a8ebe63"), agent("ami-0d9e81a7919a8bc5d")),
    ("us-east-2", master("ami-0bafa3699418551cd"), agent("ami-0af5f215969bb83ad")),
    ("us-west-2", master("ami-0ceeab680f529cc36"), agent("ami-026f60e56edbd01dc")),
];

/// The default master image of a region, if the table has one.
pub fn master_image(region: &str) -> Option<&'static Image> {
    TABLE.iter().find(|(r, ..)| *r == region).map(|(_, m, _)| m)
}

/// The default agent image of a region, if the table has one.
pub fn agent_image(region: &str) -> Option<&'static Image> {
    TABLE.iter().find(|(r, ..)| *r == region).map(|(.., a)| a)
}

/// The default master AMI id of a region, if the table has one.
pub fn default_ami(region: &str) -> Option<&'static str> {
    master_image(region).map(|i| i.id)
}

/// Where an image of a run comes from: the spec, or the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageChoice {
    /// The AMI id.
    pub id: String,
    /// Where it comes from, for plans.
    pub source: String,
}

impl ImageChoice {
    /// `given` (from the spec), else the table's image; None when neither exists.
    pub fn choose(given: Option<&str>, table: Option<&Image>, region: &str) -> Option<ImageChoice> {
        match (given, table) {
            (Some(id), _) => Some(ImageChoice { id: id.to_string(), source: "given in the spec".to_string() }),
            (None, Some(image)) => Some(ImageChoice { id: image.id.to_string(), source: image.describe(region) }),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_a_valid_ami_in_one_region_with_both_images() {
        let mut regions: Vec<&str> = TABLE.iter().map(|(r, ..)| *r).collect();
        regions.sort_unstable();
        regions.dedup();
        assert_eq!(regions.len(), TABLE.len(), "a region is listed twice");
        for (region, m, a) in TABLE {
            crate::spec::validate_region(region).unwrap();
            crate::spec::validate_ami(m.id).unwrap();
            crate::spec::validate_ami(a.id).unwrap();
            assert_ne!(m.id, a.id, "{region}");
            assert_eq!((m.architecture, a.architecture), ("x86_64", "x86_64"));
        }
        assert_eq!(default_ami("us-west-2"), Some("ami-0ceeab680f529cc36"));
        assert_eq!(default_ami("mars-north-1"), None);
    }

    #[test]
    fn a_choice_says_where_the_image_comes_from() {
        let c = ImageChoice::choose(None, master_image("us-east-1"), "us-east-1").unwrap();
        assert_eq!(c.id, "ami-0172070f66a8ebe63");
        assert!(c.source.contains("det deploy aws master image for us-east-1") && c.source.contains(TAKEN), "{c:?}");
        assert!(c.source.contains("owner not named by the source"), "{c:?}");
        let given = ImageChoice::choose(Some("ami-0123456789abcdef0"), master_image("us-east-1"), "us-east-1");
        assert_eq!(given.unwrap().source, "given in the spec");
        assert_eq!(ImageChoice::choose(None, None, "mars-north-1"), None);
    }
}
