//! Capacity offers and availability reports: filterable, paged lists (as the
//! API filters and pages them) and one page per record. A record another
//! party may not see answers NOT_FOUND from the service, so its page is the
//! same 404 as a missing one. Must never: filter, count or page records
//! itself beyond what the list call answered.

use axum::extract::{Path, Query, State};
use axum::http::Extensions;
use cosx_edge::json::Local;
use cosx_proto::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use crate::PageError;
use crate::csv;
use crate::pages::{EXCHANGE, PAGE_SIZE, Page, csv_link, department_name, dollars, encode, page, region_name, time};

fn offer_state_name(s: i32) -> &'static str {
    pb::CapacityOfferState::try_from(s).map(|s| s.as_str_name()).unwrap_or("UNKNOWN")
}

fn unit_name(u: i32) -> &'static str {
    pb::CapacityUnit::try_from(u).map(|s| s.as_str_name()).unwrap_or("UNKNOWN")
}

fn money(m: &Option<pb::Money>) -> String {
    m.as_ref().map(|m| format!("{} {}", dollars(m.amount_minor), m.currency_code)).unwrap_or_default()
}

/// A select of `names` (the empty value is "any") that keeps `selected`.
fn choice(name: &str, names: &[&str], selected: &str) -> Markup {
    html! {
        select name=(name) {
            option value="" { "any" }
            @for n in names { option value=(n) selected[*n == selected] { (n) } }
        }
    }
}

/// The "next page" link, keeping the filter.
fn next_link(path: &str, filter: &str, token: &str) -> Markup {
    html! {
        @if !token.is_empty() {
            p { a #next href=(format!("{path}?{filter}&page_token={}", encode(token))) { "Next page" } }
        }
    }
}

fn filter_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

#[derive(Deserialize, Default)]
pub(crate) struct OfferQuery {
    state: Option<String>,
    tms: Option<String>,
    provider: Option<String>,
    region: Option<String>,
    page_token: Option<String>,
    format: Option<String>,
}

const OFFER_HEAD: [&str; 10] =
    ["name", "provider", "site", "region", "tms", "unit", "capacity", "surge", "valid_until", "state"];

/// Capacity offers: filtered (state, TMS, provider, region) and paged by the API.
pub(crate) async fn offers(State(local): State<Local>, ext: Extensions, Query(q): Query<OfferQuery>) -> Page {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (state_text, tms, provider, region_text) = (text(&q.state), text(&q.tms), text(&q.provider), text(&q.region));
    let state = match state_text.as_str() {
        "" => 0,
        s => pb::CapacityOfferState::from_str_name(s)
            .map(|s| s as i32)
            .ok_or_else(|| PageError::bad_request(format!("state: no such offer state {s:?}")))?,
    };
    let region = match region_text.as_str() {
        "" => 0,
        s => pb::Region::from_str_name(s)
            .map(|s| s as i32)
            .ok_or_else(|| PageError::bad_request(format!("region: no such region {s:?}")))?,
    };
    let request = pb::ListCapacityOffersRequest {
        page_size: PAGE_SIZE,
        page_token: text(&q.page_token),
        provider: provider.clone(),
        state,
        tms: tms.clone(),
        region,
    };
    let r: pb::ListCapacityOffersResponse =
        local.call(&ext, &format!("{EXCHANGE}ListCapacityOffers"), &request).await?;
    let rows: Vec<Vec<String>> = r
        .capacity_offers
        .iter()
        .map(|o| {
            let site = o.site.clone().unwrap_or_default();
            let tms: Vec<&str> = o.capabilities.iter().map(|c| c.tms.as_str()).collect();
            vec![
                o.name.clone(),
                o.provider.clone(),
                site.name,
                region_name(site.region).to_owned(),
                tms.join(" "),
                unit_name(o.unit).to_owned(),
                format!("{:.1}", o.periods.iter().map(|p| p.capacity).sum::<f64>()),
                format!("{:.1}", o.periods.iter().map(|p| p.surge_capacity).sum::<f64>()),
                o.valid_until.clone(),
                offer_state_name(o.state).to_owned(),
            ]
        })
        .collect();
    if q.format.as_deref() == Some("csv") {
        return Ok(csv::download("offers", &OFFER_HEAD, &rows));
    }
    let filter =
        filter_string(&[("state", &state_text), ("tms", &tms), ("provider", &provider), ("region", &region_text)]);
    let states: Vec<&str> = (1..=3).map(offer_state_name).collect();
    let regions: Vec<&str> = (1..=6).filter_map(|r| pb::Region::try_from(r).ok().map(|r| r.as_str_name())).collect();
    page(
        "Capacity offers",
        html! {
            h1 { "Capacity offers" }
            form method="get" action="/console/offers" {
                label { "State " (choice("state", &states, &state_text)) }
                label { " Region " (choice("region", &regions, &region_text)) }
                label { " TMS " input name="tms" value=(tms); }
                label { " Provider " input name="provider" value=(provider); }
                button { "Filter" }
            }
            p { "Capacity and surge are summed over the offer's periods; each period is on the offer's page." }
            table #offers {
                thead { tr { @for h in OFFER_HEAD { th { (h) } } } }
                tbody { @for row in &rows { tr {
                    td { a href=(format!("/console/offers/{}", row[0].trim_start_matches("capacityOffers/"))) { (row[0]) } }
                    @for cell in &row[1..] { td { (cell) } }
                } } }
            }
            (next_link("/console/offers", &filter, &r.next_page_token))
            (csv_link(&format!("/console/offers?{filter}")))
        },
    )
}

