//! The console's pages. Each handler asks the listener's services (as the
//! page's party, through [`Local::call`]) and renders what they answer.
//! Must never: compute a figure the services compute, or trust a form field
//! the services do not check again.

use std::collections::BTreeMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{Extensions, HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use cosx_edge::json::Local;
use cosx_proto::v1 as pb;
use maud::{DOCTYPE, Markup, html};
use prost::Message;
use serde::Deserialize;

use crate::{PageError, csv, same_origin};

pub(crate) type Page = Result<Response, PageError>;

pub(crate) const EXCHANGE: &str = "/cosx.v1.Exchange/";
pub(crate) const SIGNALS: &str = "/cosx.v1.Signals/";
pub(crate) const COMMENTS: &str = "/cosx.v1.Comments/";
pub(crate) const PAGE_SIZE: i32 = 50;
/// The feed's alert events as server-sent events, with checkpoints so the
/// page's script knows when the replay of past alerts ends.
const LIVE_ALERTS: &str = "/v1/events?checkpoints=true&kinds=EVENT_KIND_BOTTLENECK_RAISED&kinds=EVENT_KIND_BOTTLENECK_CLEARED\
     &kinds=EVENT_KIND_BALANCE_WARNING&kinds=EVENT_KIND_BALANCE_VIOLATION&kinds=EVENT_KIND_BALANCE_CLEARED";

/// The frame every page shares.
pub(crate) fn layout(title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { (title) " · cosx console" }
                    link rel="stylesheet" href="/console/static/console.css";
                    script src="/console/static/console.js" defer {}
                }
                body {
                    nav {
                        a href="/console" { "Overview" }
                        a href="/console/demand" { "Regional demand" }
                        a href="/console/capacity" { "Capacity gaps" }
                        a href="/console/balance" { "50/50 balance" }
                        a href="/console/availability" { "Availability" }
                        a href="/console/orders" { "Orders" }
                        a href="/console/offers" { "Offers" }
                        a href="/console/reports" { "Reports" }
                        a href="/console/allocation" { "Allocation" }
                    }
                    main { (body) }
                }
            }
        }
        .into_string(),
    )
}

pub(crate) fn page(title: &str, body: Markup) -> Page {
    Ok(layout(title, body).into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct Format {
    format: Option<String>,
}

impl Format {
    fn csv(&self) -> bool {
        self.format.as_deref() == Some("csv")
    }
}

pub(crate) fn csv_link(path: &str) -> Markup {
    let sep = if path.contains('?') { '&' } else { '?' };
    html! { p.download { a href=(format!("{path}{sep}format=csv")) { "Download CSV" } } }
}

fn state_name(state: i32) -> &'static str {
    pb::RepairOrderState::try_from(state).map(|s| s.as_str_name()).unwrap_or("UNKNOWN")
}

pub(crate) fn region_name(region: i32) -> &'static str {
    pb::Region::try_from(region).map(|s| s.as_str_name()).unwrap_or("UNKNOWN")
}

pub(crate) fn department_name(d: i32) -> &'static str {
    pb::MilitaryDepartment::try_from(d).map(|s| s.as_str_name()).unwrap_or("UNKNOWN")
}

pub(crate) fn balance_name(s: i32) -> &'static str {
    pb::BalanceStatus::try_from(s).map(|s| s.as_str_name()).unwrap_or("UNKNOWN")
}

pub(crate) fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "–".into())
}

pub(crate) fn dollars(cents: i64) -> String {
    format!("{:.2}", cents as f64 / 100.0)
}

pub(crate) fn time(t: &Option<cosx_proto::pbjson_types::Timestamp>) -> String {
    t.as_ref().map(|t| format!("{}.{:03}", t.seconds, t.nanos / 1_000_000)).unwrap_or_default()
}

