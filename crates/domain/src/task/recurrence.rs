//! Recurring tasks: the periods, and when the next occurrence is due.

use chrono::{Months, TimeDelta};

use crate::Timestamp;

crate::words::words! {
    /// How often a task comes back once completed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "lowercase"))]
    pub enum Recurrence {
        Daily = "daily",
        Weekly = "weekly",
        Monthly = "monthly",
        Yearly = "yearly",
    }
}

impl Recurrence {
    /// One period after `due`, on the UTC calendar, keeping the time of day.
    ///
    /// Monthly and yearly keep the day of the month, clamped to the month's last day
    /// (Jan 31 -> Feb 28, or Feb 29 in a leap year; Feb 29 -> Feb 28 a year later).
    /// `None` when the result would fall after the year 9999.
    #[must_use]
    pub fn next_after(self, due: Timestamp) -> Option<Timestamp> {
        let at = due.as_datetime();
        let next = match self {
            Self::Daily => at.checked_add_signed(TimeDelta::days(1)),
            Self::Weekly => at.checked_add_signed(TimeDelta::weeks(1)),
            // chrono clamps the day to the end of the target month.
            Self::Monthly => at.checked_add_months(Months::new(1)),
            Self::Yearly => at.checked_add_months(Months::new(12)),
        }?;
        Timestamp::new(next).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn next(recurrence: Recurrence, due: &str) -> String {
        recurrence.next_after(at(due)).unwrap().to_rfc3339()
    }

    #[test]
    fn daily_and_weekly_add_whole_days_keeping_the_time_of_day() {
        assert_eq!(next(Recurrence::Daily, "2026-03-07T09:30:00.123456Z"), "2026-03-08T09:30:00.123456Z");
        assert_eq!(next(Recurrence::Daily, "2026-12-31T23:59:59Z"), "2027-01-01T23:59:59.000000Z");
        assert_eq!(next(Recurrence::Daily, "2028-02-28T08:00:00Z"), "2028-02-29T08:00:00.000000Z");
        assert_eq!(next(Recurrence::Weekly, "2026-12-28T07:00:00Z"), "2027-01-04T07:00:00.000000Z");
        assert_eq!(next(Recurrence::Weekly, "2024-02-26T00:00:00Z"), "2024-03-04T00:00:00.000000Z");
    }

    #[test]
    fn daily_ignores_daylight_saving_because_everything_is_utc() {
        // 2026-03-29 is the EU switch to summer time; UTC days are still 24 h.
        assert_eq!(next(Recurrence::Daily, "2026-03-28T01:30:00Z"), "2026-03-29T01:30:00.000000Z");
        assert_eq!(next(Recurrence::Daily, "2026-11-01T06:30:00Z"), "2026-11-02T06:30:00.000000Z");
    }

    #[test]
    fn monthly_keeps_the_day_of_month_clamped_to_the_months_end() {
        assert_eq!(next(Recurrence::Monthly, "2026-01-15T10:00:00Z"), "2026-02-15T10:00:00.000000Z");
        assert_eq!(next(Recurrence::Monthly, "2026-01-31T10:00:00Z"), "2026-02-28T10:00:00.000000Z");
        assert_eq!(next(Recurrence::Monthly, "2028-01-31T10:00:00Z"), "2028-02-29T10:00:00.000000Z");
        assert_eq!(next(Recurrence::Monthly, "2026-03-31T10:00:00Z"), "2026-04-30T10:00:00.000000Z");
        assert_eq!(next(Recurrence::Monthly, "2026-12-31T23:00:00Z"), "2027-01-31T23:00:00.000000Z");
        assert_eq!(next(Recurrence::Monthly, "2026-02-28T10:00:00Z"), "2026-03-28T10:00:00.000000Z");
    }

    #[test]
    fn yearly_keeps_the_date_and_clamps_february_29() {
        assert_eq!(next(Recurrence::Yearly, "2026-07-04T12:00:00Z"), "2027-07-04T12:00:00.000000Z");
        assert_eq!(next(Recurrence::Yearly, "2024-02-29T12:00:00Z"), "2025-02-28T12:00:00.000000Z");
        assert_eq!(next(Recurrence::Yearly, "2027-02-28T12:00:00Z"), "2028-02-28T12:00:00.000000Z");
        assert_eq!(next(Recurrence::Yearly, "2026-12-31T23:59:59.999999Z"), "2027-12-31T23:59:59.999999Z");
    }

    #[test]
    fn nothing_comes_after_the_year_9999() {
        assert_eq!(Recurrence::Daily.next_after(at("9999-12-31T00:00:00Z")), None);
        assert_eq!(Recurrence::Yearly.next_after(at("9999-03-01T00:00:00Z")), None);
    }

    #[test]
    fn only_the_lower_case_spellings_parse() {
        assert_eq!("monthly".parse(), Ok(Recurrence::Monthly));
        assert!("Monthly".parse::<Recurrence>().is_err());
        assert!("hourly".parse::<Recurrence>().is_err());
    }
}