/// One capacity offer: its site, capabilities, periods and authorizations.
pub(crate) async fn offer(State(local): State<Local>, ext: Extensions, Path(id): Path<String>) -> Page {
    let o: pb::CapacityOffer = local
        .call(
            &ext,
            &format!("{EXCHANGE}GetCapacityOffer"),
            &pb::GetCapacityOfferRequest { name: format!("capacityOffers/{id}") },
        )
        .await?;
    let site = o.site.clone().unwrap_or_default();
    page(
        &o.name,
        html! {
            h1 { "Offer " (o.name) }
            dl #offer {
                dt { "Provider" } dd { (o.provider) }
                dt { "Site" } dd { (site.name) " (" (site.nation) ", " (region_name(site.region)) ")" }
                dt { "Unit" } dd { (unit_name(o.unit)) }
                dt { "Valid" } dd { (o.valid_from) " to " (o.valid_until) }
                dt { "Lead time (days)" } dd { (o.lead_time_days) }
                dt { "Rate" } dd { (money(&o.rate)) }
                dt { "State" } dd #state { (offer_state_name(o.state)) }
                dt { "Certifications" } dd { (o.certifications.join(", ")) }
                dt { "Version" } dd { (o.version) }
            }
            h2 { "Capabilities" }
            table #capabilities {
                thead { tr { th { "TMS" } th { "Component family" } } }
                tbody { @for c in &o.capabilities { tr { td { (c.tms) } td { (c.component_family) } } } }
            }
            h2 { "Periods" }
            table #periods {
                thead { tr { th { "From" } th { "To" } th { "Capacity" } th { "Surge" } } }
                tbody { @for p in &o.periods { tr {
                    td { (p.start_date) } td { (p.end_date) } td.num { (format!("{:.1}", p.capacity)) } td.num { (format!("{:.1}", p.surge_capacity)) }
                } } }
            }
            h2 { "Authorizations" }
            table #authorizations {
                thead { tr { th { "Kind" } th { "TMS" } th { "Reference" } th { "Nations" } } }
                tbody { @for a in &o.authorizations { tr {
                    td { (pb::provider_authorization::Kind::try_from(a.kind).map(|k| k.as_str_name()).unwrap_or("")) }
                    td { (a.tms) } td { (a.reference) } td { (a.nations.join(" ")) }
                } } }
            }
        },
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct ReportQuery {
    tms: Option<String>,
    reporter: Option<String>,
    superseded: Option<String>,
    page_token: Option<String>,
    format: Option<String>,
}

const REPORT_HEAD: [&str; 9] =
    ["name", "reporter", "tms", "department", "region", "timeframe_start", "timeframe_end", "tai", "pmai"];

