//! Reporting periods: calendar months, US fiscal quarters and US fiscal
//! years. The October–September rule itself is `cosx_domain::FiscalYear`'s
//! (FY2027 starts 2026-10-01); this module only lays it on an axis of
//! periods (Q1 is the fiscal year's first three months) and must never
//! restate it. Periods nest exactly: a fiscal quarter is three months, a
//! fiscal year four quarters — the disclosure control relies on that. Pure
//! date arithmetic, no I/O, no clock.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use cosx_domain::FiscalYear;
use serde::{Deserialize, Serialize};

use crate::error::{DemandError, invalid};

/// Months to add to a calendar month ordinal (`year * 12 + month0`) to get
/// a fiscal one (`fiscal_year * 12 + fiscal_month0`): the fiscal year's
/// first month becomes month 0 of the year it is named for, the next
/// calendar year.
const FISCAL_MONTH_SHIFT: i64 = 13 - FiscalYear::FIRST_MONTH as i64;

/// How coarse a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Granularity {
    /// A calendar month.
    Month,
    /// A US fiscal quarter (Q1 = Oct–Dec).
    FiscalQuarter,
    /// A US fiscal year (1 Oct – 30 Sep, named after the year it ends in).
    FiscalYear,
}

impl Granularity {
    /// All granularities, finest first.
    pub const ALL: [Granularity; 3] = [Granularity::Month, Granularity::FiscalQuarter, Granularity::FiscalYear];

    /// Number of months in one period of this granularity.
    pub fn months(self) -> i64 {
        match self {
            Granularity::Month => 1,
            Granularity::FiscalQuarter => 3,
            Granularity::FiscalYear => 12,
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Granularity::Month => "MONTH",
            Granularity::FiscalQuarter => "FISCAL_QUARTER",
            Granularity::FiscalYear => "FISCAL_YEAR",
        })
    }
}

/// One reporting period.
///
/// Internally a period is its granularity plus an ordinal on that
/// granularity's axis, so consecutive periods differ by one and series can be
/// indexed densely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    granularity: Granularity,
    /// Months: `year * 12 + month0`; quarters: `fy * 4 + q0`; years: `fy`.
    ordinal: i64,
}

impl Period {
    /// The calendar month `year-month` (`month` 1–12).
    pub fn month(year: i32, month: u32) -> Result<Period, DemandError> {
        if !(1..=12).contains(&month) {
            return Err(invalid("period.month", format!("{month}: expected 1-12")));
        }
        Ok(Period { granularity: Granularity::Month, ordinal: i64::from(year) * 12 + i64::from(month) - 1 })
    }

    /// Fiscal quarter `quarter` (1–4) of fiscal year `fiscal_year`.
    pub fn fiscal_quarter(fiscal_year: i32, quarter: u32) -> Result<Period, DemandError> {
        if !(1..=4).contains(&quarter) {
            return Err(invalid("period.fiscal_quarter", format!("{quarter}: expected 1-4")));
        }
        Ok(Period {
            granularity: Granularity::FiscalQuarter,
            ordinal: i64::from(fiscal_year) * 4 + i64::from(quarter) - 1,
        })
    }

    /// Fiscal year `fiscal_year` (FY2027 = 2026-10-01 .. 2027-09-30).
    pub fn fiscal_year(fiscal_year: i32) -> Period {
        Period::of_fiscal_year(FiscalYear(fiscal_year))
    }

    /// The period that is fiscal year `fy`.
    pub fn of_fiscal_year(fy: FiscalYear) -> Period {
        Period { granularity: Granularity::FiscalYear, ordinal: i64::from(fy.year()) }
    }

    /// The fiscal year this period falls in (a month or quarter), or is.
    pub fn fiscal_year_of(self) -> FiscalYear {
        let fy = (self.first_month_ordinal() + FISCAL_MONTH_SHIFT).div_euclid(12);
        FiscalYear(i32::try_from(fy).unwrap_or(if fy < 0 { i32::MIN } else { i32::MAX }))
    }

    /// The period of granularity `granularity` that contains `date`.
    pub fn containing(date: NaiveDate, granularity: Granularity) -> Period {
        let month_ordinal = i64::from(date.year()) * 12 + i64::from(date.month0());
        Period::from_month_ordinal(month_ordinal, granularity)
    }

    /// The period of `granularity` containing the month with this ordinal.
    pub(crate) fn from_month_ordinal(month_ordinal: i64, granularity: Granularity) -> Period {
        // In fiscal months, fiscal quarters and years are plain divisions.
        let fiscal_month = month_ordinal + FISCAL_MONTH_SHIFT;
        let ordinal = match granularity {
            Granularity::Month => month_ordinal,
            Granularity::FiscalQuarter => fiscal_month.div_euclid(3),
            Granularity::FiscalYear => fiscal_month.div_euclid(12),
        };
        Period { granularity, ordinal }
    }

    /// Ordinal of the first month of this period.
    pub(crate) fn first_month_ordinal(self) -> i64 {
        match self.granularity {
            Granularity::Month => self.ordinal,
            Granularity::FiscalQuarter => self.ordinal * 3 - FISCAL_MONTH_SHIFT,
            Granularity::FiscalYear => self.ordinal * 12 - FISCAL_MONTH_SHIFT,
        }
    }

    /// Ordinal of the last month of this period.
    pub(crate) fn last_month_ordinal(self) -> i64 {
        self.first_month_ordinal() + self.granularity.months() - 1
    }

    /// Position on this granularity's axis; consecutive periods differ by 1.
    pub fn ordinal(self) -> i64 {
        self.ordinal
    }

