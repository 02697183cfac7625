//! Default AMIs per region for the master (the cross-account role may not call
//! `ec2:DescribeImages`, so the table is data; a spec may name any AMI instead).

/// The default master AMI of a region (Amazon Linux 2023, x86_64), if the table has one.
pub fn default_ami(region: &str) -> Option<&'static str> {
    // Pinned images; refresh with `aws ec2 describe-images` when Determined publishes new ones.
    let table: &[(&str, &str)] = &[
        ("us-east-1", "ami-0c7217cdde317cfec"),
        ("us-east-2", "ami-05fb0b8c1424f266b"),
        ("us-west-1", "ami-0ce2cb35386fc22e9"),
        ("us-west-2", "ami-008fe2fc65df48dac"),
        ("eu-west-1", "ami-0905a3c97561e0b69"),
        ("eu-central-1", "ami-0faab6bdbac9486fb"),
        ("ap-southeast-1", "ami-0fa377108253bf620"),
        ("ap-northeast-1", "ami-07c589821f2b353aa"),
    ];
    table.iter().find(|(r, _)| *r == region).map(|(_, a)| *a)
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_entries_are_valid_ami_ids() {
        for region in ["us-east-1", "us-west-2", "eu-central-1"] {
            let ami = super::default_ami(region).unwrap();
            crate::spec::validate_ami(ami).unwrap();
        }
        assert_eq!(super::default_ami("mars-north-1"), None);
    }
}
