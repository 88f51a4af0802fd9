//! The US federal fiscal year, 1 October to 30 September, named for the
//! calendar year it ends in (FY2027 runs 2026-10-01 to 2027-09-30). C/DA is
//! judged "on a fiscal year (FY) basis" (DoDI 3110.05 para 2.2.d.(2)(b)).
//!
//! Never reads a clock: the caller says which date or FY it means.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::AvailabilityError;
use crate::time::Timeframe;

/// A US fiscal year, e.g. `FiscalYear(2027)` = 2026-10-01 ..= 2027-09-30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The fiscal year `date` falls in.
    pub fn of(date: NaiveDate) -> FiscalYear {
        if date.month() >= 10 { FiscalYear(date.year() + 1) } else { FiscalYear(date.year()) }
    }

    /// The fiscal year a whole timeframe falls in; `None` if it straddles 1 October.
    pub fn of_timeframe(timeframe: &Timeframe) -> Option<FiscalYear> {
        let fy = FiscalYear::of(timeframe.first);
        (FiscalYear::of(timeframe.last) == fy).then_some(fy)
    }

    /// The year number, e.g. 2027.
    pub fn year(self) -> i32 {
        self.0
    }

    /// The fiscal year before this one.
    pub fn previous(self) -> FiscalYear {
        FiscalYear(self.0 - 1)
    }

    /// The fiscal year as a timeframe: 1 October of the previous calendar
    /// year through 30 September.
    pub fn timeframe(self) -> Result<Timeframe, AvailabilityError> {
        let first = NaiveDate::from_ymd_opt(self.0 - 1, 10, 1);
        let last = NaiveDate::from_ymd_opt(self.0, 9, 30);
        match (first, last) {
            (Some(first), Some(last)) => Ok(Timeframe { first, last }),
            _ => Err(AvailabilityError::DateOutOfRange(format!("{self} is outside chrono's range"))),
        }
    }
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FY{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fy2027_starts_on_first_october_2026() {
        assert_eq!(FiscalYear::of(d(2026, 9, 30)), FiscalYear(2026));
        assert_eq!(FiscalYear::of(d(2026, 10, 1)), FiscalYear(2027));
        assert_eq!(FiscalYear::of(d(2027, 9, 30)), FiscalYear(2027));
        let tf = FiscalYear(2027).timeframe().unwrap();
        assert_eq!((tf.first, tf.last), (d(2026, 10, 1), d(2027, 9, 30)));
        assert_eq!(FiscalYear(2027).to_string(), "FY2027");
    }

    #[test]
    fn a_timeframe_straddling_first_october_has_no_single_fiscal_year() {
        let tf = Timeframe::new(d(2026, 9, 15), d(2026, 10, 14)).unwrap();
        assert_eq!(FiscalYear::of_timeframe(&tf), None);
        let q1 = Timeframe::new(d(2026, 10, 1), d(2026, 12, 31)).unwrap();
        assert_eq!(FiscalYear::of_timeframe(&q1), Some(FiscalYear(2027)));
    }
}
