//! EC2 compute with EC2's rules: the instance type catalogue, key pairs, instances (pending →
//! running, shutting-down → terminated, status checks), vCPU quotas per instance bucket,
//! instance-profile propagation and `iam:PassRole`, and spot requests.

use std::collections::HashMap;

use async_trait::async_trait;
use detcloud_provider::{
    Compute, Error, Filter, Instance, InstanceState, InstanceStatus, InstanceTypeInfo, KeyPair, Result, RootVolume,
    RunInstance, SpotRequest, Tags,
};
use foldhash::fast::FixedState;

use crate::clock::{self, Timings};
use crate::cloud::FakeCloud;
use crate::ec2::{check_client_token, check_on, creating, groups_for, instance, on, public_ip};
use crate::query::{self, check_filter_ids, matching, select};
use crate::quotas;
use crate::region::{check_tags, At};
use crate::rng::LOWER_ALNUM;
use crate::state::ec2::*;
use crate::target::{Check, Target, NO_TAGS};
use crate::world::World;

// ---------------------------------------------------------------------------------------------
// The instance type catalogue.

/// Name, vCPUs, memory in MiB and GPUs of the instance types the fake knows (AWS's figures).
const INSTANCE_TYPES: &[(&str, u32, u64, u32)] = &[
    ("t3.micro", 2, 1024, 0),
    ("t3.small", 2, 2048, 0),
    ("t3.medium", 2, 4096, 0),
    ("t3.large", 2, 8192, 0),
    ("t3.xlarge", 4, 16384, 0),
    ("t3.2xlarge", 8, 32768, 0),
    ("m5.large", 2, 8192, 0),
    ("m5.xlarge", 4, 16384, 0),
    ("m5.2xlarge", 8, 32768, 0),
    ("m5.4xlarge", 16, 65536, 0),
    ("m6i.large", 2, 8192, 0),
    ("m6i.xlarge", 4, 16384, 0),
    ("m6i.2xlarge", 8, 32768, 0),
    ("m6i.4xlarge", 16, 65536, 0),
    ("c6i.large", 2, 4096, 0),
    ("c6i.xlarge", 4, 8192, 0),
    ("r6i.large", 2, 16384, 0),
    ("g4dn.xlarge", 4, 16384, 1),
    ("g4dn.2xlarge", 8, 32768, 1),
    ("g4dn.12xlarge", 48, 196_608, 4),
    ("g5.xlarge", 4, 16384, 1),
    ("p3.2xlarge", 8, 62464, 1),
    ("p3.8xlarge", 32, 249_856, 4),
    ("p4d.24xlarge", 96, 1_179_648, 8),
];

/// What the catalogue says about `name`.
pub(crate) fn instance_type(name: &str) -> Option<InstanceTypeInfo> {
    INSTANCE_TYPES.iter().find(|t| t.0 == name).map(|&(name, vcpus, memory_mib, gpus)| InstanceTypeInfo {
        name: name.to_string(),
        vcpus,
        memory_mib,
        gpus,
    })
}

/// The on-demand vCPU quota an instance type counts against: standard (A, C, D, H, I, M, R, T, Z),
/// G and VT, or P.
pub(crate) fn vcpu_quota(instance_type: &str) -> Option<&'static str> {
    let family: String = instance_type.chars().take_while(|c| c.is_ascii_lowercase()).collect();
    match family.as_str() {
        "a" | "c" | "d" | "h" | "i" | "m" | "r" | "t" | "z" => Some(quotas::STANDARD_VCPUS),
        "g" | "vt" => Some(quotas::G_VCPUS),
        "p" => Some(quotas::P_VCPUS),
        _ => None,
    }
}

fn instance_out(ec2: &Ec2Region, i: &InstanceRec, w: &World) -> Instance {
    let elastic = ec2.addresses.values().find(|a| a.association.as_ref().is_some_and(|x| x.instance_id == i.id));
    instance_with(i, elastic.map(|a| a.public_ip.as_str()), w)
}

/// The elastic IP of every instance that has one, by instance id: one pass over the addresses
/// for a describe of many instances (not one per instance).
fn elastic_ips(ec2: &Ec2Region) -> HashMap<&str, &str, FixedState> {
    let mut ips = HashMap::default();
    for a in ec2.addresses.values() {
        if let Some(x) = &a.association {
            ips.entry(x.instance_id.as_str()).or_insert(a.public_ip.as_str());
        }
    }
    ips
}

