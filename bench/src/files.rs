//! Bulk files (issue 22) through the real `cosx` binary: `cosx import
//! orders FILE.csv` as a child process against the step's coordinator,
//! against the same records streamed through `Exchange.Ingest` from a
//! JSON-lines file by the bench's own client in the same step; and
//! `cosx export orders` to Parquet and CSV. Each CLI run is timed from spawn
//! to exit and its peak resident memory read from `/proc/<pid>/status`.
//!
//! The files are written with the CLI's own columns (`cosx import template
//! orders`: `cosx_client::files::schema::input_columns`) and cells
//! (`record_to_cells`, as `cosx export` writes them), from the bench's
//! fixtures, so the CSV and the JSON lines hold the same records.

use std::ffi::OsString;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cosx_client::files::RecordType;
use cosx_client::files::row::record_to_cells;
use cosx_client::files::schema::{Column, input_columns};
use cosx_proto::v1 as pb;
use futures::StreamExt;
use tokio::io::AsyncReadExt;
use tonic::transport::Channel;

use crate::fixtures;

/// The `cosx` binary beside the bench's own (`cargo build --release -p cosx-client`).
pub(crate) fn cli_beside_bench() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name("cosx"))
}

/// Writes repair orders `range` of `originator` as a CSV file with the
/// import template's header and as JSON lines (proto3 JSON), the same
/// records in the same order.
pub(crate) fn write_orders(
    csv_path: &Path,
    jsonl_path: &Path,
    originator: &str,
    range: std::ops::Range<usize>,
) -> anyhow::Result<()> {
    let columns: Vec<&Column> = input_columns(RecordType::RepairOrder).collect();
    let mut csv = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, std::fs::File::create(csv_path)?));
    csv.write_record(columns.iter().map(|c| c.path.as_str()))?;
    let mut jsonl = BufWriter::with_capacity(1 << 20, std::fs::File::create(jsonl_path)?);
    for i in range {
        let order = fixtures::repair_order(originator, i);
        csv.write_record(&record_to_cells(&order, &columns)?)?;
        serde_json::to_writer(&mut jsonl, &order)?;
        jsonl.write_all(b"\n")?;
    }
    csv.flush()?;
    jsonl.flush()?;
    Ok(())
}

/// One run of the CLI.
pub(crate) struct CliRun {
    /// From spawn to exit.
    pub(crate) elapsed: Duration,
    /// Highest `VmHWM` read while it ran (polled every 5 ms), MiB.
    pub(crate) peak_mib: Option<f64>,
    /// Its exit code.
    pub(crate) code: Option<i32>,
    /// The last line it wrote on standard error (its summary).
    pub(crate) summary: String,
}

/// Runs `bin` with `args`, timing it and polling its peak resident memory.
pub(crate) async fn run_cli(bin: &Path, args: &[OsString]) -> anyhow::Result<CliRun> {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| anyhow::anyhow!("{}: {e} (build it: cargo build --release -p cosx-client)", bin.display()))?;
    let pid = child.id().map(|p| p.to_string()).unwrap_or_default();
    let mut stderr = child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let reader = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut peak: Option<f64> = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        // VmHWM only grows while the process lives; the last reading before
        // it exits is its peak to within one poll.
        if let (Some(hwm), _) = crate::measure::memory_mib_of(&pid) {
            peak = Some(peak.map_or(hwm, |p: f64| p.max(hwm)));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let elapsed = started.elapsed();
    let text = reader.await.unwrap_or_default();
    let summary = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().to_owned();
    Ok(CliRun { elapsed, peak_mib: peak, code: status.code(), summary })
}

/// The CLI's connection flags for `party` at `addr`.
pub(crate) fn connection_args(addr: std::net::SocketAddr, ca: &Path, cert: &Path, key: &Path) -> Vec<OsString> {
    vec![
        "--endpoint".into(),
        format!("https://127.0.0.1:{}", addr.port()).into(),
        "--ca".into(),
        ca.into(),
        "--cert".into(),
        cert.into(),
        "--key".into(),
        key.into(),
        "--domain".into(),
        "localhost".into(),
    ]
}

/// What streaming a JSON-lines file through `Ingest` achieved.
pub(crate) struct JsonlIngest {
    /// From opening the file to the last result.
    pub(crate) elapsed: Duration,
    pub(crate) accepted: usize,
    pub(crate) refused: usize,
    pub(crate) first_refusal: Option<String>,
}

/// Reads repair orders from a JSON-lines file (one proto3-JSON order a
/// line, parsed on a blocking thread as the stream needs them) and streams
/// them through one `Ingest` call, reading every result. Each request id is
/// derived from its record by the function `cosx import` uses
/// (`RequestIds`, here for `batch`), so the store keeps the same kind of
/// keys for both: ids derived from content fall anywhere in its
/// idempotency index, where ids counted up in order would all append at
/// its end, a cost the import would pay and this baseline not.
pub(crate) async fn ingest_jsonl(channel: Channel, path: &Path, batch: &str) -> anyhow::Result<JsonlIngest> {
    use prost::Message;
    let started = Instant::now();
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::IngestRequest>(1024);
    let path = path.to_owned();
    let mut ids = cosx_client::files::RequestIds::new(RecordType::RepairOrder, batch);
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&path)?);
        for line in file.lines() {
            let order: pb::RepairOrder = serde_json::from_str(&line?)?;
            let request = pb::IngestRequest {
                request_id: ids.next(&order.encode_to_vec()),
                record: Some(pb::ingest_request::Record::RepairOrder(order)),
                record_id: String::new(),
            };
            if tx.blocking_send(request).is_err() {
                break;
            }
        }
        Ok(())
    });
    let mut client = pb::exchange_client::ExchangeClient::new(channel).max_decoding_message_size(64 << 20);
    let mut results = client.ingest(tokio_stream::wrappers::ReceiverStream::new(rx)).await?.into_inner();
    let (mut accepted, mut refused, mut first_refusal) = (0, 0, None);
    while let Some(result) = results.next().await {
        let result = result?;
        if result.code == 0 {
            accepted += 1;
        } else {
            refused += 1;
            first_refusal.get_or_insert_with(|| format!("{} {:?}", result.message, result.field_violations));
        }
    }
    reader.await??;
    Ok(JsonlIngest { elapsed: started.elapsed(), accepted, refused, first_refusal })
}
