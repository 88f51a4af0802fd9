//! The console over real HTTPS with real client certificates, against a
//! real coordinator: pages show the API's figures for the same party,
//! record fields render as text, another party's order is the same 404 as a
//! missing one, cross-site POSTs are refused, CSV downloads parse.

use std::sync::Arc;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// One HTTP/1.1 request over mutual TLS as `who`, read to the end.
async fn fetch(
    ex: &TestExchange,
    who: &str,
    method: &str,
    path: &str,
    extra: &str,
    body: &str,
) -> anyhow::Result<Answer> {
    let mut tls = connect(ex, who).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        ex.addr().port(),
        body.len()
    );
    tls.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8(raw)?;
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow::anyhow!("no head in {text:?}"))?;
    let status = head.split(' ').nth(1).unwrap_or("0").parse()?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest)? } else { rest.to_owned() };
    Ok(Answer { status, head: head.to_owned(), body })
}

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// A mutual-TLS connection (HTTP/1.1) to the exchange as `who`.
async fn connect(ex: &TestExchange, who: &str) -> anyhow::Result<Tls> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let issued = ex.ca.issue_party(who)?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ex.ca.cert_pem().as_bytes()) {
        roots.add(ca?)?;
    }
    let chain = CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes())?;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(ex.addr()).await?;
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost")?.to_owned(), tcp)
        .await?)
}