/// An instance as EC2 describes it, with its elastic IP, if any.
fn instance_with(i: &InstanceRec, elastic: Option<&str>, w: &World) -> Instance {
    let state = instance_state(i, &w.timings);
    let present = state != InstanceState::Terminated;
    let elastic = elastic.map(str::to_string);
    Instance {
        id: i.id.clone(),
        state,
        instance_type: i.instance_type.clone(),
        image_id: i.image_id.clone(),
        subnet_id: present.then(|| i.subnet_id.clone()),
        vpc_id: present.then(|| i.vpc_id.clone()),
        private_ip: present.then(|| i.private_ip.clone()),
        public_ip: if present { elastic.or_else(|| i.public_ip.clone()) } else { None },
        key_name: i.key_name.clone(),
        instance_profile_arn: i.instance_profile_arn.clone(),
        imdsv2_required: i.imdsv2_required,
        security_group_ids: i.security_group_ids.clone(),
        launch_time: Some(i.launch_time),
        spot_request_id: i.spot_request_id.clone(),
        tags: i.tags.clone(),
    }
}

fn spot_out(s: &SpotRec) -> SpotRequest {
    SpotRequest { id: s.id.clone(), state: s.state.clone(), instance_id: s.instance_id.clone(), tags: s.tags.clone() }
}

// ---------------------------------------------------------------------------------------------
// Key pairs.

/// A fingerprint computed from the key (FNV-1a, as 16 colon-separated bytes like an MD5).
fn fingerprint(public_key: &str) -> String {
    let blob = public_key.split_whitespace().nth(1).unwrap_or("");
    // Each round hashes everything so far: the blob and the round number, once more.
    let mut hashed = Vec::with_capacity(2 * blob.len() + 2);
    let mut bytes = Vec::with_capacity(16);
    for round in 0..2u8 {
        hashed.extend_from_slice(blob.as_bytes());
        hashed.push(round);
        bytes.extend_from_slice(&crate::rng::mix(detcloud_provider::tags::stable_hash(&hashed)).to_be_bytes());
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

fn check_public_key(public_key: &str) -> Result<()> {
    let mut parts = public_key.split_whitespace();
    let kind = parts.next().unwrap_or("");
    let blob = parts.next().unwrap_or("");
    let known = matches!(
        kind,
        "ssh-rsa" | "ssh-ed25519" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521"
    );
    let base64 = blob.len() >= 16 && blob.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !known || !base64 {
        return Err(Error::invalid("InvalidKey.Format: Key is not in valid OpenSSH public key format"));
    }
    Ok(())
}

fn key_out(k: &KeyPairRec) -> KeyPair {
    KeyPair { name: k.name.clone(), id: k.id.clone(), fingerprint: k.fingerprint.clone(), tags: k.tags.clone() }
}

fn import_key_pair(w: &mut World, at: At<'_>, name: &str, public_key: &str, tags: &Tags) -> Result<KeyPair> {
    let len = name.chars().count();
    if len == 0 || len > 255 || !name.is_ascii() {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Value ({name}) for parameter keyName is invalid. Key names are 1-255 ASCII characters."
        )));
    }
    check_public_key(public_key)?;
    check_tags(tags)?;
    if w.region(at.account(), at.region).ec2.key_pairs.contains_key(name) {
        return Err(Error::already_exists("key pair", name));
    }
    let rec = KeyPairRec {
        name: name.to_string(),
        id: w.ids.ec2("key"),
        fingerprint: fingerprint(public_key),
        public_key: public_key.trim().to_string(),
        tags: tags.clone(),
    };
    let out = key_out(&rec);
    w.region_mut(at.account(), at.region).ec2.key_pairs.insert(name.to_string(), rec);
    Ok(out)
}

fn describe_key_pairs(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<KeyPair>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let exists = |name: &str| Ok(ec2.key_pairs.contains_key(name));
    select(ec2.key_pairs.values(), filter, "key pair", exists, |k| (&k.name, &k.tags, None), key_out)
}

// ---------------------------------------------------------------------------------------------
// Instances.

fn check_image_id(image_id: &str) -> Result<()> {
    let ok = image_id
        .strip_prefix("ami-")
        .is_some_and(|h| (h.len() == 8 || h.len() == 17) && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("InvalidAMIID.Malformed: Invalid id: \"{image_id}\" (expecting \"ami-...\")")))
    }
}

fn invalid_profile(name: &str) -> Error {
    Error::NotReady {
        message: format!(
            "InvalidParameterValue: Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
        ),
    }
}

