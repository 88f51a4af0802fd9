//! Availability (DoDI 3110.05): per owner × TMS the rolling A_M and A_O
//! against the owner's targets and the exception flags (high
//! non-availability, excessive C/DA), each fleet's six-month trend, and the
//! drill-down to the inputs of every figure and the per-asset rows. All from
//! `GetAvailabilityMetrics` as the page's party. Must never: compute a
//! rate, an average or a flag; the service computes them.

use axum::extract::{Query, State};
use axum::http::Extensions;
use cosx_edge::json::Local;
use cosx_proto::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use crate::chart::{Rule, Series, lines};
use crate::pages::{Page, SIGNALS, csv_link, dollars, encode, page, pct};
use crate::{PageError, csv};

async fn metrics(
    local: &Local,
    ext: &Extensions,
    request: pb::GetAvailabilityMetricsRequest,
) -> Result<pb::GetAvailabilityMetricsResponse, PageError> {
    Ok(local.call(ext, &format!("{SIGNALS}GetAvailabilityMetrics"), &request).await?)
}

fn cda(v: Option<f64>) -> String {
    v.map(|c| dollars(c.round() as i64)).unwrap_or_else(|| "–".into())
}

fn table(id: &str, head: &[&str], rows: &[Vec<String>]) -> Markup {
    html! {
        table id=(id) {
            thead { tr { @for h in head { th { (h) } } } }
            tbody { @for r in rows { tr { @for c in r { td { (c) } } } } }
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct TableQuery {
    table: Option<String>,
    format: Option<String>,
}

const HEALTH_HEAD: [&str; 12] = [
    "owner",
    "tms",
    "window_start",
    "window_end",
    "months_with_data",
    "rolling_a_m",
    "target_a_m",
    "rolling_a_o",
    "target_a_o",
    "high_non_availability_a_m",
    "high_non_availability_a_o",
    "excessive_cda",
];

/// Timeframes per TMS the availability page shows (the latest), and
/// timeframes of inputs a fleet's page shows: a page stays one screenful
/// however long the history, and every table's CSV holds all of it.
const SHOWN_PER_TMS: usize = 12;
const SHOWN_INPUTS: usize = 24;

/// The last `n` of `rows`.
fn latest<T>(rows: &[T], n: usize) -> &[T] {
    &rows[rows.len().saturating_sub(n)..]
}

const METRIC_HEAD: [&str; 7] = ["tms", "timeframe_start", "timeframe_end", "reports", "a_m", "a_o", "cda_usd_per_day"];

fn flag(fires: bool) -> String {
    if fires { "FLAGGED".into() } else { "no".into() }
}

fn health_rows(health: &[pb::TmsHealth]) -> Vec<Vec<String>> {
    health
        .iter()
        .map(|h| {
            let fires = |c: &Option<pb::NonAvailabilityCheck>| flag(c.as_ref().is_some_and(|c| c.fires));
            vec![
                h.owner.clone(),
                h.tms.clone(),
                h.window_start.clone(),
                h.window_end.clone(),
                h.months_with_data.to_string(),
                pct(h.rolling_a_m),
                pct(h.target_a_m),
                pct(h.rolling_a_o),
                pct(h.target_a_o),
                fires(&h.high_non_availability_a_m),
                fires(&h.high_non_availability_a_o),
                if h.excessive_cda { format!("FLAGGED (FY{})", h.excessive_cda_fiscal_year) } else { "no".into() },
            ]
        })
        .collect()
}

/// The latest [`SHOWN_PER_TMS`] metrics of each TMS (the service answers
/// them in TMS, then timeframe order).
fn latest_per_tms(metrics: &[pb::AvailabilityMetric]) -> Vec<pb::AvailabilityMetric> {
    metrics.chunk_by(|a, b| a.tms == b.tms).flat_map(|tms| latest(tms, SHOWN_PER_TMS)).cloned().collect()
}

fn metric_rows(metrics: &[pb::AvailabilityMetric]) -> Vec<Vec<String>> {
    metrics.iter().map(|m| std::iter::once(m.tms.clone()).chain(metric_cells(m)).collect()).collect()
}

/// A metric's timeframe and figures, as every table shows them (after its TMS where it has one).
fn metric_cells(m: &pb::AvailabilityMetric) -> Vec<String> {
    vec![
        m.timeframe_start.clone(),
        m.timeframe_end.clone(),
        m.reports.to_string(),
        pct(m.a_m),
        pct(m.a_o),
        cda(m.cost_per_day_of_availability),
    ]
}

/// Availability: the fleets' health and flags, and A_M, A_O, C/DA per TMS and timeframe.
pub(crate) async fn availability(State(local): State<Local>, ext: Extensions, Query(q): Query<TableQuery>) -> Page {
    let r = metrics(&local, &ext, pb::GetAvailabilityMetricsRequest::default()).await?;
    let health = health_rows(&r.health);
    if q.format.as_deref() == Some("csv") {
        return match q.table.as_deref() {
            Some("health") => Ok(csv::download("availability-health", &HEALTH_HEAD, &health)),
            None | Some("metrics") => Ok(csv::download("availability", &METRIC_HEAD, &metric_rows(&r.metrics))),
            Some(other) => Err(PageError::bad_request(format!("table: no table {other:?} on this page"))),
        };
    }
    page(
        "Availability",
        html! {
            h1 { "Availability" }
            p { span #reports-considered { (r.reports_considered) } " reports considered (current versions)." }
            h2 { "Fleets: six-month rolling averages against targets, DoDI 3110.05 flags" }
            p { "High non-availability fires when the rolling average is at or below 75 % of the target; excessive C/DA when it grew more than 10 % a year. Open a fleet for its trend, the inputs of each figure and its assets." }
            table #health {
                thead { tr { @for h in HEALTH_HEAD { th { (h) } } } }
                tbody { @for (h, row) in r.health.iter().zip(&health) { tr {
                    td { a href=(format!("/console/availability/fleet?owner={}&tms={}", encode(&h.owner), encode(&h.tms))) { (row[0]) } }
                    @for (i, c) in row[1..].iter().enumerate() {
                        td class=(if c.starts_with("FLAGGED") { "flag" } else if (3..=7).contains(&i) { "num" } else { "" }) { (c) }
                    }
                } } }
            }
            (csv_link("/console/availability?table=health"))
            h2 { "A_M, A_O and C/DA per TMS and timeframe" }
            @let shown = latest_per_tms(&r.metrics);
            p { "The latest " (SHOWN_PER_TMS) " timeframes of each TMS: " span #metrics-shown { (shown.len()) } " of " (r.metrics.len()) " rows; the CSV has every timeframe." }
            (table("availability", &METRIC_HEAD, &metric_rows(&shown)))
            (csv_link("/console/availability?table=metrics"))
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct FleetQuery {
    owner: String,
    tms: String,
    table: Option<String>,
    format: Option<String>,
}

const TREND_HEAD: [&str; 6] = ["timeframe_start", "timeframe_end", "reports", "a_m", "a_o", "cda_usd_per_day"];
const INPUT_HEAD: [&str; 16] = [
    "timeframe_start",
    "tai_inventory",
    "tai_possible_days",
    "tai_available_days",
    "a_m",
    "pmai_inventory",
    "pmai_possible_days",
    "pmai_available_days",
    "a_o",
    "nmcm_days",
    "nmcs_days",
    "depot_days",
    "upnr_reported",
    "upnr_unaccounted",
    "cda_cost_usd",
    "cda_usd_per_day",
];
const CHECK_HEAD: [&str; 7] =
    ["figure", "inventory", "threshold", "rolling_average", "target", "trigger_at_or_below", "fires"];
const CDA_HEAD: [&str; 5] = ["fiscal_year", "reports", "cda_cost_usd", "pmai_available_days", "cda_usd_per_day"];
const GROWTH_HEAD: [&str; 5] = ["fiscal_year", "previous", "current", "growth", "more_than_ten_percent"];
const ASSET_HEAD: [&str; 9] =
    ["serial", "timeframe_start", "timeframe_end", "pmai", "available", "nmcm", "nmcs", "depot", "availability"];

/// One fleet (owner × TMS): trend, flags with what they were judged from,
/// the inputs of every figure, and the per-asset rows.
pub(crate) async fn fleet(State(local): State<Local>, ext: Extensions, Query(q): Query<FleetQuery>) -> Page {
    if q.owner.is_empty() || q.tms.is_empty() {
        return Err(PageError::bad_request("owner, tms: both are required".into()));
    }
    let request = pb::GetAvailabilityMetricsRequest {
        owner: q.owner.clone(),
        tms: q.tms.clone(),
        include_assets: true,
        ..Default::default()
    };
    let r = metrics(&local, &ext, request).await?;
    let health = r.health.iter().find(|h| h.owner == q.owner && h.tms == q.tms).cloned().unwrap_or_default();
    let mut timeframes: Vec<&pb::AvailabilityMetric> = r.metrics.iter().collect();
    timeframes.sort_by(|a, b| a.timeframe_start.cmp(&b.timeframe_start));
    // The trend is the service's six-month window; its months are the metrics inside it.
    let trend: Vec<&pb::AvailabilityMetric> = timeframes
        .iter()
        .copied()
        .filter(|m| {
            !health.window_start.is_empty()
                && m.timeframe_start >= health.window_start
                && m.timeframe_end <= health.window_end
        })
        .collect();
    let trend_rows: Vec<Vec<String>> = trend.iter().map(|m| metric_cells(m)).collect();
    let input_rows: Vec<Vec<String>> = timeframes
        .iter()
        .map(|m| {
            let (t, p) = (m.tai_time.unwrap_or_default(), m.pmai_time.unwrap_or_default());
            let c = m.costs.clone().unwrap_or_default();
            vec![
                m.timeframe_start.clone(),
                m.tai_inventory.to_string(),
                format!("{:.1}", t.possible),
                format!("{:.1}", t.available),
                pct(m.a_m),
                m.pmai_inventory.to_string(),
                format!("{:.1}", p.possible),
                format!("{:.1}", p.available),
                pct(m.a_o),
                format!("{:.1}", t.nmcm),
                format!("{:.1}", t.nmcs),
                format!("{:.1}", t.depot),
                format!("{:.1}", t.upnr_reported),
                format!("{:.1}", t.upnr_unaccounted + t.upnr_missing_assets),
                dollars(c.cda_cents),
                cda(m.cost_per_day_of_availability),
            ]
        })
        .collect();
    let check_row = |figure: &str, c: &Option<pb::NonAvailabilityCheck>| {
        let c = c.unwrap_or_default();
        vec![
            figure.to_owned(),
            c.inventory.to_string(),
            c.threshold.to_string(),
            pct(c.rolling_average),
            pct(c.target),
            pct(c.trigger_at_or_below),
            flag(c.fires),
        ]
    };
    let check_rows =
        vec![check_row("A_M", &health.high_non_availability_a_m), check_row("A_O", &health.high_non_availability_a_o)];
    let cda_rows: Vec<Vec<String>> = health
        .cda_by_fiscal_year
        .iter()
        .map(|y| {
            vec![
                y.fiscal_year.to_string(),
                y.reports.to_string(),
                dollars(y.cda_cents),
                format!("{:.1}", y.pmai_available_days),
                cda(y.cost_per_day_of_availability),
            ]
        })
        .collect();
    let growth_rows: Vec<Vec<String>> = health
        .cda_growth
        .iter()
        .map(|g| {
            vec![
                g.fiscal_year.to_string(),
                cda(g.previous),
                cda(g.current),
                pct(g.growth),
                if g.more_than_ten_percent { "yes".into() } else { "no".into() },
            ]
        })
        .collect();
    let asset_rows: Vec<Vec<String>> = r
        .assets
        .iter()
        .filter(|a| a.owner == q.owner && a.tms == q.tms)
        .map(|a| {
            let t = a.time.unwrap_or_default();
            vec![
                a.serial.clone(),
                a.timeframe_start.clone(),
                a.timeframe_end.clone(),
                if a.pmai { "yes".into() } else { "no".into() },
                format!("{:.1}", t.available),
                format!("{:.1}", t.nmcm),
                format!("{:.1}", t.nmcs),
                format!("{:.1}", t.depot),
                pct(a.availability),
            ]
        })
        .collect();
    if q.format.as_deref() == Some("csv") {
        let (name, head, rows): (&str, &[&str], &[Vec<String>]) = match q.table.as_deref().unwrap_or("trend") {
            "trend" => ("trend", &TREND_HEAD, &trend_rows),
            "inputs" => ("inputs", &INPUT_HEAD, &input_rows),
            "checks" => ("checks", &CHECK_HEAD, &check_rows),
            "cda" => ("cda-by-fiscal-year", &CDA_HEAD, &cda_rows),
            "growth" => ("cda-growth", &GROWTH_HEAD, &growth_rows),
            "assets" => ("assets", &ASSET_HEAD, &asset_rows),
            other => return Err(PageError::bad_request(format!("table: no table {other:?} on this page"))),
        };
        return Ok(csv::download(name, head, rows));
    }
    let labels: Vec<String> = trend.iter().map(|m| m.timeframe_start.get(..7).unwrap_or("").to_owned()).collect();
    let mut rules = Vec::new();
    if let Some(t) = health.target_a_m {
        rules.push(Rule { name: format!("A_M target {}", pct(Some(t))), class: "target-am", value: t });
    }
    if let Some(t) = health.target_a_o {
        rules.push(Rule { name: format!("A_O target {}", pct(Some(t))), class: "target-ao", value: t });
    }
    let series = [
        Series { name: "A_M", class: "am", values: trend.iter().map(|m| m.a_m).collect() },
        Series { name: "A_O", class: "ao", values: trend.iter().map(|m| m.a_o).collect() },
    ];
    let link = |table: &str| {
        csv_link(&format!(
            "/console/availability/fleet?owner={}&tms={}&table={table}",
            encode(&q.owner),
            encode(&q.tms)
        ))
    };
    page(
        "Fleet availability",
        html! {
            h1 { (q.owner) " · " (q.tms) }
            p { "Six-month window " (health.window_start) " to " (health.window_end) ", " (health.months_with_data) " months with data; rolling A_M "
                strong #rolling-a-m { (pct(health.rolling_a_m)) } ", rolling A_O " strong #rolling-a-o { (pct(health.rolling_a_o)) } "." }
            h2 { "Six-month trend" }
            (lines("A_M and A_O by month", &labels, &series, &rules, ("month", "availability"), 1.0, &|v| format!("{:.0}%", v * 100.0)))
            (table("trend", &TREND_HEAD, &trend_rows))
            (link("trend"))
            h2 { "High non-availability (DoDI 3110.05)" }
            (table("checks", &CHECK_HEAD, &check_rows))
            (link("checks"))
            h2 { "Excessive C/DA" }
            p #excessive-cda { "Review fiscal year FY" (health.excessive_cda_fiscal_year) ", judged from FY"
                (health.excessive_cda_source_fiscal_years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", FY"))
                ": " strong { (if health.excessive_cda { "FLAGGED" } else { "not flagged" }) } "." }
            (table("cda", &CDA_HEAD, &cda_rows))
            (link("cda"))
            (table("growth", &GROWTH_HEAD, &growth_rows))
            (link("growth"))
            h2 { "Inputs of each figure" }
            p { "A_M = TAI available / TAI possible days; A_O = PMAI available / PMAI possible days; C/DA = C/DA cost (elements 1.2, 3.1, 3.2) / PMAI available days. Unaccounted UPNR includes assets missing from a report." }
            p { "The latest " (latest(&input_rows, SHOWN_INPUTS).len()) " of " (input_rows.len()) " timeframes; the CSV has every one." }
            (table("inputs", &INPUT_HEAD, latest(&input_rows, SHOWN_INPUTS)))
            (link("inputs"))
            h2 { "Assets" }
            (table("assets", &ASSET_HEAD, &asset_rows))
            (link("assets"))
        },
    )
}
