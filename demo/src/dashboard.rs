//! What the coordinating office sees, as compact terminal tables: the
//! allocation's placements and unplaced reasons, regional demand with its
//! forecast, demand against capacity with bottlenecks, the 50/50 balance,
//! availability with exception flags, and a node's link status. It only
//! formats answers of the real API; it computes nothing itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cosx_proto::v1 as pb;

/// A table with a header row; columns whose header starts with `>` are
/// right-aligned (the `>` is not printed).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let right: Vec<bool> = headers.iter().map(|h| h.starts_with('>')).collect();
    let heads: Vec<&str> = headers.iter().map(|h| h.trim_start_matches('>')).collect();
    let mut widths: Vec<usize> = heads.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::from("    ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            if right[i] {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
            if i + 1 < cells.len() {
                out.push_str("  ");
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(&heads.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    out.push('\n');
    out.push_str(&line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>()));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// "12.3 %", or "-" when absent.
pub fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{:.1} %", x * 100.0))
}

/// Dollars in millions, "$12.35M".
pub fn millions(cents: i64) -> String {
    let m = cents as f64 / 100_000_000.0;
    let whole = thousands(m.trunc());
    format!("${whole}.{:02}M", ((m.abs().fract() * 100.0).round() as i64).min(99))
}

/// A number with thousands separators.
pub fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A department's name.
pub fn department(d: i32) -> &'static str {
    match pb::MilitaryDepartment::try_from(d) {
        Ok(pb::MilitaryDepartment::AirForce) => "Air Force",
        Ok(pb::MilitaryDepartment::Navy) => "Navy",
        Ok(pb::MilitaryDepartment::Army) => "Army",
        _ => "-",
    }
}

fn region(r: i32) -> &'static str {
    pb::Region::try_from(r).map_or("?", |r| r.as_str_name().trim_start_matches("REGION_"))
}

fn level(l: i32) -> &'static str {
    pb::MaintenanceLevel::try_from(l).map_or("?", |l| l.as_str_name().trim_start_matches("MAINTENANCE_LEVEL_"))
}

fn id(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// What the orders are, for naming them in tables: name -> (TMS, item).
pub type OrderIndex = BTreeMap<String, (String, String)>;

/// The allocation: a line of totals, placements by provider, a sample of
/// placements with their cost terms, and the unplaced orders by reason.
pub fn allocation(plan: &pb::AllocationPlan, committed: &[pb::CommitResult], orders: &OrderIndex) -> String {
    let mut out = String::new();
    let refused: Vec<&pb::CommitResult> = committed.iter().filter(|r| !r.proposed).collect();
    let committed = committed.len() - refused.len();
    let _ = writeln!(
        out,
        "  allocation: placed {} of {} open orders over {} offers (total cost {}), {} proposed to providers",
        plan.assignments.len(),
        plan.open_orders,
        plan.offers,
        millions(plan.total_cost_cents),
        committed
    );
    let mut by_provider: BTreeMap<&str, (usize, f64, i64)> = BTreeMap::new();
    for a in &plan.assignments {
        let e = by_provider.entry(a.provider.as_str()).or_default();
        e.0 += 1;
        e.1 += a.units;
        e.2 += a.total_cost_cents;
    }
    let rows: Vec<Vec<String>> = by_provider
        .iter()
        .map(|(p, (n, units, cost))| vec![(*p).to_owned(), n.to_string(), thousands(*units), millions(*cost)])
        .collect();
    if !rows.is_empty() {
        out.push_str(&table(&["provider", ">orders", ">labor h", ">cost"], &rows));
    }
    let mut sample: Vec<&pb::AllocationAssignment> = plan.assignments.iter().collect();
    sample.sort_by(|a, b| a.repair_order.cmp(&b.repair_order));
    let rows: Vec<Vec<String>> = sample
        .iter()
        .take(6)
        .map(|a| {
            let (tms, what) = orders.get(&a.repair_order).cloned().unwrap_or_default();
            vec![
                id(&a.repair_order).to_owned(),
                tms,
                what,
                a.provider.clone(),
                thousands(a.distance_km),
                a.transit_days.to_string(),
                millions(a.total_cost_cents),
                if a.contract_work_department != 0 {
                    format!("contract, {} FY{}", department(a.contract_work_department), a.contract_work_fiscal_year)
                } else {
                    "-".into()
                },
            ]
        })
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(out, "  placements (first {} of {}):", rows.len(), plan.assignments.len());
        out.push_str(&table(&["order", "TMS", "item", "provider", ">km", ">transit d", ">cost", "50/50"], &rows));
    }
    if !plan.unplaced.is_empty() {
        let mut by_reason: BTreeMap<&str, Vec<&pb::UnplacedOrder>> = BTreeMap::new();
        for u in &plan.unplaced {
            by_reason.entry(u.reason.as_str()).or_default().push(u);
        }
        let rows: Vec<Vec<String>> = by_reason
            .iter()
            .map(|(reason, list)| {
                let first = list[0];
                let (tms, _) = orders.get(&first.repair_order).cloned().unwrap_or_default();
                vec![
                    (*reason).to_owned(),
                    list.len().to_string(),
                    format!("{} {}: {}", id(&first.repair_order), tms, first.detail),
                ]
            })
            .collect();
        let _ = writeln!(out, "  unplaced, by reason:");
        out.push_str(&table(&["reason", ">orders", "example"], &rows));
    }
    if let Some(first) = refused.first() {
        let _ = writeln!(
            out,
            "  commit refused {} proposal(s), e.g. {}: {}",
            refused.len(),
            id(&first.repair_order),
            first.error
        );
    }
    out
}

