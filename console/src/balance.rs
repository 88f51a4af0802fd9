//! The 50/50 balance (10 U.S.C. 2466) per Military Department and fiscal
//! year: the contract share against the warning threshold and the 50 %
//! limit, the work it is judged on part by part, shares by provider nation
//! and region, and the utilization of each provider's offered capacity, all
//! from `GetWorkloadBalance` as the page's party (a breakdown refused to it
//! stays refused). Must never: add up or divide figures itself.

use axum::extract::{Query, State};
use axum::http::Extensions;
use cosx_edge::json::Local;
use cosx_proto::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use crate::chart::{Rule, Series, bars, lines};
use crate::pages::{Page, balance_name, balance_of, csv_link, department_name, dollars, page, pct};
use crate::{PageError, csv};

#[derive(Deserialize, Default)]
pub(crate) struct TableQuery {
    table: Option<String>,
    format: Option<String>,
}

const DEPARTMENT_HEAD: [&str; 8] =
    ["department", "fiscal_year", "organic", "contract", "organic_hours", "contract_hours", "contract_share", "status"];
const PART_HEAD: [&str; 7] =
    ["department", "fiscal_year", "part", "organic", "contract", "organic_hours", "contract_hours"];
const MONTH_HEAD: [&str; 8] = [
    "department",
    "fiscal_year",
    "month",
    "organic",
    "contract",
    "organic_hours",
    "contract_hours",
    "cumulative_contract_share",
];
const SHARE_HEAD: [&str; 5] = ["key", "cents", "hours", "share_of_cents", "share_of_hours"];
const UTILIZATION_HEAD: [&str; 7] =
    ["provider", "period_start", "period_end", "unit", "offered", "used", "utilization"];

fn split_cells(w: &Option<pb::WorkSplit>) -> [String; 4] {
    let w = w.unwrap_or_default();
    [
        dollars(w.organic_cents),
        dollars(w.contract_cents),
        format!("{:.1}", w.organic_hours),
        format!("{:.1}", w.contract_hours),
    ]
}

fn share_rows(shares: &[pb::WorkShare]) -> Vec<Vec<String>> {
    shares
        .iter()
        .map(|s| {
            vec![
                s.key.clone(),
                dollars(s.cents),
                format!("{:.1}", s.hours),
                pct(s.share_of_cents),
                pct(s.share_of_hours),
            ]
        })
        .collect()
}

fn table(id: &str, head: &[&str], rows: &[Vec<String>]) -> Markup {
    html! {
        table id=(id) {
            thead { tr { @for h in head { th { (h) } } } }
            tbody { @for r in rows { tr { @for c in r { td { (c) } } } } }
        }
    }
}

/// The CSS class of a balance status: ok, warning or violation.
fn status_class(status: i32) -> &'static str {
    balance_name(status).strip_prefix("BALANCE_STATUS_").map_or("", |s| match s {
        "WARNING" => "warning",
        "VIOLATION" => "violation",
        _ => "ok",
    })
}

