//! The console in a real browser (Debian chromium driven by playwright-core,
//! console/browser/walk.mjs) against a real coordinator with real mTLS.
//! Built only with `--features browser`; needs `npm ci` in console/browser.

use std::process::Command;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};

const PASSPHRASE: &str = "walk the console";

#[tokio::test]
async fn every_page_walks_in_chromium_as_coordinator_and_contractor() -> anyhow::Result<()> {
    // Actual demand only, and thresholds the walk's orders cross on purpose.
    let ex = TestExchange::start_with(|c, _, _| {
        c.signals.bottleneck_forecast_periods = 0;
        c.signals.bottleneck_absolute_hours = 100.0;
        c.signals.bottleneck_relative = 0.1;
        Ok(())
    })
    .await?;
    // 4,000 h over 2027-01..03 (March: 1,377.8 h) against the three orders' 1,440 h: short by
    // 62 h, under the threshold; one more order in the walk raises a bottleneck.
    let offer = ex
        .create_offer(cosx_tests::capacity_offer(party::MHI))
        .await?
        .name
        .trim_start_matches("capacityOffers/")
        .to_owned();
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
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(cosx_tests::availability_report(party::USAF)),
        ..Default::default()
    })
    .await?;
    let order = first.unwrap_or_default().trim_start_matches("repairOrders/").to_owned();
    let pki = ex.dir.path().join("browser-pki");
    std::fs::create_dir_all(&pki)?;
    for id in [party::COORDINATOR, party::USAF] {
        let issued = ex.ca.issue_party(id)?;
        std::fs::write(pki.join(format!("{id}.pem")), &issued.cert_pem)?;
        std::fs::write(pki.join(format!("{id}.key")), &issued.key_pem)?;
    }
    // The contractor presents its identity as the PKCS#12 file `cosx certs issue --p12` writes.
    let issued = ex.ca.issue_party(party::KAI)?;
    let p12 = cosx_certs::pkcs12(&issued, ex.ca.cert_pem(), party::KAI, PASSPHRASE)?;
    std::fs::write(pki.join(format!("{}.p12", party::KAI)), p12)?;
    std::fs::write(pki.join("alert-order.json"), serde_json::to_vec(&repair_order(party::USAF))?)?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("../target/console-screenshots");
    std::fs::create_dir_all(&shots)?;
    let url = format!("https://localhost:{}", ex.addr().port());
    let script = root.join("browser/walk.mjs");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(["--url", &url, "--coordinator", party::COORDINATOR, "--contractor", party::KAI, "--order", &order])
            .args(["--offer", &offer, "--owner", party::USAF, "--passphrase", PASSPHRASE])
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
