//! Inventory categories of DoDI 3110.05 para 5.2: `TOAI = TAI + TII + EPSLI`,
//! `TAI = PAI + BAI + PWR + AR`, and PMAI the part of PAI assigned to
//! operational missions. Services may give only some categories; whatever
//! is given must agree with the identities.
//!
//! Never does I/O; counts are whole assets, never fractions.

use serde::{Deserialize, Serialize};

use crate::error::Violations;

/// Asset counts of one weapon system (TMS or ship class) for one timeframe.
/// Any category may be missing; given ones must be consistent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Total overall asset inventory: TAI + TII + EPSLI.
    pub toai: Option<u32>,
    /// Total active inventory: PAI + BAI + PWR + AR.
    pub tai: Option<u32>,
    /// Total inactive inventory (BCL + MTA + RPA + OISA).
    pub tii: Option<u32>,
    /// End of planned service-life inventory.
    pub epsli: Option<u32>,
    /// Primary asset inventory (contains PMAI).
    pub pai: Option<u32>,
    /// Back-up asset inventory.
    pub bai: Option<u32>,
    /// Prepositioned / war reserve.
    pub pwr: Option<u32>,
    /// Attrition reserve.
    pub ar: Option<u32>,
    /// Primary mission asset inventory: the part of PAI assigned to operational missions.
    pub pmai: Option<u32>,
}

fn sum(parts: &[Option<u32>]) -> (u64, bool) {
    let total = parts.iter().flatten().map(|&n| u64::from(n)).sum();
    (total, parts.iter().all(Option::is_some))
}

impl Inventory {
    /// TAI as given, else derived from `PAI + BAI + PWR + AR` when all four
    /// are given, else from `TOAI - TII - EPSLI` when those three are given.
    pub fn resolved_tai(&self) -> Option<u32> {
        if let Some(tai) = self.tai {
            return Some(tai);
        }
        let (parts, complete) = sum(&[self.pai, self.bai, self.pwr, self.ar]);
        if complete {
            return u32::try_from(parts).ok();
        }
        match (self.toai, self.tii, self.epsli) {
            (Some(toai), Some(tii), Some(epsli)) => {
                u32::try_from(i64::from(toai) - i64::from(tii) - i64::from(epsli)).ok()
            }
            _ => None,
        }
    }

    /// Checks the identities on whatever is given, recording every violation
    /// under `prefix` (e.g. `inventory`).
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        // TOAI = TAI + TII + EPSLI: exact when all are known, an upper bound
        // otherwise. TAI counts as known when derivable from its own parts.
        let tai_from_parts = self.tai.or_else(|| {
            let (parts, complete) = sum(&[self.pai, self.bai, self.pwr, self.ar]);
            if complete { u32::try_from(parts).ok() } else { None }
        });
        if let Some(toai) = self.toai {
            let (parts, complete) = sum(&[tai_from_parts, self.tii, self.epsli]);
            if complete && parts != u64::from(toai) {
                v.add(format!("{prefix}.toai"), format!("TOAI {toai} must equal TAI + TII + EPSLI = {parts}"));
            } else if !complete && parts > u64::from(toai) {
                v.add(
                    format!("{prefix}.toai"),
                    format!("TOAI {toai} is less than the given parts of TAI + TII + EPSLI = {parts}"),
                );
            }
        }
        // TAI = PAI + BAI + PWR + AR, same reading.
        let tai = self.resolved_tai();
        if let Some(tai_given) = self.tai {
            let (parts, complete) = sum(&[self.pai, self.bai, self.pwr, self.ar]);
            if complete && parts != u64::from(tai_given) {
                v.add(format!("{prefix}.tai"), format!("TAI {tai_given} must equal PAI + BAI + PWR + AR = {parts}"));
            } else if !complete && parts > u64::from(tai_given) {
                v.add(
                    format!("{prefix}.tai"),
                    format!("TAI {tai_given} is less than the given parts of PAI + BAI + PWR + AR = {parts}"),
                );
            }
        }
        // PMAI is part of PAI (and so of TAI).
        if let Some(pmai) = self.pmai {
            match (self.pai, tai) {
                (Some(pai), _) if pmai > pai => {
                    v.add(format!("{prefix}.pmai"), format!("PMAI {pmai} is part of PAI and cannot exceed PAI {pai}"))
                }
                (None, Some(tai)) if pmai > tai => {
                    v.add(format!("{prefix}.pmai"), format!("PMAI {pmai} is part of TAI and cannot exceed TAI {tai}"))
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(inv: Inventory) -> Vec<String> {
        let mut v = Violations::default();
        inv.check("inventory", &mut v);
        v.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn consistent_full_inventory_passes() {
        let inv = Inventory {
            toai: Some(30),
            tai: Some(24),
            tii: Some(4),
            epsli: Some(2),
            pai: Some(18),
            bai: Some(3),
            pwr: Some(2),
            ar: Some(1),
            pmai: Some(12),
        };
        assert!(check(inv).is_empty());
    }

    #[test]
    fn broken_identities_name_their_field() {
        let inv = Inventory {
            toai: Some(30),
            tai: Some(25),
            tii: Some(4),
            epsli: Some(2),
            pai: Some(18),
            bai: Some(3),
            pwr: Some(2),
            ar: Some(1),
            pmai: Some(19),
        };
        assert_eq!(check(inv), ["inventory.toai", "inventory.tai", "inventory.pmai"]);
    }

    #[test]
    fn partial_parts_may_not_exceed_the_total() {
        let inv = Inventory { tai: Some(10), pai: Some(8), bai: Some(3), ..Inventory::default() };
        assert_eq!(check(inv), ["inventory.tai"]);
        let ok = Inventory { tai: Some(10), pai: Some(8), bai: Some(2), ..Inventory::default() };
        assert!(check(ok).is_empty());
    }

    #[test]
    fn pmai_is_bounded_by_tai_when_pai_is_absent() {
        let inv = Inventory { tai: Some(10), pmai: Some(11), ..Inventory::default() };
        assert_eq!(check(inv), ["inventory.pmai"]);
    }

    #[test]
    fn tai_is_derived_from_parts_or_from_toai() {
        let parts = Inventory { pai: Some(5), bai: Some(1), pwr: Some(0), ar: Some(2), ..Inventory::default() };
        assert_eq!(parts.resolved_tai(), Some(8));
        let from_toai = Inventory { toai: Some(12), tii: Some(3), epsli: Some(1), ..Inventory::default() };
        assert_eq!(from_toai.resolved_tai(), Some(8));
        assert_eq!(Inventory { pai: Some(5), ..Inventory::default() }.resolved_tai(), None);
    }
}