fn dechunk(mut s: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n").ok_or_else(|| anyhow::anyhow!("bad chunk"))?;
        let n = usize::from_str_radix(size.trim(), 16)?;
        if n == 0 {
            return Ok(out);
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

async fn get(ex: &TestExchange, who: &str, path: &str) -> anyhow::Result<Answer> {
    fetch(ex, who, "GET", path, "", "").await
}

/// Parses CSV as the console writes it (quoted fields, CRLF rows).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn pages_show_the_api_figures_escape_fields_hide_others_orders_and_refuse_cross_site_posts() -> anyhow::Result<()>
{
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut hostile = repair_order(party::USAF);
    if let Some(item) = hostile.item.as_mut() {
        item.nomenclature = "<script>alert(1)</script>".into();
    }
    let created = usaf
        .create_repair_order(pb::CreateRepairOrderRequest { repair_order: Some(hostile), ..Default::default() })
        .await?
        .into_inner();
    for _ in 0..2 {
        usaf.create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            ..Default::default()
        })
        .await?;
    }
    let id = created.name.trim_start_matches("repairOrders/").to_owned();

    // Overview: counts by state equal the API's list for the party.
    let page = get(&ex, party::COORDINATOR, "/console").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let head = page.head.to_ascii_lowercase();
    assert!(head.contains("content-security-policy: default-src 'self'"), "{head}");
    assert!(head.contains("x-frame-options: deny") && head.contains("x-content-type-options: nosniff"), "{head}");
    let api = ex.exchange(party::COORDINATOR).await?.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?;
    let submitted =
        api.into_inner().repair_orders.iter().filter(|o| o.state == pb::RepairOrderState::Submitted as i32).count();
    assert_eq!(submitted, 3);
    assert!(
        page.body.contains(&format!("<td>REPAIR_ORDER_STATE_SUBMITTED</td><td class=\"num\">{submitted}</td>")),
        "{}",
        page.body
    );

    // CSV of the same table parses and holds the same figure.
    let csv = get(&ex, party::COORDINATOR, "/console?format=csv").await?;
    assert!(csv.head.to_ascii_lowercase().contains("content-type: text/csv"));
    let rows = parse_csv(&csv.body);
    assert_eq!(rows[0], ["state", "orders"]);
    assert!(rows.contains(&vec!["REPAIR_ORDER_STATE_SUBMITTED".to_owned(), submitted.to_string()]), "{rows:?}");

    // A record field holding a script renders as text.
    let order = get(&ex, party::USAF, &format!("/console/orders/{id}")).await?;
    assert_eq!(order.status, 200, "{}", order.body);
    assert!(order.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", order.body);
    assert!(!order.body.contains("<script>alert"));

    // A contractor opening the order gets the same page as for a missing one.
    let theirs = get(&ex, party::KAI, &format!("/console/orders/{id}")).await?;
    let missing = get(&ex, party::KAI, "/console/orders/00000000-0000-0000-0000-000000000000").await?;
    assert_eq!(theirs.status, 404);
    assert_eq!(missing.status, 404);
    assert_eq!(theirs.body, missing.body);
    // And its orders list shows none of them.
    let list = get(&ex, party::KAI, "/console/orders?format=csv").await?;
    assert_eq!(parse_csv(&list.body).len(), 1, "{}", list.body);
    let list = get(&ex, party::COORDINATOR, "/console/orders?format=csv").await?;
    assert_eq!(parse_csv(&list.body).len(), 4, "{}", list.body);

    // Demand: the page's order count is the API's for the same party.
    let demand = get(&ex, party::COORDINATOR, "/console/demand").await?;
    assert_eq!(demand.status, 200, "{}", demand.body);
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    let signal = signals
        .get_demand_signal(pb::GetDemandSignalRequest {
            granularity: pb::Granularity::Month as i32,
            forecast_periods: 6,
            forecast_measure: pb::DemandMeasure::Quantity as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert!(
        demand.body.contains(&format!("<span id=\"orders-counted\">{}</span>", signal.orders_counted)),
        "{}",
        demand.body
    );
    for path in [
        "/console/capacity",
        "/console/balance",
        "/console/allocation",
        "/console/availability",
        "/console/demand?format=csv",
    ] {
        assert_eq!(get(&ex, party::COORDINATOR, path).await?.status, 200, "{path}");
    }

    // A coordinator's comment on a demand cell shows on the cell's page, to coordinators only.
    pb::comments_client::CommentsClient::new(ex.channel(party::COORDINATOR).await?)
        .add_comment(pb::AddCommentRequest {
            demand_cell: Some(pb::DemandCellRef {
                region: pb::Region::Indopacom as i32,
                tms: "F-35A".into(),
                level: pb::MaintenanceLevel::Depot as i32,
                month: "2027-03".into(),
            }),
            content: Some(pb::CommentContent {
                comment_type: pb::CommentType::Warning as i32,
                text: "Short in March <b>ask KAI</b>".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?;
    let cell = "/console/demand/cell?region=REGION_INDOPACOM&tms=F-35A";
    let page = get(&ex, party::COORDINATOR, cell).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<td>2027-03</td><td>MAINTENANCE_LEVEL_DEPOT</td>"), "{}", page.body);
    assert!(page.body.contains("Short in March &lt;b&gt;ask KAI&lt;/b&gt;"), "{}", page.body);
    let theirs = get(&ex, party::USAF, cell).await?;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(!theirs.body.contains("cell-comments") && !theirs.body.contains("Short in March"));

    // Cross-site POSTs are refused; a same-origin one runs.
    let cross =
        fetch(&ex, party::COORDINATOR, "POST", "/console/allocation/propose", "Sec-Fetch-Site: cross-site\r\n", "")
            .await?;
    assert_eq!(cross.status, 403);
    let origin =
        fetch(&ex, party::COORDINATOR, "POST", "/console/allocation/propose", "Origin: https://evil.example\r\n", "")
            .await?;
    assert_eq!(origin.status, 403);
    let same = format!("Origin: https://localhost:{}\r\nSec-Fetch-Site: same-origin\r\n", ex.addr().port());
    let ok = fetch(&ex, party::COORDINATOR, "POST", "/console/allocation/propose", &same, "").await?;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // A contractor may not propose: the service's refusal, as a page.
    let refused = fetch(&ex, party::KAI, "POST", "/console/allocation/propose", &same, "").await?;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // A forged plan is refused naming the field, and commits nothing.
    let forged = fetch(
        &ex,
        party::COORDINATOR,
        "POST",
        "/console/allocation/commit",
        &format!("{same}Content-Type: application/x-www-form-urlencoded\r\n"),
        "plan=zz",
    )
    .await?;
    assert_eq!(forged.status, 400);
    assert!(forged.body.contains("plan: not hex"), "{}", forged.body);
    // A bad filter names its field.
    let bad = get(&ex, party::COORDINATOR, "/console/orders?state=BOGUS").await?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("state: no such state"));
    Ok(())
}

/// The `name`'s last segment: the id a console URL takes.
fn id_of(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

#[tokio::test]
async fn offer_and_report_lists_filter_and_page_as_the_api_and_hide_other_parties_records() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut mhi = ex.exchange(party::MHI).await?;
    let mut offers = Vec::new();
    for _ in 0..51 {
        let o = mhi
            .create_capacity_offer(pb::CreateCapacityOfferRequest {
                capacity_offer: Some(cosx_tests::capacity_offer(party::MHI)),
                ..Default::default()
            })
            .await?
            .into_inner();
        offers.push(o.name);
    }
    let report = ex
        .exchange(party::USAF)
        .await?
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(cosx_tests::availability_report(party::USAF)),
            ..Default::default()
        })
        .await?
        .into_inner();

    // Each party's list is the API's list for it: the owner and the
    // coordinator see the 51 offers, another contractor none.
    for (who, expected) in [(party::COORDINATOR, 51), (party::MHI, 51), (party::KAI, 0)] {
        let api = ex
            .exchange(who)
            .await?
            .list_capacity_offers(pb::ListCapacityOffersRequest { page_size: 1000, ..Default::default() })
            .await?
            .into_inner();
        assert_eq!(api.capacity_offers.len(), expected, "{who}");
        let first = get(&ex, who, "/console/offers?format=csv").await?;
        assert_eq!(first.status, 200, "{}", first.body);
        let rows = parse_csv(&first.body);
        assert_eq!(rows[0][..3], ["name", "provider", "site"]);
        // A page holds at most 50; the next one follows the API's token.
        assert_eq!(rows.len() - 1, expected.min(50), "{who}");
        let html = get(&ex, who, "/console/offers").await?;
        assert_eq!(html.body.contains("id=\"next\""), expected > 50, "{who}");
    }
    let html = get(&ex, party::MHI, "/console/offers").await?;
    let next = html.body.split("id=\"next\" href=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    let next = next.replace("&amp;", "&");
    let second = get(&ex, party::MHI, &format!("{next}&format=csv")).await?;
    assert_eq!(parse_csv(&second.body).len() - 1, 1, "{next}: {}", second.body);

    // Filters go to the API: a TMS no offer has lists nothing; a bad state names the field.
    let none = get(&ex, party::COORDINATOR, "/console/offers?tms=C-130J&format=csv").await?;
    assert_eq!(parse_csv(&none.body).len(), 1, "{}", none.body);
    let active = get(
        &ex,
        party::COORDINATOR,
        "/console/offers?state=CAPACITY_OFFER_STATE_ACTIVE&region=REGION_INDOPACOM&format=csv",
    )
    .await?;
    assert_eq!(parse_csv(&active.body).len() - 1, 50);
    let bad = get(&ex, party::COORDINATOR, "/console/offers?state=BOGUS").await?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("state: no such offer state"), "{}", bad.body);
    let bad = get(&ex, party::COORDINATOR, "/console/reports?superseded=maybe").await?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("superseded: expected yes or no"), "{}", bad.body);

    // One offer's page for its provider; for another contractor the same 404 as a missing offer.
    let offer = format!("/console/offers/{}", id_of(&offers[0]));
    let own = get(&ex, party::MHI, &offer).await?;
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains("4000.0") && own.body.contains("DSP-5 050-123456"), "{}", own.body);
    let theirs = get(&ex, party::KAI, &offer).await?;
    let missing = get(&ex, party::KAI, "/console/offers/00000000-0000-0000-0000-000000000000").await?;
    assert_eq!((theirs.status, missing.status), (404, 404));
    assert_eq!(theirs.body, missing.body);

    // Reports: the reporter and the coordinator list and open it; a contractor neither.
    let page = format!("/console/reports/{}", id_of(&report.name));
    for who in [party::USAF, party::COORDINATOR] {
        let list = get(&ex, who, "/console/reports?format=csv").await?;
        let rows = parse_csv(&list.body);
        assert_eq!(rows.len(), 2, "{who}: {}", list.body);
        assert_eq!(rows[1][..3], [report.name.clone(), party::USAF.to_owned(), "F-35A".to_owned()]);
        let one = get(&ex, who, &page).await?;
        assert_eq!(one.status, 200, "{}", one.body);
        assert!(one.body.contains("<td class=\"num\">520</td>"), "{}", one.body);
    }
    assert_eq!(parse_csv(&get(&ex, party::KAI, "/console/reports?format=csv").await?.body).len(), 1);
    let theirs = get(&ex, party::KAI, &page).await?;
    let missing = get(&ex, party::KAI, "/console/reports/00000000-0000-0000-0000-000000000000").await?;
    assert_eq!((theirs.status, missing.status), (404, 404));
    assert_eq!(theirs.body, missing.body);
    Ok(())
}

#[tokio::test]
async fn availability_and_balance_pages_show_the_api_figures_flags_inputs_and_breakdowns() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    // Two reports of fleet totals and one (August) of its 24 assets.
    for (start, end, available) in
        [("2026-07-01", "2026-07-31", 520.0), ("2026-08-01", "2026-08-31", 0.0), ("2026-10-01", "2026-10-31", 480.0)]
    {
        let mut r = cosx_tests::availability_report(party::USAF);
        r.timeframe_start = start.into();
        r.timeframe_end = end.into();
        if let Some(t) = r.tai_time.as_mut() {
            t.available = available;
        }
        if start == "2026-08-01" {
            r.tai_time = None;
            r.pmai_time = None;
            r.assets = (0..24)
                .map(|i| pb::AssetAvailability {
                    serial: if i == 0 { "<b>AF-0001</b>".into() } else { format!("AF-{:04}", i + 1) },
                    pmai: i < 20,
                    possible: 31.0,
                    time: Some(pb::TimeByCategory { available: 25.0, nmcm: 6.0, ..Default::default() }),
                })
                .collect();
        }
        usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(r),
            ..Default::default()
        })
        .await?;
    }
    usaf.set_availability_target(pb::SetAvailabilityTargetRequest {
        target: Some(pb::AvailabilityTarget {
            owner: party::USAF.into(),
            tms: "F-35A".into(),
            a_m: Some(0.9),
            a_o: Some(0.8),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await?;
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::COORDINATOR).await?);
    let api = signals
        .get_availability_metrics(pb::GetAvailabilityMetricsRequest {
            owner: party::USAF.into(),
            tms: "F-35A".into(),
            include_assets: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    let health = api.health.first().ok_or_else(|| anyhow::anyhow!("no health row"))?;
    let pct = |v: Option<f64>| v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "–".into());

    // The fleets' table links to the drill-down and carries the service's flags.
    let page = get(&ex, party::COORDINATOR, "/console/availability").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("/console/availability/fleet?owner=US-USAF-OOALC&amp;tms=F-35A"), "{}", page.body);
    let csv = parse_csv(&get(&ex, party::COORDINATOR, "/console/availability?table=health&format=csv").await?.body);
    assert_eq!(csv.len(), 2, "{csv:?}");
    assert_eq!(csv[1][5], pct(health.rolling_a_m));
    let fires = health.high_non_availability_a_m.as_ref().is_some_and(|c| c.fires);
    assert_eq!(csv[1][9], if fires { "FLAGGED" } else { "no" });

    // The drill-down: the rolling averages, the trend of the window, every input, every asset.
    let fleet = "/console/availability/fleet?owner=US-USAF-OOALC&tms=F-35A";
    let page = get(&ex, party::COORDINATOR, fleet).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("<strong id=\"rolling-a-m\">{}</strong>", pct(health.rolling_a_m))),
        "{}",
        page.body
    );
    assert!(page.body.contains("class=\"series am\"") && page.body.contains("class=\"rule target-am\""));
    assert!(page.body.contains("&lt;b&gt;AF-0001&lt;/b&gt;"), "asset serials render as text");
    let inputs = parse_csv(&get(&ex, party::COORDINATOR, &format!("{fleet}&table=inputs&format=csv")).await?.body);
    assert_eq!(inputs.len() - 1, api.metrics.len());
    for (row, m) in inputs[1..].iter().zip({
        let mut m: Vec<_> = api.metrics.iter().collect();
        m.sort_by(|a, b| a.timeframe_start.cmp(&b.timeframe_start));
        m
    }) {
        let tai = m.tai_time.unwrap_or_default();
        assert_eq!(
            row[..5],
            [
                m.timeframe_start.clone(),
                m.tai_inventory.to_string(),
                format!("{:.1}", tai.possible),
                format!("{:.1}", tai.available),
                pct(m.a_m)
            ]
        );
    }
    let trend = parse_csv(&get(&ex, party::COORDINATOR, &format!("{fleet}&table=trend&format=csv")).await?.body);
    assert_eq!(trend.len() - 1, health.months_with_data as usize, "{trend:?}");
    let assets = parse_csv(&get(&ex, party::COORDINATOR, &format!("{fleet}&table=assets&format=csv")).await?.body);
    assert_eq!(assets.len() - 1, api.assets.len());
    assert_eq!(api.assets.len(), 24);
    let checks = parse_csv(&get(&ex, party::COORDINATOR, &format!("{fleet}&table=checks&format=csv")).await?.body);
    let check = health.high_non_availability_a_m.unwrap_or_default();
    assert_eq!(
        checks[1],
        [
            "A_M".to_owned(),
            check.inventory.to_string(),
            check.threshold.to_string(),
            pct(check.rolling_average),
            pct(check.target),
            pct(check.trigger_at_or_below),
            (if check.fires { "FLAGGED" } else { "no" }).to_owned()
        ]
    );
    let bad = get(&ex, party::COORDINATOR, &format!("{fleet}&table=nope&format=csv")).await?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("table: no table"), "{}", bad.body);

    // A contractor gets what the API gives it for the same fleet: no reports of others'.
    let theirs = get(&ex, party::KAI, &format!("{fleet}&table=inputs&format=csv")).await?;
    let api_kai = pb::signals_client::SignalsClient::new(ex.channel(party::KAI).await?)
        .get_availability_metrics(pb::GetAvailabilityMetricsRequest {
            owner: party::USAF.into(),
            tms: "F-35A".into(),
            include_assets: true,
            ..Default::default()
        })
        .await;
    match api_kai {
        Ok(a) => assert_eq!(parse_csv(&theirs.body).len() - 1, a.into_inner().metrics.len()),
        Err(s) => assert_eq!(theirs.status, cosx_edge::json::errors::http_status(s.code()).as_u16()),
    }
    assert!(!theirs.body.contains("AF-0001"));

    // 50/50: every breakdown the API gives, each downloadable.
    let balance = signals
        .get_workload_balance(pb::GetWorkloadBalanceRequest { include_proposed: true, ..Default::default() })
        .await?
        .into_inner();
    let page = get(&ex, party::COORDINATOR, "/console/balance").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("class=\"rule limit\""), "the 50 % limit is drawn");
    for (table, rows) in [
        ("departments", balance.departments.len()),
        ("parts", balance.departments.len() * 7),
        ("months", balance.departments.iter().map(|d| d.by_month.len()).sum()),
        ("nations", balance.by_nation.len()),
        ("regions", balance.by_region.len()),
        ("utilization", balance.utilization.len()),
    ] {
        let csv = get(&ex, party::COORDINATOR, &format!("/console/balance?table={table}&format=csv")).await?;
        assert_eq!(csv.status, 200, "{table}");
        assert_eq!(parse_csv(&csv.body).len() - 1, rows, "{table}: {}", csv.body);
    }
    // By month: the API's months and cumulative shares, in its order.
    let csv = get(&ex, party::COORDINATOR, "/console/balance?table=months&format=csv").await?;
    let shown: Vec<(String, String)> =
        parse_csv(&csv.body).into_iter().skip(1).map(|r| (r[2].clone(), r[7].clone())).collect();
    let api: Vec<(String, String)> = balance
        .departments
        .iter()
        .flat_map(|d| d.by_month.iter().map(|m| (m.month.clone(), pct(m.cumulative_contract_share))))
        .collect();
    assert_eq!(shown, api);
    Ok(())
}

