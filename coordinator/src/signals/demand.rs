//! Demand signals: a `cosx-demand` cube of every repair order, kept up to
//! date from the event log (so it never rescans history on a query, and
//! stays right when several coordinators write to one database), capacity
//! from current offers, and the adapters between domain records and the
//! demand core. The cube holds aggregates only, never individual orders.

use chrono::NaiveDate;
use cosx_demand as core;
use cosx_domain::disruptions::{Disruption, SiteCapability, capability_label, remaining_share};
use cosx_domain::records::{CapacityOffer, RepairOrder};
use cosx_domain::{CapacityUnit, Nation, RepairOrderState};

use crate::coordinator::{Coordinator, CoreError, Event, EventContent};

/// The demand cube and how far into the log it has read (kept by
/// [`super::views::LogViews`], which reads the log for every view at once).
#[derive(Debug, Default)]
pub struct DemandView {
    /// Aggregates of every order not cancelled.
    pub cube: core::DemandCube,
    /// Last event applied.
    pub cursor: i64,
}

/// The label an order's demand is counted under: its component family, or its TMS.
pub fn demand_label(order: &RepairOrder) -> String {
    order.draft.component_family.clone().unwrap_or_else(|| order.draft.tms.to_string())
}

/// An order as the demand core counts it.
pub fn demand_order(order: &RepairOrder, owner_nation: &Nation, cancelled: bool) -> core::DemandOrder {
    let d = &order.draft;
    core::DemandOrder {
        order_id: order.id.clone(),
        region: d.location.region,
        tms_or_family: demand_label(order),
        maintenance_level: d.maintenance_level,
        repair_type: d.repair_type,
        owner_nation: owner_nation.to_string(),
        originator: d.originator.to_string(),
        submitted: order.create_time.date_naive(),
        required_by: d.required_by,
        quantity: d.quantity,
        estimated_labor_hours: d.estimated_labor_hours,
        cancelled,
    }
}

fn demand_error(e: core::DemandError) -> CoreError {
    let mut v = cosx_domain::Violations::new();
    v.add("request", e.to_string());
    CoreError::Invalid(v)
}

impl DemandView {
    /// Applies one event of the log.
    pub(crate) fn apply(&mut self, core_: &Coordinator, event: &Event) -> Result<(), core::DemandError> {
        let nation = |o: &RepairOrder| core_.party_nation(&o.draft.originator).unwrap_or_else(Nation::usa);
        match &event.content {
            EventContent::RepairOrder { order, transition, .. } => match transition.as_ref().and_then(|t| t.from) {
                // Created.
                None => {
                    self.cube.add(&demand_order(order, &nation(order), false))?;
                }
                // Cancelled: the order stops counting as demand.
                Some(from) if order.state == RepairOrderState::Cancelled && from != RepairOrderState::Cancelled => {
                    let live = demand_order(order, &nation(order), false);
                    let gone = demand_order(order, &nation(order), true);
                    self.cube.replace(&live, &gone)?;
                }
                Some(_) => {}
            },
            EventContent::Split { parent, parts } => {
                let n = nation(parent);
                self.cube.replace(&demand_order(parent, &n, false), &demand_order(parent, &n, true))?;
                for part in parts {
                    self.cube.add(&demand_order(part, &n, false))?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The demand core's capacity unit.
pub fn capacity_unit(u: CapacityUnit) -> core::CapacityUnit {
    match u {
        CapacityUnit::InductionSlots => core::CapacityUnit::InductionSlots,
        CapacityUnit::LaborHours => core::CapacityUnit::LaborHours,
    }
}

/// Capacity of offers in `unit`, per cell and period of `granularity`,
/// less what active `disruptions` take from their sites on the days they
/// are in effect (`cosx_domain::disruptions::remaining_share`, the one rule
/// for it: a percentage, or labor hours per month judged against the
/// hours `offers` give the site, so `offers` must hold every current offer
/// of a disrupted site's cells). An offer period that spans several periods is spread over them
/// by days; an offer with several capabilities is shared evenly among
/// them, so that no capacity is counted twice.
///
/// An offer's periods are first summed per period of `granularity`, so an
/// offer yields at most one entry per capability and period of its
/// validity (bounded by `cosx_domain::limits`), however its periods are
/// spelled: overlapping or split periods cost a comparison nothing more.
pub fn capacity_entries(
    offers: &[CapacityOffer],
    disruptions: &[Disruption],
    unit: CapacityUnit,
    granularity: core::Granularity,
) -> Vec<core::CapacityEntry> {
    let mut out = Vec::new();
    for offer in offers.iter().filter(|o| o.draft.unit == unit) {
        let d = &offer.draft;
        if d.capabilities.is_empty() {
            continue;
        }
        let share = 1.0 / d.capabilities.len() as f64;
        for cap in &d.capabilities {
            let label = capability_label(cap);
            let mut per_period: std::collections::BTreeMap<core::Period, (f64, f64)> =
                std::collections::BTreeMap::new();
            for p in &d.periods {
                let days_total = ((p.end - p.start).num_days() + 1).max(1) as f64;
                let mut day = p.start;
                while day <= p.end {
                    let period = core::Period::containing(day, granularity);
                    let last = period.end().min(p.end);
                    let fraction = ((last - day).num_days() + 1) as f64 / days_total;
                    let remaining = if disruptions.is_empty() {
                        1.0
                    } else {
                        let at = SiteCapability {
                            provider: &d.provider,
                            site: &d.site.name,
                            label: &label,
                            level: cap.maintenance_level,
                            unit,
                        };
                        remaining_share(disruptions, offers, &at, day, last)
                    };
                    let sums = per_period.entry(period).or_insert((0.0, 0.0));
                    sums.0 += p.capacity * fraction * remaining;
                    sums.1 += p.surge_capacity * fraction * remaining;
                    match last.succ_opt() {
                        Some(next) => day = next,
                        None => break,
                    }
                }
            }
            let key = core::CellKey::new(d.site.region, label, cap.maintenance_level);
            for (period, (offered, surge)) in per_period {
                out.push(core::CapacityEntry {
                    key: key.clone(),
                    period,
                    unit: capacity_unit(unit),
                    offered: offered * share,
                    surge: surge * share,
                });
            }
        }
    }
    out
}

/// The period containing an optional date.
pub fn period_of(date: Option<NaiveDate>, granularity: core::Granularity) -> Option<core::Period> {
    date.map(|d| core::Period::containing(d, granularity))
}

/// Maps a demand-core error to the API's bad-request error.
pub fn invalid(e: core::DemandError) -> CoreError {
    demand_error(e)
}
