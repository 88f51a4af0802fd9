//! Graceful shutdown of the real `cosx-server coordinator` process: on
//! SIGTERM it stops accepting, lets calls in flight complete, ends feeds
//! with a resumable `UNAVAILABLE`, and exits within `shutdown_grace` even
//! when a call never ends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cosx_certs::ExchangeCa;
use cosx_proto::v1 as pb;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

const DEPOT: &str = "US-USAF-OOALC";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_calls_in_flight_closes_feeds_resumably_and_exits_within_the_grace() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let ca = ExchangeCa::create("rsf.example")?;
    let server = ca.issue_server(&["localhost".into()])?;
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem())?;
    std::fs::write(dir.path().join("server.pem"), &server.cert_pem)?;
    std::fs::write(dir.path().join("server.key"), &server.key_pem)?;
    std::fs::write(
        dir.path().join("coordinator.toml"),
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"sqlite://c.db\"\ntrust_domain = \"rsf.example\"\n\
             shutdown_grace = \"2s\"\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"ca.pem\"\n\
             [[parties]]\nid = \"{DEPOT}\"\nkind = \"ORGANIC\"\nnation = \"USA\"\ndepartment = \"AIR_FORCE\"\n"
        ),
    )?;
    let depot = ca.issue_party(DEPOT)?;
    let channel = || -> anyhow::Result<Channel> {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(ca.cert_pem()))
            .domain_name("localhost")
            .identity(Identity::from_pem(&depot.cert_pem, &depot.key_pem));
        Ok(Channel::from_shared(format!("https://127.0.0.1:{port}"))?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(2))
            .connect_lazy())
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_cosx-server"))
        .args(["coordinator", "--config"])
        .arg(dir.path().join("coordinator.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while pb::registry_client::RegistryClient::new(channel()?)
        .list_parties(pb::ListPartiesRequest::default())
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "coordinator never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A feed that has caught up, and two Ingest calls in flight.
    let mut feed =
        pb::feed_client::FeedClient::new(channel()?).subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let first = tokio::time::timeout(Duration::from_secs(5), feed.next()).await?.expect("event")?;
    let (finishing, finishing_rx) = tokio::sync::mpsc::channel::<pb::IngestRequest>(4);
    let mut finishing_results = pb::exchange_client::ExchangeClient::new(channel()?)
        .ingest(ReceiverStream::new(finishing_rx))
        .await?
        .into_inner();
    let (never, never_rx) = tokio::sync::mpsc::channel::<pb::IngestRequest>(4);
    let _never_results =
        pb::exchange_client::ExchangeClient::new(channel()?).ingest(ReceiverStream::new(never_rx)).await?.into_inner();

    let terminated = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?.success());

    // The feed ends with a status that says where to resume.
    let end = tokio::time::timeout(Duration::from_secs(5), feed.next()).await?.expect("a final status");
    let status = end.expect_err("the feed ended with an error status");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), format!("server shutting down; resume from sequence {}", first.sequence));

    // The call in flight completes after the signal.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let record = pb::ingest_request::Record::RepairOrder(pb::RepairOrder {
        originator: DEPOT.into(),
        tms: "F-16C".into(),
        system_category: pb::SystemCategory::Aircraft as i32,
        item: Some(pb::Item { nsn: "2840-01-602-2317".into(), nomenclature: "ENGINE".into(), ..Default::default() }),
        quantity: 1,
        maintenance_level: pb::MaintenanceLevel::Depot as i32,
        repair_type: pb::RepairType::RepairAndReturn as i32,
        priority: 3,
        required_by: "2027-03-31".into(),
        location: Some(pb::Site {
            name: "Hill AFB".into(),
            nation: "USA".into(),
            region: pb::Region::Northcom as i32,
            latitude: 41.12,
            longitude: -111.97,
        }),
        funding: Some(pb::Funding {
            source: Some(pb::funding::Source::UsAppropriation(pb::funding::UsAppropriation {
                department: pb::MilitaryDepartment::AirForce as i32,
                appropriation: "3400 O&M, Air Force".into(),
                fiscal_year: 2027,
            })),
            estimated_cost: Some(pb::Money { currency_code: "USD".into(), amount_minor: 100 }),
            actual_cost: None,
            ..Default::default()
        }),
        department: pb::MilitaryDepartment::AirForce as i32,
        ..Default::default()
    });
    finishing
        .send(pb::IngestRequest { request_id: "after-sigterm".into(), record: Some(record), ..Default::default() })
        .await?;
    drop(finishing);
    let result = tokio::time::timeout(Duration::from_secs(5), finishing_results.next()).await?.expect("a result")?;
    assert!(result.name.starts_with("repairOrders/"), "the in-flight call completed: {result:?}");
    assert!(tokio::time::timeout(Duration::from_secs(5), finishing_results.next()).await?.is_none());

    // No new connections once stopping.
    let refused =
        pb::registry_client::RegistryClient::new(channel()?).list_parties(pb::ListPartiesRequest::default()).await;
    assert!(refused.is_err(), "a new connection was served after SIGTERM");

    // The other call never ends; the process exits anyway, within the grace.
    let exit = tokio::task::spawn_blocking(move || child.wait()).await??;
    let took = terminated.elapsed();
    drop(never);
    assert!(exit.success(), "exit status {exit:?}");
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(5), "exited after {took:?}");
    Ok(())
}