#[tokio::test]
async fn a_new_alert_reaches_the_overview_s_event_stream_without_a_reload() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|c, _, _| {
        c.signals.bottleneck_forecast_periods = 0;
        c.signals.bottleneck_absolute_hours = 100.0;
        c.signals.bottleneck_relative = 0.1;
        Ok(())
    })
    .await?;
    // The overview names the stream its script follows.
    let page = get(&ex, party::COORDINATOR, "/console").await?;
    let events = page
        .body
        .split("data-events=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no event stream on the overview"))?
        .replace("&amp;", "&");
    assert!(events.starts_with("/v1/events?checkpoints=true&kinds=EVENT_KIND_BOTTLENECK_RAISED"), "{events}");
    assert!(page.body.contains("No open alerts."));

    // Follow it as a browser's EventSource would.
    let mut tls = connect(&ex, party::COORDINATOR).await?;
    let request =
        format!("GET {events} HTTP/1.1\r\nHost: localhost:{}\r\nAccept: text/event-stream\r\n\r\n", ex.addr().port());
    tls.write_all(request.as_bytes()).await?;
    let mut seen = String::new();
    let mut read_until = async |needle: &str, seen: &mut String| -> anyhow::Result<()> {
        let mut buf = [0u8; 4096];
        while !seen.contains(needle) {
            let n = tokio::time::timeout(std::time::Duration::from_secs(20), tls.read(&mut buf)).await??;
            anyhow::ensure!(n > 0, "stream closed before {needle:?}; got {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        Ok(())
    };
    read_until("EVENT_KIND_CHECKPOINT", &mut seen).await?;
    assert!(seen.to_ascii_lowercase().contains("content-type: text/event-stream"), "{seen}");
    assert!(!seen.contains("bottleneckAlert"), "nothing raised yet: {seen}");

    // Demand over capacity: the coordinator raises a bottleneck, and the open stream carries it.
    ex.create_offer(cosx_tests::capacity_offer(party::MHI)).await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    for _ in 0..4 {
        let mut o = repair_order(party::USAF);
        o.tms = "F-35A".into();
        o.required_by = "2027-03-31".into();
        o.quantity = 4;
        o.estimated_labor_hours = 480.0;
        usaf.create_repair_order(pb::CreateRepairOrderRequest { repair_order: Some(o), ..Default::default() }).await?;
    }
    read_until("bottleneckAlert", &mut seen).await?;
    let line = seen.lines().find(|l| l.contains("bottleneckAlert")).unwrap_or_default();
    assert!(line.starts_with("data: {") && line.contains("\"raised\":true") && line.contains("F-35A"), "{line}");
    assert!(line.contains("EVENT_KIND_BOTTLENECK_RAISED"), "{line}");
    Ok(())
}

#[tokio::test]
async fn the_overview_counts_by_state_what_each_party_s_own_list_holds() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut names = Vec::new();
    for i in 0..4 {
        let mut o = repair_order(party::USAF);
        if i == 0 {
            // Released to Korea: KAI sees it, MHI does not.
            o.controls = Some(pb::Controls {
                releasability: Some(pb::Releasability { nations: vec!["KOR".into()], ..Default::default() }),
                ..Default::default()
            });
        }
        let created = usaf
            .create_repair_order(pb::CreateRepairOrderRequest { repair_order: Some(o), ..Default::default() })
            .await?
            .into_inner();
        names.push((created.name, created.version));
    }
    // One proposed to MHI, then another proposed to MHI and declined: each step moves the counts.
    let mut coordinator = ex.exchange(party::COORDINATOR).await?;
    for (name, version) in &names[1..3] {
        coordinator
            .transition_repair_order(pb::TransitionRepairOrderRequest {
                name: name.clone(),
                version: *version,
                action: pb::RepairOrderAction::Propose as i32,
                provider: party::MHI.into(),
                ..Default::default()
            })
            .await?;
    }
    ex.exchange(party::MHI)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: names[2].0.clone(),
            version: names[2].1 + 1,
            action: pb::RepairOrderAction::Decline as i32,
            reason: "no slot".into(),
            ..Default::default()
        })
        .await?;

    for who in [party::COORDINATOR, party::USAF, party::MHI, party::KAI, party::RAAF] {
        let list = ex
            .exchange(who)
            .await?
            .list_repair_orders(pb::ListRepairOrdersRequest { page_size: 1000, ..Default::default() })
            .await?
            .into_inner()
            .repair_orders;
        let mut expected: Vec<Vec<String>> = Vec::new();
        for state in 1..=11 {
            let n = list.iter().filter(|o| o.state == state).count();
            if n > 0 {
                let name = pb::RepairOrderState::try_from(state).map(|s| s.as_str_name()).unwrap_or("");
                expected.push(vec![name.to_owned(), n.to_string()]);
            }
        }
        let csv = parse_csv(&get(&ex, who, "/console?format=csv").await?.body);
        assert_eq!(csv[1..], expected[..], "{who}");
        let page = get(&ex, who, "/console").await?;
        assert!(page.body.contains(&format!("id=\"orders-total\">{}</td>", list.len())), "{who}");
    }
    // The counts say what the lists say: KAI one (released), MHI the one still proposed to it.
    let kai = parse_csv(&get(&ex, party::KAI, "/console?format=csv").await?.body);
    assert_eq!(kai[1..], [vec!["REPAIR_ORDER_STATE_SUBMITTED".to_owned(), "1".to_owned()]]);
    let mhi = parse_csv(&get(&ex, party::MHI, "/console?format=csv").await?.body);
    assert!(mhi.contains(&vec!["REPAIR_ORDER_STATE_PROPOSED".to_owned(), "1".to_owned()]), "{mhi:?}");
    Ok(())
}

