//! The US federal fiscal year, 1 October to 30 September, named for the
//! calendar year it ends in (FY2027 runs 2026-10-01 to 2027-09-30). C/DA is
//! judged "on a fiscal year (FY) basis" (DoDI 3110.05 para 2.2.d.(2)(b)).
//!
//! The year itself (`FiscalYear`, the one October–September rule) lives in
//! `cosx_domain`; this module adds what availability needs of it as
//! timeframes. Never reads a clock: the caller says which date or FY it means.

use crate::error::AvailabilityError;
use crate::time::Timeframe;

pub use cosx_domain::FiscalYear;

/// The fiscal year a whole timeframe falls in; `None` if it straddles 1 October.
pub fn of_timeframe(timeframe: &Timeframe) -> Option<FiscalYear> {
    let fy = FiscalYear::containing(timeframe.first);
    (FiscalYear::containing(timeframe.last) == fy).then_some(fy)
}

/// The fiscal year as a timeframe: 1 October of the previous calendar year
/// through 30 September.
pub fn timeframe(fy: FiscalYear) -> Result<Timeframe, AvailabilityError> {
    match (fy.first_day(), fy.last_day()) {
        (Some(first), Some(last)) => Ok(Timeframe { first, last }),
        _ => Err(AvailabilityError::DateOutOfRange(format!("{fy} is outside chrono's range"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_fiscal_year_as_a_timeframe_is_its_first_to_its_last_day() {
        let tf = timeframe(FiscalYear(2027)).unwrap();
        assert_eq!((tf.first, tf.last), (d(2026, 10, 1), d(2027, 9, 30)));
    }

    #[test]
    fn a_timeframe_straddling_first_october_has_no_single_fiscal_year() {
        let tf = Timeframe::new(d(2026, 9, 15), d(2026, 10, 14)).unwrap();
        assert_eq!(of_timeframe(&tf), None);
        let q1 = Timeframe::new(d(2026, 10, 1), d(2026, 12, 31)).unwrap();
        assert_eq!(of_timeframe(&q1), Some(FiscalYear(2027)));
    }
}
