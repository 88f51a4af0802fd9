//! The HTTP/JSON face, tried as an ERP integrator would: an independent
//! client (Python's standard library, with the party's certificate and
//! nothing else) drives the order lifecycle over `/v1/...` on the
//! coordinator's one listener, and the answers are checked against what
//! gRPC says for the same party.

use std::process::Command;

use cosx_proto::v1 as pb;
use cosx_tests::{PARTIES, TestExchange, http_json, party, repair_order};
use http::Method;

/// Writes `<party>.pem`/`.key` for every test party and `ca.pem`; the folder.
fn party_files(ex: &TestExchange) -> anyhow::Result<std::path::PathBuf> {
    let dir = ex.dir.path().join("http-pki");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("ca.pem"), ex.ca.cert_pem())?;
    for (id, ..) in PARTIES {
        let issued = ex.ca.issue_party(id)?;
        std::fs::write(dir.join(format!("{id}.pem")), &issued.cert_pem)?;
        std::fs::write(dir.join(format!("{id}.key")), &issued.key_pem)?;
    }
    Ok(dir)
}

#[tokio::test]
async fn an_integrator_drives_the_lifecycle_over_http_json_with_only_its_certificate() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let pki = party_files(&ex)?;
    let order = pki.join("order.json");
    std::fs::write(&order, serde_json::to_string(&repair_order(party::USAF))?)?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/http_integrator.py");
    let url = format!("https://127.0.0.1:{}", ex.addr().port());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .args(["--url", &url])
            .arg("--ca")
            .arg(pki.join("ca.pem"))
            .arg("--pki")
            .arg(&pki)
            .arg("--order")
            .arg(order)
            .output()
    })
    .await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the integrator's checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");

    // What HTTP created is what gRPC shows the same party, and only it.
    let mut usaf = ex.exchange(party::USAF).await?;
    let listed = usaf.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
    assert_eq!(listed.repair_orders.len(), 1, "one order, stored once despite the replays");
    assert_eq!(listed.repair_orders[0].state, pb::RepairOrderState::Closed as i32);
    let mut kai = ex.exchange(party::KAI).await?;
    let theirs = kai.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
    assert!(theirs.repair_orders.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_party_node_serves_the_same_http_json_face_from_its_replica() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let node = ex.start_node(party::USAF).await?;
    let channel = ex.node_channel(&node).await?;
    let status = http_json(&channel, Method::GET, "/v1/node/status", &[], None).await?;
    assert_eq!(status.status, 200, "{:?}", status.body);
    assert_eq!(status.body["party"], party::USAF);

    let order = serde_json::to_value(repair_order(party::USAF))?;
    let created =
        http_json(&channel, Method::POST, "/v1/repairOrders", &[("idempotency-key", "node-po-1")], Some(order)).await?;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let name = created.body["name"].as_str().unwrap_or_default().to_owned();
    let got = http_json(&channel, Method::GET, &format!("/v1/{name}"), &[], None).await?;
    assert_eq!((got.status, got.body["name"].as_str()), (http::StatusCode::OK, Some(name.as_str())));

    // The node's answer to a bad order names the fields, as the coordinator's does.
    let bad = serde_json::json!({"tms": "F-35A", "quantity": 0});
    let refused = http_json(&channel, Method::POST, "/v1/repairOrders", &[], Some(bad.clone())).await?;
    let direct = http_json(&ex.channel(party::USAF).await?, Method::POST, "/v1/repairOrders", &[], Some(bad)).await?;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.body["error"]["details"], direct.body["error"]["details"],
        "node and coordinator name the same fields"
    );
    Ok(())
}

#[tokio::test]
async fn http_json_callers_meet_the_same_limits_with_retry_after() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.calls_per_second_per_party = 1.0;
        config.limits.burst_per_party = 2;
        Ok(())
    })
    .await?;
    let channel = ex.channel(party::MHI).await?;
    let mut throttled = None;
    for _ in 0..5 {
        let answer = http_json(&channel, Method::GET, "/v1/repairOrders", &[], None).await?;
        if answer.status == http::StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(answer);
            break;
        }
    }
    let answer = throttled.expect("the party rate limit applies to HTTP/JSON calls");
    assert_eq!(answer.body["error"]["status"], "RESOURCE_EXHAUSTED");
    let retry: u64 = answer
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    Ok(())
}

