//! The range of `/api/stats`: inclusive days in a time zone, turned into what a
//! database can use without a time zone database of its own: the range's
//! bounds in milliseconds since the Unix epoch, and the zone's UTC offsets over
//! it, so the local day of an event time `t` is `(t + offset(t)) / 86400000`
//! (see [`Offsets`]). SQLite has no time zones and ClickHouse 18.16's differ
//! from current ones, so both stores take their days from here.

use jiff::civil::{date, Date};
use jiff::tz::TimeZone;

/// The longest range, in days: past that a dashboard is an export.
pub const MAX_DAYS: i64 = 400;

const DAY_MS: i64 = 86_400_000;

/// Why a range was refused: each is a 400 that names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("`{0}` is required: a date as YYYY-MM-DD")]
    Missing(&'static str),
    #[error("`{field}` must be a date as YYYY-MM-DD, got {value:?}")]
    BadDate { field: &'static str, value: String },
    #[error("`from` ({from}) is after `to` ({to})")]
    FromAfterTo { from: Date, to: Date },
    #[error("the range is {days} days; at most {MAX_DAYS} are allowed")]
    TooLong { days: i64 },
    #[error("unknown time zone {0:?}: use an IANA name such as Europe/Paris")]
    UnknownTimeZone(String),
}

/// Inclusive days `from..=to` in the time zone `tz`.
#[derive(Debug, Clone)]
pub struct DayRange {
    pub from: Date,
    pub to: Date,
    /// The zone's IANA name, as asked (`UTC` when none was).
    pub tz_name: String,
    tz: TimeZone,
}

/// One contiguous span of time for a store: `[start_ms, end_ms)` and the UTC
/// offsets in force over it.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub offsets: Offsets,
}

/// The UTC offset over a window, in milliseconds: `first` until the first
/// change, then each `(from_ms, offset_ms)` in order. Most windows have no
/// change; one over a daylight-saving switch has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offsets {
    pub first: i64,
    pub changes: Vec<(i64, i64)>,
}

impl Offsets {
    /// The offset in force at `t_ms`.
    pub fn at(&self, t_ms: i64) -> i64 {
        self.changes.iter().take_while(|(from, _)| *from <= t_ms).last().map_or(self.first, |(_, o)| *o)
    }

    /// The local day number (days since 1970-01-01 in the zone) of `t_ms`.
    pub fn day_of(&self, t_ms: i64) -> i64 {
        (t_ms + self.at(t_ms)).div_euclid(DAY_MS)
    }
}

fn parse_date(field: &'static str, value: Option<&str>) -> Result<Date, RangeError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty()).ok_or(RangeError::Missing(field))?;
    // Exactly YYYY-MM-DD: jiff would also take a date with a time or an offset.
    let well_formed = value.len() == 10
        && value
            .bytes()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let bad = || RangeError::BadDate { field, value: value.to_string() };
    if !well_formed {
        return Err(bad());
    }
    value.parse::<Date>().map_err(|_| bad())
}

/// Days since 1970-01-01.
pub fn epoch_day(d: Date) -> i64 {
    date(1970, 1, 1).until(d).map_or(0, |span| i64::from(span.get_days()))
}

impl DayRange {
    /// Checks `from`, `to` (`YYYY-MM-DD`) and `tz` (an IANA name; UTC when absent).
    pub fn parse(from: Option<&str>, to: Option<&str>, tz: Option<&str>) -> Result<Self, RangeError> {
        let from_date = parse_date("from", from)?;
        let to_date = parse_date("to", to)?;
        if from_date > to_date {
            return Err(RangeError::FromAfterTo { from: from_date, to: to_date });
        }
        let days = epoch_day(to_date) - epoch_day(from_date) + 1;
        if days > MAX_DAYS {
            return Err(RangeError::TooLong { days });
        }
        let tz_name = tz.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("UTC");
        let zone = TimeZone::get(tz_name).map_err(|_| RangeError::UnknownTimeZone(tz_name.to_string()))?;
        Ok(Self { from: from_date, to: to_date, tz_name: tz_name.to_string(), tz: zone })
    }

    /// How many days the range holds.
    pub fn len(&self) -> i64 {
        epoch_day(self.to) - epoch_day(self.from) + 1
    }