/// Availability reports: filtered (TMS, reporter, superseded versions) and paged by the API.
pub(crate) async fn reports(State(local): State<Local>, ext: Extensions, Query(q): Query<ReportQuery>) -> Page {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (tms, reporter) = (text(&q.tms), text(&q.reporter));
    let include_superseded = match q.superseded.as_deref().unwrap_or("") {
        "" | "no" => false,
        "yes" => true,
        other => return Err(PageError::bad_request(format!("superseded: expected yes or no, got {other:?}"))),
    };
    let request = pb::ListAvailabilityReportsRequest {
        page_size: PAGE_SIZE,
        page_token: text(&q.page_token),
        reporter: reporter.clone(),
        tms: tms.clone(),
        include_superseded,
    };
    let r: pb::ListAvailabilityReportsResponse =
        local.call(&ext, &format!("{EXCHANGE}ListAvailabilityReports"), &request).await?;
    let rows: Vec<Vec<String>> = r
        .availability_reports
        .iter()
        .map(|a| {
            let inv = a.inventory.unwrap_or_default();
            vec![
                a.name.clone(),
                a.reporter.clone(),
                a.tms.clone(),
                department_name(a.department).to_owned(),
                region_name(a.region).to_owned(),
                a.timeframe_start.clone(),
                a.timeframe_end.clone(),
                inv.tai.to_string(),
                inv.pmai.to_string(),
            ]
        })
        .collect();
    if q.format.as_deref() == Some("csv") {
        return Ok(csv::download("reports", &REPORT_HEAD, &rows));
    }
    let superseded = if include_superseded { "yes" } else { "" };
    let filter = filter_string(&[("tms", &tms), ("reporter", &reporter), ("superseded", superseded)]);
    page(
        "Availability reports",
        html! {
            h1 { "Availability reports" }
            form method="get" action="/console/reports" {
                label { " TMS " input name="tms" value=(tms); }
                label { " Reporter " input name="reporter" value=(reporter); }
                label { " Superseded versions too " input type="checkbox" name="superseded" value="yes" checked[include_superseded]; }
                button { "Filter" }
            }
            table #reports {
                thead { tr { @for h in REPORT_HEAD { th { (h) } } } }
                tbody { @for row in &rows { tr {
                    td { a href=(format!("/console/reports/{}", row[0].trim_start_matches("availabilityReports/"))) { (row[0]) } }
                    @for cell in &row[1..] { td { (cell) } }
                } } }
            }
            (next_link("/console/reports", &filter, &r.next_page_token))
            (csv_link(&format!("/console/reports?{filter}")))
        },
    )
}

/// One availability report as submitted: inventory, time by category, assets, costs.
pub(crate) async fn report(State(local): State<Local>, ext: Extensions, Path(id): Path<String>) -> Page {
    let a: pb::AvailabilityReport = local
        .call(
            &ext,
            &format!("{EXCHANGE}GetAvailabilityReport"),
            &pb::GetAvailabilityReportRequest { name: format!("availabilityReports/{id}") },
        )
        .await?;
    let inv = a.inventory.unwrap_or_default();
    let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| "–".into());
    let times = [("TAI", a.tai_time.unwrap_or_default()), ("PMAI", a.pmai_time.unwrap_or_default())];
    page(
        &a.name,
        html! {
            h1 { "Report " (a.name) }
            dl #report {
                dt { "Reporter" } dd { (a.reporter) }
                dt { "TMS" } dd { (a.tms) }
                dt { "Department" } dd { (department_name(a.department)) }
                dt { "Region" } dd { (region_name(a.region)) }
                dt { "Timeframe" } dd { (a.timeframe_start) " to " (a.timeframe_end) }
                dt { "Submitted" } dd { (time(&a.create_time)) }
                dt { "Version" } dd { (a.version) }
                @if !a.supersedes.is_empty() { dt { "Supersedes" } dd { (a.supersedes) } }
            }
            h2 { "Inventory" }
            table #inventory {
                thead { tr { th { "TAI" } th { "PMAI" } th { "PAI" } th { "BAI" } th { "AR" } th { "PWR" } } }
                tbody { tr {
                    td.num { (inv.tai) } td.num { (inv.pmai) } td.num { (opt(inv.pai)) } td.num { (opt(inv.bai)) }
                    td.num { (opt(inv.ar)) } td.num { (opt(inv.pwr)) }
                } }
            }
            h2 { "Time by category" }
            table #time {
                thead { tr { th { "Inventory" } th { "Available" } th { "NMCM" } th { "NMCS" } th { "Depot" } th { "UPNR" } } }
                tbody { @for (label, t) in &times { tr {
                    th { (label) } td.num { (t.available) } td.num { (t.nmcm) } td.num { (t.nmcs) } td.num { (t.depot) } td.num { (t.upnr) }
                } } }
            }
            h2 { "Costs" }
            table #costs {
                thead { tr { th { "Element" } th { "Amount" } } }
                tbody { @for c in &a.costs { tr { td { (c.element) } td.num { (money(&c.amount)) } } } }
            }
            h2 { "Assets" }
            p { (a.assets.len()) " assets reported." }
        },
    )
}
