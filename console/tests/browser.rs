//! The console in a real browser (Debian chromium driven by playwright-core,
//! console/browser/walk.mjs) against a real coordinator with real mTLS.
//! Built only with `--features browser`; needs `npm ci` in console/browser.

use std::process::Command;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};

#[tokio::test]
async fn every_page_walks_in_chromium_as_coordinator_and_contractor() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut first = None;
    for _ in 0..3 {
        let o = usaf
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(repair_order(party::USAF)),
                ..Default::default()
            })
            .await?
            .into_inner();
        first.get_or_insert(o.name);
    }
    let order = first.unwrap_or_default().trim_start_matches("repairOrders/").to_owned();
    let pki = ex.dir.path().join("browser-pki");
    std::fs::create_dir_all(&pki)?;
    for id in [party::COORDINATOR, party::KAI] {
        let issued = ex.ca.issue_party(id)?;
        std::fs::write(pki.join(format!("{id}.pem")), &issued.cert_pem)?;
        std::fs::write(pki.join(format!("{id}.key")), &issued.key_pem)?;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("../target/console-screenshots");
    std::fs::create_dir_all(&shots)?;
    let url = format!("https://localhost:{}", ex.addr().port());
    let script = root.join("browser/walk.mjs");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(["--url", &url, "--coordinator", party::COORDINATOR, "--contractor", party::KAI, "--order", &order])
            .args(["--submitted", "3"])
            .arg("--pki")
            .arg(&pki)
            .arg("--shots")
            .arg(&shots)
            .output()
    })
    .await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser walk failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all browser checks passed"), "{stdout}");
    Ok(())
}
