//! The resource graph of a cluster: every resource, what it depends on, and how long AWS
//! typically takes to make it.
//!
//! Each node is tagged with its own key (`detcloud:resource=<key>`) besides the cluster tags, so
//! a later run finds exactly what an earlier one made.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// One resource (or a small group created together) of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Node {
    /// The VPC.
    Vpc,
    /// The public subnet of zone `n`.
    PublicSubnet(u8),
    /// The private subnet of zone `n`.
    PrivateSubnet(u8),
    /// The internet gateway, attached to the VPC.
    InternetGateway,
    /// The elastic IP of the NAT gateway.
    NatAddress,
    /// The NAT gateway, in the first public subnet.
    NatGateway,
    /// The public route table: default route to the internet gateway, public subnets associated.
    PublicRoutes,
    /// The private route table: default route to the NAT gateway, private subnets associated.
    PrivateRoutes,
    /// Ingress rules on the VPC's default security group.
    SecurityRules,
    /// The SSH key pair.
    KeyPair,
    /// The DB subnet group over the private subnets.
    DbSubnetGroup,
    /// The Aurora PostgreSQL cluster (and its password parameter).
    DbCluster,
    /// The DB instance of the cluster.
    DbInstance,
    /// The checkpoint bucket, encrypted, TLS only.
    Bucket,
    /// The log group, with retention.
    LogGroup,
    /// The master instance.
    Master,
    /// The master's elastic IP, associated.
    MasterAddress,
    /// The Determined master answering on its instance (configured by its user data, checked
    /// through SSM Run Command).
    MasterReady,
}

/// `prefix` followed by `i` (`public-subnet-0`).
fn numbered(prefix: &str, i: u8) -> String {
    [prefix, &i.to_string()].concat()
}

impl Node {
    /// The value of the `detcloud:resource` tag.
    pub fn key(self) -> String {
        match self {
            Node::Vpc => "vpc".into(),
            Node::PublicSubnet(i) => numbered("public-subnet-", i),
            Node::PrivateSubnet(i) => numbered("private-subnet-", i),
            Node::InternetGateway => "internet-gateway".into(),
            Node::NatAddress => "nat-address".into(),
            Node::NatGateway => "nat-gateway".into(),
            Node::PublicRoutes => "public-routes".into(),
            Node::PrivateRoutes => "private-routes".into(),
            Node::SecurityRules => "security-rules".into(),
            Node::KeyPair => "key-pair".into(),
            Node::DbSubnetGroup => "db-subnet-group".into(),
            Node::DbCluster => "db-cluster".into(),
            Node::DbInstance => "db-instance".into(),
            Node::Bucket => "bucket".into(),
            Node::LogGroup => "log-group".into(),
            Node::Master => "master".into(),
            Node::MasterAddress => "master-address".into(),
            Node::MasterReady => "master-ready".into(),
        }
    }

    /// The node whose [`key`](Node::key) is `key` (`vpc`, `public-subnet-0`, `bucket`, ...).
    pub fn from_key(key: &str) -> Option<Node> {
        let zone = |prefix: &str| -> Option<u8> {
            let digits = key.strip_prefix(prefix)?;
            // One canonical spelling per node: `public-subnet-0`, never `public-subnet-00`.
            (!digits.is_empty() && digits.len() <= 3 && (digits == "0" || !digits.starts_with('0')))
                .then(|| digits.parse().ok())
                .flatten()
        };
        if let Some(i) = zone("public-subnet-") {
            return Some(Node::PublicSubnet(i));
        }
        if let Some(i) = zone("private-subnet-") {
            return Some(Node::PrivateSubnet(i));
        }
        Graph::new(0).nodes.into_iter().find(|n| n.key() == key)
    }

    /// A readable description.
    pub fn label(self) -> String {
        match self {
            Node::Vpc => "VPC".into(),
            Node::PublicSubnet(i) => format!("public subnet {i}"),
            Node::PrivateSubnet(i) => format!("private subnet {i}"),
            Node::InternetGateway => "internet gateway".into(),
            Node::NatAddress => "NAT elastic IP".into(),
            Node::NatGateway => "NAT gateway".into(),
            Node::PublicRoutes => "public route table".into(),
            Node::PrivateRoutes => "private route table".into(),
            Node::SecurityRules => "security group rules".into(),
            Node::KeyPair => "key pair".into(),
            Node::DbSubnetGroup => "DB subnet group".into(),
            Node::DbCluster => "Aurora cluster".into(),
            Node::DbInstance => "Aurora instance".into(),
            Node::Bucket => "checkpoint bucket".into(),
            Node::LogGroup => "log group".into(),
            Node::Master => "master instance".into(),
            Node::MasterAddress => "master elastic IP".into(),
            Node::MasterReady => "Determined master".into(),
        }
    }

