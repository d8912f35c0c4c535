//! ISO 8601 periods as Play uses them for billing periods (`P1W`, `P1M`, `P3M`, `P1Y`, `P30D`),
//! added to instants in calendar terms (a month from Jan 31 is Feb 28/29).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub years: u32,
    pub months: u32,
    pub days: u32,
}

impl Period {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an ISO 8601 period such as P1M, P1W or P30D");
        if !s.is_ascii() || s.len() > 32 {
            return Err(bad());
        }
        let mut rest = s.strip_prefix('P').ok_or_else(bad)?;
        let mut p = Period {
            years: 0,
            months: 0,
            days: 0,
        };
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 || digits >= rest.len() {
                return Err(bad());
            }
            let n: u32 = rest[..digits].parse().map_err(|_| bad())?;
            let slot = match &rest[digits..=digits] {
                "Y" => &mut p.years,
                "M" => &mut p.months,
                "W" => &mut p.days,
                "D" => &mut p.days,
                _ => return Err(bad()),
            };
            let n = if &rest[digits..=digits] == "W" {
                n.checked_mul(7)
            } else {
                Some(n)
            };
            *slot = n.and_then(|n| slot.checked_add(n)).ok_or_else(bad)?;
            rest = &rest[digits + 1..];
        }
        if p.years == 0 && p.months == 0 && p.days == 0 {
            return Err(bad());
        }
        // Billing periods and clock moves are months or years, not millennia; the bound
        // keeps calendar arithmetic far from overflow.
        if p.years > 100 || p.months > 1200 || p.days > 36_500 {
            return Err(format!("{s:?} is longer than 100 years"));
        }
        Ok(p)
    }

    /// `ms` plus this period, in UTC calendar terms.
    pub fn add_to(&self, ms: i64) -> i64 {
        let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
            return ms;
        };
        let total_months = t.year() * 12 + i32::from(u8::from(t.month())) - 1
            + (self.years * 12 + self.months) as i32;
        let (year, month0) = (total_months.div_euclid(12), total_months.rem_euclid(12));
        let Ok(month) = Month::try_from(month0 as u8 + 1) else {
            return ms;
        };
        let day = t.day().min(time::util::days_in_month(month, year));
        let Ok(date) = Date::from_calendar_date(year, month, day) else {
            return ms;
        };
        let moved = t.replace_date(date) + time::Duration::days(i64::from(self.days));
        (moved.unix_timestamp_nanos() / 1_000_000) as i64
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P")?;
        if self.years > 0 {
            write!(f, "{}Y", self.years)?;
        }
        if self.months > 0 {
            write!(f, "{}M", self.months)?;
        }
        if self.days > 0 {
            write!(f, "{}D", self.days)?;
        }
        Ok(())
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_adds() {
        let jan31 = 1_706_659_200_000; // 2024-01-31T00:00:00Z
        let feb29 = 1_709_164_800_000; // 2024-02-29T00:00:00Z
        assert_eq!(Period::parse("P1M").unwrap().add_to(jan31), feb29);
        assert_eq!(
            Period::parse("P1W").unwrap().add_to(jan31),
            jan31 + 7 * 86_400_000
        );
        assert_eq!(
            Period::parse("P1Y").unwrap().add_to(feb29),
            1_740_700_800_000
        ); // 2025-02-28
        assert_eq!(Period::parse("P1Y2M3D").unwrap().to_string(), "P1Y2M3D");
        for bad in [
            "",
            "P",
            "1M",
            "PM",
            "P1X",
            "P0D",
            "P1",
            "P1é",
            "Pé1D",
            "P400000000Y",
            "P4000000000D",
            "P99999999999999999999D",
            "P101Y",
            "P700000000W",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
