//! Alerts the coordinator raises on the feed, out.
//!
//! Pure conversion: never authorizes, never stores.

#[allow(unused_imports)]
use cosx_edge::convert::*;
use cosx_proto::v1 as pb;

// ----- alerts (feed) ------------------------------------------------------

/// A bottleneck alert for the feed.
pub(super) fn bottleneck_alert_out(a: &crate::log::BottleneckAlert) -> pb::BottleneckAlert {
    pb::BottleneckAlert {
        key: Some(pb::DemandCellKey {
            region: region_out(a.region),
            tms: a.tms.clone(),
            level: level_out(a.level),
            owner_nation: String::new(),
            repair_type: 0,
        }),
        period: Some(pb::DemandPeriod {
            label: a.period.clone(),
            start_date: a.period_start.to_string(),
            end_date: a.period_end.to_string(),
        }),
        unit: unit_out(a.unit),
        demand_kind: a.demand_kind.clone(),
        demand: a.demand,
        capacity: a.capacity,
        surge: a.surge,
        shortfall: a.shortfall,
        shortfall_relative: a.shortfall_relative,
        threshold_absolute: a.threshold_absolute,
        threshold_relative: a.threshold_relative,
        raised: a.raised,
        change: a.change,
    }
}

fn balance_status_out(s: cosx_allocation::BalanceStatus) -> i32 {
    (match s {
        cosx_allocation::BalanceStatus::Ok => pb::BalanceStatus::Ok,
        cosx_allocation::BalanceStatus::Warning => pb::BalanceStatus::Warning,
        cosx_allocation::BalanceStatus::Violation => pb::BalanceStatus::Violation,
    }) as i32
}

/// A 50/50 alert for the feed.
pub(super) fn balance_alert_out(a: &crate::log::BalanceAlert) -> pb::BalanceAlert {
    pb::BalanceAlert {
        department: department_out(a.department),
        fiscal_year: a.fiscal_year,
        status: balance_status_out(a.status),
        previous_status: balance_status_out(a.previous),
        contract_share: a.contract_share,
        organic_cents: a.organic_cents,
        contract_cents: a.contract_cents,
        warning_percent: a.warning_percent,
        change: a.change,
    }
}