    /// The period at `ordinal` on `granularity`'s axis.
    pub fn from_ordinal(granularity: Granularity, ordinal: i64) -> Period {
        Period { granularity, ordinal }
    }

    /// This period's granularity.
    pub fn granularity(self) -> Granularity {
        self.granularity
    }

    /// The period `n` steps later (earlier for negative `n`).
    pub fn offset(self, n: i64) -> Period {
        Period { granularity: self.granularity, ordinal: self.ordinal + n }
    }

    /// The coarser (or equal) period that contains this one, or an error if
    /// `granularity` is finer than this period.
    pub fn coarsen(self, granularity: Granularity) -> Result<Period, DemandError> {
        if granularity < self.granularity {
            return Err(DemandError::GranularityMismatch {
                field: "period",
                expected: format!("{} or finer", self.granularity),
                found: granularity.to_string(),
            });
        }
        Ok(Period::from_month_ordinal(self.first_month_ordinal(), granularity))
    }

    /// The periods of the next finer granularity that make up this one
    /// (empty for a month).
    pub fn children(self) -> Vec<Period> {
        let finer = match self.granularity {
            Granularity::Month => return Vec::new(),
            Granularity::FiscalQuarter => Granularity::Month,
            Granularity::FiscalYear => Granularity::FiscalQuarter,
        };
        let first = Period::from_month_ordinal(self.first_month_ordinal(), finer);
        let n = self.granularity.months() / finer.months();
        (0..n).map(|i| first.offset(i)).collect()
    }

    /// First day of the period.
    pub fn start(self) -> NaiveDate {
        month_start(self.first_month_ordinal())
    }

    /// Last day of the period (inclusive).
    pub fn end(self) -> NaiveDate {
        let next = month_start(self.last_month_ordinal() + 1);
        next.pred_opt().unwrap_or(next)
    }
}

fn month_start(month_ordinal: i64) -> NaiveDate {
    let year = i32::try_from(month_ordinal.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u32::try_from(month_ordinal.rem_euclid(12) + 1).unwrap_or(1);
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.granularity {
            Granularity::Month => {
                write!(f, "{:04}-{:02}", self.ordinal.div_euclid(12), self.ordinal.rem_euclid(12) + 1)
            }
            Granularity::FiscalQuarter => {
                write!(f, "FY{}Q{}", self.ordinal.div_euclid(4), self.ordinal.rem_euclid(4) + 1)
            }
            Granularity::FiscalYear => write!(f, "FY{}", self.ordinal),
        }
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
    fn fy2027_starts_on_first_of_october_2026() {
        let fy = Period::containing(d(2026, 10, 1), Granularity::FiscalYear);
        assert_eq!(fy, Period::fiscal_year(2027));
        assert_eq!(fy.start(), d(2026, 10, 1));
        assert_eq!(fy.end(), d(2027, 9, 30));
        assert_eq!(Period::containing(d(2026, 9, 30), Granularity::FiscalYear), Period::fiscal_year(2026));
    }

    #[test]
    fn fiscal_quarter_one_is_october_to_december() {
        let q = |y, m| Period::containing(d(y, m, 15), Granularity::FiscalQuarter);
        assert_eq!(q(2026, 10), Period::fiscal_quarter(2027, 1).unwrap());
        assert_eq!(q(2026, 12), Period::fiscal_quarter(2027, 1).unwrap());
        assert_eq!(q(2027, 1), Period::fiscal_quarter(2027, 2).unwrap());
        assert_eq!(q(2027, 3), Period::fiscal_quarter(2027, 2).unwrap());
        assert_eq!(q(2027, 4), Period::fiscal_quarter(2027, 3).unwrap());
        assert_eq!(q(2027, 7), Period::fiscal_quarter(2027, 4).unwrap());
        assert_eq!(q(2027, 9), Period::fiscal_quarter(2027, 4).unwrap());
        let q1 = Period::fiscal_quarter(2027, 1).unwrap();
        assert_eq!((q1.start(), q1.end()), (d(2026, 10, 1), d(2026, 12, 31)));
        assert_eq!(q1.to_string(), "FY2027Q1");
    }

    #[test]
    fn fiscal_periods_agree_with_the_domain_fiscal_year_on_every_day() {
        // The October–September rule is cosx_domain::FiscalYear's
        // (DESIGN brief; 10 U.S.C. 2466 counts by fiscal year).
        let mut day = d(2019, 9, 1);
        while day < d(2031, 11, 1) {
            let fy = FiscalYear::containing(day);
            let year = Period::containing(day, Granularity::FiscalYear);
            assert_eq!(year, Period::of_fiscal_year(fy), "{day}");
            assert_eq!(year.fiscal_year_of(), fy);
            assert_eq!(Period::containing(day, Granularity::Month).fiscal_year_of(), fy, "{day}");
            assert_eq!(Period::containing(day, Granularity::FiscalQuarter).fiscal_year_of(), fy, "{day}");
            assert_eq!(Some(year.start()), fy.first_day());
            assert_eq!(Some(year.end()), fy.last_day());
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn periods_nest_exactly() {
        let fy = Period::fiscal_year(2027);
        let quarters = fy.children();
        assert_eq!(quarters.len(), 4);
        let months: Vec<Period> = quarters.iter().flat_map(|q| q.children()).collect();
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], Period::month(2026, 10).unwrap());
        assert_eq!(months[11], Period::month(2027, 9).unwrap());
        for m in &months {
            assert_eq!(m.coarsen(Granularity::FiscalYear).unwrap(), fy);
        }
        assert!(fy.coarsen(Granularity::Month).is_err());
        assert_eq!(Period::month(2027, 2).unwrap().to_string(), "2027-02");
        assert!(Period::month(2027, 13).is_err());
    }
}