    /// How long AWS typically takes to create it (waiting included): the durations the fake uses
    /// by default, and the weights of the critical path.
    pub fn typical_duration(self) -> Duration {
        Duration::from_secs(match self {
            Node::NatGateway => 120,
            Node::DbCluster => 480,
            Node::DbInstance => 420,
            Node::Master => 30,
            // The master starts (Docker, the image pull) while the database's instance is
            // created, which takes longer: what is left once both are done is the probe.
            Node::MasterReady => 2,
            _ => 1,
        })
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The nodes of a cluster with `az_count` zones, and their dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Every node.
    pub nodes: Vec<Node>,
    /// `(node, dependency)` pairs: the node needs the dependency first.
    pub edges: Vec<(Node, Node)>,
}

impl Graph {
    /// The graph of a cluster.
    pub fn new(az_count: u32) -> Graph {
        let zones: Vec<u8> = (0..az_count.min(8) as u8).collect();
        let mut nodes = vec![Node::Vpc];
        let mut edges = vec![];
        for &z in &zones {
            nodes.push(Node::PublicSubnet(z));
            nodes.push(Node::PrivateSubnet(z));
            edges.push((Node::PublicSubnet(z), Node::Vpc));
            edges.push((Node::PrivateSubnet(z), Node::Vpc));
        }
        nodes.extend([
            Node::InternetGateway,
            Node::NatAddress,
            Node::NatGateway,
            Node::PublicRoutes,
            Node::PrivateRoutes,
            Node::SecurityRules,
            Node::KeyPair,
            Node::DbSubnetGroup,
            Node::DbCluster,
            Node::DbInstance,
            Node::Bucket,
            Node::LogGroup,
            Node::Master,
            Node::MasterAddress,
            Node::MasterReady,
        ]);
        edges.extend([
            (Node::InternetGateway, Node::Vpc),
            (Node::NatGateway, Node::NatAddress),
            (Node::NatGateway, Node::PublicSubnet(0)),
            (Node::NatGateway, Node::InternetGateway),
            (Node::PublicRoutes, Node::InternetGateway),
            (Node::PrivateRoutes, Node::NatGateway),
            (Node::SecurityRules, Node::Vpc),
            (Node::DbCluster, Node::DbSubnetGroup),
            (Node::DbCluster, Node::SecurityRules),
            (Node::DbInstance, Node::DbCluster),
            (Node::Master, Node::PublicRoutes),
            (Node::Master, Node::SecurityRules),
            (Node::Master, Node::KeyPair),
            (Node::Master, Node::Bucket),
            (Node::Master, Node::LogGroup),
            // The master's configuration names the database's endpoint.
            (Node::Master, Node::DbCluster),
            (Node::MasterAddress, Node::Master),
            (Node::MasterReady, Node::MasterAddress),
            (Node::MasterReady, Node::DbInstance),
        ]);
        for &z in &zones {
            edges.push((Node::PublicRoutes, Node::PublicSubnet(z)));
            edges.push((Node::PrivateRoutes, Node::PrivateSubnet(z)));
            edges.push((Node::DbSubnetGroup, Node::PrivateSubnet(z)));
        }
        Graph { nodes, edges }
    }

    /// The part of the graph that `targets` need: the targets and, transitively, everything they
    /// depend on, with the edges among them. An empty set means the whole graph.
    pub fn targeting(&self, targets: &BTreeSet<Node>) -> Graph {
        if targets.is_empty() {
            return self.clone();
        }
        let mut keep: BTreeSet<Node> = BTreeSet::new();
        let mut todo: Vec<Node> = targets.iter().copied().filter(|t| self.nodes.contains(t)).collect();
        while let Some(n) = todo.pop() {
            if keep.insert(n) {
                todo.extend(self.dependencies(n));
            }
        }
        Graph {
            nodes: self.nodes.iter().copied().filter(|n| keep.contains(n)).collect(),
            edges: self.edges.iter().copied().filter(|(n, d)| keep.contains(n) && keep.contains(d)).collect(),
        }
    }