/// Regional demand by TMS (cells summed over required-by months) with the
/// forecast of the next months and the method that made it.
pub fn demand(signal: &pb::GetDemandSignalResponse) -> String {
    let mut out = String::new();
    type Key = (String, String, String);
    let mut sums: BTreeMap<Key, (u64, u64, f64, u32)> = BTreeMap::new();
    for c in &signal.cells {
        let Some(k) = &c.key else { continue };
        let key = (region(k.region).to_owned(), k.tms.clone(), level(k.level).to_owned());
        let e = sums.entry(key).or_default();
        e.0 += c.orders;
        e.1 += c.quantity;
        e.2 += c.labor_hours;
        e.3 += u32::from(c.orders > 0);
    }
    let mut forecasts: BTreeMap<Key, &pb::CellForecast> = BTreeMap::new();
    for f in &signal.forecasts {
        if let Some(k) = &f.key {
            forecasts.insert((region(k.region).to_owned(), k.tms.clone(), level(k.level).to_owned()), f);
        }
    }
    let total: u64 = sums.values().map(|s| s.0).sum();
    let _ = writeln!(
        out,
        "  regional demand: {} orders counted, {} in {} cells (region x TMS x level x required-by month)",
        signal.orders_counted,
        total,
        signal.cells.len()
    );
    let rows: Vec<Vec<String>> = sums
        .iter()
        .map(|(key, (orders, qty, hours, months))| {
            let f = forecasts.get(key);
            // The methods' forecasts are flat, so one point stands for the
            // coming months. Its band is of one month's demand, not of the
            // mean: a sparse cell's mean can lie above a band of [0, 0].
            let next: Vec<String> = f
                .and_then(|f| f.points.first())
                .map(|p| format!("{}/mo (band {}-{})", thousands(p.point), thousands(p.lower), thousands(p.upper)))
                .into_iter()
                .collect();
            vec![
                key.0.clone(),
                key.1.clone(),
                orders.to_string(),
                qty.to_string(),
                thousands(*hours),
                months.to_string(),
                f.map_or("-".into(), |f| f.pattern.clone()),
                f.map_or("-".into(), |f| f.method.split_whitespace().next().unwrap_or("").to_owned()),
                if next.is_empty() { "-".into() } else { next.join("  ") },
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "region",
            "TMS",
            ">orders",
            ">qty",
            ">labor h",
            ">months",
            "pattern",
            "method",
            "forecast labor h (band: one month's demand)",
        ],
        &rows,
    ));
    out
}

