//! IPv4 CIDR blocks: parsing, overlap, subdivision, and choosing a VPC block that overlaps nothing.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 CIDR block, normalized (host bits must be zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    /// The network address.
    pub addr: u32,
    /// The prefix length (0-32).
    pub prefix: u8,
}

impl Cidr {
    /// The netmask.
    pub fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    /// The last address.
    pub fn last(self) -> u32 {
        self.addr | !self.mask()
    }

    /// True when the blocks share an address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.addr <= other.last() && other.addr <= self.last()
    }

    /// True when `other` lies inside this block.
    pub fn contains(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && (other.addr & self.mask()) == self.addr
    }

    /// True inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.
    pub fn is_private(&self) -> bool {
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .any(|p| p.parse::<Cidr>().is_ok_and(|p| p.contains(self)))
    }

    /// The `index`-th sub-block of prefix `prefix`, if it fits.
    pub fn subnet(&self, prefix: u8, index: u32) -> Option<Cidr> {
        if prefix < self.prefix || prefix > 28 {
            return None;
        }
        let count = 1u64 << (prefix - self.prefix);
        if u64::from(index) >= count {
            return None;
        }
        let size = 1u64 << (32 - u32::from(prefix));
        Some(Cidr { addr: (u64::from(self.addr) + u64::from(index) * size) as u32, prefix })
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let rule = || format!("must be an IPv4 CIDR block such as 10.40.0.0/16 (got {s:?})");
        let (addr, prefix) = s.split_once('/').ok_or_else(rule)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| rule())?;
        let prefix: u8 = prefix.parse().map_err(|_| rule())?;
        if prefix > 32 || prefix.to_string().len() != s.split_once('/').map_or(0, |(_, p)| p.len()) {
            return Err(rule());
        }
        let cidr = Cidr { addr: u32::from(addr), prefix };
        if cidr.addr & !cidr.mask() != 0 {
            return Err(format!(
                "{s} has host bits set; the block is {}/{prefix}",
                Ipv4Addr::from(cidr.addr & cidr.mask())
            ));
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&detcloud_provider::format_cidr(self.addr, self.prefix))
    }
}

/// The first private /16 that overlaps none of `taken`: 10.0-255, then 172.16-31, then 192.168.
pub fn choose_vpc_cidr(taken: &[Cidr]) -> Option<Cidr> {
    let candidates = (0..=255u32)
        .map(|b| (10u32 << 24) | (b << 16))
        .chain((16..=31u32).map(|b| (172u32 << 24) | (b << 16)))
        .chain(std::iter::once((192u32 << 24) | (168u32 << 16)));
    candidates.map(|addr| Cidr { addr, prefix: 16 }).find(|c| !taken.iter().any(|t| t.overlaps(c)))
}

/// The public and private subnet blocks of a VPC for `az_count` zones: blocks of prefix + 4,
/// public ones first, private ones from the middle of the range.
pub fn subnet_plan(vpc: Cidr, az_count: u32) -> Option<(Vec<Cidr>, Vec<Cidr>)> {
    let prefix = (vpc.prefix + 4).min(28);
    let public = (0..az_count).map(|i| vpc.subnet(prefix, i)).collect::<Option<Vec<_>>>()?;
    let private = (0..az_count).map(|i| vpc.subnet(prefix, 8 + i)).collect::<Option<Vec<_>>>()?;
    Some((public, private))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_print() {
        assert_eq!(c("10.40.0.0/16").to_string(), "10.40.0.0/16");
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0.1/16", "a/16", "10.0.0.0/016", "10.0.0.0/ 16", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert!("10.0.0.1/16".parse::<Cidr>().unwrap_err().contains("host bits"));
    }

    #[test]
    fn overlap_containment_privacy() {
        assert!(c("10.0.0.0/16").overlaps(&c("10.0.128.0/20")));
        assert!(!c("10.0.0.0/16").overlaps(&c("10.1.0.0/16")));
        assert!(c("10.0.0.0/16").contains(&c("10.0.16.0/20")));
        assert!(!c("10.0.16.0/20").contains(&c("10.0.0.0/16")));
        assert!(c("172.20.0.0/16").is_private() && !c("172.32.0.0/16").is_private());
    }

    #[test]
    fn chooses_a_free_block() {
        assert_eq!(choose_vpc_cidr(&[]), Some(c("10.0.0.0/16")));
        assert_eq!(choose_vpc_cidr(&[c("10.0.0.0/16"), c("10.1.0.0/24")]), Some(c("10.2.0.0/16")));
        assert_eq!(choose_vpc_cidr(&[c("10.0.0.0/8")]), Some(c("172.16.0.0/16")));
        assert_eq!(choose_vpc_cidr(&[c("0.0.0.0/0")]), None);
    }

    #[test]
    fn subnets_do_not_overlap() {
        let (public, private) = subnet_plan(c("10.7.0.0/16"), 3).unwrap();
        assert_eq!(public[0], c("10.7.0.0/20"));
        assert_eq!(private[0], c("10.7.128.0/20"));
        let all: Vec<Cidr> = public.iter().chain(&private).copied().collect();
        for (i, a) in all.iter().enumerate() {
            assert!(c("10.7.0.0/16").contains(a));
            for b in &all[i + 1..] {
                assert!(!a.overlaps(b), "{a} {b}");
            }
        }
        assert!(subnet_plan(c("10.7.0.0/24"), 4).is_some());
    }
}