/// The ARN of an instance profile usable now, or NotReady: a profile that does not exist, or was
/// created (or got its role) less than the consistency delay ago, looks the same to EC2.
fn usable_profile(w: &World, account: &str, name: &str) -> Result<String> {
    let profile = w
        .account(account)
        .iam
        .instance_profiles
        .get(&name.to_ascii_lowercase())
        .ok_or_else(|| invalid_profile(name))?;
    if let Some(changed) = w.profile_changed_at.get(&profile.id) {
        if clock::now() < *changed + w.consistency_delay {
            return Err(invalid_profile(name));
        }
    }
    Ok(profile.arn(account))
}

/// The role an instance profile passes, if it exists and holds one.
fn profile_role_arn(w: &World, account: &str, profile: &str) -> Option<String> {
    let iam = &w.account(account).iam;
    let profile = iam.instance_profiles.get(&profile.to_ascii_lowercase())?;
    let role = iam.roles.get(&profile.roles.first()?.to_ascii_lowercase())?;
    Some(role.arn(account))
}

fn check_root_volume(w: &World, at: At<'_>, volume: &RootVolume) -> Result<()> {
    if !matches!(volume.volume_type.as_str(), "gp2" | "gp3" | "io1" | "io2" | "st1" | "sc1" | "standard") {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Value ({}) for parameter volumeType is invalid.",
            volume.volume_type
        )));
    }
    if !(1..=16384).contains(&volume.size_gib) {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Volume of {} GiB is outside the allowed 1-16384 GiB",
            volume.size_gib
        )));
    }
    if let Some(key) = &volume.kms_key_id {
        if !volume.encrypted {
            return Err(Error::invalid(
                "InvalidParameterDependency: The parameter KmsKeyId requires the parameter Encrypted to be set.",
            ));
        }
        query::usable_key(w, at, key)?;
    }
    Ok(())
}

/// How many vCPUs the running and pending on-demand instances of a quota bucket use.
fn vcpus_in_use(ec2: &Ec2Region, t: &Timings, quota: &str) -> u32 {
    ec2.instances
        .values()
        .filter(|i| i.spot_request_id.is_none() && !instance_state(i, t).is_gone())
        .filter(|i| vcpu_quota(&i.instance_type) == Some(quota))
        .filter_map(|i| instance_type(&i.instance_type))
        .map(|t| t.vcpus)
        .sum()
}

