//! IPv4 CIDR blocks: parsing with EC2's rules, containment and overlap.

use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 CIDR block whose host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    /// The network address.
    pub(crate) base: u32,
    /// The prefix length.
    pub(crate) prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`; host bits must be zero.
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (ip, prefix) = text.split_once('/')?;
        let ip: Ipv4Addr = ip.parse().ok()?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        let base = u32::from(ip);
        (base & !mask(prefix) == 0).then_some(Cidr { base, prefix })
    }

    /// The number of addresses.
    pub(crate) fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    fn last(self) -> u32 {
        self.base | !mask(self.prefix)
    }

    /// True when `other` lies entirely inside this block.
    pub(crate) fn contains(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && other.base & mask(self.prefix) == self.base
    }

    /// True when the blocks share an address.
    pub(crate) fn overlaps(self, other: Cidr) -> bool {
        self.base <= other.last() && other.base <= self.last()
    }

    /// The `n`th address of the block.
    pub(crate) fn address(self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.base.wrapping_add(n))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&detcloud_provider::format_cidr(self.base, self.prefix))
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_contain_overlap() {
        let vpc = Cidr::parse("10.0.0.0/16").unwrap();
        let a = Cidr::parse("10.0.1.0/24").unwrap();
        let b = Cidr::parse("10.0.1.128/25").unwrap();
        let c = Cidr::parse("10.1.0.0/24").unwrap();
        assert!(vpc.contains(a) && vpc.contains(b) && !vpc.contains(c));
        assert!(a.overlaps(b) && b.overlaps(a) && !a.overlaps(c));
        assert!(!vpc.contains(Cidr::parse("10.0.0.0/8").unwrap()));
        assert_eq!(Cidr::parse("10.0.0.1/16"), None, "host bits set");
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("10.0.0/16"), None);
        assert_eq!(Cidr::parse("0.0.0.0/0").map(|c| c.size()), Some(1 << 32));
        assert_eq!(a.address(4).to_string(), "10.0.1.4");
        assert_eq!(a.to_string(), "10.0.1.0/24");
    }
}
