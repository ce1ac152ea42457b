//! Calendar dates, just what the API needs: parse and validate `YYYY-MM-DD` (leap years
//! included), format, and day arithmetic. Proleptic Gregorian, years 1 to 9999.

use std::fmt;
use std::str::FromStr;

/// A calendar date (`2020-03-20`). Ordered by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a text is not a date, in words a 400 response can carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateError(String);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DateError {}

/// Whether `year` has a 29 February.
pub fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// The number of days in `month` (1-12) of `year`.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// The date, when it exists (`Date::new(2020, 2, 30)` is `None`).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil: years start on 1 March, so the leap day is last.
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12; // March = 0
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01, when it lies in years 1 to 9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Date> {
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// The date `days` days later (earlier when negative), when it lies in years 1 to 9999.
    pub fn add_days(self, days: i64) -> Option<Date> {
        Date::from_days_since_epoch(self.days_since_epoch().checked_add(days)?)
    }

    /// The `n` consecutive dates that end with `end`, oldest first (what a client fetches
    /// for "the last `n` days").
    pub fn days_ending(end: Date, n: usize) -> Vec<Date> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        (0..n).rev().map_while(|back| end.add_days(-back)).collect()
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Exactly `YYYY-MM-DD`, a date that exists.
    fn from_str(text: &str) -> Result<Date, DateError> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return Err(DateError(format!(
                "date {text:?} is not of the form YYYY-MM-DD"
            )));
        }
        let number = |range: std::ops::Range<usize>| {
            bytes[range]
                .iter()
                .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'))
        };
        let (year, month, day) = (number(0..4), number(5..7), number(8..10));
        let (Ok(month), Ok(day)) = (u8::try_from(month), u8::try_from(day)) else {
            return Err(DateError(format!("date {text:?} does not exist")));
        };
        Date::new(year, month, day)
            .ok_or_else(|| DateError(format!("date {text:?} does not exist")))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_formats() {
        let d = date("2020-03-20");
        assert_eq!((d.year(), d.month(), d.day()), (2020, 3, 20));
        assert_eq!(d.to_string(), "2020-03-20");
        assert_eq!(date("0001-01-01").to_string(), "0001-01-01");
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            "bad",
            "2020-3-20",
            "2020/03/20",
            "20200320",
            "2020-03-20 ",
            "+020-03-20",
            "2020-13-01",
            "2020-00-10",
            "2020-01-00",
            "2020-04-31",
            "0000-01-01",
            "2020-03-2a",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn leap_years() {
        assert!(date("2020-02-29") > date("2020-02-28"));
        assert!("2020-02-30".parse::<Date>().is_err());
        assert!("2019-02-29".parse::<Date>().is_err());
        assert!("1900-02-29".parse::<Date>().is_err());
        assert!("2000-02-29".parse::<Date>().is_ok());
        assert!(is_leap_year(2024) && !is_leap_year(2100) && is_leap_year(2400));
    }

    #[test]
    fn day_arithmetic() {
        assert_eq!(date("1970-01-01").days_since_epoch(), 0);
        assert_eq!(date("2000-03-01").days_since_epoch(), 11_017);
        assert_eq!(date("1969-12-31").days_since_epoch(), -1);
        assert_eq!(date("2020-02-28").add_days(1), Some(date("2020-02-29")));
        assert_eq!(date("2020-02-29").add_days(1), Some(date("2020-03-01")));
        assert_eq!(date("2019-12-31").add_days(1), Some(date("2020-01-01")));
        assert_eq!(date("2020-03-20").add_days(-99), Some(date("2019-12-12")));
        assert_eq!(date("9999-12-31").add_days(1), None);
        assert_eq!(date("0001-01-01").add_days(-1), None);
        // Every day of four centuries round-trips and advances by one.
        let mut d = date("1900-01-01");
        for _ in 0..146_097 {
            let next = d.add_days(1).unwrap();
            assert_eq!(next.days_since_epoch(), d.days_since_epoch() + 1);
            assert_eq!(Date::from_days_since_epoch(d.days_since_epoch()), Some(d));
            assert_eq!(next.to_string().parse::<Date>(), Ok(next));
            assert!(next > d);
            d = next;
        }
        assert_eq!(d, date("2300-01-01"));
    }

    #[test]
    fn days_ending_counts_back() {
        let days = Date::days_ending(date("2020-03-20"), 100);
        assert_eq!(days.len(), 100);
        assert_eq!(days[0], date("2019-12-12"));
        assert_eq!(days[99], date("2020-03-20"));
        assert!(days.windows(2).all(|w| w[0].add_days(1) == Some(w[1])));
    }
}