async fn comparison(
    local: &Local,
    ext: &Extensions,
    filter: Option<pb::DemandFilter>,
) -> Result<pb::GetCapacityComparisonResponse, PageError> {
    let request = pb::GetCapacityComparisonRequest {
        granularity: pb::Granularity::Month as i32,
        filter,
        forecast_periods: 6,
        ..Default::default()
    };
    Ok(local.call(ext, &format!("{SIGNALS}GetCapacityComparison"), &request).await?)
}

pub(crate) async fn balance_of(local: &Local, ext: &Extensions) -> Result<pb::GetWorkloadBalanceResponse, PageError> {
    let request = pb::GetWorkloadBalanceRequest { include_proposed: true, ..Default::default() };
    Ok(local.call(ext, &format!("{SIGNALS}GetWorkloadBalance"), &request).await?)
}

/// None when the service refuses the party this answer (PERMISSION_DENIED).
pub(crate) fn allowed<T>(answer: Result<T, PageError>) -> Result<Option<T>, PageError> {
    match answer {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.status == axum::http::StatusCode::FORBIDDEN => Ok(None),
        Err(e) => Err(e),
    }
}

/// Overview: open alerts, order counts by state, parties.
pub(crate) async fn overview(State(local): State<Local>, ext: Extensions, Query(f): Query<Format>) -> Page {
    // Counted by the service from its views, not by listing every order.
    let counts: pb::GetOrderCountsResponse =
        local.call(&ext, &format!("{SIGNALS}GetOrderCounts"), &pb::GetOrderCountsRequest {}).await?;
    let rows: Vec<Vec<String>> =
        counts.counts.iter().map(|c| vec![state_name(c.state).to_owned(), c.orders.to_string()]).collect();
    if f.csv() {
        return Ok(csv::download("orders-by-state", &["state", "orders"], &rows));
    }
    // A section the service refuses this party is left out, as the API leaves it out.
    let gaps = allowed(comparison(&local, &ext, None).await)?.unwrap_or_default();
    let bottlenecks: Vec<_> = gaps.rows.iter().filter(|r| r.bottleneck).collect();
    let balance = allowed(balance_of(&local, &ext).await)?.unwrap_or_default();
    let warnings: Vec<_> = balance.departments.iter().filter(|d| d.status > pb::BalanceStatus::Ok as i32).collect();
    let parties: pb::ListPartiesResponse = allowed(
        local
            .call(
                &ext,
                "/cosx.v1.Registry/ListParties",
                &pb::ListPartiesRequest { page_size: 1000, ..Default::default() },
            )
            .await
            .map_err(PageError::from),
    )?
    .unwrap_or_default();
    page(
        "Overview",
        html! {
            h1 { "Overview" }
            section #alerts {
                h2 { "Open alerts" }
                ul #live-alerts data-events=(LIVE_ALERTS) {
                    @for r in &bottlenecks {
                        li.alert.red { "Bottleneck " (region_name(r.key.as_ref().map_or(0, |k| k.region))) " "
                            (r.key.as_ref().map_or("", |k| k.tms.as_str())) " " (r.period.as_ref().map_or("", |p| p.label.as_str()))
                            ": " (r.demand_kind.to_lowercase()) " demand " (format!("{:.1}", r.demand)) " over capacity " (format!("{:.1}", r.capacity)) }
                    }
                    @for d in &warnings {
                        li.alert.orange { "50/50 " (balance_name(d.status)) ": " (department_name(d.department)) " FY" (d.fiscal_year)
                            " contract share " (pct(d.contract_share)) }
                    }
                    @if bottlenecks.is_empty() && warnings.is_empty() { li.none { "No open alerts." } }
                }
            }
            section {
                h2 { "Orders by state" }
                table #orders-by-state {
                    thead { tr { th { "State" } th { "Orders" } } }
                    tbody { @for r in &rows { tr { td { (r[0]) } td.num { (r[1]) } } } }
                    tfoot { tr { th { "All" } td.num #orders-total { (counts.total) } } }
                }
                (csv_link("/console"))
            }
            section {
                h2 { "Parties" }
                table {
                    thead { tr { th { "Party" } th { "Kind" } th { "Nation" } th { "Name" } th { "Suspended" } } }
                    tbody { @for p in &parties.parties { tr {
                        td { (p.party_id) }
                        td { (pb::PartyKind::try_from(p.kind).map(|k| k.as_str_name()).unwrap_or("")) }
                        td { (p.nation) } td { (p.display_name) } td { (if p.suspended { "yes" } else { "no" }) }
                    } } }
                }
            }
        },
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct OrderQuery {
    state: Option<String>,
    tms: Option<String>,
    page_token: Option<String>,
    format: Option<String>,
}

/// Orders: filtered (state, TMS) and paged as the API pages them.
pub(crate) async fn orders(State(local): State<Local>, ext: Extensions, Query(q): Query<OrderQuery>) -> Page {
    let state = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => pb::RepairOrderState::from_str_name(s)
            .map(|s| s as i32)
            .ok_or_else(|| PageError::bad_request(format!("state: no such state {s:?}")))?,
    };
    let tms = q.tms.clone().unwrap_or_default();
    let request = pb::ListRepairOrdersRequest {
        page_size: PAGE_SIZE,
        page_token: q.page_token.clone().unwrap_or_default(),
        state,
        tms: tms.clone(),
        ..Default::default()
    };
    let r: pb::ListRepairOrdersResponse = local.call(&ext, &format!("{EXCHANGE}ListRepairOrders"), &request).await?;
    let rows: Vec<Vec<String>> = r
        .repair_orders
        .iter()
        .map(|o| {
            vec![
                o.name.clone(),
                o.originator.clone(),
                o.tms.clone(),
                o.quantity.to_string(),
                state_name(o.state).to_owned(),
                o.provider.clone(),
                o.required_by.clone(),
            ]
        })
        .collect();
    let head = ["name", "originator", "tms", "quantity", "state", "provider", "required_by"];
    if q.format.as_deref() == Some("csv") {
        return Ok(csv::download("orders", &head, &rows));
    }
    let filter = format!("state={}&tms={}", q.state.clone().unwrap_or_default(), tms);
    page(
        "Orders",
        html! {
            h1 { "Repair orders" }
            form method="get" action="/console/orders" {
                label { "State " select name="state" {
                    option value="" { "any" }
                    @for s in 1..=11 { option value=(state_name(s)) selected[s == state] { (state_name(s)) } }
                } }
                label { " TMS " input name="tms" value=(tms); }
                button { "Filter" }
            }
            table #orders {
                thead { tr { @for h in head { th { (h) } } } }
                tbody { @for (o, row) in r.repair_orders.iter().zip(&rows) { tr {
                    td { a href=(format!("/console/orders/{}", o.name.trim_start_matches("repairOrders/"))) { (row[0]) } }
                    @for cell in &row[1..] { td { (cell) } }
                } } }
            }
            @if !r.next_page_token.is_empty() {
                p { a #next href=(format!("/console/orders?{}&page_token={}", encode(&filter), encode(&r.next_page_token))) { "Next page" } }
            }
            (csv_link(&format!("/console/orders?{}", encode(&filter))))
        },
    )
}

