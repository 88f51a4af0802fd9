//! `cosx demand`, `cosx capacity-gap`, `cosx balance` and `cosx allocate`:
//! the coordinator's aggregates as tables (or proto3 JSON with `--json`).
//! Rounding happens here, at display only.

use clap::{Args, Subcommand};
use cosx_proto::v1::{
    BalanceStatus, CapacityUnit, CommitAllocationRequest, DemandFilter, GetCapacityComparisonRequest,
    GetDemandSignalRequest, GetWorkloadBalanceRequest, Granularity, MaintenanceLevel, MilitaryDepartment,
    ProposeAllocationRequest, Region, WorkShare,
};

use super::output::{Printer, render_table};
use crate::enums::{self, display};
use crate::{Client, ClientError};

/// Which cells: filters shared by `demand` and `capacity-gap`.
#[derive(Debug, Args)]
pub struct CellArgs {
    /// Only these regions (repeatable): indopacom, eucom, ...
    #[arg(long = "region", value_parser = enums::parse::<Region>)]
    pub regions: Vec<Region>,
    /// Only these TMS or component families (repeatable).
    #[arg(long = "tms")]
    pub tms: Vec<String>,
    /// Only these maintenance levels (repeatable): organizational, intermediate, depot.
    #[arg(long = "level", value_parser = enums::parse::<MaintenanceLevel>)]
    pub levels: Vec<MaintenanceLevel>,
    /// First period, as a date inside it (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Last period, as a date inside it (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// month (default), fiscal-quarter or fiscal-year.
    #[arg(long, value_parser = enums::parse::<Granularity>)]
    pub granularity: Option<Granularity>,
}

impl CellArgs {
    fn filter(&self) -> Option<DemandFilter> {
        Some(DemandFilter {
            regions: self.regions.iter().map(|r| *r as i32).collect(),
            tms: self.tms.clone(),
            levels: self.levels.iter().map(|l| *l as i32).collect(),
            from_date: self.from.clone().unwrap_or_default(),
            to_date: self.to.clone().unwrap_or_default(),
        })
    }
}

/// `cosx demand`
#[derive(Debug, Args)]
pub struct DemandArgs {
    #[command(flatten)]
    cells: CellArgs,
    /// Place orders by submission date instead of required-by date (coordinators).
    #[arg(long)]
    submitted: bool,
    /// Periods to forecast (0 for none).
    #[arg(long, default_value_t = 12)]
    forecast: u32,
}

/// `cosx capacity-gap`
#[derive(Debug, Args)]
pub struct GapArgs {
    #[command(flatten)]
    cells: CellArgs,
    /// Compare in induction slots instead of labor hours.
    #[arg(long)]
    slots: bool,
    /// Alert when the shortfall is at least this many units ...
    #[arg(long, default_value_t = 0.0)]
    alert_absolute: f64,
    /// ... and at least this fraction of capacity.
    #[arg(long, default_value_t = 0.1)]
    alert_relative: f64,
    /// Periods of forecast demand to compare too.
    #[arg(long, default_value_t = 0)]
    forecast: u32,
}

/// `cosx balance`
#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// Only this department: army, navy, air-force.
    #[arg(long, value_parser = enums::parse::<MilitaryDepartment>)]
    department: Option<MilitaryDepartment>,
    /// Only this fiscal year, e.g. 2027.
    #[arg(long)]
    fiscal_year: Option<i32>,
    /// Count proposed work in the projected share.
    #[arg(long)]
    include_proposed: bool,
    /// Warning threshold in percent (default: the coordinator's).
    #[arg(long)]
    warning_percent: Option<f64>,
    /// Only this provider's utilization rows.
    #[arg(long)]
    provider: Option<String>,
}

