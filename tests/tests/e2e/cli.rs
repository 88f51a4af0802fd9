//! The `cosx` command line against a real coordinator: certificates made by
//! the CLI, a bulk submission through `Ingest` that is idempotent on re-run,
//! and lifecycle steps.

use std::path::Path;

use clap::Parser;
use cosx_client::cli::{Cli, run};
use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};

pub(crate) async fn cosx(ex: &TestExchange, as_party: &str, pki: &Path, args: &[&str]) -> bool {
    cosx_at(ex.addr().port(), as_party, pki, args).await
}

/// Runs the CLI against the node or coordinator on `port`.
async fn cosx_at(port: u16, as_party: &str, pki: &Path, args: &[&str]) -> bool {
    let endpoint = format!("https://localhost:{port}");
    let ca = pki.join("ca.pem");
    let cert = pki.join(format!("{as_party}.pem"));
    let key = pki.join(format!("{as_party}.key"));
    let mut argv: Vec<String> = ["cosx", "--endpoint", &endpoint].iter().map(ToString::to_string).collect();
    for (flag, path) in [("--ca", &ca), ("--cert", &cert), ("--key", &key)] {
        argv.push(flag.into());
        argv.push(path.display().to_string());
    }
    argv.extend(args.iter().map(ToString::to_string));
    let code = run(Cli::parse_from(argv)).await;
    format!("{code:?}") == format!("{:?}", std::process::ExitCode::SUCCESS)
}

/// A fresh folder holding what the CLI reads to call as a party: the CA
/// (`ca.pem`) and the certificates and keys of USAF, the coordinator and MHI.
pub(crate) fn pki_dir(ex: &TestExchange) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("ca.pem"), ex.ca.cert_pem())?;
    for p in [party::USAF, party::COORDINATOR, party::MHI] {
        let issued = ex.ca.issue_party(p)?;
        std::fs::write(dir.path().join(format!("{p}.pem")), issued.cert_pem)?;
        std::fs::write(dir.path().join(format!("{p}.key")), issued.key_pem)?;
    }
    Ok(dir)
}

#[tokio::test]
async fn a_bulk_file_goes_in_once_however_often_it_is_submitted() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    // 60 records: more than the CLI sends one by one, so they stream through Ingest.
    let orders: Vec<serde_json::Value> = (0..60)
        .map(|i| {
            let mut o = repair_order(party::USAF);
            o.quantity = 1 + i % 5;
            serde_json::to_value(&o)
        })
        .collect::<Result<_, _>>()?;
    let file = dir.path().join("orders.json");
    std::fs::write(&file, serde_json::to_string(&orders)?)?;
    let file_arg = file.display().to_string();
    assert!(cosx(&ex, party::USAF, dir.path(), &["submit", "order", "--file", &file_arg]).await);
    assert!(cosx(&ex, party::USAF, dir.path(), &["submit", "order", "--file", &file_arg]).await);
    let stored = ex.listed_orders(party::COORDINATOR).await?;
    assert_eq!(stored.len(), 60);

    // A file with a bad record stores the good ones and fails the command.
    let mut bad = repair_order(party::USAF);
    bad.quantity = 0;
    let mixed = vec![serde_json::to_value(repair_order(party::USAF))?, serde_json::to_value(&bad)?];
    let mixed_file = dir.path().join("mixed.json");
    std::fs::write(&mixed_file, serde_json::to_string(&mixed)?)?;
    assert!(
        !cosx(&ex, party::USAF, dir.path(), &["submit", "order", "--file", &mixed_file.display().to_string()]).await
    );
    Ok(())
}

#[tokio::test]
async fn orders_move_through_the_cli() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let order = ex
        .exchange(party::USAF)
        .await?
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "x".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let propose = ["order", "propose", &order.name, "--version", "1", "--provider", party::MHI];
    assert!(cosx(&ex, party::COORDINATOR, dir.path(), &propose).await);
    // A stale version fails.
    assert!(!cosx(&ex, party::MHI, dir.path(), &["order", "accept", &order.name, "--version", "1"]).await);
    assert!(cosx(&ex, party::MHI, dir.path(), &["order", "accept", &order.name, "--version", "2"]).await);
    assert!(cosx(&ex, party::USAF, dir.path(), &["order", "history", &order.name]).await);
    assert!(cosx(&ex, party::USAF, dir.path(), &["list", "orders", "--state", "accepted", "--json"]).await);
    let now = ex.exchange(party::USAF).await?.get_repair_order(pb::GetRepairOrderRequest { name: order.name }).await?;
    assert_eq!(now.into_inner().state, pb::RepairOrderState::Accepted as i32);
    Ok(())
}

