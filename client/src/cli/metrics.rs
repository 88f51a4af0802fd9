//! `cosx metrics availability` and `cosx target set|list`: DoD Instruction
//! 3110.05 availability metrics as tables (or proto3 JSON), and the A_M / A_O
//! targets they are judged against. Rounding happens here, at display only.

use clap::{Args, Subcommand};
use cosx_proto::v1::{
    AvailabilityGrouping, AvailabilityTarget, GetAvailabilityMetricsRequest, ListAvailabilityTargetsRequest,
    MilitaryDepartment, Region, SetAvailabilityTargetRequest,
};

use super::output::{Printer, render_table};
use crate::enums::{self, display};
use crate::{Client, ClientError};

/// `cosx metrics ...`
#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// A_M, A_O and C/DA per group, with rolling averages and exception flags.
    Availability(AvailabilityArgs),
}

/// Filters and grouping of `cosx metrics availability`.
#[derive(Debug, Args)]
pub struct AvailabilityArgs {
    /// Only this TMS (or ship class).
    #[arg(long)]
    pub tms: Option<String>,
    /// Only this fleet owner.
    #[arg(long)]
    pub owner: Option<String>,
    /// Only this Military Department (army, navy, air-force).
    #[arg(long, value_parser = enums::parse::<MilitaryDepartment>)]
    pub department: Option<MilitaryDepartment>,
    /// Only owners of this nation (ISO alpha-3).
    #[arg(long)]
    pub nation: Option<String>,
    /// Only this region (indopacom, eucom, ...).
    #[arg(long, value_parser = enums::parse::<Region>)]
    pub region: Option<Region>,
    /// Only timeframes starting on or after this date (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Only timeframes ending on or before this date (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Group by tms-timeframe (default), owner, department, nation or region.
    #[arg(long, value_parser = enums::parse::<AvailabilityGrouping>)]
    pub group_by: Option<AvailabilityGrouping>,
    /// Also list every reported asset.
    #[arg(long)]
    pub assets: bool,
}

/// `cosx target ...`
#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// Set the caller's A_M / A_O targets for one TMS (fractions, e.g. 0.75).
    Set {
        /// TMS or ship class.
        #[arg(long)]
        tms: String,
        /// Owner: the calling party itself (a party sets only its own targets).
        #[arg(long)]
        owner: String,
        /// A_M target in (0, 1].
        #[arg(long)]
        a_m: Option<f64>,
        /// A_O target in (0, 1].
        #[arg(long)]
        a_o: Option<f64>,
    },
    /// List the targets the caller may see.
    List {
        /// Only this owner.
        #[arg(long)]
        owner: Option<String>,
        /// Only this TMS.
        #[arg(long)]
        tms: Option<String>,
    },
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_default()
}

fn flag(fires: bool) -> String {
    if fires { "YES".into() } else { "no".into() }
}

