//! Everything the signals keep from the event log, read by one cursor: the
//! demand cube, the workload balance, the active capacity offers (indexed by
//! demand cell), the active disruptions, the orders open for allocation
//! and the quotes that may price them,
//! the current availability reports (assessed once) and the alert state.
//! Queries and the alert task share one
//! instance; each catches it up to the log's end before reading it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cosx_demand as dm;
use cosx_domain::CapacityUnit;
use cosx_domain::disruptions::{Disruption, DisruptionState};
use cosx_domain::records::{CapacityOffer, OfferState, RepairOrder};

use super::alerts::{AlertBook, AlertSettings, DueAlert, balance_due, bottleneck_due};
use super::balance::department_back;
use super::demand::{DemandView, capacity_entries, demand_label};
use super::workload::WorkloadView;
use crate::coordinator::{Coordinator, CoreError, Event, EventContent};

/// Events applied per catch-up page.
const PAGE: u32 = 5_000;

/// The views kept from the log.
#[derive(Debug, Default)]
pub struct LogViews {
    /// Demand cube.
    pub demand: DemandView,
    /// 50/50 balance sums.
    pub workload: WorkloadView,
    /// Active offers by id.
    offers: BTreeMap<String, CapacityOffer>,
    /// Ids of the active offers with a capability in each cell.
    offers_by_cell: BTreeMap<dm::CellKey, BTreeSet<String>>,
    /// Active disruptions by id: the capacity they take is left out of
    /// every comparison and alert.
    disruptions: BTreeMap<String, Disruption>,
    /// Alert state.
    pub alerts: AlertBook,
    /// The current availability reports, assessed.
    pub reports: super::availability::CurrentReports,
    /// Repair orders counted per state and visibility class.
    pub order_counts: super::order_counts::OrderCounts,
    /// The orders open for allocation.
    pub open_orders: super::open_orders::OpenOrders,
    /// The quotes that may price them.
    pub open_quotes: super::open_quotes::OpenQuotes,
    /// The sequence of the event that created each offer, the order a
    /// listing of the store returns them in.
    offer_places: HashMap<String, i64>,
    /// The last event that can change an availability answer (a report,
    /// a target, a party).
    availability_as_of: i64,
    cursor: i64,
}

/// The demand cell of an order (no breakdown).
pub fn order_cell(order: &RepairOrder) -> dm::CellKey {
    dm::CellKey::new(order.draft.location.region, demand_label(order), order.draft.maintenance_level)
}

/// The demand cells an offer has capacity in.
pub fn offer_cells(offer: &CapacityOffer) -> BTreeSet<dm::CellKey> {
    offer
        .draft
        .capabilities
        .iter()
        .map(|c| {
            let label =
                c.tms.as_ref().map(ToString::to_string).or_else(|| c.component_family.clone()).unwrap_or_default();
            dm::CellKey::new(offer.draft.site.region, label, c.maintenance_level)
        })
        .collect()
}

impl LogViews {
    /// Last event applied.
    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// The sequence of the last event applied that can change what
    /// `GetAvailabilityMetrics` answers anyone: a report, a target, or a
    /// party (whose registration decides what it may see). Orders, offers
    /// and the rest leave it where it was.
    pub fn availability_as_of(&self) -> i64 {
        self.availability_as_of
    }

    /// The active offers.
    pub fn offers(&self) -> Vec<CapacityOffer> {
        self.offers.values().cloned().collect()
    }

    /// The active disruptions.
    pub fn disruptions(&self) -> Vec<Disruption> {
        self.disruptions.values().cloned().collect()
    }

    /// The active offers in the order a listing of the store returns them
    /// (by creation), for the allocation core, whose ties follow its input.
    pub fn offers_listed(&self) -> Vec<CapacityOffer> {
        let mut offers: Vec<(i64, &CapacityOffer)> =
            self.offers.values().map(|o| (self.offer_places.get(&o.id).copied().unwrap_or(i64::MAX), o)).collect();
        offers.sort_by_key(|(place, _)| *place);
        offers.into_iter().map(|(_, o)| o.clone()).collect()
    }

    /// Reads the log from the cursor to its end.
    pub async fn catch_up(&mut self, core: &Coordinator) -> Result<(), CoreError> {
        loop {
            let events = core.all_events(self.cursor, PAGE).await?;
            for e in &events {
                self.apply(core, e);
            }
            if events.len() < PAGE as usize {
                return Ok(());
            }
        }
    }

