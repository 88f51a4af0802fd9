//! Alerts the coordinator raises on the feed by itself: bottlenecks (demand
//! against capacity offered, per cell and month) and the 50/50 standing of
//! each Military Department and fiscal year.
//!
//! The alert state is derived from the log alone — the views, and the
//! alert events already in it — so a restarted coordinator knows what it
//! already raised, and replicas sharing one database judge alike. Each state
//! change is committed with a deterministic idempotency key, "the n-th
//! change of this alert" (`alert:<what>:<n>`): when several replicas decide
//! the same change, the store's idempotency table keeps the first and the
//! others get it replayed, so the feed carries it once.
//!
//! Who sees them: coordinators only. A party's view of demand withholds
//! cells built from fewer than *k* orders, and an alert names a cell and
//! carries its demand; serving alerts to parties would need the same
//! suppression decisions, so they are not served to parties at all.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use cosx_allocation as alloc;
use cosx_demand as dm;
use cosx_domain::{CapacityUnit, MilitaryDepartment};

use crate::coordinator::{Coordinator, CoreError, EventContent};

pub use crate::log::{BalanceAlert, BottleneckAlert};

/// How alerts are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertSettings {
    /// Minimum shortfall in labor hours.
    pub absolute_hours: f64,
    /// Minimum shortfall in induction slots.
    pub absolute_slots: f64,
    /// Minimum shortfall as a fraction of capacity.
    pub relative: f64,
    /// Months of forecast demand judged beyond each cell's last month of orders.
    pub forecast_periods: u32,
    /// Judge cells with no capacity offered at all too.
    pub cells_without_capacity: bool,
    /// 50/50 warning threshold, percent.
    pub warning_percent: f64,
    /// Forecast parameters (`[signals.forecast]`).
    pub forecast: crate::config::ForecastSettings,
}

impl AlertSettings {
    /// The bottleneck thresholds for capacity in `unit`.
    pub fn thresholds(&self, unit: CapacityUnit) -> dm::BottleneckThresholds {
        let absolute = match unit {
            CapacityUnit::LaborHours => self.absolute_hours,
            CapacityUnit::InductionSlots => self.absolute_slots,
        };
        dm::BottleneckThresholds { absolute, relative: self.relative }
    }

    /// Balance configuration of the alerts: the statutory projection
    /// (actual + estimated + baseline; proposed work is not yet work).
    pub fn balance_config(&self) -> alloc::BalanceConfig {
        alloc::BalanceConfig {
            warning_threshold_bp: (self.warning_percent * 100.0).round() as u32,
            ..alloc::BalanceConfig::default()
        }
    }
}

impl From<&crate::config::SignalsConfig> for AlertSettings {
    fn from(c: &crate::config::SignalsConfig) -> Self {
        AlertSettings {
            absolute_hours: c.bottleneck_absolute_hours,
            absolute_slots: c.bottleneck_absolute_slots,
            relative: c.bottleneck_relative,
            forecast_periods: c.bottleneck_forecast_periods,
            cells_without_capacity: c.bottleneck_cells_without_capacity,
            warning_percent: c.balance_warning_percent,
            forecast: c.forecast,
        }
    }
}

/// Raised or not, and how many changes the log holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AlertState {
    pub(crate) raised: bool,
    pub(crate) changes: u64,
}

/// What the log says was raised, and what must be judged again.
#[derive(Debug)]
pub struct AlertBook {
    /// Per cell: per (month, unit).
    pub(crate) bottlenecks: BTreeMap<dm::CellKey, BTreeMap<(dm::Period, CapacityUnit), AlertState>>,
    /// Per department and fiscal year: standing and changes so far.
    pub(crate) balances: BTreeMap<(MilitaryDepartment, i32), (alloc::BalanceStatus, u64)>,
    /// Cells whose demand, capacity or alert changed since they were judged.
    pub(crate) dirty_cells: BTreeSet<dm::CellKey>,
    /// Work, baselines or a balance alert changed since balances were judged.
    pub(crate) dirty_balances: bool,
    /// Judge everything (at start: the log may have changed while no one watched).
    pub(crate) everything_dirty: bool,
}

impl Default for AlertBook {
    fn default() -> Self {
        AlertBook {
            bottlenecks: BTreeMap::new(),
            balances: BTreeMap::new(),
            dirty_cells: BTreeSet::new(),
            dirty_balances: true,
            everything_dirty: true,
        }
    }
}

/// The cell of a bottleneck alert.
pub fn alert_cell(a: &BottleneckAlert) -> dm::CellKey {
    dm::CellKey::new(a.region, a.tms.clone(), a.level)
}

impl AlertBook {
    /// Takes a bottleneck event into the state.
    pub(crate) fn record_bottleneck(&mut self, a: &BottleneckAlert) {
        let cell = alert_cell(a);
        let period = dm::Period::containing(a.period_start, dm::Granularity::Month);
        let state = self.bottlenecks.entry(cell.clone()).or_default().entry((period, a.unit)).or_default();
        state.raised = a.raised;
        state.changes += 1;
        // Judge it again: a replica may have raised it from an older view of the log.
        self.dirty_cells.insert(cell);
    }

    /// Takes a balance event into the state.
    pub(crate) fn record_balance(&mut self, a: &BalanceAlert) {
        let entry = self.balances.entry((a.department, a.fiscal_year)).or_insert((alloc::BalanceStatus::Ok, 0));
        entry.0 = a.status;
        entry.1 += 1;
        self.dirty_balances = true;
    }
}

