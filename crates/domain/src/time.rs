//! `Timestamp`: an instant in UTC with microsecond precision, the one time type of the domain.

use std::fmt;

use chrono::{DateTime, Datelike, SecondsFormat, TimeDelta, Utc};

/// An instant in UTC, truncated to whole microseconds, between the years 1 and 9999.
///
/// Microseconds are what PostgreSQL keeps, so a value survives a round trip through
/// any store unchanged; the year range keeps every value printable as RFC 3339.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "DateTime<Utc>", into = "DateTime<Utc>"))]
pub struct Timestamp(DateTime<Utc>);

/// Why a value is not a [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("must be an RFC 3339 timestamp with an offset, e.g. 2026-01-03T10:15:30Z")]
    Malformed,
    #[error("must be between the years 1 and 9999")]
    OutOfRange,
}

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds since 1970: the
/// range of [`Timestamp::from_micros`].
const MICROS_RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800_000_000..=253_402_300_799_999_999;

impl Timestamp {
    /// The instant `at`, truncated to microseconds.
    pub fn new(at: DateTime<Utc>) -> Result<Self, TimestampError> {
        // `naive_utc`: `DateTime`'s own `year()` first converts to local time.
        if !(1..=9999).contains(&at.naive_utc().year()) {
            return Err(TimestampError::OutOfRange);
        }
        // Whole microseconds, and not a leap second: nothing to truncate. Every row read
        // from a database is such a value.
        let nanos = at.timestamp_subsec_nanos();
        if nanos < 1_000_000_000 && nanos.is_multiple_of(1_000) {
            return Ok(Self(at));
        }
        let micros = at.timestamp_micros();
        DateTime::from_timestamp_micros(micros).map(Self).ok_or(TimestampError::OutOfRange)
    }

    /// Parses RFC 3339 with any offset (`Z` or `±hh:mm`); a bare date or local time is refused.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        let at = DateTime::parse_from_rfc3339(text).map_err(|_| TimestampError::Malformed)?;
        Self::new(at.with_timezone(&Utc))
    }

    /// Microseconds since the Unix epoch, as stored by the SQLite adapter.
    pub fn from_micros(micros: i64) -> Result<Self, TimestampError> {
        if !MICROS_RANGE.contains(&micros) {
            return Err(TimestampError::OutOfRange);
        }
        DateTime::from_timestamp_micros(micros).map(Self).ok_or(TimestampError::OutOfRange)
    }

    #[must_use]
    pub fn micros(self) -> i64 {
        self.0.timestamp_micros()
    }

    #[must_use]
    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// `self + delta`, or `None` when that leaves the supported range.
    #[must_use]
    pub fn checked_add(self, delta: TimeDelta) -> Option<Self> {
        self.0.checked_add_signed(delta).and_then(|at| Self::new(at).ok())
    }

    /// `self - earlier`.
    #[must_use]
    pub fn since(self, earlier: Self) -> TimeDelta {
        self.0 - earlier.0
    }

    /// RFC 3339 in UTC with six fractional digits and a `Z`: `2026-01-03T10:15:30.123456Z`.
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl TryFrom<DateTime<Utc>> for Timestamp {
    type Error = TimestampError;

    fn try_from(at: DateTime<Utc>) -> Result<Self, Self::Error> {
        Self::new(at)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(at: Timestamp) -> Self {
        at.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_to_microseconds() {
        let at = DateTime::parse_from_rfc3339("2026-01-03T10:15:30.123456789Z").unwrap().with_timezone(&Utc);
        assert_eq!(Timestamp::new(at).unwrap().to_rfc3339(), "2026-01-03T10:15:30.123456Z");
    }

    #[test]
    fn any_offset_is_converted_to_utc() {
        let at = Timestamp::parse_rfc3339("2026-01-03T12:15:30+02:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-01-03T10:15:30.000000Z");
    }

    #[test]
    fn bare_dates_and_local_times_are_refused() {
        for text in ["2026-01-03", "2026-01-03T10:15:30", "", "yesterday", "2026-01-03 10:15:30"] {
            assert_eq!(Timestamp::parse_rfc3339(text), Err(TimestampError::Malformed), "{text}");
        }
    }

    #[test]
    fn years_beyond_9999_are_out_of_range() {
        assert_eq!(Timestamp::from_micros(i64::MAX), Err(TimestampError::OutOfRange));
        let last = Timestamp::parse_rfc3339("9999-12-31T23:59:59.999999Z").unwrap();
        assert_eq!(last.checked_add(TimeDelta::microseconds(1)), None);
    }

    #[test]
    fn the_range_ends_at_the_first_and_last_microsecond_of_years_1_and_9999() {
        let first = Timestamp::parse_rfc3339("0001-01-01T00:00:00Z").unwrap();
        let last = Timestamp::parse_rfc3339("9999-12-31T23:59:59.999999Z").unwrap();
        assert_eq!((first.micros(), last.micros()), (*MICROS_RANGE.start(), *MICROS_RANGE.end()));
        assert_eq!(Timestamp::from_micros(first.micros()), Ok(first));
        assert_eq!(Timestamp::from_micros(last.micros()), Ok(last));
        assert_eq!(Timestamp::from_micros(first.micros() - 1), Err(TimestampError::OutOfRange));
        assert_eq!(Timestamp::from_micros(last.micros() + 1), Err(TimestampError::OutOfRange));
        let before = DateTime::from_timestamp_micros(first.micros() - 1).unwrap();
        assert_eq!(Timestamp::new(before), Err(TimestampError::OutOfRange));
    }

    #[test]
    fn a_leap_second_becomes_the_next_second_and_whole_microseconds_stay_as_they_are() {
        let leap = Timestamp::parse_rfc3339("2016-12-31T23:59:60.5Z").unwrap();
        assert_eq!(leap.to_rfc3339(), "2017-01-01T00:00:00.500000Z");
        assert_eq!(leap, Timestamp::from_micros(leap.micros()).unwrap());
        let whole = DateTime::from_timestamp_micros(1_234_567).unwrap();
        assert_eq!(Timestamp::new(whole).unwrap().as_datetime(), whole);
    }

    #[test]
    fn micros_round_trip() {
        let at = Timestamp::parse_rfc3339("1970-01-01T00:00:00.000001Z").unwrap();
        assert_eq!(at.micros(), 1);
        assert_eq!(Timestamp::from_micros(at.micros()), Ok(at));
    }
}