fn percent_tick(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// A chart of the share of contract dollars by `what` (nation or region).
fn share_chart(what: &str, shares: &[pb::WorkShare]) -> Markup {
    let labels: Vec<String> = shares.iter().map(|s| s.key.clone()).collect();
    let values: Vec<(Option<f64>, &str)> = shares.iter().map(|s| (s.share_of_cents, "share")).collect();
    let top = shares.iter().filter_map(|s| s.share_of_cents).fold(0.0, f64::max);
    bars(&format!("share of dollars by {what}"), &labels, &values, &[], (what, "share of dollars"), top, &percent_tick)
}

/// 50/50 balance per Military Department and fiscal year, with its breakdowns.
pub(crate) async fn balance(State(local): State<Local>, ext: Extensions, Query(q): Query<TableQuery>) -> Page {
    let b = balance_of(&local, &ext).await?;
    let departments: Vec<Vec<String>> = b
        .departments
        .iter()
        .map(|d| {
            let mut row = vec![department_name(d.department).to_owned(), d.fiscal_year.to_string()];
            row.extend(split_cells(&d.projected));
            row.extend([pct(d.contract_share), balance_name(d.status).to_owned()]);
            row
        })
        .collect();
    let parts: Vec<Vec<String>> = b
        .departments
        .iter()
        .flat_map(|d| {
            [
                ("baseline (outside the exchange)", &d.baseline),
                ("completed (actual)", &d.actual),
                ("accepted and in work (estimated)", &d.estimated),
                ("proposed", &d.proposed),
                ("counted by funds' fiscal year", &d.by_funds_year),
                ("counted by work date", &d.by_work_date),
                ("projected (judged on)", &d.projected),
            ]
            .into_iter()
            .map(move |(part, split)| {
                let mut row =
                    vec![department_name(d.department).to_owned(), d.fiscal_year.to_string(), part.to_owned()];
                row.extend(split_cells(split));
                row
            })
        })
        .collect();
    let months: Vec<Vec<String>> = b
        .departments
        .iter()
        .flat_map(|d| {
            d.by_month.iter().map(move |m| {
                let mut row =
                    vec![department_name(d.department).to_owned(), d.fiscal_year.to_string(), m.month.clone()];
                row.extend(split_cells(&m.work));
                row.push(pct(m.cumulative_contract_share));
                row
            })
        })
        .collect();
    let nations = share_rows(&b.by_nation);
    let regions = share_rows(&b.by_region);
    let utilization: Vec<Vec<String>> = b
        .utilization
        .iter()
        .map(|u| {
            vec![
                u.provider.clone(),
                u.period_start.clone(),
                u.period_end.clone(),
                pb::CapacityUnit::try_from(u.unit).map(|x| x.as_str_name()).unwrap_or("").to_owned(),
                format!("{:.1}", u.offered),
                format!("{:.1}", u.used),
                pct(u.utilization),
            ]
        })
        .collect();
    if q.format.as_deref() == Some("csv") {
        let (name, head, rows): (&str, &[&str], &[Vec<String>]) = match q.table.as_deref().unwrap_or("departments") {
            "departments" => ("balance", &DEPARTMENT_HEAD, &departments),
            "parts" => ("balance-parts", &PART_HEAD, &parts),
            "months" => ("balance-by-month", &MONTH_HEAD, &months),
            "nations" => ("balance-by-nation", &SHARE_HEAD, &nations),
            "regions" => ("balance-by-region", &SHARE_HEAD, &regions),
            "utilization" => ("utilization", &UTILIZATION_HEAD, &utilization),
            other => return Err(PageError::bad_request(format!("table: no table {other:?} on this page"))),
        };
        return Ok(csv::download(name, head, rows));
    }
    let labels: Vec<String> =
        b.departments.iter().map(|d| format!("{} FY{}", department_name(d.department), d.fiscal_year)).collect();
    let labels: Vec<String> = labels.iter().map(|l| l.trim_start_matches("MILITARY_DEPARTMENT_").to_owned()).collect();
    let shares: Vec<(Option<f64>, &str)> =
        b.departments.iter().map(|d| (d.contract_share, status_class(d.status))).collect();
    let rules = [
        Rule {
            name: format!("warning {:.0} %", b.warning_percent),
            class: "warning",
            value: b.warning_percent / 100.0,
        },
        Rule { name: "limit 50 %".into(), class: "limit", value: 0.5 },
    ];
    let top = b.departments.iter().filter_map(|d| d.contract_share).fold(0.5, f64::max);
    let month_chart = {
        let labels: Vec<String> = b
            .departments
            .iter()
            .flat_map(|d| d.by_month.iter().map(|m| m.month.clone()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let names: Vec<String> = b
            .departments
            .iter()
            .map(|d| {
                format!(
                    "{} FY{}",
                    department_name(d.department).trim_start_matches("MILITARY_DEPARTMENT_"),
                    d.fiscal_year
                )
            })
            .collect();
        const CLASSES: [&str; 4] = ["s0", "s1", "s2", "s3"];
        let series: Vec<Series<'_>> = b
            .departments
            .iter()
            .zip(&names)
            .enumerate()
            .map(|(i, (d, name))| Series {
                name,
                class: CLASSES[i % CLASSES.len()],
                values: labels
                    .iter()
                    .map(|l| d.by_month.iter().find(|m| &m.month == l).and_then(|m| m.cumulative_contract_share))
                    .collect(),
            })
            .collect();
        let top = b
            .departments
            .iter()
            .flat_map(|d| d.by_month.iter().filter_map(|m| m.cumulative_contract_share))
            .fold(0.5, f64::max);
        lines(
            "contract share of the exchange's work through the year",
            &labels,
            &series,
            &rules,
            ("month of the work", "contract share so far"),
            top,
            &percent_tick,
        )
    };
    let utilization_chart = {
        let labels: Vec<String> = b.utilization.iter().map(|u| format!("{} {}", u.provider, u.period_start)).collect();
        let values: Vec<(Option<f64>, &str)> = b.utilization.iter().map(|u| (u.utilization, "utilization")).collect();
        let top = b.utilization.iter().filter_map(|u| u.utilization).fold(1.0, f64::max);
        let full = [Rule { name: "fully used".into(), class: "limit", value: 1.0 }];
        bars(
            "utilization of offered capacity",
            &labels,
            &values,
            &full,
            ("provider and period", "used / offered"),
            top,
            &percent_tick,
        )
    };
    page(
        "50/50 balance",
        html! {
            h1 { "50/50 balance" }
            p { "Warning at " (format!("{:.0}", b.warning_percent)) " %, limit 50 % (projected, proposed work included)." }
            (bars("contract share by department and fiscal year", &labels, &shares, &rules, ("department and fiscal year", "contract share of dollars"), top, &percent_tick))
            table #balance {
                thead { tr { @for h in DEPARTMENT_HEAD { th { (h) } } } }
                tbody { @for (d, r) in b.departments.iter().zip(&departments) { tr class=(status_class(d.status)) { @for c in r { td { (c) } } } } }
            }
            (csv_link("/console/balance?table=departments"))
            h2 { "What each share is judged on" }
            p { "Projected = completed + accepted and in work + baseline (+ proposed); the exchange's part of it is counted by its funds' fiscal year where known, else by its work date." }
            (table("parts", &PART_HEAD, &parts))
            (csv_link("/console/balance?table=parts"))
            h2 { "By month through the year" }
            p { "The exchange's work counted in each fiscal year by the month of its work date, and the contract share of it so far (the baseline, entered per year, is not dated and left out)." }
            (month_chart)
            (table("by-month", &MONTH_HEAD, &months))
            (csv_link("/console/balance?table=months"))
            h2 { "Shares by provider nation" }
            (share_chart("nation", &b.by_nation))
            (table("by-nation", &SHARE_HEAD, &nations))
            (csv_link("/console/balance?table=nations"))
            h2 { "Shares by provider region" }
            (share_chart("region", &b.by_region))
            (table("by-region", &SHARE_HEAD, &regions))
            (csv_link("/console/balance?table=regions"))
            h2 { "Utilization of offered capacity" }
            (utilization_chart)
            (table("utilization", &UTILIZATION_HEAD, &utilization))
            (csv_link("/console/balance?table=utilization"))
        },
    )
}