#[tokio::test]
async fn the_allocation_plan_page_says_when_a_quote_priced_a_placement() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut offer = cosx_tests::capacity_offer(party::MHI);
    offer.rate = Some(pb::Money { currency_code: "USD".into(), amount_minor: 18_500 });
    let request = pb::CreateCapacityOfferRequest { capacity_offer: Some(offer), ..Default::default() };
    ex.exchange(party::MHI).await?.create_capacity_offer(request).await?;
    ex.set_air_force_baseline(2027, 10_000_000_000, 0).await?;
    let request = pb::CreateRepairOrderRequest { repair_order: Some(repair_order(party::USAF)), ..Default::default() };
    let order = ex.exchange(party::USAF).await?.create_repair_order(request).await?.into_inner();
    let asked = pb::quotes_client::QuotesClient::new(ex.channel(party::USAF).await?)
        .request_quotes(pb::RequestQuotesRequest {
            name: order.name.clone(),
            providers: vec![party::MHI.into()],
            ..Default::default()
        })
        .await?
        .into_inner()
        .quotes;
    // Valid well after any day this runs on.
    let valid_until = "2099-12-31".to_owned();
    pb::quotes_client::QuotesClient::new(ex.channel(party::MHI).await?)
        .submit_quote(pb::SubmitQuoteRequest {
            name: asked[0].name.clone(),
            terms: Some(pb::QuoteTerms {
                kind: pb::QuoteKind::Final as i32,
                price: Some(pb::Money { currency_code: "USD".into(), amount_minor: 777_000 }),
                turnaround_days: 21,
                process: pb::RepairProcess::Repair as i32,
                valid_until,
                conditions: String::new(),
            }),
            version: asked[0].version,
            request_id: String::new(),
        })
        .await?;
    let same = format!("Origin: https://localhost:{}\r\nSec-Fetch-Site: same-origin\r\n", ex.addr().port());
    let plan = fetch(&ex, party::COORDINATOR, "POST", "/console/allocation/propose", &same, "").await?;
    assert_eq!(plan.status, 200, "{}", plan.body);
    let expected = format!("quoted price 777000 cents / turnaround 21 days ({})", asked[0].name);
    assert!(plan.body.contains(&expected), "{}", plan.body);
    assert!(plan.body.contains("serviceable by"), "{}", plan.body);
    Ok(())
}