/// Demand against in-theater capacity: per TMS the totals, then the worst
/// bottlenecks by month.
pub fn capacity(cmp: &pb::GetCapacityComparisonResponse) -> String {
    let mut out = String::new();
    let mut per_tms: BTreeMap<String, (f64, f64, f64, u32)> = BTreeMap::new();
    for r in cmp.rows.iter().filter(|r| r.demand_kind == "ACTUAL") {
        let tms = r.key.as_ref().map(|k| k.tms.clone()).unwrap_or_default();
        let e = per_tms.entry(tms).or_default();
        e.0 += r.demand;
        e.1 += r.capacity;
        e.2 += r.surge;
        e.3 += u32::from(r.bottleneck);
    }
    let _ = writeln!(
        out,
        "  demand against capacity offered in the same cells (labor hours): {} bottleneck cells",
        cmp.bottlenecks
    );
    let rows: Vec<Vec<String>> = per_tms
        .iter()
        .map(|(tms, (d, c, s, b))| {
            vec![
                tms.clone(),
                thousands(*d),
                thousands(*c),
                thousands(*s),
                thousands(c - d),
                if *b > 0 { format!("{b} month(s)") } else { "-".into() },
            ]
        })
        .collect();
    out.push_str(&table(&["TMS", ">demand", ">capacity", ">surge", ">balance", "bottlenecks"], &rows));
    let mut worst: Vec<&pb::CapacityComparisonRow> = cmp.rows.iter().filter(|r| r.bottleneck).collect();
    worst.sort_by(|a, b| a.balance.total_cmp(&b.balance));
    let rows: Vec<Vec<String>> = worst
        .iter()
        .take(6)
        .map(|r| {
            vec![
                r.key.as_ref().map(|k| k.tms.clone()).unwrap_or_default(),
                r.period.as_ref().map(|p| p.label.clone()).unwrap_or_default(),
                thousands(r.demand),
                thousands(r.capacity),
                thousands(r.balance),
                percent(r.shortfall_relative),
                if r.covered_by_surge { "yes".into() } else { "NO".into() },
            ]
        })
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(out, "  worst bottlenecks:");
        out.push_str(&table(
            &["TMS", "month", ">demand", ">capacity", ">shortfall", ">of capacity", "surge covers"],
            &rows,
        ));
    }
    out
}

