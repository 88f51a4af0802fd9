//! Availability targets in and out.
//!
//! Pure conversion: never authorizes, never stores.

#[allow(unused_imports)]
use super::*;

// ----- availability targets -------------------------------------------------

fn target_fraction(v: &mut Violations, field: &str, x: Option<f64>) -> Option<f64> {
    let x = x?;
    if x.is_finite() && x > 0.0 && x <= 1.0 {
        Some(x)
    } else {
        v.add(field, format!("{x}: a target is a fraction in (0, 1], e.g. 0.75 for 75 %"));
        None
    }
}

/// Parses an availability target.
pub fn availability_target_in(
    v: &mut Violations,
    t: &Option<pb::AvailabilityTarget>,
) -> Option<AvailabilityTargetDraft> {
    let Some(t) = t else {
        v.add("target", "is required");
        return None;
    };
    let owner = party_id(v, "target.owner".into(), &t.owner);
    let tms = tms(v, "target.tms".into(), &t.tms);
    let a_m = target_fraction(v, "target.a_m", t.a_m);
    let a_o = target_fraction(v, "target.a_o", t.a_o);
    if t.a_m.is_none() && t.a_o.is_none() {
        v.add("target.a_m", "give an A_M target, an A_O target, or both");
    }
    Some(AvailabilityTargetDraft { owner: owner?, tms: tms?, a_m, a_o })
}

/// A target for a response.
pub fn availability_target_out(t: &AvailabilityTarget) -> pb::AvailabilityTarget {
    pb::AvailabilityTarget {
        sync: None,
        name: format!("availabilityTargets/{}", t.id),
        owner: t.draft.owner.to_string(),
        tms: t.draft.tms.to_string(),
        a_m: t.draft.a_m,
        a_o: t.draft.a_o,
        version: t.version,
    }
}
