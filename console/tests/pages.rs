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
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost")?.to_owned(), tcp)
        .await?;
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