    /// Never: a range holds at least its first day.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The days, in order.
    pub fn dates(&self) -> impl Iterator<Item = Date> + '_ {
        let to = self.to;
        std::iter::successors(Some(self.from), move |d| d.tomorrow().ok().filter(|n| *n <= to))
    }

    /// The range of the same length that ends the day before this one starts.
    pub fn previous(&self) -> Self {
        let len = self.len();
        let to = self.from.yesterday().unwrap_or(self.from);
        let from = (1..len).fold(to, |d, _| d.yesterday().unwrap_or(d));
        Self { from, to, tz_name: self.tz_name.clone(), tz: self.tz.clone() }
    }

    /// The instant the day `d` starts in the zone (its first existing moment
    /// when midnight falls in a daylight-saving gap).
    fn start_of(&self, d: Date) -> i64 {
        d.to_zoned_datetime(self.tz.clone()).map_or(epoch_day(d) * DAY_MS, |z| z.timestamp().as_millisecond())
    }

    /// The range as a [`Window`].
    pub fn window(&self) -> Window {
        let start_ms = self.start_of(self.from);
        let end_ms = self.to.tomorrow().map_or(start_ms + self.len() * DAY_MS, |d| self.start_of(d));
        let offset_at = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms).map_or(0, |t| self.tz.to_offset(t).seconds()) as i64
        };
        let first = offset_at(start_ms) * 1000;
        let mut changes = Vec::new();
        if let Ok(start) = jiff::Timestamp::from_millisecond(start_ms) {
            for transition in self.tz.following(start) {
                let at = transition.timestamp().as_millisecond();
                if at >= end_ms {
                    break;
                }
                let offset = i64::from(transition.offset().seconds()) * 1000;
                let previous = changes.last().map_or(first, |(_, o)| *o);
                if offset != previous {
                    changes.push((at, offset));
                }
            }
        }
        Window { start_ms, end_ms, offsets: Offsets { first, changes } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: &str, to: &str, tz: &str) -> Result<DayRange, RangeError> {
        DayRange::parse(Some(from), Some(to), Some(tz))
    }

    #[test]
    fn refuses_bad_dates_order_length_and_zones() {
        assert!(matches!(DayRange::parse(None, Some("2026-11-01"), None), Err(RangeError::Missing("from"))));
        for bad in ["2026-13-01", "2026-02-30", "26-11-01", "2026-11-01T00:00", "2026/11/01", "yesterday"] {
            assert!(matches!(range(bad, "2026-12-01", "UTC"), Err(RangeError::BadDate { .. })), "{bad}");
        }
        assert!(matches!(range("2026-11-02", "2026-11-01", "UTC"), Err(RangeError::FromAfterTo { .. })));
        assert!(range("2025-01-01", "2026-02-04", "UTC").is_ok(), "400 days exactly");
        assert!(matches!(range("2025-01-01", "2026-02-05", "UTC"), Err(RangeError::TooLong { days: 401 })));
        assert!(matches!(
            range("2026-11-01", "2026-11-01", "Mars/Olympus"),
            Err(RangeError::UnknownTimeZone(_))
        ));
    }

    #[test]
    fn a_day_in_a_zone_starts_at_its_local_midnight() {
        let w = range("2026-07-01", "2026-07-01", "Europe/Paris").expect("range").window();
        // 2026-07-01T00:00+02:00.
        assert_eq!(w.start_ms, 1_782_856_800_000);
        assert_eq!(w.end_ms - w.start_ms, DAY_MS);
        assert_eq!(w.offsets, Offsets { first: 7_200_000, changes: vec![] });
        assert_eq!(w.offsets.day_of(w.start_ms), epoch_day(date(2026, 7, 1)));
        assert_eq!(w.offsets.day_of(w.end_ms - 1), epoch_day(date(2026, 7, 1)));
        assert_eq!(w.offsets.day_of(w.end_ms), epoch_day(date(2026, 7, 2)));
    }

    #[test]
    fn a_range_over_a_daylight_saving_switch_has_a_23_hour_day() {
        // Europe/Paris leaves summer time on 2026-10-25 at 03:00 local (01:00 UTC).
        let w = range("2026-10-24", "2026-10-26", "Europe/Paris").expect("range").window();
        assert_eq!(w.end_ms - w.start_ms, 3 * DAY_MS + 3_600_000);
        assert_eq!(w.offsets.first, 7_200_000);
        assert_eq!(w.offsets.changes.len(), 1);
        let (at, offset) = w.offsets.changes[0];
        assert_eq!(offset, 3_600_000);
        assert_eq!(w.offsets.day_of(at - 1), epoch_day(date(2026, 10, 25)));
        assert_eq!(w.offsets.day_of(w.end_ms - 1), epoch_day(date(2026, 10, 26)));
        // India: +05:30, no change.
        let w = range("2026-10-24", "2026-10-26", "Asia/Kolkata").expect("range").window();
        assert_eq!(w.offsets, Offsets { first: 19_800_000, changes: vec![] });
    }

    #[test]
    fn the_previous_period_has_the_same_length_and_ends_the_day_before() {
        let r = range("2026-03-01", "2026-03-30", "UTC").expect("range");
        let p = r.previous();
        assert_eq!((p.from, p.to), (date(2026, 1, 30), date(2026, 2, 28)));
        assert_eq!(p.len(), 30);
        assert_eq!(r.dates().count(), 30);
        assert_eq!(r.dates().last(), Some(date(2026, 3, 30)));
    }
}
