//! Maintenance cost by CAPE O&S cost element, and which of it is the C/DA
//! numerator: only elements 1.2 (unit-level maintenance manpower), 3.1
//! (consumables) and 3.2 (depot level repairables) — "costs internal to those
//! units possessing PMAI" (DoDI 3110.05 para 5.3.b.(2)(d), Figure 7). Other
//! elements are carried so a reader sees them, but never counted.
//!
//! Money is integer cents; sums are checked, never wrapped or rounded. No I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AvailabilityError;
use crate::report::CostLine;

/// The cost elements counted in C/DA.
pub const CDA_COST_ELEMENTS: [&str; 3] = ["1.2", "3.1", "3.2"];

/// True when a cost element (e.g. `3.1`) counts toward C/DA. The element is
/// compared after trimming blanks; `3.1` and `3.10` are different elements.
pub fn counts_toward_cda(element: &str) -> bool {
    CDA_COST_ELEMENTS.contains(&element.trim())
}

/// Cost of a report or a roll-up, by element, with the C/DA part split out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostBreakdown {
    /// Cents per cost element (trimmed), every element reported.
    pub by_element: BTreeMap<String, i64>,
    /// Sum of elements 1.2, 3.1 and 3.2: the C/DA numerator.
    pub cda_cents: i64,
    /// Sum of every other element: carried, excluded from C/DA.
    pub excluded_cents: i64,
}

fn add(total: &mut i64, cents: i64) -> Result<(), AvailabilityError> {
    *total = total.checked_add(cents).ok_or(AvailabilityError::CostOverflow)?;
    Ok(())
}

impl CostBreakdown {
    /// Splits reported cost lines; lines with the same element are added.
    pub fn from_lines(lines: &[CostLine]) -> Result<CostBreakdown, AvailabilityError> {
        let mut out = CostBreakdown::default();
        for line in lines {
            out.add_element(line.element.trim(), line.cents)?;
        }
        Ok(out)
    }

    fn add_element(&mut self, element: &str, cents: i64) -> Result<(), AvailabilityError> {
        add(self.by_element.entry(element.to_string()).or_insert(0), cents)?;
        if counts_toward_cda(element) { add(&mut self.cda_cents, cents) } else { add(&mut self.excluded_cents, cents) }
    }

    /// Adds another breakdown into this one (for roll-ups).
    pub fn absorb(&mut self, other: &CostBreakdown) -> Result<(), AvailabilityError> {
        for (element, &cents) in &other.by_element {
            self.add_element(element, cents)?;
        }
        Ok(())
    }

    /// Sum of every element.
    pub fn total_cents(&self) -> Result<i64, AvailabilityError> {
        self.cda_cents.checked_add(self.excluded_cents).ok_or(AvailabilityError::CostOverflow)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn line(element: &str, cents: i64) -> CostLine {
        CostLine { element: element.to_string(), cents }
    }

    #[test]
    fn only_elements_1_2_3_1_and_3_2_count_toward_cda() {
        let lines = [
            line("1.2", 100),
            line("3.1", 20),
            line(" 3.2 ", 3),
            line("3.4", 4000),
            line("5.1", 50000),
            line("3.1", 7),
        ];
        let c = CostBreakdown::from_lines(&lines).unwrap();
        assert_eq!(c.cda_cents, 130);
        assert_eq!(c.excluded_cents, 54000);
        assert_eq!(c.by_element["3.1"], 27);
        assert_eq!(c.by_element["3.2"], 3);
        assert_eq!(c.total_cents().unwrap(), 54130);
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let lines = [line("1.2", i64::MAX), line("3.1", 1)];
        assert_eq!(CostBreakdown::from_lines(&lines), Err(AvailabilityError::CostOverflow));
    }
}