/// The 10 U.S.C. 2466 balance per department and fiscal year, and the
/// share of exchange work by provider nation.
pub fn balance(b: &pb::GetWorkloadBalanceResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  50/50 balance (10 U.S.C. 2466), warning at {:.0} %:", b.warning_percent);
    let rows: Vec<Vec<String>> = b
        .departments
        .iter()
        .map(|d| {
            let p = d.projected.unwrap_or_default();
            let exchange = |w: Option<pb::WorkSplit>| w.map_or(0, |w| w.contract_cents + w.organic_cents);
            vec![
                department(d.department).to_owned(),
                format!("FY{}", d.fiscal_year),
                millions(p.organic_cents),
                millions(p.contract_cents),
                millions(exchange(d.actual) + exchange(d.estimated)),
                percent(d.contract_share),
                percent(d.contract_share_hours),
                pb::BalanceStatus::try_from(d.status)
                    .map_or("?", |s| s.as_str_name().trim_start_matches("BALANCE_STATUS_"))
                    .to_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["department", "FY", ">organic", ">contract", ">via exchange", ">contract share", ">(hours)", "status"],
        &rows,
    ));
    for d in &b.departments {
        let _ = writeln!(
            out,
            "  50/50 balance {} FY{}: contract share {}",
            department(d.department),
            d.fiscal_year,
            percent(d.contract_share)
        );
    }
    if !b.by_nation.is_empty() {
        let shares: Vec<String> = b
            .by_nation
            .iter()
            .map(|n| format!("{} {} ({})", n.key, millions(n.cents), percent(n.share_of_cents)))
            .collect();
        let _ = writeln!(out, "  exchange work by provider nation: {}", shares.join(", "));
    }
    out
}

/// DoDI 3110.05 availability per owner and TMS: the latest month, the
/// six-month rolling averages against target, and the exception flags.
pub fn availability(latest: &pb::GetAvailabilityMetricsResponse, all: &pb::GetAvailabilityMetricsResponse) -> String {
    let mut out = String::new();
    let month: BTreeMap<&str, &pb::AvailabilityMetric> = latest.metrics.iter().map(|m| (m.tms.as_str(), m)).collect();
    let mut flagged = 0;
    let rows: Vec<Vec<String>> = all
        .health
        .iter()
        .map(|h| {
            let m = month.get(h.tms.as_str());
            let mut flags = Vec::new();
            if h.high_non_availability_a_m.as_ref().is_some_and(|c| c.fires) {
                flags.push("HIGH NON-AVAILABILITY (A_M)");
            }
            if h.high_non_availability_a_o.as_ref().is_some_and(|c| c.fires) {
                flags.push("HIGH NON-AVAILABILITY (A_O)");
            }
            if h.excessive_cda {
                flags.push("EXCESSIVE C/DA");
            }
            flagged += usize::from(!flags.is_empty());
            vec![
                h.owner.clone(),
                h.tms.clone(),
                m.map_or("-".into(), |m| m.tai_inventory.to_string()),
                percent(m.and_then(|m| m.a_m)),
                percent(m.and_then(|m| m.a_o)),
                m.and_then(|m| m.cost_per_day_of_availability)
                    .map_or("-".into(), |c| format!("${}", thousands(c / 100.0))),
                format!("{} / {}", percent(h.rolling_a_m), percent(h.target_a_m)),
                format!("{} / {}", percent(h.rolling_a_o), percent(h.target_a_o)),
                h.months_with_data.to_string(),
                if flags.is_empty() { "-".into() } else { flags.join(", ") },
            ]
        })
        .collect();
    let _ = writeln!(
        out,
        "  availability (DoDI 3110.05) from {} reports: {} of {} fleets flagged",
        all.reports_considered,
        flagged,
        all.health.len()
    );
    out.push_str(&table(
        &[
            "owner",
            "TMS",
            ">TAI",
            ">A_M",
            ">A_O",
            ">C/DA per day",
            ">6-mo A_M / target",
            ">6-mo A_O / target",
            ">months",
            "flags",
        ],
        &rows,
    ));
    out
}

/// A node's `Node.GetStatus`, on one line.
pub fn node_status(s: &pb::NodeStatus) -> String {
    format!(
        "{}: upstream {}, queued writes {}, oldest queued {:.1}s, delivered {}, rejected {}, synced to #{} of #{} (feed lag {} events){}",
        s.party,
        if s.upstream_connected { "connected" } else { "DISCONNECTED" },
        s.queued_writes,
        s.oldest_queued_age_seconds,
        s.delivered_writes,
        s.rejected_writes,
        s.synced_sequence,
        s.upstream_head,
        s.feed_lag_events,
        if s.last_error.is_empty() { String::new() } else { format!(", last error: {}", s.last_error) }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_numbers_right() {
        let t = table(&["name", ">n"], &[vec!["a".into(), "1".into()], vec!["bbb".into(), "1,000".into()]]);
        assert_eq!(t, "    name      n\n    ----  -----\n    a         1\n    bbb   1,000\n");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(-950.0), "-950");
        assert_eq!(millions(118_000_000_000), "$1,180.00M");
        assert_eq!(millions(4_020_000), "$0.04M");
    }
}