/// Percent-encodes what is not safe in a query (keeps `=` and `&` of `filter` strings out of values).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~=&".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One order and its lifecycle as a timeline. Another party's order answers
/// NOT_FOUND from the service, so it renders the same page as a missing one.
pub(crate) async fn order(State(local): State<Local>, ext: Extensions, Path(id): Path<String>) -> Page {
    let name = format!("repairOrders/{id}");
    let o: pb::RepairOrder = local
        .call(&ext, &format!("{EXCHANGE}GetRepairOrder"), &pb::GetRepairOrderRequest { name: name.clone() })
        .await?;
    let h: pb::GetRepairOrderHistoryResponse = local
        .call(&ext, &format!("{EXCHANGE}GetRepairOrderHistory"), &pb::GetRepairOrderHistoryRequest { name })
        .await?;
    let item = o.item.clone().unwrap_or_default();
    page(
        &o.name,
        html! {
            h1 { "Order " (o.name) }
            dl #order {
                dt { "Originator" } dd { (o.originator) }
                dt { "TMS" } dd { (o.tms) }
                dt { "Item" } dd { (item.nsn) " " (item.nomenclature) }
                dt { "Quantity" } dd #quantity { (o.quantity) }
                dt { "State" } dd #state { (state_name(o.state)) }
                dt { "Provider" } dd { (o.provider) }
                dt { "Required by" } dd { (o.required_by) }
                dt { "Department" } dd { (department_name(o.department)) }
                dt { "Labor hours (est.)" } dd { (o.estimated_labor_hours) }
                @if !o.parent.is_empty() { dt { "Split from" } dd { (o.parent) } }
                dt { "Version" } dd { (o.version) }
            }
            h2 { "History" }
            ol.timeline {
                @for t in &h.transitions { li {
                    span.when { (time(&t.time)) } " "
                    strong { (state_name(t.from_state)) " → " (state_name(t.to_state)) } " by " (t.actor)
                    @if !t.provider.is_empty() { " (provider " (t.provider) ")" }
                    @if !t.reason.is_empty() { ": " em { (t.reason) } }
                } }
            }
        },
    )
}

