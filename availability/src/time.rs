//! Time as DoDI 3110.05 counts it: reports arrive in hours or days
//! (para 4.2.b.(1)), results are always days of availability, and a
//! timeframe T_F is an inclusive range of calendar dates.
//!
//! Never reads a clock and never rounds.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign};

use crate::error::AvailabilityError;

/// The unit a Military Service reported its possible, available and not
/// available times in. The Service need not change it (para 4.2.b.(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeUnit {
    /// Reported in days.
    Days,
    /// Reported in hours; 24 hours make one day.
    Hours,
}

impl TimeUnit {
    /// How many of this unit make one day.
    pub fn per_day(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Hours => 24.0,
        }
    }

    /// Converts a reported amount into days ("all data will be converted to
    /// days of availability at the DoD level"). Only for amounts that
    /// validation has found finite and non-negative.
    pub(crate) fn to_days(self, amount: f64) -> Days {
        Days(amount / self.per_day())
    }
}

/// A duration in days, the unit every result of this crate is expressed in.
///
/// Finite and non-negative: [`Days::new`] and deserialization check it, and
/// this crate converts reported figures only after validation. Never rounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(into = "f64", try_from = "f64")]
pub struct Days(f64);

impl From<Days> for f64 {
    fn from(days: Days) -> f64 {
        days.0
    }
}

impl TryFrom<f64> for Days {
    type Error = String;
    fn try_from(days: f64) -> Result<Days, String> {
        Days::new(days).ok_or_else(|| format!("days must be finite and non-negative, got {days}"))
    }
}

impl Days {
    /// No time at all.
    pub const ZERO: Days = Days(0.0);

    /// Days from a finite, non-negative number; `None` otherwise.
    pub fn new(days: f64) -> Option<Days> {
        (days.is_finite() && days >= 0.0).then_some(Days(days))
    }

    /// The number of days.
    pub fn get(self) -> f64 {
        self.0
    }

    /// `self - other`, or zero when `other` is larger (used where the
    /// difference is known to be non-negative up to float rounding).
    pub(crate) fn saturating_sub(self, other: Days) -> Days {
        Days((self.0 - other.0).max(0.0))
    }
}

impl Add for Days {
    type Output = Days;
    fn add(self, rhs: Days) -> Days {
        Days(self.0 + rhs.0)
    }
}

impl AddAssign for Days {
    fn add_assign(&mut self, rhs: Days) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Days {
    fn sum<I: Iterator<Item = Days>>(iter: I) -> Days {
        iter.fold(Days::ZERO, Add::add)
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

/// A timeframe T_F: every calendar day from `first` to `last`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timeframe {
    /// First day of the timeframe (included).
    pub first: NaiveDate,
    /// Last day of the timeframe (included).
    pub last: NaiveDate,
}

impl Timeframe {
    /// A timeframe from `first` to `last` inclusive; `None` when `last` is before `first`.
    pub fn new(first: NaiveDate, last: NaiveDate) -> Option<Timeframe> {
        (first <= last).then_some(Timeframe { first, last })
    }

    /// The calendar month containing `date`.
    pub fn month_of(date: NaiveDate) -> Result<Timeframe, AvailabilityError> {
        let first = date.with_day(1).ok_or_else(|| out_of_range(date))?;
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .ok_or_else(|| out_of_range(date))?;
        Ok(Timeframe { first, last })
    }

    /// Number of calendar days in the timeframe (0 if `last` precedes `first`,
    /// which validation refuses).
    pub fn day_count(&self) -> u32 {
        let days = (self.last - self.first).num_days() + 1;
        u32::try_from(days.max(0)).unwrap_or(u32::MAX)
    }

    /// The timeframe's length in days.
    pub fn length(&self) -> Days {
        Days(f64::from(self.day_count()))
    }

    /// True when `other` lies entirely inside this timeframe.
    pub fn contains(&self, other: &Timeframe) -> bool {
        self.first <= other.first && other.last <= self.last
    }

    /// True when the two timeframes share at least one day.
    pub fn overlaps(&self, other: &Timeframe) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.first, self.last)
    }
}

pub(crate) fn out_of_range(date: NaiveDate) -> AvailabilityError {
    AvailabilityError::DateOutOfRange(format!("calendar arithmetic around {date}"))
}
