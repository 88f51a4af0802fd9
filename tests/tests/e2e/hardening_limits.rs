//! Limits: oversize messages, overload, one party's flood, silent TLS
//! clients, expired deadlines and subscribers that never read each get their
//! answer, and the server stays healthy for everyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};
use tokio::io::AsyncReadExt;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// Calls `path` (a unary method) with a request message that never comes,
/// so the call stays in flight until its deadline or until it is dropped.
async fn stalled_call(channel: Channel, path: &'static str, timeout: Option<Duration>) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(futures::stream::pending::<pb::GetPartyRequest>());
    if let Some(t) = timeout {
        // The header alone, as any gRPC client sends it: a tonic client that
        // also runs its own timer (`set_timeout`) reports its own expiry as
        // CANCELLED before the server's answer can arrive.
        let value = format!("{}m", t.as_millis()).parse().expect("ascii");
        request.metadata_mut().insert("grpc-timeout", value);
    }
    let codec = tonic_prost::ProstCodec::<pb::GetPartyRequest, pb::Party>::default();
    grpc.client_streaming(request, PathAndQuery::from_static(path), codec).await.map(|_| ())
}

async fn healthy(ex: &TestExchange, who: &str) {
    ex.registry(who)
        .await
        .expect("client")
        .list_parties(pb::ListPartiesRequest::default())
        .await
        .expect("the server keeps serving");
}

#[tokio::test]
async fn an_oversize_message_is_out_of_range_and_the_server_keeps_serving() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.max_message_bytes_per_method.insert("/cosx.v1.Exchange/CreateRepairOrder".into(), 4096);
        config.limits.max_message_bytes_per_method.insert("/cosx.v1.Exchange/Ingest".into(), 4096);
        Ok(())
    })
    .await?;
    let mut exchange = ex.exchange(party::USAF).await?;
    let mut big = repair_order(party::USAF);
    big.item.as_mut().expect("item").nomenclature = "X".repeat(10_000);
    let status = exchange
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(big.clone()),
            request_id: "big".into(),
            ..Default::default()
        })
        .await
        .expect_err("an oversize order was accepted");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("at most 4096 bytes"), "{}", status.message());

    // Same through the Ingest stream: the stream ends with OUT_OF_RANGE.
    let record = pb::IngestRequest {
        request_id: "big-ingest".into(),
        record: Some(pb::ingest_request::Record::RepairOrder(big)),
        ..Default::default()
    };
    let outcome = async {
        let mut results = exchange.ingest(futures::stream::iter(vec![record])).await?.into_inner();
        while let Some(r) = results.next().await {
            r?;
        }
        Ok::<_, tonic::Status>(())
    }
    .await;
    assert_eq!(outcome.expect_err("an oversize ingest record was accepted").code(), Code::OutOfRange);

    // Same over HTTP/JSON: the limit is the method's, whichever face calls it.
    let body = serde_json::json!({ "repairOrder": { "item": { "nomenclature": "X".repeat(10_000) } } });
    let channel = ex.channel(party::USAF).await?;
    let answer = cosx_tests::http_json(&channel, http::Method::POST, "/v1/repairOrders", &[], Some(body)).await?;
    assert_eq!(answer.status, http::StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.body);
    assert_eq!(answer.body["error"]["status"], "OUT_OF_RANGE", "{}", answer.body);
    assert!(answer.body["error"]["message"].as_str().unwrap_or("").contains("over 4096 bytes"), "{}", answer.body);

    // Nothing stored, and a normal order still goes through.
    let list = exchange.list_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner();
    assert!(list.repair_orders.is_empty());
    exchange
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "normal".into(),
            ..Default::default()
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn overload_is_shed_at_once_with_resource_exhausted() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.max_concurrent_calls = 2;
        Ok(())
    })
    .await?;
    // Two calls that stay in flight occupy the whole capacity.
    let mut stalled = Vec::new();
    for who in [party::USAF, party::MHI] {
        let channel = ex.channel(who).await?;
        stalled.push(tokio::spawn(stalled_call(channel, "/cosx.v1.Registry/GetParty", None)));
    }
    let mut registry = ex.registry(party::KAI).await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let shed = loop {
        let started = Instant::now();
        match registry.list_parties(pb::ListPartiesRequest::default()).await {
            Err(s) if s.code() == Code::ResourceExhausted => break (s, started.elapsed()),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("never shed: {other:?}"),
        }
    };
    assert!(shed.1 < Duration::from_millis(500), "shedding must not queue: took {:?}", shed.1);
    assert!(shed.0.message().contains("limit of 2 calls"), "{}", shed.0.message());

    // Once the calls in flight go away, service resumes.
    for task in stalled {
        task.abort();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while registry.list_parties(pb::ListPartiesRequest::default()).await.is_err() {
        assert!(Instant::now() < deadline, "capacity never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[tokio::test]
async fn one_party_flooding_is_limited_without_starving_the_others() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.calls_per_second_per_party = 5.0;
        config.limits.burst_per_party = 5;
        Ok(())
    })
    .await?;
    let mut flooder = ex.registry(party::MHI).await?;
    let mut limited = None;
    for _ in 0..20 {
        if let Err(s) = flooder.list_parties(pb::ListPartiesRequest::default()).await {
            limited = Some(s);
            break;
        }
    }
    let status = limited.expect("the flood was never limited");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let retry = status.get_details_retry_info().and_then(|r| r.retry_delay).expect("a retry hint");
    assert!(retry > Duration::ZERO && retry <= Duration::from_millis(200), "{retry:?}");
    assert!(status.message().contains(party::MHI), "{}", status.message());

    // Another party is served at once; the flooder again after the hint.
    healthy(&ex, party::KAI).await;
    tokio::time::sleep(retry).await;
    flooder.list_parties(pb::ListPartiesRequest::default()).await.expect("served again after the hint");
    Ok(())
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_cut_off() -> anyhow::Result<()> {
    let ex = TestExchange::start_with(|config, _, _| {
        config.limits.handshake_timeout = Duration::from_millis(300);
        Ok(())
    })
    .await?;
    let started = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(ex.addr()).await?;
    healthy(&ex, party::USAF).await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    let elapsed = started.elapsed();
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the silent connection was not closed: {read:?}");
    assert!(elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3), "closed after {elapsed:?}");
    healthy(&ex, party::USAF).await;
    Ok(())
}

