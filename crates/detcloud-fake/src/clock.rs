//! Time in the fake: how long AWS's transitions take ([`Timings`]), the virtual wall clock behind
//! every timestamp the fake reports, and timestamps as readable JSON.
//!
//! Everything runs on tokio's clock (`tokio::time::Instant`), so a test with a paused clock
//! (`#[tokio::test(start_paused = true)]`, `tokio::time::advance`) watches an eight-minute Aurora
//! creation in milliseconds. States are derived lazily when read: a resource stores when its
//! current phase began (`since`, never saved) and the phase it is heading to; a resource whose
//! `since` is unknown (a loaded snapshot) has completed its transition.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// How long the Determined master takes to answer once its instance runs, in
/// [`Timings::aws_like`].
const MASTER_START: Duration = Duration::from_secs(90);

/// How long AWS's asynchronous transitions take in the fake (tokio time).
///
/// [`Timings::aws_like`] (the default) uses AWS's typical durations; [`Timings::instant`] makes
/// every transition complete at once (the CLI sandbox uses it). Set with
/// [`FakeCloud::set_timings`](crate::cloud::FakeCloud::set_timings); not saved in snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timings {
    /// An instance is `pending` this long, then `running`.
    pub instance_launch: Duration,
    /// A running instance's status checks are `initializing` this long, then `ok`.
    pub instance_status_checks: Duration,
    /// A terminated instance is `shutting-down` this long, then `terminated`.
    pub instance_termination: Duration,
    /// A NAT gateway is `pending` this long, then `available`.
    pub nat_gateway_creation: Duration,
    /// A deleted NAT gateway is `deleting` this long, then `deleted`.
    pub nat_gateway_deletion: Duration,
    /// A `terminated` instance and a `deleted` NAT gateway stay listed this long, then are gone
    /// (AWS: about an hour).
    pub finished_listed: Duration,
    /// An Aurora cluster is `creating` this long, then `available`.
    pub db_cluster_creation: Duration,
    /// A deleted Aurora cluster is `deleting` this long, then gone.
    pub db_cluster_deletion: Duration,
    /// A DB instance is `creating` this long after its cluster is available (or after its own
    /// creation, whichever is later), then `available`.
    pub db_instance_creation: Duration,
    /// A deleted DB instance is `deleting` this long, then gone.
    pub db_instance_deletion: Duration,
    /// A cluster snapshot is `creating` this long, then `available`.
    pub db_snapshot_creation: Duration,
    /// How far the latest restorable time of a cluster lags behind now.
    pub db_restore_lag: Duration,
    /// After `ssm:SendCommand`, its invocations do not exist this long (`InvocationDoesNotExist`).
    pub command_delivery: Duration,
    /// A command runs this long after it was sent (`Pending`, then `InProgress` from the delivery
    /// on), then finishes.
    pub command_execution: Duration,
    /// A command and its invocations are kept this long after it was sent, then forgotten (AWS:
    /// 30 days).
    pub command_history: Duration,
    /// The Determined master that detcloud's bootstrap starts answers this long after its
    /// instance runs (or after a reconfiguration restarted it): Docker, the image pull, the start.
    pub master_start: Duration,
}

/// How long SSM keeps a command's history.
const COMMAND_HISTORY: Duration = Duration::from_secs(30 * 24 * 3600);

impl Timings {
    /// AWS's typical durations: instances 30 s to run and 60 s more to pass status checks, 30 s to
    /// terminate; NAT gateways 120 s to create and 60 s to delete; terminated instances and deleted
    /// NAT gateways listed for an hour; Aurora clusters 480 s to
    /// create and 60 s to delete; DB instances 420 s, 60 s to delete; snapshots 60 s; point-in-time
    /// restore up to five minutes ago; commands delivered after 1 s, finished after 2 s, and kept for
    /// 30 days; the Determined master answering 90 s after its instance runs.
    pub const fn aws_like() -> Self {
        Timings {
            instance_launch: Duration::from_secs(30),
            instance_status_checks: Duration::from_secs(60),
            instance_termination: Duration::from_secs(30),
            nat_gateway_creation: Duration::from_secs(120),
            nat_gateway_deletion: Duration::from_secs(60),
            finished_listed: Duration::from_secs(3600),
            db_cluster_creation: Duration::from_secs(480),
            db_cluster_deletion: Duration::from_secs(60),
            db_instance_creation: Duration::from_secs(420),
            db_instance_deletion: Duration::from_secs(60),
            db_snapshot_creation: Duration::from_secs(60),
            db_restore_lag: Duration::from_secs(300),
            command_delivery: Duration::from_secs(1),
            command_execution: Duration::from_secs(2),
            command_history: COMMAND_HISTORY,
            master_start: MASTER_START,
        }
    }