/// Launches one instance (on demand, or for a spot request), after every check.
fn launch(w: &mut World, at: At<'_>, request: &RunInstance, spot: bool) -> Result<(Instance, Option<SpotRequest>)> {
    let t = w.timings;
    let account = at.account();
    check_client_token(request.client_token.as_ref())?;
    let ec2 = &w.region(account, at.region).ec2;
    if let Some(token) = &request.client_token {
        if let Some(existing) = ec2.instances.values().find(|i| i.client_token.as_ref() == Some(token)) {
            let same = existing.image_id == request.image_id
                && existing.instance_type == request.instance_type
                && existing.subnet_id == request.subnet_id;
            if !same {
                return Err(Error::invalid(format!(
                    "IdempotentParameterMismatch: The client token {token} was used with different parameters."
                )));
            }
            let spot = existing.spot_request_id.as_ref().and_then(|id| ec2.spot_requests.get(id)).map(spot_out);
            return Ok((instance_out(ec2, existing, w), spot));
        }
    }
    check_image_id(&request.image_id)?;
    let info = instance_type(&request.instance_type).ok_or_else(|| {
        Error::invalid(format!("InvalidParameterValue: Invalid value '{}' for InstanceType.", request.instance_type))
    })?;
    let subnet = ec2.subnet(&request.subnet_id)?;
    let groups = groups_for(ec2, &subnet.vpc_id, &subnet.id, &request.security_group_ids)?;
    if let Some(key) = &request.key_name {
        if !ec2.key_pairs.contains_key(key) {
            return Err(Error::not_found("key pair", key));
        }
    }
    let profile_arn = match &request.instance_profile_name {
        Some(name) => Some(usable_profile(w, account, name)?),
        None => None,
    };
    if let Some(volume) = &request.root_volume {
        check_root_volume(w, at, volume)?;
    }
    if request.user_data.as_ref().is_some_and(|d| d.len() > 16384) {
        return Err(Error::invalid("InvalidParameterValue: User data is limited to 16384 bytes"));
    }
    check_tags(&request.tags)?;
    if !spot {
        if let Some(quota) = vcpu_quota(&request.instance_type) {
            let limit = quotas::applied(w, at, "ec2", quota);
            if f64::from(vcpus_in_use(ec2, &t, quota) + info.vcpus) > limit {
                return Err(quotas::exceeded(
                    quota,
                    &format!("VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit of {limit} allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."),
                ));
            }
        }
    }
    check_free_address(subnet)?;
    let (vpc_id, map_public) = (subnet.vpc_id.clone(), subnet.map_public_ip_on_launch);

    let id = w.ids.ec2("i");
    let eni = w.ids.ec2("eni");
    let public = map_public.then(|| public_ip(w));
    let spot_id = spot.then(|| format!("sir-{}", w.ids.string(LOWER_ALNUM, 8)));
    let launch_time = w.wall_clock.now();
    let ec2 = &mut w.region_mut(account, at.region).ec2;
    let private_ip = next_private_ip(ec2.subnets.get_mut(&request.subnet_id).expect("checked above"));
    let rec = InstanceRec {
        id: id.clone(),
        instance_type: request.instance_type.clone(),
        image_id: request.image_id.clone(),
        subnet_id: request.subnet_id.clone(),
        vpc_id,
        private_ip,
        public_ip: public,
        network_interface_id: eni,
        key_name: request.key_name.clone(),
        instance_profile_arn: profile_arn,
        imdsv2_required: request.imdsv2_required,
        security_group_ids: groups,
        root_volume: request.root_volume.as_ref().map(|v| RootVolumeRec {
            size_gib: v.size_gib,
            volume_type: v.volume_type.clone(),
            encrypted: v.encrypted,
            kms_key_id: v.kms_key_id.clone(),
        }),
        user_data: request.user_data.clone(),
        client_token: request.client_token.clone(),
        spot_request_id: spot_id.clone(),
        launch_time,
        terminated: false,
        since: Some(clock::now()),
        tags: request.tags.clone(),
        bootstrap: None,
        restarted: None,
    };
    ec2.instances.insert(id.clone(), rec);
    let spot = spot_id.map(|sir| {
        let rec = SpotRec {
            id: sir.clone(),
            state: "active".into(),
            instance_id: Some(id.clone()),
            tags: request.tags.clone(),
        };
        let out = spot_out(&rec);
        ec2.spot_requests.insert(sir, rec);
        out
    });
    let ec2 = &w.region(account, at.region).ec2;
    Ok((instance_out(ec2, &ec2.instances[&id], w), spot))
}

fn describe_instances(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<Instance>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    check_filter_ids(filter, "instance", |id| {
        instance(ec2, id).map(|_| true).or_else(|e| if e.is_not_found() { Ok(false) } else { Err(e) })
    })?;
    // Filter the records first: building every instance (terminated ones included) is the cost.
    fn in_vpc<'i>(i: &'i InstanceRec, filter: &Filter, t: &Timings) -> Option<&'i str> {
        let present = filter.vpc_id.is_some() && instance_state(i, t) != InstanceState::Terminated;
        present.then_some(i.vpc_id.as_str())
    }
    let ips = elastic_ips(ec2);
    Ok(matching(
        ec2.instances.values(),
        filter,
        |i| (&i.id, &i.tags, in_vpc(i, filter, &w.timings)),
        |i| instance_with(i, ips.get(i.id.as_str()).copied(), w),
    ))
}

fn describe_instance_status(w: &World, at: At<'_>, ids: &[String]) -> Result<Vec<InstanceStatus>> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    for id in ids {
        instance(ec2, id)?;
    }
    Ok(ec2
        .instances
        .values()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .filter(|i| instance_state(i, &t) == InstanceState::Running)
        .map(|i| {
            let checked = clock::reached(i.since, t.instance_launch + t.instance_status_checks);
            let status = if checked { "ok" } else { "initializing" }.to_string();
            InstanceStatus {
                instance_id: i.id.clone(),
                state: InstanceState::Running,
                system_status: status.clone(),
                instance_status: status,
            }
        })
        .collect())
}