/// `cosx allocate ...`
#[derive(Debug, Subcommand)]
pub enum AllocateCommand {
    /// Plan the open orders over the offers; changes nothing.
    Propose {
        /// Planning date (YYYY-MM-DD); today if absent.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Plan, then propose every placed order to its provider.
    Commit {
        /// Planning date (YYYY-MM-DD); today if absent.
        #[arg(long)]
        as_of: Option<String>,
    },
}

fn status(s: tonic::Status) -> ClientError {
    ClientError::Status(Box::new(s))
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_default()
}

fn dollars(cents: i64) -> String {
    format!("${:.2}", cents as f64 / 100.0)
}

/// Runs `cosx demand`.
pub(crate) async fn demand(client: &Client, a: DemandArgs, printer: &Printer) -> Result<(), ClientError> {
    let request = GetDemandSignalRequest {
        basis: if a.submitted { 1 } else { 2 },
        granularity: a.cells.granularity.map_or(0, |g| g as i32),
        filter: a.cells.filter(),
        forecast_periods: a.forecast,
        ..Default::default()
    };
    let d = client.signals().get_demand_signal(request).await.map_err(status)?.into_inner();
    if printer.is_json() {
        return printer.json_line(&d);
    }
    let rows: Vec<Vec<String>> = d
        .cells
        .iter()
        .map(|c| {
            let k = c.key.clone().unwrap_or_default();
            let p = c.period.clone().unwrap_or_default();
            let (orders, qty, hours) = if c.suppressed {
                ("<k".to_owned(), "<k".to_owned(), "<k".to_owned())
            } else {
                (c.orders.to_string(), c.quantity.to_string(), format!("{:.1}", c.labor_hours))
            };
            vec![display::<Region>(k.region), k.tms, display::<MaintenanceLevel>(k.level), p.label, orders, qty, hours]
        })
        .collect();
    printer.line(&render_table(&["REGION", "TMS", "LEVEL", "PERIOD", "ORDERS", "ITEMS", "LABOR H"], &rows))?;
    if !d.forecasts.is_empty() {
        printer.line("")?;
        let rows: Vec<Vec<String>> = d
            .forecasts
            .iter()
            .map(|f| {
                let k = f.key.clone().unwrap_or_default();
                let next: Vec<String> = f
                    .points
                    .iter()
                    .take(3)
                    .map(|p| format!("{:.2} [{:.2}, {:.2}]", p.point, p.lower, p.upper))
                    .collect();
                vec![
                    format!("{} {} {}", display::<Region>(k.region), k.tms, display::<MaintenanceLevel>(k.level)),
                    f.pattern.clone(),
                    f.method.clone(),
                    f.mase.map(|m| format!("{m:.2}")).unwrap_or_default(),
                    next.join("  "),
                ]
            })
            .collect();
        printer.line(&render_table(&["CELL", "PATTERN", "METHOD", "MASE", "NEXT PERIODS (orders, band)"], &rows))?;
    }
    printer.line(&format!(
        "\n{} orders counted; cells built from fewer than {} orders are shown as <k",
        d.orders_counted, d.k
    ))
}

/// Runs `cosx capacity-gap`.
pub(crate) async fn gap(client: &Client, a: GapArgs, printer: &Printer) -> Result<(), ClientError> {
    let request = GetCapacityComparisonRequest {
        granularity: a.cells.granularity.map_or(0, |g| g as i32),
        filter: a.cells.filter(),
        unit: if a.slots { 1 } else { 2 },
        alert_absolute: a.alert_absolute,
        alert_relative: a.alert_relative,
        forecast_periods: a.forecast,
        forecast_params: None,
    };
    let g = client.signals().get_capacity_comparison(request).await.map_err(status)?.into_inner();
    if printer.is_json() {
        return printer.json_line(&g);
    }
    let rows: Vec<Vec<String>> = g
        .rows
        .iter()
        .map(|r| {
            let k = r.key.clone().unwrap_or_default();
            let p = r.period.clone().unwrap_or_default();
            let hidden = |x: f64| if r.suppressed { "<k".to_owned() } else { format!("{x:.1}") };
            vec![
                display::<Region>(k.region),
                k.tms,
                display::<MaintenanceLevel>(k.level),
                p.label,
                r.demand_kind.clone(),
                hidden(r.demand),
                format!("{:.1}", r.capacity),
                format!("{:.1}", r.surge),
                hidden(r.balance),
                if r.bottleneck {
                    if r.covered_by_surge { "BOTTLENECK (surge covers)".into() } else { "BOTTLENECK".into() }
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    printer.line(&render_table(
        &["REGION", "TMS", "LEVEL", "PERIOD", "DEMAND", "UNITS", "CAPACITY", "SURGE", "BALANCE", "ALERT"],
        &rows,
    ))?;
    printer.line(&format!("\n{} bottleneck(s)", g.bottlenecks))
}

/// Runs `cosx balance`.
pub(crate) async fn balance(client: &Client, a: BalanceArgs, printer: &Printer) -> Result<(), ClientError> {
    let request = GetWorkloadBalanceRequest {
        department: a.department.map_or(0, |d| d as i32),
        fiscal_year: a.fiscal_year.unwrap_or(0),
        include_proposed: a.include_proposed,
        warning_percent: a.warning_percent,
        provider: a.provider.unwrap_or_default(),
    };
    let b = client.signals().get_workload_balance(request).await.map_err(status)?.into_inner();
    if printer.is_json() {
        return printer.json_line(&b);
    }
    let rows: Vec<Vec<String>> = b
        .departments
        .iter()
        .map(|d| {
            let p = d.projected.unwrap_or_default();
            let prop = d.proposed.unwrap_or_default();
            vec![
                display::<MilitaryDepartment>(d.department),
                format!("FY{}", d.fiscal_year),
                dollars(p.organic_cents),
                dollars(p.contract_cents),
                pct(d.contract_share),
                pct(d.contract_share_hours),
                dollars(prop.contract_cents),
                display::<BalanceStatus>(d.status),
            ]
        })
        .collect();
    printer.line(&render_table(
        &["DEPARTMENT", "FY", "ORGANIC", "CONTRACT", "CONTRACT %", "CONTRACT % (HOURS)", "PROPOSED CONTRACT", "STATUS"],
        &rows,
    ))?;
    printer.line(&format!("\nwarning at {:.1} %, violation above 50 % (10 U.S.C. 2466)", b.warning_percent))?;
    let shares = |rows: &[WorkShare]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|s| {
                vec![
                    s.key.clone(),
                    dollars(s.cents),
                    pct(s.share_of_cents),
                    format!("{:.1}", s.hours),
                    pct(s.share_of_hours),
                ]
            })
            .collect()
    };
    printer.line("\nShare by nation of the performing provider")?;
    printer.line(&render_table(&["NATION", "WORK", "SHARE", "HOURS", "SHARE (HOURS)"], &shares(&b.by_nation)))?;
    printer.line("\nShare by region")?;
    printer.line(&render_table(&["REGION", "WORK", "SHARE", "HOURS", "SHARE (HOURS)"], &shares(&b.by_region)))?;
    let rows: Vec<Vec<String>> = b
        .utilization
        .iter()
        .map(|u| {
            vec![
                u.provider.clone(),
                format!("{}..{}", u.period_start, u.period_end),
                display::<CapacityUnit>(u.unit),
                format!("{:.1}", u.offered),
                format!("{:.1}", u.used),
                pct(u.utilization),
            ]
        })
        .collect();
    printer.line("\nUtilization of offered capacity")?;
    printer.line(&render_table(&["PROVIDER", "PERIOD", "UNIT", "OFFERED", "USED", "UTILIZATION"], &rows))
}

/// Runs `cosx allocate ...`.
pub(crate) async fn allocate(client: &Client, cmd: AllocateCommand, printer: &Printer) -> Result<(), ClientError> {
    let (as_of, commit) = match cmd {
        AllocateCommand::Propose { as_of } => (as_of, false),
        AllocateCommand::Commit { as_of } => (as_of, true),
    };
    let mut allocation = cosx_proto::v1::allocation_client::AllocationClient::new(client.channel());
    let plan = allocation
        .propose(ProposeAllocationRequest { as_of: as_of.unwrap_or_default() })
        .await
        .map_err(status)?
        .into_inner();
    show_plan(client, plan, commit, printer).await
}

/// Prints a plan (of `cosx allocate` or `cosx disruption replan`) and, with
/// `commit`, commits its assignments through `Allocation.Commit`.
pub(crate) async fn show_plan(
    client: &Client,
    plan: cosx_proto::v1::AllocationPlan,
    commit: bool,
    printer: &Printer,
) -> Result<(), ClientError> {
    let mut allocation = cosx_proto::v1::allocation_client::AllocationClient::new(client.channel());
    if printer.is_json() && !commit {
        return printer.json_line(&plan);
    }
    if !printer.is_json() {
        let rows: Vec<Vec<String>> = plan
            .assignments
            .iter()
            .map(|a| {
                vec![
                    a.repair_order.clone(),
                    a.provider.clone(),
                    format!("{:.1}", a.units),
                    format!("{:.0} km", a.distance_km),
                    dollars(a.total_cost_cents),
                    a.eligible_offers.to_string(),
                    if a.quote.is_empty() {
                        "offer rate".to_owned()
                    } else {
                        format!(
                            "quoted price {} / turnaround {} days, serviceable by {}",
                            dollars(a.repair_cost_cents),
                            a.quoted_turnaround_days,
                            a.serviceable_by
                        )
                    },
                ]
            })
            .collect();
        printer.line(&render_table(
            &["ORDER", "PROVIDER", "UNITS", "RETROGRADE", "COST", "ELIGIBLE OFFERS", "REPAIR PRICED BY"],
            &rows,
        ))?;
        if !plan.unplaced.is_empty() {
            printer.line("")?;
            let rows: Vec<Vec<String>> = plan
                .unplaced
                .iter()
                .map(|u| vec![u.repair_order.clone(), u.reason.clone(), u.detail.clone()])
                .collect();
            printer.line(&render_table(&["UNPLACED ORDER", "REASON", "DETAIL"], &rows))?;
        }
        printer.line(&format!(
            "\n{} of {} open orders placed over {} offers; total cost {}",
            plan.assignments.len(),
            plan.open_orders,
            plan.offers,
            dollars(plan.total_cost_cents)
        ))?;
    }
    if commit {
        let done = allocation
            .commit(CommitAllocationRequest { assignments: plan.assignments })
            .await
            .map_err(status)?
            .into_inner();
        if printer.is_json() {
            return printer.json_line(&done);
        }
        let proposed = done.results.iter().filter(|r| r.proposed).count();
        printer.line(&format!("committed: {proposed} order(s) proposed to their providers"))?;
        for r in done.results.iter().filter(|r| !r.proposed) {
            printer.line(&format!("  not proposed: {} ({})", r.repair_order, r.error))?;
        }
    }
    Ok(())
}