    /// What `node` needs first.
    pub fn dependencies(&self, node: Node) -> impl Iterator<Item = Node> + '_ {
        self.edges.iter().filter(move |(n, _)| *n == node).map(|(_, d)| *d)
    }

    /// What needs `node` first.
    pub fn dependents(&self, node: Node) -> impl Iterator<Item = Node> + '_ {
        self.edges.iter().filter(move |(_, d)| *d == node).map(|(n, _)| *n)
    }

    /// The nodes in an order where every dependency comes first.
    pub fn topological(&self) -> Vec<Node> {
        let mut done: BTreeSet<Node> = BTreeSet::new();
        let mut order = vec![];
        while order.len() < self.nodes.len() {
            let before = order.len();
            for &n in &self.nodes {
                if !done.contains(&n) && self.dependencies(n).all(|d| done.contains(&d)) {
                    done.insert(n);
                    order.push(n);
                }
            }
            assert!(order.len() > before, "the cluster graph has a cycle");
        }
        order
    }

    /// The longest dependency chain's duration: no schedule can create the cluster faster.
    pub fn critical_path(&self, duration: impl Fn(Node) -> Duration) -> Duration {
        let mut finish: std::collections::BTreeMap<Node, Duration> = Default::default();
        for n in self.topological() {
            let start = self.dependencies(n).map(|d| finish[&d]).max().unwrap_or_default();
            finish.insert(n, start + duration(n));
        }
        finish.values().copied().max().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acyclic_and_complete() {
        let g = Graph::new(3);
        let order = g.topological();
        assert_eq!(order.len(), g.nodes.len());
        let pos = |n: Node| order.iter().position(|x| *x == n).unwrap();
        for (n, d) in &g.edges {
            assert!(pos(*d) < pos(*n), "{d} must come before {n}");
            assert!(g.nodes.contains(n) && g.nodes.contains(d));
        }
    }

    #[test]
    fn every_key_reads_back_as_its_node() {
        for n in Graph::new(3).nodes {
            assert_eq!(Node::from_key(&n.key()), Some(n), "{n}");
        }
        for bad in ["", "vpcs", "public-subnet-", "public-subnet-01", "public-subnet-x", "private-subnet-256", "VPC"] {
            assert_eq!(Node::from_key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn targeting_keeps_the_targets_and_what_they_need() {
        let g = Graph::new(2);
        let t = g.targeting(&BTreeSet::from([Node::NatGateway, Node::Bucket]));
        let want =
            [Node::Vpc, Node::PublicSubnet(0), Node::InternetGateway, Node::NatAddress, Node::NatGateway, Node::Bucket];
        assert_eq!(t.nodes.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from(want));
        assert_eq!(t.topological().len(), want.len());
        assert!(t.edges.iter().all(|(n, d)| t.nodes.contains(n) && t.nodes.contains(d)));
        assert!(t.edges.contains(&(Node::NatGateway, Node::InternetGateway)));
        // A ready master needs everything but the private subnets' way out (its agents need that).
        let ready = g.targeting(&BTreeSet::from([Node::MasterReady]));
        let left: BTreeSet<Node> = g.nodes.iter().copied().filter(|n| !ready.nodes.contains(n)).collect();
        assert_eq!(left, BTreeSet::from([Node::NatAddress, Node::NatGateway, Node::PrivateRoutes]));
        assert_eq!(g.targeting(&BTreeSet::new()), g);
        // A zone the graph does not have is no node of it.
        assert!(g.targeting(&BTreeSet::from([Node::PublicSubnet(5)])).nodes.is_empty());
    }

    #[test]
    fn the_database_is_the_critical_path() {
        let g = Graph::new(2);
        let cp = g.critical_path(Node::typical_duration);
        // subnet (1) + subnet group (1) + rules are parallel; cluster 480 + instance 420, then the
        // master's probe (2): the master launches and starts while the instance is created.
        assert_eq!(cp, Duration::from_secs(1 + 1 + 1 + 480 + 420 + 2));
    }
}