/// An alert event to commit.
#[derive(Debug, Clone)]
pub struct DueAlert {
    /// Event kind.
    pub kind: &'static str,
    /// Subject resource name.
    pub subject: String,
    /// Content.
    pub content: EventContent,
    /// The deterministic name of this state change.
    pub change_id: String,
    /// The cell to judge again if the commit fails.
    pub cell: Option<dm::CellKey>,
}

fn cell_id(cell: &dm::CellKey) -> String {
    format!("{}/{}/{}", cell.region.as_str(), cell.tms_or_family, cell.maintenance_level.as_str())
}

/// The alert event for a change of (cell, month, unit) to `raised`, from the
/// row judged now (`None` when the cell has neither demand nor capacity then).
pub(crate) fn bottleneck_due(
    cell: &dm::CellKey,
    period: dm::Period,
    unit: CapacityUnit,
    row: Option<&dm::BalanceRow>,
    state: AlertState,
    settings: &AlertSettings,
) -> DueAlert {
    let t = settings.thresholds(unit);
    let (demand, capacity, surge, kind) =
        row.map_or((0.0, 0.0, 0.0, dm::DemandKind::Actual), |r| (r.demand, r.capacity, r.surge, r.demand_kind));
    let raised = !state.raised;
    let alert = BottleneckAlert {
        region: cell.region,
        tms: cell.tms_or_family.clone(),
        level: cell.maintenance_level,
        period: period.to_string(),
        period_start: period.start(),
        period_end: period.end(),
        unit,
        demand_kind: format!("{kind:?}").to_uppercase(),
        demand,
        capacity,
        surge,
        shortfall: demand - capacity,
        shortfall_relative: (capacity > 0.0).then(|| (demand - capacity) / capacity),
        threshold_absolute: t.absolute,
        threshold_relative: t.relative,
        raised,
        change: state.changes,
    };
    let id = format!("{}/{period}/{}", cell_id(cell), unit.as_str());
    DueAlert {
        kind: if raised { "BOTTLENECK_RAISED" } else { "BOTTLENECK_CLEARED" },
        subject: format!("alerts/bottlenecks/{id}"),
        change_id: format!("alert:bottleneck:{id}:{}", state.changes),
        content: EventContent::Bottleneck { alert },
        cell: Some(cell.clone()),
    }
}

/// The alert event for a department's standing moving from `previous` to `b.status`.
pub(crate) fn balance_due(
    department: MilitaryDepartment,
    fiscal_year: i32,
    now: Option<&alloc::DepartmentBalance>,
    previous: alloc::BalanceStatus,
    changes: u64,
    settings: &AlertSettings,
) -> DueAlert {
    let status = now.map_or(alloc::BalanceStatus::Ok, |b| b.status);
    let alert = BalanceAlert {
        department,
        fiscal_year,
        status,
        previous,
        contract_share: now.and_then(|b| b.contract_share),
        organic_cents: now.map_or(0, |b| b.projected.organic_cents),
        contract_cents: now.map_or(0, |b| b.projected.contract_cents),
        warning_percent: settings.warning_percent,
        change: changes,
    };
    let id = format!("{}/FY{fiscal_year}", department.as_str());
    DueAlert {
        kind: match status {
            alloc::BalanceStatus::Ok => "BALANCE_CLEARED",
            alloc::BalanceStatus::Warning => "BALANCE_WARNING",
            alloc::BalanceStatus::Violation => "BALANCE_VIOLATION",
        },
        subject: format!("alerts/balance/{id}"),
        change_id: format!("alert:balance:{id}:{changes}"),
        content: EventContent::WorkloadBalance { alert },
        cell: None,
    }
}

/// How often the log is read even when no commit was announced.
const RESYNC_EVERY: Duration = Duration::from_secs(5);

/// Starts the task that judges alerts after every commit and commits their
/// changes as the coordinator. It ends soon after the coordinator is dropped.
pub fn spawn(core: &Arc<Coordinator>, views: Arc<tokio::sync::Mutex<super::views::LogViews>>, settings: AlertSettings) {
    let weak: Weak<Coordinator> = Arc::downgrade(core);
    let mut head = core.watch_head();
    tokio::spawn(async move {
        loop {
            {
                let Some(core) = weak.upgrade() else { return };
                if let Err(e) = round(&core, &views, &settings).await {
                    tracing::warn!(error = %e, "judging alerts failed; retrying after the next commit");
                }
            }
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(RESYNC_EVERY) => {}
            }
        }
    });
}

/// Reads the log to its end, judges what changed, commits the alert changes.
async fn round(
    core: &Coordinator,
    views: &tokio::sync::Mutex<super::views::LogViews>,
    settings: &AlertSettings,
) -> Result<(), CoreError> {
    let due = {
        let mut v = views.lock().await;
        v.catch_up(core).await?;
        v.due_alerts(settings)
    };
    for alert in due {
        let outcome =
            core.commit_system_event(alert.kind, alert.subject.clone(), alert.content.clone(), &alert.change_id).await;
        match outcome {
            Ok(true) => tracing::info!(kind = alert.kind, subject = %alert.subject, "alert raised on the feed"),
            // Another replica (or an earlier run) committed this change first.
            Ok(false) => tracing::debug!(change = %alert.change_id, "alert change already in the log"),
            Err(e) => {
                tracing::warn!(error = %e, change = %alert.change_id, "alert could not be committed; will judge again");
                let mut v = views.lock().await;
                match alert.cell {
                    Some(cell) => {
                        v.alerts.dirty_cells.insert(cell);
                    }
                    None => v.alerts.dirty_balances = true,
                }
            }
        }
    }
    Ok(())
}