#[tokio::test]
async fn http_json_refuses_paths_verbs_and_oversized_bodies_without_storing_anything() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.max_message_bytes = 4096;
        Ok(())
    })
    .await?;
    let channel = ex.channel(party::USAF).await?;
    let missing = http_json(&channel, Method::GET, "/v1/nothingHere", &[], None).await?;
    assert_eq!(
        (missing.status, missing.body["error"]["status"].as_str()),
        (http::StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
    let verb = http_json(&channel, Method::DELETE, "/v1/repairOrders", &[], None).await?;
    assert_eq!(verb.status, http::StatusCode::METHOD_NOT_ALLOWED);
    let mut order = serde_json::to_value(repair_order(party::USAF))?;
    order["notes"] = serde_json::Value::String("x".repeat(10_000));
    let big = http_json(&channel, Method::POST, "/v1/repairOrders", &[], Some(order)).await?;
    assert_eq!(big.status, http::StatusCode::PAYLOAD_TOO_LARGE, "{:?}", big.body);
    // A GET with a body, and a conflicting Idempotency-Key, are refused by name.
    let body_on_get =
        http_json(&channel, Method::GET, "/v1/repairOrders", &[], Some(serde_json::json!({"pageSize": 1}))).await?;
    assert_eq!(body_on_get.status, 400);
    let order = serde_json::to_value(repair_order(party::USAF))?;
    let conflicting =
        http_json(&channel, Method::POST, "/v1/repairOrders?requestId=a", &[("idempotency-key", "b")], Some(order))
            .await?;
    assert_eq!(conflicting.status, 400);
    assert_eq!(conflicting.body["error"]["details"][0]["fieldViolations"][0]["field"], "Idempotency-Key");
    let listed = ex.exchange(party::USAF).await?.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?;
    assert!(listed.into_inner().repair_orders.is_empty(), "nothing was stored");
    Ok(())
}

#[tokio::test]
async fn ingest_over_http_streams_ndjson_results_in_order_and_names_a_bad_line() -> anyhow::Result<()> {
    use tower::{Service as _, ServiceExt as _};
    let ex = TestExchange::start().await?;
    let record = |i: usize| serde_json::json!({"requestId": format!("nd-{i}"), "repairOrder": serde_json::to_value(repair_order(party::USAF)).unwrap_or_default()});
    let mut body = String::new();
    for i in 0..3 {
        body.push_str(&record(i).to_string());
        body.push('\n');
    }
    body.push_str("{\"requestId\": \"nd-bad\", \"repairOrder\": {\"colour\": 1}}\n");
    body.push_str(&record(9).to_string());
    body.push('\n');
    let request = http::Request::post("/v1/records:ingest")
        .header("content-type", "application/x-ndjson")
        .body(tonic::body::Body::new(http_body_util::Full::new(bytes::Bytes::from(body))))?;
    let mut channel = ex.channel(party::USAF).await?;
    let response = channel.ready().await?.call(request).await?;
    assert_eq!(response.status(), 200);
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await?.to_bytes();
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&bytes).lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), 4, "three results, then the refusal of line 4: {lines:?}");
    for (i, line) in lines[..3].iter().enumerate() {
        assert_eq!(line["index"].as_str().unwrap_or("0"), i.to_string());
        assert!(line["name"].as_str().is_some_and(|n| n.starts_with("repairOrders/")), "{line}");
    }
    let refusal = &lines[3]["error"];
    assert!(refusal["message"].as_str().is_some_and(|m| m.starts_with("line 4:")), "{refusal}");
    assert_eq!(refusal["details"][0]["fieldViolations"][0]["field"], "repairOrder.colour");
    let listed = ex.exchange(party::USAF).await?.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?;
    assert_eq!(listed.into_inner().repair_orders.len(), 3, "the lines before the bad one are stored, none after");
    Ok(())
}

#[tokio::test]
async fn a_suspended_party_is_refused_over_http_json_as_over_grpc() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let channel = ex.channel(party::KAI).await?;
    let before = http_json(&channel, Method::GET, "/v1/repairOrders", &[], None).await?;
    assert_eq!(before.status, 200);
    ex.registry(party::COORDINATOR)
        .await?
        .suspend_party(pb::SuspendPartyRequest { name: format!("parties/{}", party::KAI), ..Default::default() })
        .await?;
    let after = http_json(&channel, Method::GET, "/v1/repairOrders", &[], None).await?;
    assert_eq!(after.status, http::StatusCode::FORBIDDEN, "{:?}", after.body);
    assert_eq!(after.body["error"]["status"], "PERMISSION_DENIED");
    // The same refusal on the events stream: nothing is streamed.
    let events = http_json(&channel, Method::GET, "/v1/events", &[], None).await?;
    assert_eq!(events.status, http::StatusCode::FORBIDDEN);
    Ok(())
}