    /// Every transition completes at once: resources are created in their final state. Terminated
    /// instances and deleted NAT gateways are still listed for an hour, and commands kept for 30 days,
    /// as in AWS.
    pub const fn instant() -> Self {
        Timings {
            instance_launch: Duration::ZERO,
            instance_status_checks: Duration::ZERO,
            instance_termination: Duration::ZERO,
            nat_gateway_creation: Duration::ZERO,
            nat_gateway_deletion: Duration::ZERO,
            finished_listed: Duration::from_secs(3600),
            db_cluster_creation: Duration::ZERO,
            db_cluster_deletion: Duration::ZERO,
            db_instance_creation: Duration::ZERO,
            db_instance_deletion: Duration::ZERO,
            db_snapshot_creation: Duration::ZERO,
            db_restore_lag: Duration::ZERO,
            command_delivery: Duration::ZERO,
            command_execution: Duration::ZERO,
            command_history: COMMAND_HISTORY,
            master_start: Duration::ZERO,
        }
    }
}

impl Default for Timings {
    fn default() -> Self {
        Timings::aws_like()
    }
}

/// Now, on tokio's clock.
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// True when a phase that began at `since` and lasts `duration` is over. An unknown start (a
/// loaded snapshot) counts as long over.
pub(crate) fn reached(since: Option<Instant>, duration: Duration) -> bool {
    since.is_none_or(|since| now() >= since + duration)
}

/// True when a phase that began at `since` has lasted `duration`; an unknown start (a loaded
/// snapshot) never counts: what a snapshot holds is kept.
pub(crate) fn known_and_reached(since: Option<Instant>, duration: Duration) -> bool {
    since.is_some_and(|since| now() >= since + duration)
}

/// When a phase that began at `since` and lasts `duration` ends (`None` for an unknown start: it
/// is over).
pub(crate) fn ends(since: Option<Instant>, duration: Duration) -> Option<Instant> {
    since.map(|since| since + duration)
}

/// The virtual wall clock: a wall time pinned to a tokio instant, advancing with tokio time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallClock {
    wall: SystemTime,
    at: Instant,
}

impl WallClock {
    /// A clock showing the system time now.
    pub(crate) fn system() -> Self {
        WallClock::showing(SystemTime::now())
    }

    /// A clock showing `wall` now.
    pub(crate) fn showing(wall: SystemTime) -> Self {
        WallClock { wall: truncate(wall), at: now() }
    }

    /// The wall time now, to the millisecond.
    pub(crate) fn now(&self) -> SystemTime {
        truncate(self.wall + now().saturating_duration_since(self.at))
    }
}

/// `t` to the millisecond (what a snapshot keeps).
pub(crate) fn truncate(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_millis(d.as_millis() as u64),
        Err(_) => UNIX_EPOCH,
    }
}

// ---------------------------------------------------------------------------------------------
// Timestamps as RFC 3339 text (`2025-01-31T12:00:00.000Z`).

/// `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn format(t: SystemTime) -> String {
    let ms = t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    detcloud_policy::time::format_millis(ms)
}

/// `t` as AWS names automated snapshots: `YYYY-MM-DD-HH-MM`.
pub(crate) fn format_minutes(t: SystemTime) -> String {
    let text = format(t);
    format!("{}-{}-{}", &text[..10], &text[11..13], &text[14..16])
}

/// The inverse of [`format()`] (milliseconds optional).
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        text.get(r).filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, m, d) = (num(0..4)? as i64, num(5..7)? as u32, num(8..10)? as u32);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let millis: u64 = match &text[19..] {
        "Z" => 0,
        rest if rest.len() == 5 && rest.starts_with('.') && rest.ends_with('Z') => num(20..23)?,
        _ => return None,
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 || y < 1970 {
        return None;
    }
    let days = u64::try_from(detcloud_policy::time::days_from_civil(y, i64::from(m), i64::from(d))).ok()?;
    Some(UNIX_EPOCH + Duration::from_millis(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + millis))
}

/// `#[serde(with = "crate::clock::rfc3339")]` for a `SystemTime`.
pub(crate) mod rfc3339 {
    use std::time::SystemTime;

    use serde::{de, Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*t))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text)
            .ok_or_else(|| de::Error::custom(format!("{text:?} is not a time like 2025-01-31T12:00:00.000Z")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for ms in [0u64, 1_700_000_000_123, 951_782_400_000, 4_102_444_799_999] {
            let t = UNIX_EPOCH + Duration::from_millis(ms);
            assert_eq!(parse(&format(t)), Some(t), "{}", format(t));
        }
        assert_eq!(format(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
        assert_eq!(parse("2000-02-29T00:00:00Z"), Some(UNIX_EPOCH + Duration::from_secs(951_782_400)));
        assert_eq!(format_minutes(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3723)), "2000-02-29-01-02");
        assert_eq!(parse("2000-02-29 00:00:00Z"), None);
        assert_eq!(parse("2000-13-01T00:00:00Z"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_wall_clock_follows_tokio_time() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = WallClock::showing(start);
        let then = now();
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(clock.now(), start + Duration::from_secs(90));
        assert!(reached(None, Duration::from_secs(1_000_000)));
        assert!(reached(Some(then), Duration::from_secs(90)));
        assert!(!reached(Some(then), Duration::from_secs(91)));
    }
}
