//! The HTTP/JSON face, tried as an ERP integrator would: an independent
//! client (Python's standard library, with the party's certificate and
//! nothing else) drives the order lifecycle over `/v1/...` on the
//! coordinator's one listener, and the answers are checked against what
//! gRPC says for the same party.

use std::process::Command;

use cosx_proto::v1 as pb;
use cosx_tests::{PARTIES, TestExchange, party, repair_order};

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