#[tokio::test]
async fn the_cli_makes_a_pki_the_coordinator_accepts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().display().to_string();
    let offline = |args: &[&str]| {
        let argv: Vec<String> = std::iter::once("cosx").chain(args.iter().copied()).map(ToString::to_string).collect();
        run(Cli::parse_from(argv))
    };
    let ok = format!("{:?}", std::process::ExitCode::SUCCESS);
    assert_eq!(format!("{:?}", offline(&["certs", "init", "--trust-domain", "rsf.example", "--out", &d]).await), ok);
    assert_eq!(
        format!("{:?}", offline(&["certs", "issue", "--ca", &d, "--party", party::USAF, "--out", &d]).await),
        ok
    );
    // Refuses to overwrite the CA key.
    assert_ne!(format!("{:?}", offline(&["certs", "init", "--trust-domain", "rsf.example", "--out", &d]).await), ok);
    let ca = cosx_certs::ExchangeCa::load(
        &std::fs::read_to_string(dir.path().join("ca.pem"))?,
        &std::fs::read_to_string(dir.path().join("ca.key"))?,
    )?;
    assert_eq!(ca.trust_domain(), "rsf.example");
    let cert = std::fs::read_to_string(dir.path().join(format!("{}.pem", party::USAF)))?;
    let der = cosx_certs::pem_to_der(&cert).ok_or_else(|| anyhow::anyhow!("no PEM"))?;
    assert_eq!(cosx_certs::party_id_from_cert(&der, "rsf.example")?, party::USAF);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ca.key"))?.permissions().mode();
        assert_eq!(mode & 0o077, 0, "the CA key must not be readable by others");
    }
    Ok(())
}

#[tokio::test]
async fn the_cli_reads_a_nodes_status_outbox_and_replica() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let node = ex.start_node(party::USAF).await?;
    let port = node.addr().port();
    let created = pb::exchange_client::ExchangeClient::new(ex.node_channel(&node).await?)
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: "cli-node-1".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert!(cosx_at(port, party::USAF, dir.path(), &["node", "status"]).await);
    assert!(cosx_at(port, party::USAF, dir.path(), &["--json", "node", "writes", "--state", "queued"]).await);
    assert!(cosx_at(port, party::USAF, dir.path(), &["get", &created.name]).await);
    // The node serves its own party only: MHI's certificate is refused there.
    assert!(!cosx_at(port, party::MHI, dir.path(), &["node", "status"]).await);

    // Parked webhook deliveries: none yet; a retry of a webhook with nothing
    // parked fails; only the node's party, or at the coordinator a coordinator, may ask.
    assert!(cosx_at(port, party::USAF, dir.path(), &["node", "webhooks"]).await);
    assert!(cosx_at(port, party::USAF, dir.path(), &["node", "webhooks", "--retry-all"]).await);
    assert!(!cosx_at(port, party::USAF, dir.path(), &["node", "webhooks", "--retry", "erp"]).await);
    assert!(!cosx_at(port, party::MHI, dir.path(), &["node", "webhooks"]).await);
    assert!(cosx(&ex, party::COORDINATOR, dir.path(), &["--json", "node", "webhooks"]).await);
    assert!(!cosx(&ex, party::USAF, dir.path(), &["node", "webhooks"]).await);
    Ok(())
}

#[tokio::test]
async fn cosx_quote_requests_answers_lists_and_accepts_a_quote() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let pki = dir.path();
    let o = ex.create_order(party::USAF, repair_order(party::USAF)).await?;
    assert!(cosx(&ex, party::USAF, pki, &["quote", "request", &o.name, "--provider", party::MHI]).await);
    let quote = format!("{}/quotes/{}", o.name, party::MHI);
    let valid_until = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let answer = |price: &'static str, version: &'static str| {
        [
            "quote",
            "submit",
            &quote,
            "--version",
            version,
            "--kind",
            "final",
            "--price-cents",
            price,
            "--turnaround-days",
            "40",
            "--process",
            "repair",
            "--valid-until",
            &valid_until,
        ]
        .map(str::to_owned)
    };
    // A negative price is the coordinator's to refuse, and the command fails.
    let refused = answer("-1", "1");
    assert!(!cosx(&ex, party::MHI, pki, &refused.iter().map(String::as_str).collect::<Vec<_>>()).await);
    let good = answer("9900000", "1");
    assert!(cosx(&ex, party::MHI, pki, &good.iter().map(String::as_str).collect::<Vec<_>>()).await);
    assert!(cosx(&ex, party::USAF, pki, &["quote", "list", &o.name, "--state", "quoted"]).await);
    assert!(cosx(&ex, party::USAF, pki, &["quote", "accept", &quote, "--version", "2"]).await);
    let order = ex
        .exchange(party::USAF)
        .await?
        .get_repair_order(pb::GetRepairOrderRequest { name: o.name.clone() })
        .await?
        .into_inner();
    assert_eq!((order.state, order.provider.as_str()), (pb::RepairOrderState::Proposed as i32, party::MHI));
    Ok(())
}