/// The Catena-X DCM colour of a demand against capacity and surge.
fn dcm_class(demand: f64, capacity: f64, surge: f64) -> &'static str {
    if demand <= capacity {
        "green"
    } else if demand <= capacity + surge {
        "orange"
    } else {
        "red"
    }
}

/// Regional demand: a heat map of region × TMS × month, with forecasts.
pub(crate) async fn demand(State(local): State<Local>, ext: Extensions, Query(f): Query<Format>) -> Page {
    let request = pb::GetDemandSignalRequest {
        granularity: pb::Granularity::Month as i32,
        forecast_periods: 6,
        forecast_measure: pb::DemandMeasure::Quantity as i32,
        ..Default::default()
    };
    let r: pb::GetDemandSignalResponse = local.call(&ext, &format!("{SIGNALS}GetDemandSignal"), &request).await?;
    let key = |k: &Option<pb::DemandCellKey>| k.as_ref().map(|k| (k.region, k.tms.clone())).unwrap_or_default();
    let mut months: Vec<String> = r.cells.iter().filter_map(|c| c.period.as_ref().map(|p| p.label.clone())).collect();
    months.sort();
    months.dedup();
    let mut grid: BTreeMap<(i32, String), BTreeMap<String, &pb::DemandCell>> = BTreeMap::new();
    for c in &r.cells {
        grid.entry(key(&c.key)).or_default().insert(c.period.as_ref().map(|p| p.label.clone()).unwrap_or_default(), c);
    }
    let forecasts: BTreeMap<(i32, String), &pb::CellForecast> = r.forecasts.iter().map(|f| (key(&f.key), f)).collect();
    let rows: Vec<Vec<String>> = r
        .cells
        .iter()
        .map(|c| {
            let (region, tms) = key(&c.key);
            vec![
                region_name(region).to_owned(),
                tms,
                c.period.as_ref().map(|p| p.label.clone()).unwrap_or_default(),
                if c.suppressed { "suppressed".into() } else { c.orders.to_string() },
                if c.suppressed { "".into() } else { c.quantity.to_string() },
                if c.suppressed { "".into() } else { format!("{:.1}", c.labor_hours) },
            ]
        })
        .collect();
    if f.csv() {
        return Ok(csv::download("demand", &["region", "tms", "month", "orders", "quantity", "labor_hours"], &rows));
    }
    let max = r.cells.iter().filter(|c| !c.suppressed).map(|c| c.quantity).max().unwrap_or(0).max(1);
    page(
        "Regional demand",
        html! {
            h1 { "Regional demand" }
            p { "Quantity per region, TMS and month; k = " (r.k) ", orders counted " span #orders-counted { (r.orders_counted) } "." }
            table.heat #demand {
                thead { tr { th { "Region" } th { "TMS" } @for m in &months { th { (m) } } th { "Forecast" } } }
                tbody { @for ((region, tms), cells) in &grid { tr {
                    th { (region_name(*region)) } th { (tms) }
                    @for m in &months {
                        @match cells.get(m) {
                            Some(c) if c.suppressed => td.suppressed { "·" },
                            Some(c) => td class=(format!("h{}", (c.quantity * 4).div_ceil(max))) {
                                a href=(format!("/console/demand/cell?region={}&tms={}", region_name(*region), encode(tms))) { (c.quantity) }
                            },
                            None => td.h0 { "" },
                        }
                    }
                    td.forecast { @if let Some(f) = forecasts.get(&(*region, tms.clone())) {
                        (f.pattern) " / " (f.method) ": "
                        @for p in &f.points { (format!("{:.1} ", p.point)) }
                    } }
                } } }
            }
            (csv_link("/console/demand"))
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct CellQuery {
    region: String,
    tms: String,
    format: Option<String>,
}

/// One cell's chart: demand bars (forecast with its band), capacity and surge lines.
pub(crate) async fn demand_cell(State(local): State<Local>, ext: Extensions, Query(q): Query<CellQuery>) -> Page {
    let region = pb::Region::from_str_name(&q.region)
        .ok_or_else(|| PageError::bad_request(format!("region: no such region {:?}", q.region)))?;
    let filter = pb::DemandFilter { regions: vec![region as i32], tms: vec![q.tms.clone()], ..Default::default() };
    let r = comparison(&local, &ext, Some(filter)).await?;
    let rows = comparison_rows(&r.rows);
    if q.format.as_deref() == Some("csv") {
        return Ok(csv::download("cell", &COMPARISON_HEAD, &rows));
    }
    let notes = cell_comments(&local, &ext, region, &q.tms).await?;
    page(
        "Demand cell",
        html! {
            h1 { (q.region) " · " (q.tms) }
            (chart(&r.rows))
            (comparison_table(&rows))
            (csv_link(&format!("/console/demand/cell?region={}&tms={}", q.region, encode(&q.tms))))
            @if let Some(notes) = notes {
                h2 { "Comments" }
                table #cell-comments {
                    thead { tr { th { "month" } th { "level" } th { "author" } th { "type" } th { "text" } } }
                    tbody { @for c in &notes {
                        @let key = c.demand_cell.clone().unwrap_or_default();
                        tr {
                            td { (key.month) }
                            td { (pb::MaintenanceLevel::try_from(key.level).map_or("", |l| l.as_str_name())) }
                            td { (c.author) }
                            td { (c.content.as_ref().and_then(|t| pb::CommentType::try_from(t.comment_type).ok())
                                .map_or("", |t| t.as_str_name())) }
                            td { (c.content.as_ref().map_or("", |t| t.text.as_str())) }
                        }
                    } }
                }
            }
        },
    )
}

/// The comments on the cell's series (every level and month of its region
/// and TMS), as the Comments service lists them in one listing; `None`
/// when it answers NOT_FOUND, as it does to anyone but a coordinator.
async fn cell_comments(
    local: &Local,
    ext: &Extensions,
    region: pb::Region,
    tms: &str,
) -> Result<Option<Vec<pb::Comment>>, PageError> {
    let series = pb::DemandCellRef { region: region as i32, tms: tms.to_owned(), level: 0, month: String::new() };
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = pb::ListCommentsRequest {
            demand_cell: Some(series.clone()),
            page_size: 1000,
            page_token,
            ..Default::default()
        };
        match local.call::<_, pb::ListCommentsResponse>(ext, &format!("{COMMENTS}ListComments"), &request).await {
            Ok(page) => {
                out.extend(page.comments);
                if page.next_page_token.is_empty() {
                    return Ok(Some(out));
                }
                page_token = page.next_page_token;
            }
            Err(s) if s.code() == tonic::Code::NotFound => return Ok(None),
            Err(s) => return Err(s.into()),
        }
    }
}

const COMPARISON_HEAD: [&str; 9] =
    ["region", "tms", "period", "kind", "demand", "capacity", "surge", "balance", "status"];

fn comparison_rows(rows: &[pb::CapacityComparisonRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            let k = r.key.clone().unwrap_or_default();
            vec![
                region_name(k.region).to_owned(),
                k.tms,
                r.period.as_ref().map(|p| p.label.clone()).unwrap_or_default(),
                r.demand_kind.clone(),
                if r.suppressed { "suppressed".into() } else { format!("{:.1}", r.demand) },
                format!("{:.1}", r.capacity),
                format!("{:.1}", r.surge),
                format!("{:.1}", r.balance),
                dcm_class(r.demand, r.capacity, r.surge).to_owned(),
            ]
        })
        .collect()
}