fn terminate_instances(w: &mut World, at: At<'_>, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Err(Error::invalid("MissingParameter: The request must contain the parameter InstanceId"));
    }
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let mut stopping = Vec::new();
    for id in ids {
        if !instance_state(instance(ec2, id)?, &t).is_gone() {
            stopping.push(id.clone());
        }
    }
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    for id in &stopping {
        let i = ec2.instances.get_mut(id).expect("checked above");
        i.terminated = true;
        i.since = Some(clock::now());
        let spot = i.spot_request_id.clone();
        // EC2 disassociates the instance's elastic IPs.
        for address in ec2.addresses.values_mut() {
            if address.association.as_ref().is_some_and(|x| x.instance_id == *id) {
                address.association = None;
            }
        }
        if let Some(request) = spot.and_then(|s| ec2.spot_requests.get_mut(&s)) {
            if request.state == "active" {
                request.state = "closed".into();
            }
        }
    }
    Ok(())
}

fn describe_spot_requests(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<SpotRequest>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let exists = |id: &str| Ok(ec2.spot_requests.contains_key(id));
    select(ec2.spot_requests.values(), filter, "spot instance request", exists, |s| (&s.id, &s.tags, None), spot_out)
}

fn cancel_spot_requests(w: &mut World, at: At<'_>, ids: &[String]) -> Result<()> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    for id in ids {
        if !ec2.spot_requests.contains_key(id) {
            return Err(Error::not_found("spot instance request", id));
        }
    }
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    for id in ids {
        let request = ec2.spot_requests.get_mut(id).expect("checked above");
        if matches!(request.state.as_str(), "open" | "active") {
            // The instance keeps running, as on AWS.
            request.state = "cancelled".into();
        }
    }
    Ok(())
}

/// The target of `ec2:RunInstances`: `iam:PassRole` on the profile's role first, then the
/// instance (with `ec2:CreateTags` for tags), and the subnet, security groups, interface, volume,
/// image and key pair it uses.
fn run_target(w: &World, at: At<'_>, request: &RunInstance) -> Target {
    const RUN: &str = "ec2:RunInstances";
    let mut target = creating(at, "instance", &request.tags, "RunInstances");
    if let Some(role) = request.instance_profile_name.as_deref().and_then(|p| profile_role_arn(w, at.account(), p)) {
        target = target.before(at.check("iam:PassRole", role).with("iam:PassedToService", ["ec2.amazonaws.com"]));
    }
    target = target.after(check_on(w, at, RUN, &request.subnet_id));
    let ec2 = &w.region(at.account(), at.region).ec2;
    let groups = match ec2.subnets.get(&request.subnet_id) {
        Some(s) => groups_for(ec2, &s.vpc_id, &s.id, &request.security_group_ids).unwrap_or_default(),
        None => request.security_group_ids.clone(),
    };
    for g in &groups {
        target = target.after(check_on(w, at, RUN, g));
    }
    target = target
        .after(Check::new(RUN, at.ec2("network-interface", "*")))
        .after(Check::new(RUN, at.ec2("volume", "*")))
        .after(Check::new(RUN, format!("arn:aws:ec2:{}::image/{}", at.region, request.image_id)));
    if let Some(key) = &request.key_name {
        let tags = ec2.key_pairs.get(key).map_or(&NO_TAGS, |k| &k.tags);
        target = target.after(at.check(RUN, at.ec2("key-pair", key)).with_resource_tags(tags));
    }
    target
}

/// A target with one check per instance (the first is the main resource).
fn instances_target(w: &World, at: At<'_>, action: &'static str, ids: &[String]) -> Target {
    let mut target = match ids.first() {
        Some(id) => on(w, at, id),
        None => Target::new(at.ec2("instance", "*")),
    };
    for id in ids.iter().skip(1) {
        target = target.after(check_on(w, at, action, id));
    }
    target
}

// ---------------------------------------------------------------------------------------------
// The contract.

#[async_trait]
impl Compute for FakeCloud {
    async fn describe_instance_types(&self, names: &[String]) -> Result<Vec<InstanceTypeInfo>> {
        self.regional(
            "ec2:DescribeInstanceTypes",
            |_, _| Target::new("*"),
            |_, _| {
                if names.is_empty() {
                    return Ok(INSTANCE_TYPES.iter().filter_map(|t| instance_type(t.0)).collect());
                }
                let unknown: Vec<&str> =
                    names.iter().map(String::as_str).filter(|n| instance_type(n).is_none()).collect();
                if !unknown.is_empty() {
                    return Err(Error::invalid(format!(
                        "InvalidInstanceType: The following supplied instance types do not exist: [{}]",
                        unknown.join(", ")
                    )));
                }
                Ok(names.iter().filter_map(|n| instance_type(n)).collect())
            },
        )
        .await
    }