/// Runs `cosx metrics ...`.
pub(crate) async fn run(client: &Client, cmd: MetricsCommand, printer: &Printer) -> Result<(), ClientError> {
    let MetricsCommand::Availability(a) = cmd;
    let request = GetAvailabilityMetricsRequest {
        tms: a.tms.unwrap_or_default(),
        owner: a.owner.unwrap_or_default(),
        department: a.department.map_or(0, |d| d as i32),
        nation: a.nation.unwrap_or_default(),
        region: a.region.map_or(0, |r| r as i32),
        from_date: a.from.unwrap_or_default(),
        to_date: a.to.unwrap_or_default(),
        group_by: a.group_by.map_or(0, |g| g as i32),
        include_assets: a.assets,
        review_fiscal_year: None,
    };
    let m = client
        .signals()
        .get_availability_metrics(request)
        .await
        .map_err(|s| ClientError::Status(Box::new(s)))?
        .into_inner();
    if printer.is_json() {
        return printer.json_line(&m);
    }
    let rows: Vec<Vec<String>> = m
        .metrics
        .iter()
        .map(|x| {
            let group = [
                x.tms.clone(),
                if x.timeframe_start.is_empty() {
                    String::new()
                } else {
                    format!("{}..{}", x.timeframe_start, x.timeframe_end)
                },
                x.owner.clone(),
                if x.department == 0 { String::new() } else { display::<MilitaryDepartment>(x.department) },
                x.nation.clone(),
                if x.region == 0 { String::new() } else { display::<Region>(x.region) },
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            let tai = x.tai_time.unwrap_or_default();
            vec![
                group,
                x.reports.to_string(),
                x.tai_inventory.to_string(),
                x.pmai_inventory.to_string(),
                format!("{:.1}", tai.possible),
                format!("{:.1}", tai.upnr_unaccounted + tai.upnr_missing_assets),
                pct(x.a_m),
                pct(x.a_o),
                x.cost_per_day_of_availability.map(|c| format!("${:.2}", c / 100.0)).unwrap_or_default(),
            ]
        })
        .collect();
    printer.line(&render_table(
        &["GROUP", "REPORTS", "TAI", "PMAI", "POSSIBLE DAYS", "UPNR RECONCILED", "A_M", "A_O", "C/DA"],
        &rows,
    ))?;
    if !m.health.is_empty() {
        printer.line("")?;
        let rows: Vec<Vec<String>> = m
            .health
            .iter()
            .map(|h| {
                let am = h.high_non_availability_a_m.unwrap_or_default();
                let ao = h.high_non_availability_a_o.unwrap_or_default();
                vec![
                    h.owner.clone(),
                    h.tms.clone(),
                    format!("{}..{} ({} mo)", h.window_start, h.window_end, h.months_with_data),
                    pct(h.rolling_a_m),
                    pct(h.target_a_m),
                    pct(h.rolling_a_o),
                    pct(h.target_a_o),
                    flag(am.fires || ao.fires),
                    flag(h.excessive_cda),
                ]
            })
            .collect();
        printer.line(&render_table(
            &["OWNER", "TMS", "6-MONTH WINDOW", "A_M", "TARGET", "A_O", "TARGET", "HIGH NON-AVAIL", "EXCESSIVE C/DA"],
            &rows,
        ))?;
    }
    if !m.assets.is_empty() {
        printer.line("")?;
        let rows: Vec<Vec<String>> = m
            .assets
            .iter()
            .map(|a| {
                let t = a.time.unwrap_or_default();
                vec![
                    a.owner.clone(),
                    a.tms.clone(),
                    a.serial.clone(),
                    format!("{}..{}", a.timeframe_start, a.timeframe_end),
                    if a.pmai { "PMAI".into() } else { String::new() },
                    format!("{:.2}", t.possible),
                    format!("{:.2}", t.available),
                    pct(a.availability),
                ]
            })
            .collect();
        printer.line(&render_table(
            &["OWNER", "TMS", "SERIAL", "TIMEFRAME", "", "POSSIBLE", "AVAILABLE", "AVAIL"],
            &rows,
        ))?;
    }
    printer.line(&format!("\n{} report(s) considered (current versions you may see)", m.reports_considered))
}

/// Runs `cosx target ...`.
pub(crate) async fn target(client: &Client, cmd: TargetCommand, printer: &Printer) -> Result<(), ClientError> {
    let status = |s| ClientError::Status(Box::new(s));
    let targets = match cmd {
        TargetCommand::Set { tms, owner, a_m, a_o } => {
            let request_id = format!("target-{owner}-{tms}-{}-{}", a_m.unwrap_or(-1.0), a_o.unwrap_or(-1.0));
            let request = SetAvailabilityTargetRequest {
                target: Some(AvailabilityTarget { owner, tms, a_m, a_o, ..Default::default() }),
                request_id,
                ..Default::default()
            };
            vec![client.exchange().set_availability_target(request).await.map_err(status)?.into_inner()]
        }
        TargetCommand::List { owner, tms } => {
            let request =
                ListAvailabilityTargetsRequest { owner: owner.unwrap_or_default(), tms: tms.unwrap_or_default() };
            client.exchange().list_availability_targets(request).await.map_err(status)?.into_inner().targets
        }
    };
    if printer.is_json() {
        return targets.iter().try_for_each(|t| printer.json_line(t));
    }
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| vec![t.name.clone(), t.owner.clone(), t.tms.clone(), pct(t.a_m), pct(t.a_o), t.version.to_string()])
        .collect();
    printer.line(&render_table(&["NAME", "OWNER", "TMS", "A_M", "A_O", "VERSION"], &rows))
}
