//! The README's first command, as a real process: `cosx-server demo --exit`
//! makes a PKI, starts a coordinator and the party nodes over mTLS on
//! SQLite, plays three simulated months (with the Philippine node cut off
//! for two of them), prints the coordinating office's view and stops. Every
//! part must have produced something sensible, the same seed must play the
//! same exchange, and the audit log it leaves must verify.

use std::path::Path;
use std::process::Command;

fn run_demo(dir: &Path, seed: &str) -> Result<String, Box<dyn std::error::Error>> {
    let output = Command::new(env!("CARGO_BIN_EXE_cosx-server"))
        .args(["demo", "--exit", "--listen", "127.0.0.1:0", "--months", "3", "--seed", seed, "--dir"])
        .arg(dir)
        .env_remove("COSX_P12_PASSPHRASE")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    Ok(stdout)
}

/// The first number after `prefix` on the first line that has it.
fn number_after(text: &str, prefix: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains(prefix))?;
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let digits: String =
        rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',').collect();
    digits.replace(',', "").parse().ok()
}

/// The output without what differs from run to run: ports, paths, times.
fn stable(text: &str, dir: &Path) -> String {
    let dir = dir.display().to_string();
    text.lines()
        .filter(|l| {
            !(l.contains("https://localhost")
                || l.contains(&dir)
                || l.contains("while cut off")
                || l.contains("caught up in")
                // The log head counts the alert task's events, which it
                // commits just after the writes that cause them.
                || l.contains("the coordinator is at #")
                || l.contains("audit log head #"))
        })
        .map(|l| match l.find("scenario done in") {
            Some(_) => l.split_once(':').map_or(l, |(_, rest)| rest),
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_demo_runs_the_exchange_end_to_end_and_exits() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let out = run_demo(dir.path(), "7")?;
    let has = |s: &str| assert!(out.contains(s), "missing {s:?} in:\n{out}");

    // Nodes for the parties, one coordinating office at the coordinator.
    has("23 party nodes");
    has("== Month 3:");
    // Orders raised, allocated, accepted, worked and closed.
    let placed = number_after(&out, "allocation: placed").unwrap_or(0.0);
    assert!(placed > 0.0, "nothing placed:\n{out}");
    has("proposed to providers");
    let done = out.lines().find(|l| l.starts_with("scenario done")).unwrap_or_default();
    let completed = number_after(done, "completed").unwrap_or(0.0);
    let closed = number_after(done, "closed").unwrap_or(0.0);
    assert!(completed > 0.0 && closed > 0.0, "no order went the whole way to CLOSED:\n{out}");
    // The coordinating office's view.
    let demand = number_after(&out, "regional demand:").unwrap_or(0.0);
    assert!(demand > 0.0, "no demand:\n{out}");
    has("CROSTON_SBA");
    // Three regions to compare: the INDOPACOM pilots, EUCOM with NATO partners, SOUTHCOM.
    for region in ["INDOPACOM", "EUCOM", "SOUTHCOM"] {
        let row =
            out.lines().any(|l| l.trim_start().starts_with(region) && (l.contains(" TSB") || l.contains("CROSTON")));
        assert!(row, "no regional demand row for {region}:\n{out}");
    }
    // The repair conversation: quotes before an order, an exception, a typhoon and its re-plan.
    has("eligible providers to quote on");
    has("final quote at $");
    has("raised a cost-over-estimate exception on");
    has("!! typhoon: JPN-MHI-KOMAKI declared a disruption at Komaki South");
    let moves = number_after(&out, "order(s) stranded at Komaki South;").unwrap_or(0.0);
    assert!(moves > 0.0, "the re-plan moves nothing:\n{out}");
    has("order(s) proposed to their new providers");
    has("resolved the typhoon's disruption");
    has("demand against capacity");
    has("worst bottlenecks");
    for department in ["Air Force", "Navy", "Army"] {
        let share = number_after(&out, &format!("50/50 balance {department} FY")).map(|_| ());
        assert!(share.is_some(), "no 50/50 balance for {department}:\n{out}");
    }
    let share = out
        .lines()
        .find(|l| l.starts_with("  50/50 balance Air Force"))
        .and_then(|l| number_after(l, "contract share"))
        .unwrap_or(0.0);
    assert!(share > 30.0 && share < 50.0, "Air Force contract share {share}:\n{out}");
    let reports = number_after(&out, "availability (DoDI 3110.05) from").unwrap_or(0.0);
    assert!(reports >= 30.0, "availability from {reports} reports:\n{out}");
    has("HIGH NON-AVAILABILITY (A_M)");
    has("EXCESSIVE C/DA");
    // The Philippine node was cut off with writes queued, then caught up.
    let queued = number_after(&out, "DISCONNECTED, queued writes").unwrap_or(0.0);
    assert!(queued > 0.0, "the cut-off node queued nothing:\n{out}");
    has("PHL-PAF-CLARK node caught up: queued writes 0, feed lag 0 events, rejected 0");
    has("writes the coordinator refused from any node: 0");
    // What it leaves behind.
    has("cosx-server audit verify --config");
    for file in [
        "pki/ca.pem",
        "pki/server.pem",
        "pki/US-PACAF-A4.key",
        "coordinator.toml",
        "coordinator.db",
        "nodes/PHL-PAF-CLARK.toml",
        "nodes/PHL-PAF-CLARK.db",
    ] {
        assert!(dir.path().join(file).exists(), "{file} missing");
    }
    // The web console's address and a browser's PKCS#12 identities for the
    // coordinating office and one contractor, opening with the printed passphrase.
    has("Web console: https://localhost:");
    has("passphrase \"cosx-demo\"");
    for party in ["US-INDOPACOM-J4", "JPN-MHI-KOMAKI"] {
        let p12 = std::fs::read(dir.path().join(format!("pki/{party}.p12")))?;
        let store = p12_keystore::KeyStore::from_pkcs12(&p12, "cosx-demo")?;
        assert!(store.private_key_chain().is_some(), "{party}.p12 holds no key");
    }
    let verify = Command::new(env!("CARGO_BIN_EXE_cosx-server"))
        .args(["audit", "verify", "--config"])
        .arg(dir.path().join("coordinator.toml"))
        .output()?;
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && said.contains("chain intact"), "{said}");

    // The same seed plays the same exchange (in a fresh directory).
    let again = tempfile::tempdir()?;
    let second = run_demo(again.path(), "7")?;
    let (a, b) = (stable(&out, dir.path()), stable(&second, again.path()));
    if a != b {
        let first_difference = a.lines().zip(b.lines()).find(|(x, y)| x != y);
        panic!("same seed, different exchange; first difference: {first_difference:?}");
    }
    Ok(())
}