    fn apply(&mut self, core: &Coordinator, event: &Event) {
        if let Err(err) = self.demand.apply(core, event) {
            // An event the cube cannot take is a bug, not a reason to stop serving.
            tracing::error!(sequence = event.sequence, error = %err, "demand cube skipped an event");
        }
        self.demand.cursor = event.sequence;
        self.cursor = event.sequence;
        self.workload.apply(&event.content);
        if matches!(
            event.content,
            EventContent::AvailabilityReport { .. }
                | EventContent::AvailabilityTarget { .. }
                | EventContent::Party { .. }
        ) {
            self.availability_as_of = event.sequence;
        }
        match &event.content {
            EventContent::RepairOrder { order, transition, quote, .. } => {
                if let Some(quote) = quote {
                    self.open_quotes.apply(quote);
                }
                self.order_counts.apply(order);
                self.open_orders.apply(event.sequence, 0, order, self.workload.parties());
                self.alerts.dirty_balances = true;
                // Demand changes when an order is created or cancelled.
                let from = transition.as_ref().and_then(|t| t.from);
                if from.is_none() || order.state == cosx_domain::RepairOrderState::Cancelled {
                    self.alerts.dirty_cells.insert(order_cell(order));
                }
            }
            EventContent::QuoteRelease { order } => {
                self.order_counts.apply(order);
                self.open_orders.apply(event.sequence, 0, order, self.workload.parties());
            }
            EventContent::Split { parent, parts } => {
                self.order_counts.apply(parent);
                self.open_orders.apply(event.sequence, 0, parent, self.workload.parties());
                for (i, part) in parts.iter().enumerate() {
                    self.order_counts.apply(part);
                    self.open_orders.apply(
                        event.sequence,
                        u32::try_from(i).unwrap_or(u32::MAX),
                        part,
                        self.workload.parties(),
                    );
                }
                self.alerts.dirty_balances = true;
                self.alerts.dirty_cells.insert(order_cell(parent));
                self.alerts.dirty_cells.extend(parts.iter().map(order_cell));
            }
            EventContent::CapacityOffer { offer } => {
                self.offer_places.entry(offer.id.clone()).or_insert(event.sequence);
                if let Some(old) = self.offers.remove(&offer.id) {
                    for cell in offer_cells(&old) {
                        if let Some(ids) = self.offers_by_cell.get_mut(&cell) {
                            ids.remove(&offer.id);
                            if ids.is_empty() {
                                self.offers_by_cell.remove(&cell);
                            }
                        }
                        self.alerts.dirty_cells.insert(cell);
                    }
                }
                if offer.state == OfferState::Active {
                    for cell in offer_cells(offer) {
                        self.offers_by_cell.entry(cell.clone()).or_default().insert(offer.id.clone());
                        self.alerts.dirty_cells.insert(cell);
                    }
                    self.offers.insert(offer.id.clone(), offer.clone());
                }
            }
            EventContent::Quote { quote } => self.open_quotes.apply(quote),
            EventContent::AvailabilityReport { report } => {
                self.reports.apply(report, core.reporter_nation(report));
            }
            EventContent::Disruption { disruption } => {
                // The cells of its provider's offers at the site are judged again.
                let d = &disruption.draft;
                let cells: Vec<dm::CellKey> = self
                    .offers
                    .values()
                    .filter(|o| o.draft.provider == d.provider && o.draft.site.name == d.site)
                    .flat_map(offer_cells)
                    .collect();
                self.alerts.dirty_cells.extend(cells);
                if disruption.state == DisruptionState::Active {
                    self.disruptions.insert(disruption.id.clone(), disruption.clone());
                } else {
                    self.disruptions.remove(&disruption.id);
                }
            }
            EventContent::DepotBaseline { .. } => self.alerts.dirty_balances = true,
            EventContent::Bottleneck { alert } => self.alerts.record_bottleneck(alert),
            EventContent::WorkloadBalance { alert } => self.alerts.record_balance(alert),
            _ => {}
        }
    }

