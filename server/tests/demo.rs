//! The README's first command, as a real process: `cosx-server demo --exit`
//! makes a PKI, serves over mTLS on SQLite, plays the exchange and stops.

use std::process::Command;

#[test]
fn the_demo_runs_the_exchange_end_to_end_and_exits() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let output = Command::new(env!("CARGO_BIN_EXE_cosx-server"))
        .args(["demo", "--exit", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir.path())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for expected in [
        "offered 4,000 F-35A",
        "submitted F-35A",
        "proposed",
        "accepted it",
        "reported F-35A availability",
        "can see 0",
        "A_M 69.9 %",
        "regional demand: 3 orders",
        "contract share 43.2 %",
        "allocation: 1 of 2",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    for file in ["pki/ca.pem", "pki/server.pem", "pki/US-USAF-OOALC.key", "coordinator.toml", "coordinator.db"] {
        assert!(dir.path().join(file).exists(), "{file} missing");
    }
    // The log it left verifies.
    let verify = Command::new(env!("CARGO_BIN_EXE_cosx-server"))
        .args(["audit", "verify", "--config"])
        .arg(dir.path().join("coordinator.toml"))
        .output()?;
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && said.contains("chain intact"), "{said}");
    Ok(())
}