#[tokio::test]
async fn an_expired_deadline_is_deadline_exceeded_and_the_server_stays_healthy() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let started = Instant::now();
    let status =
        stalled_call(ex.channel(party::USAF).await?, "/cosx.v1.Registry/GetParty", Some(Duration::from_millis(300)))
            .await
            .expect_err("a call past its deadline succeeded");
    // The server answers DEADLINE_EXCEEDED (see the `limits` unit test
    // `a_call_past_its_deadline_is_answered_deadline_exceeded`); a tonic
    // client also runs its own timer on the same header and may report its
    // own expiry first, as CANCELLED. Either way the call ends on time.
    assert!(matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    healthy(&ex, party::USAF).await;
    Ok(())
}

#[tokio::test]
async fn a_subscriber_that_never_reads_holds_up_nobody_and_loses_nothing() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // Subscribed, never read while the log grows.
    let mut idle = ex.feed(party::USAF).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut reader = ex.feed(party::USAF).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    const ORDERS: usize = 300;
    let records = (0..ORDERS).map(|i| pb::IngestRequest {
        request_id: format!("slow-{i}"),
        record: Some(pb::ingest_request::Record::RepairOrder(repair_order(party::USAF))),
        ..Default::default()
    });
    let mut results = ex.exchange(party::USAF).await?.ingest(futures::stream::iter(records)).await?.into_inner();
    let mut stored = 0;
    while let Some(r) = results.next().await {
        r?;
        stored += 1;
    }
    assert_eq!(stored, ORDERS);

    // The reading subscriber got everything while the other sat idle.
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), count_orders(&mut reader, ORDERS)).await?, ORDERS);
    healthy(&ex, party::MHI).await;
    // The idle one, read at last, gets every event in order from its cursor.
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), count_orders(&mut idle, ORDERS)).await?, ORDERS);
    Ok(())
}

/// Reads `feed` until it has seen `orders` repair-order events, checking order.
async fn count_orders(feed: &mut tonic::Streaming<pb::Event>, orders: usize) -> usize {
    let mut last = 0;
    let mut seen = 0;
    while seen < orders {
        let e = feed.next().await.expect("open").expect("event");
        assert!(e.sequence > last, "out of order");
        last = e.sequence;
        if matches!(e.subject, Some(pb::event::Subject::RepairOrder(_))) {
            seen += 1;
        }
    }
    seen
}

#[tokio::test]
async fn the_coordinator_serves_prometheus_metrics_on_its_own_listener() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ex = TestExchange::start_with(|config, _, _| {
        config.metrics_listen = Some("127.0.0.1:0".parse()?);
        Ok(())
    })
    .await?;
    ex.registry(party::USAF).await?.list_parties(pb::ListPartiesRequest::default()).await?;
    let _ = ex.registry("SGP-NOBODY").await?.list_parties(pb::ListPartiesRequest::default()).await;
    let _feed = ex.feed(party::KAI).await?.subscribe(pb::SubscribeRequest::default()).await?;
    // HTTP/JSON calls count under the method they map to, with its code.
    let channel = ex.channel(party::USAF).await?;
    let missing = "/v1/repairOrders/US-USAF-OOALC.nothing-here";
    let answer = cosx_tests::http_json(&channel, http::Method::GET, missing, &[], None).await?;
    assert_eq!(answer.status, http::StatusCode::NOT_FOUND, "{}", answer.body);
    let addr = ex.running.as_ref().and_then(|r| r.metrics_addr()).ok_or_else(|| anyhow::anyhow!("no metrics"))?;
    let mut socket = tokio::net::TcpStream::connect(addr).await?;
    socket.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n").await?;
    let mut page = String::new();
    socket.read_to_string(&mut page).await?;
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    for line in [
        "cosx_calls_total{method=\"/cosx.v1.Registry/ListParties\",code=\"OK\"}",
        "cosx_calls_refused_total{limit=\"not admitted\"}",
        "cosx_calls_total{method=\"/cosx.v1.Exchange/GetRepairOrder\",code=\"NOT_FOUND\"}",
        "cosx_call_duration_seconds_bucket{method=\"/cosx.v1.Registry/ListParties\",le=\"+Inf\"}",
        "cosx_commit_batch_size_count",
        "cosx_writer_queue_depth",
        "cosx_feed_subscribers",
        "cosx_feed_lag_events",
    ] {
        assert!(page.contains(line), "{line} missing from\n{page}");
    }
    // Counts and times only: no party's records.
    assert!(!page.contains("repairOrders/"), "{page}");
    Ok(())
}