    /// Demand against capacity in one cell, per (month, unit): the cell is
    /// compared in each unit its capacity is offered in (labor hours when
    /// none is offered), on actual demand by required-by month and, beyond
    /// its last month of orders, forecast demand. A cell without any offer
    /// is judged only when the settings ask for it.
    pub fn judge_cell(
        &self,
        cell: &dm::CellKey,
        settings: &AlertSettings,
    ) -> BTreeMap<(dm::Period, CapacityUnit), dm::BalanceRow> {
        let offers: Vec<CapacityOffer> =
            self.offers_by_cell.get(cell).into_iter().flatten().filter_map(|id| self.offers.get(id).cloned()).collect();
        if offers.is_empty() && !settings.cells_without_capacity {
            return BTreeMap::new();
        }
        let disruptions = self.disruptions();
        let mut units: BTreeSet<CapacityUnit> = offers.iter().map(|o| o.draft.unit).collect();
        if units.is_empty() {
            units.insert(CapacityUnit::LaborHours);
        }
        let cube = &self.demand.cube;
        let extent = cube.extent(cell);
        let mut out = BTreeMap::new();
        for unit in units {
            let core_unit = super::demand::capacity_unit(unit);
            let capacity: Vec<dm::CapacityEntry> =
                capacity_entries(&offers, &disruptions, unit, dm::Granularity::Month)
                    .into_iter()
                    .filter(|c| &c.key == cell)
                    .collect();
            let mut demand = Vec::new();
            if let Some((first, last)) = extent {
                if let Ok(series) = cube.series(cell, dm::DateBasis::RequiredBy, first, last) {
                    for (period, m) in series {
                        let value = m.get(core_unit.measure());
                        if value > 0.0 {
                            demand.push(dm::DemandPoint {
                                key: cell.clone(),
                                period,
                                unit: core_unit,
                                kind: dm::DemandKind::Actual,
                                value,
                                upper: None,
                            });
                        }
                    }
                }
                if settings.forecast_periods > 0 {
                    let config = settings.forecast.config(settings.forecast_periods as usize);
                    let forecast = dm::forecast_cell(
                        cube,
                        cell,
                        dm::DateBasis::RequiredBy,
                        core_unit.measure(),
                        first,
                        last,
                        &config,
                    )
                    .and_then(|f| dm::forecast_demand(&f, core_unit));
                    match forecast {
                        Ok(points) => demand.extend(points),
                        Err(e) => tracing::debug!(error = %e, "no forecast for a cell's alerts"),
                    }
                }
            }
            match dm::compare(&demand, &capacity, core_unit, settings.thresholds(unit)) {
                Ok(rows) => {
                    for row in rows {
                        out.insert((row.period, unit), row);
                    }
                }
                Err(e) => tracing::error!(error = %e, cell = ?cell, "demand against capacity failed"),
            }
        }
        out
    }