    async fn import_key_pair(&self, name: &str, public_key: &str, tags: &Tags) -> Result<KeyPair> {
        self.regional(
            "ec2:ImportKeyPair",
            |_, at| {
                let target = at.target(at.ec2("key-pair", name)).with_request_tags(tags, Some("ec2:CreateTags"));
                if tags.is_empty() {
                    target
                } else {
                    target.with("ec2:CreateAction", ["ImportKeyPair"])
                }
            },
            |w, at| import_key_pair(w, at, name, public_key, tags),
        )
        .await
    }

    async fn delete_key_pair(&self, name: &str) -> Result<()> {
        self.regional(
            "ec2:DeleteKeyPair",
            |w, at| {
                let pair = w.region(at.account(), at.region).ec2.key_pairs.get(name);
                at.target(at.ec2("key-pair", name)).with_resource_tags(pair.map_or(&NO_TAGS, |k| &k.tags))
            },
            |w, at| {
                if w.region(at.account(), at.region).ec2.key_pairs.contains_key(name) {
                    w.region_mut(at.account(), at.region).ec2.key_pairs.remove(name);
                }
                Ok(())
            },
        )
        .await
    }

    async fn describe_key_pairs(&self, filter: &Filter) -> Result<Vec<KeyPair>> {
        self.regional("ec2:DescribeKeyPairs", |_, _| Target::new("*"), |w, at| describe_key_pairs(w, at, filter)).await
    }

    async fn run_instance(&self, request: RunInstance) -> Result<Instance> {
        self.regional(
            "ec2:RunInstances",
            |w, at| run_target(w, at, &request),
            |w, at| launch(w, at, &request, false).map(|(i, _)| i),
        )
        .await
    }

    async fn describe_instances(&self, filter: &Filter) -> Result<Vec<Instance>> {
        self.regional("ec2:DescribeInstances", |_, _| Target::new("*"), |w, at| describe_instances(w, at, filter)).await
    }

    async fn describe_instance_status(&self, ids: &[String]) -> Result<Vec<InstanceStatus>> {
        self.regional(
            "ec2:DescribeInstanceStatus",
            |_, _| Target::new("*"),
            |w, at| describe_instance_status(w, at, ids),
        )
        .await
    }

    async fn terminate_instances(&self, ids: &[String]) -> Result<()> {
        self.regional(
            "ec2:TerminateInstances",
            |w, at| instances_target(w, at, "ec2:TerminateInstances", ids),
            |w, at| terminate_instances(w, at, ids),
        )
        .await
    }

    async fn describe_spot_requests(&self, filter: &Filter) -> Result<Vec<SpotRequest>> {
        self.regional(
            "ec2:DescribeSpotInstanceRequests",
            |_, _| Target::new("*"),
            |w, at| describe_spot_requests(w, at, filter),
        )
        .await
    }

    async fn cancel_spot_requests(&self, ids: &[String]) -> Result<()> {
        self.regional(
            "ec2:CancelSpotInstanceRequests",
            |w, at| {
                let mut target = match ids.first() {
                    Some(id) => on(w, at, id),
                    None => Target::new(at.ec2("spot-instances-request", "*")),
                };
                for id in ids.iter().skip(1) {
                    target = target.after(check_on(w, at, "ec2:CancelSpotInstanceRequests", id));
                }
                target
            },
            |w, at| cancel_spot_requests(w, at, ids),
        )
        .await
    }
}

impl FakeCloud {
    /// Simulates what the cluster master does with `ec2:RequestSpotInstances`: a one-time spot
    /// request, fulfilled at once (`active`), and the instance it launched (`pending`, with the
    /// request's tags), in this view's account and region. Spot instances do not count against the
    /// on-demand vCPU quotas. A test helper: not logged, not authorized, no faults.
    ///
    /// # Panics
    /// When EC2 would refuse the request (the same checks as `run_instance`).
    pub fn request_spot_instance(&self, request: RunInstance) -> (SpotRequest, Instance) {
        let mut shared = self.lock();
        let region: &str = &self.region;
        let at = At::unchecked(&self.caller, region);
        shared.world.settle(&self.caller.account, region);
        match launch(&mut shared.world, at, &request, true) {
            Ok((instance, Some(spot))) => (spot, instance),
            Ok((instance, None)) => panic!("request_spot_instance: client token of on-demand instance {}", instance.id),
            Err(e) => panic!("request_spot_instance: {e}"),
        }
    }
}