fn comparison_table(rows: &[Vec<String>]) -> Markup {
    html! {
        table #comparison {
            thead { tr { @for h in COMPARISON_HEAD { th { (h) } } } }
            tbody { @for r in rows { tr class=(r[8]) { @for c in r { td { (c) } } } } }
        }
    }
}

/// Demand as bars coloured by the DCM rule (forecast months paler, their
/// band behind), capacity and capacity + surge as lines, on labelled axes.
fn chart(rows: &[pb::CapacityComparisonRow]) -> Markup {
    use crate::chart::{Frame, f};
    let top = rows.iter().map(|r| r.demand_upper.unwrap_or(r.demand).max(r.capacity + r.surge)).fold(0.0_f64, f64::max);
    let labels: Vec<String> =
        rows.iter().map(|r| r.period.as_ref().map(|p| p.label.clone()).unwrap_or_default()).collect();
    let frame = Frame::new(rows.len(), top);
    let step = frame.step();
    let base = frame.height - frame.bottom;
    let line = |v: &dyn Fn(&pb::CapacityComparisonRow) -> f64| {
        rows.iter()
            .enumerate()
            .map(|(i, r)| format!("{},{}", f(frame.x(i) + step / 2.0), f(frame.y(v(r)))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg.chart viewBox=(format!("0 0 {} {}", frame.width, frame.height)) role="img" aria-label="demand against capacity" {
            (frame.axes(&labels, "month (paler bars: forecast)", "labor hours", &|v| format!("{v:.0}")))
            @for (i, r) in rows.iter().enumerate() {
                @let x = frame.x(i);
                @if let Some(up) = r.demand_upper {
                    rect.band x=(f(x + step * 0.1)) y=(f(frame.y(up))) width=(f(step * 0.8)) height=(f((frame.y(r.demand) - frame.y(up)).max(0.0))) {}
                }
                @if !r.suppressed {
                    rect class=(format!("bar {} {}", dcm_class(r.demand, r.capacity, r.surge), r.demand_kind.to_lowercase()))
                        x=(f(x + step * 0.1)) y=(f(frame.y(r.demand))) width=(f(step * 0.8)) height=(f(base - frame.y(r.demand))) {
                        title { (labels[i]) " " (r.demand_kind.to_lowercase()) ": " (format!("{:.1}", r.demand)) }
                    }
                }
            }
            polyline.capacity points=(line(&|r| r.capacity)) {}
            polyline.surge points=(line(&|r| r.capacity + r.surge)) {}
        }
        p.legend {
            span.key.green { "demand within capacity" } " " span.key.orange { "within capacity + surge" } " "
            span.key.red { "above both" } " " span.key.band { "forecast band" } " "
            span.key.capacity { "capacity offered" } " " span.key.surge { "capacity + surge" }
        }
    }
}

/// Capacity gaps: bottlenecks, worst shortfall first.
pub(crate) async fn capacity(State(local): State<Local>, ext: Extensions, Query(f): Query<Format>) -> Page {
    let r = comparison(&local, &ext, None).await?;
    let mut gaps: Vec<pb::CapacityComparisonRow> = r.rows.into_iter().filter(|r| r.bottleneck).collect();
    gaps.sort_by(|a, b| a.balance.total_cmp(&b.balance));
    let rows = comparison_rows(&gaps);
    if f.csv() {
        return Ok(csv::download("capacity-gaps", &COMPARISON_HEAD, &rows));
    }
    page(
        "Capacity gaps",
        html! {
            h1 { "Capacity gaps" }
            p { span #bottlenecks { (r.bottlenecks) } " bottlenecks, worst first." }
            (comparison_table(&rows))
            (csv_link("/console/capacity"))
        },
    )
}

/// Allocation: a button that runs Propose (coordinators only; others get the service's refusal).
pub(crate) async fn allocation() -> Page {
    page(
        "Allocation",
        html! {
            h1 { "Allocation" }
            form method="post" action="/console/allocation/propose" {
                button #propose { "Propose a plan" }
            }
        },
    )
}

/// Runs Propose and shows the plan for review, with a form to commit exactly it.
pub(crate) async fn propose(State(local): State<Local>, ext: Extensions, headers: HeaderMap, uri: Uri) -> Page {
    if !same_origin(&headers, &uri) {
        return Err(PageError::forbidden("cross-site request refused"));
    }
    let plan: pb::AllocationPlan =
        local.call(&ext, "/cosx.v1.Allocation/Propose", &pb::ProposeAllocationRequest::default()).await?;
    let commit = pb::CommitAllocationRequest { assignments: plan.assignments.clone() };
    page(
        "Allocation plan",
        html! {
            h1 { "Proposed plan" }
            p { (plan.assignments.len()) " placements, " (plan.unplaced.len()) " unplaced, total cost " (dollars(plan.total_cost_cents)) "." }
            table #plan {
                thead { tr { th { "Order" } th { "Provider" } th { "Units" } th { "Distance km" } th { "Cost" } th { "Contract work (50/50)" } th { "Why" } } }
                tbody { @for a in &plan.assignments { tr {
                    td { (a.repair_order) } td { (a.provider) } td { (a.units) } td { (format!("{:.0}", a.distance_km)) }
                    td { (dollars(a.total_cost_cents)) }
                    td { (department_name(a.contract_work_department)) " FY" (a.contract_work_fiscal_year) }
                    td { (a.reason) @if !a.serviceable_by.is_empty() { "; serviceable by " (a.serviceable_by) } }
                } } }
            }
            h2 { "Unplaced" }
            table #unplaced {
                thead { tr { th { "Order" } th { "Reason" } th { "Detail" } } }
                tbody { @for u in &plan.unplaced { tr { td { (u.repair_order) } td { (u.reason) } td { (u.detail) } } } }
            }
            form method="post" action="/console/allocation/commit" {
                input type="hidden" name="plan" value=(hex::encode(commit.encode_to_vec()));
                button #commit { "Commit this plan" }
            }
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct CommitForm {
    plan: String,
}

/// Commits the reviewed plan; the service checks every placement again.
pub(crate) async fn commit(
    State(local): State<Local>,
    ext: Extensions,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CommitForm>,
) -> Page {
    if !same_origin(&headers, &uri) {
        return Err(PageError::forbidden("cross-site request refused"));
    }
    let bytes = hex::decode(&form.plan).map_err(|e| PageError::bad_request(format!("plan: not hex: {e}")))?;
    let request = pb::CommitAllocationRequest::decode(bytes.as_slice())
        .map_err(|e| PageError::bad_request(format!("plan: not a plan: {e}")))?;
    let r: pb::CommitAllocationResponse = local.call(&ext, "/cosx.v1.Allocation/Commit", &request).await?;
    page(
        "Allocation committed",
        html! {
            h1 { "Commit" }
            table #committed {
                thead { tr { th { "Order" } th { "Proposed" } th { "Refused because" } } }
                tbody { @for c in &r.results { tr { td { (c.repair_order) } td { (if c.proposed { "yes" } else { "no" }) } td { (c.error) } } } }
            }
        },
    )
}