    /// Judges what changed since the last call and returns the alert
    /// changes to commit. The state itself only changes when their events
    /// come back through the log.
    pub fn due_alerts(&mut self, settings: &AlertSettings) -> Vec<DueAlert> {
        let mut due = Vec::new();
        let cells: BTreeSet<dm::CellKey> = if std::mem::take(&mut self.alerts.everything_dirty) {
            self.alerts.dirty_cells.clear();
            self.demand
                .cube
                .keys(dm::Breakdown::NONE)
                .into_iter()
                .chain(self.offers_by_cell.keys().cloned())
                .chain(self.alerts.bottlenecks.keys().cloned())
                .collect()
        } else {
            std::mem::take(&mut self.alerts.dirty_cells)
        };
        for cell in &cells {
            let rows = self.judge_cell(cell, settings);
            let known = self.alerts.bottlenecks.get(cell);
            let state = |k: &(dm::Period, CapacityUnit)| known.and_then(|m| m.get(k)).copied().unwrap_or_default();
            for (k, row) in &rows {
                let s = state(k);
                if row.alert.is_some() && !s.raised {
                    due.push(bottleneck_due(cell, k.0, k.1, Some(row), s, settings));
                }
            }
            for (k, s) in known.into_iter().flatten() {
                if s.raised && rows.get(k).is_none_or(|r| r.alert.is_none()) {
                    due.push(bottleneck_due(cell, k.0, k.1, rows.get(k), *s, settings));
                }
            }
        }
        if std::mem::take(&mut self.alerts.dirty_balances) {
            match self.workload.department_balances(&settings.balance_config()) {
                Ok(balances) => {
                    let mut seen = BTreeSet::new();
                    for b in &balances {
                        let key = (department_back(b.department), b.fiscal_year.0);
                        seen.insert(key);
                        let (previous, changes) =
                            self.alerts.balances.get(&key).copied().unwrap_or((cosx_allocation::BalanceStatus::Ok, 0));
                        if b.status != previous {
                            due.push(balance_due(key.0, key.1, Some(b), previous, changes, settings));
                        }
                    }
                    for (key, (previous, changes)) in &self.alerts.balances {
                        if !seen.contains(key) && *previous != cosx_allocation::BalanceStatus::Ok {
                            due.push(balance_due(key.0, key.1, None, *previous, *changes, settings));
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "workload balance for alerts failed"),
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::NaiveDate;

    use super::*;
    use crate::signals::demand::demand_order;
    use crate::signals::workload::tests::{base_order, offer};

    fn settings(forecast_periods: u32) -> AlertSettings {
        AlertSettings {
            absolute_hours: 100.0,
            absolute_slots: 1.0,
            relative: 0.1,
            forecast_periods,
            cells_without_capacity: false,
            warning_percent: 45.0,
            forecast: Default::default(),
        }
    }

    /// Three orders of 4 items due in March 2027, and an offer of slots.
    fn views(slots_per_half_year: f64) -> (LogViews, dm::CellKey) {
        let mut v = LogViews::default();
        for i in 0..3 {
            let mut o = base_order();
            o.id = format!("o{i}");
            o.draft.required_by = NaiveDate::from_ymd_opt(2027, 3, 15).unwrap();
            v.demand.cube.add(&demand_order(&o, &cosx_domain::Nation::usa(), false)).unwrap();
        }
        let o = offer(0, 1, slots_per_half_year, true);
        let cell = offer_cells(&o).into_iter().next().unwrap();
        v.offers_by_cell.entry(cell.clone()).or_default().insert(o.id.clone());
        v.offers.insert(o.id.clone(), o);
        (v, cell)
    }

    #[test]
    fn a_cell_offered_in_slots_is_judged_in_slots_with_forecast_months_after_its_orders() {
        // 12 items in March against 181 slots over Oct-Mar: 31/182 of them, about 30.8: no shortfall.
        let (mut v, cell) = views(181.0);
        assert!(v.due_alerts(&settings(0)).is_empty());
        // 6 slots over Oct-Mar: March gets about 1.02, 12 items short by about 11.
        let (mut v, _) = views(6.0);
        let due = v.due_alerts(&settings(0));
        assert_eq!(due.len(), 1, "{due:?}");
        let EventContent::Bottleneck { alert } = &due[0].content else { panic!("{due:?}") };
        assert_eq!((alert.period.as_str(), alert.unit, alert.raised), ("2027-03", CapacityUnit::InductionSlots, true));
        assert!((alert.demand - 12.0).abs() < 1e-9 && alert.shortfall > 10.0, "{alert:?}");
        assert_eq!(due[0].change_id, "alert:bottleneck:INDOPACOM/F-35A/DEPOT/2027-03/INDUCTION_SLOTS:0");
        // Its event comes back through the log: judged again, nothing more is due.
        v.alerts.record_bottleneck(alert);
        assert!(v.due_alerts(&settings(0)).is_empty());
        // With forecast months judged too, April onwards (forecast demand, little capacity) alerts as well.
        // One month of history is forecast by TSB, which (started as statsforecast starts it) puts
        // the probability of demand at α_p after one demand period: 1.2 items a month with the
        // default α_p = 0.1, too few to alert. The alert path takes `[signals.forecast]`: with
        // α_p = 1 the forecast is the 12 items of March.
        v.alerts.dirty_cells.insert(cell.clone());
        assert!(v.due_alerts(&settings(2)).is_empty());
        v.alerts.dirty_cells.insert(cell);
        let mut eager = settings(2);
        eager.forecast.tsb_alpha_probability = 1.0;
        let due = v.due_alerts(&eager);
        let periods: Vec<String> = due
            .iter()
            .filter_map(|d| match &d.content {
                EventContent::Bottleneck { alert } => Some(format!("{} {}", alert.period, alert.demand_kind)),
                _ => None,
            })
            .collect();
        assert_eq!(periods, ["2027-04 FORECAST", "2027-05 FORECAST"]);
    }
}
