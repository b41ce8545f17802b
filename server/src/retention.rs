//! How long events are kept: per project, [`DEFAULT_MONTHS`] whole months
//! before the current one unless the operator sets another
//! (`projects set N --retention-months M`). Enforced by a pass the server runs
//! every few hours, and `lummmen-server retention` runs once:
//!
//! - ClickHouse: partitions are calendar months (UTC) shared by every site, and
//!   18.16 has no TTL, so months older than the longest retention of any
//!   project are dropped whole (`DROP PARTITION`: instant, no rewrite); a
//!   project that keeps less has its older rows deleted by site.
//! - SQLite: deletes by site and time, in chunks, so the drainer's inserts are
//!   never held up for long.
//!
//! This module is the pure plan; each store carries it out
//! ([`crate::store::EventStore::expire`]).

use std::sync::Arc;
use std::time::Duration;

use jiff::civil::date;

use crate::meta::MetaStore;
use crate::projects::ProjectError;
use crate::store::{EventStore, StoreError};

/// How often the server runs the pass.
pub const INTERVAL: Duration = Duration::from_secs(6 * 3600);

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Projects(#[from] ProjectError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Months kept when a project sets none: thirteen, a year and the month that
/// compares with a year before.
pub const DEFAULT_MONTHS: u16 = 13;

/// The longest retention a project may set.
pub const MAX_MONTHS: u16 = 120;

/// What expires: for each project, events before its cutoff; every month
/// before `oldest_kept_month` (no project keeps it) can go whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `(site_id, cutoff_ms)`: the first instant kept.
    pub sites: Vec<(u32, i64)>,
    /// `YYYYMM` of the oldest month any project keeps; `None` without projects
    /// (nothing is dropped whole then).
    pub oldest_kept_month: Option<u32>,
    /// The first instant of that month.
    pub oldest_cutoff_ms: Option<i64>,
}

/// The first instant (UTC) of the month `months` months before the month of
/// `now_ms`, and that month as `YYYYMM`.
pub fn cutoff(now_ms: i64, months: u16) -> (i64, u32) {
    let now = jiff::Timestamp::from_millisecond(now_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let index = i32::from(today.year()) * 12 + i32::from(today.month()) - 1 - i32::from(months);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let first = date(year as i16, month as i8, 1);
    let ms = first.to_zoned_datetime(jiff::tz::TimeZone::UTC).map_or(0, |z| z.timestamp().as_millisecond());
    (ms, (year * 100 + month) as u32)
}

/// The plan for these projects' retentions at `now_ms`.
pub fn plan(now_ms: i64, retentions: &[(u32, u16)]) -> Plan {
    let sites: Vec<(u32, i64)> =
        retentions.iter().map(|(site, months)| (*site, cutoff(now_ms, *months).0)).collect();
    let oldest = retentions.iter().map(|(_, months)| cutoff(now_ms, *months)).min();
    Plan { sites, oldest_kept_month: oldest.map(|o| o.1), oldest_cutoff_ms: oldest.map(|o| o.0) }
}

/// One pass: the projects' retentions now, carried out by the store; answers
/// how many events expired.
pub async fn run(
    projects: &dyn MetaStore,
    events: &dyn EventStore,
    now_ms: i64,
) -> Result<u64, RetentionError> {
    let retentions = projects.retentions().await?;
    let plan = plan(now_ms, &retentions);
    Ok(events.expire(&plan).await?)
}

/// Runs a pass a minute after start, then every [`INTERVAL`], for as long as
/// the runtime lives; a failed pass is logged and tried again next time.
pub fn spawn(projects: Arc<dyn MetaStore>, events: Arc<dyn EventStore>) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        loop {
            match run(projects.as_ref(), events.as_ref(), crate::clock::now_ms_i64()).await {
                Ok(0) => tracing::debug!("retention: nothing expired"),
                Ok(n) => tracing::info!(events = n, "retention: expired events deleted"),
                Err(e) => tracing::error!(error = %e, "retention pass failed"),
            }
            tokio::time::sleep(INTERVAL).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i16, m: i8, d: i8) -> i64 {
        date(y, m, d).to_zoned_datetime(jiff::tz::TimeZone::UTC).expect("date").timestamp().as_millisecond()
    }

    #[test]
    fn the_cutoff_is_the_first_of_the_month_so_many_months_back() {
        assert_eq!(cutoff(ms(2026, 12, 2) + 3_600_000, 13), (ms(2025, 11, 1), 202511));
        assert_eq!(cutoff(ms(2026, 1, 31), 1), (ms(2025, 12, 1), 202512));
        assert_eq!(cutoff(ms(2026, 3, 1), 0), (ms(2026, 3, 1), 202603));
        assert_eq!(cutoff(ms(2026, 3, 1), 26), (ms(2024, 1, 1), 202401));
    }

    #[test]
    fn months_go_whole_only_past_the_longest_retention() {
        let now = ms(2026, 12, 2);
        let p = plan(now, &[(1, 13), (2, 3)]);
        assert_eq!(p.sites, vec![(1, ms(2025, 11, 1)), (2, ms(2026, 9, 1))]);
        assert_eq!((p.oldest_kept_month, p.oldest_cutoff_ms), (Some(202511), Some(ms(2025, 11, 1))));
        assert_eq!(plan(now, &[]).oldest_kept_month, None);
    }
}
