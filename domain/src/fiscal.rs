//! The US federal fiscal year, 1 October to 30 September, named for the
//! calendar year it ends in (FY2027 runs 2026-10-01 to 2027-09-30): the one
//! October–September rule. The 50/50 statute counts funds by the fiscal
//! year they belong to, C/DA is judged on a fiscal-year basis (DoDI
//! 3110.05), and demand rolls up by fiscal quarter and year; every core
//! uses this type. Never reads a clock: the caller says which date it means.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A US fiscal year, e.g. `FiscalYear(2027)` = 2026-10-01 ..= 2027-09-30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The calendar month a fiscal year starts in (October).
    pub const FIRST_MONTH: u32 = 10;

    /// The fiscal year `date` falls in.
    pub fn containing(date: NaiveDate) -> FiscalYear {
        if date.month() >= Self::FIRST_MONTH { FiscalYear(date.year() + 1) } else { FiscalYear(date.year()) }
    }

    /// The year number, e.g. 2027.
    pub fn year(self) -> i32 {
        self.0
    }

    /// The fiscal year before this one.
    pub fn previous(self) -> FiscalYear {
        FiscalYear(self.0 - 1)
    }

    /// First day: 1 October of the previous calendar year (`None` outside
    /// the dates chrono can hold).
    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.0 - 1, Self::FIRST_MONTH, 1)
    }

    /// Last day: 30 September.
    pub fn last_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.0, Self::FIRST_MONTH - 1, 30)
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
    fn fy2027_runs_from_first_october_2026_to_thirtieth_september_2027() {
        assert_eq!(FiscalYear::containing(d(2026, 9, 30)), FiscalYear(2026));
        assert_eq!(FiscalYear::containing(d(2026, 10, 1)), FiscalYear(2027));
        assert_eq!(FiscalYear::containing(d(2027, 9, 30)), FiscalYear(2027));
        assert_eq!(FiscalYear(2027).first_day(), Some(d(2026, 10, 1)));
        assert_eq!(FiscalYear(2027).last_day(), Some(d(2027, 9, 30)));
        assert_eq!(FiscalYear(2027).previous().to_string(), "FY2026");
    }
}
