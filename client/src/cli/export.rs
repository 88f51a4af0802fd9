//! `cosx export orders|offers|reports --format csv|jsonl|parquet --out FILE`:
//! what the caller may see, page by page through the List calls, in the
//! same flat columns `cosx import` reads (so an export imports again).
//!
//! Visibility is the API's: this module only lists and writes. It streams
//! page by page, so memory is bounded by a page, and writes to
//! `FILE.partial` first so a failed export never leaves a file that looks
//! complete.

use std::io::Write;
use std::path::PathBuf;

use cosx_proto::v1::{ListAvailabilityReportsRequest, ListCapacityOffersRequest, ListRepairOrdersRequest};
use serde::Serialize;

use super::Outcome;
use super::import::Records;
use crate::Client;
use crate::error::ClientError;
use crate::files::RecordType;
use crate::files::parquet_out::ParquetSink;
use crate::files::row::record_to_cells;
use crate::files::schema::{Column, columns};

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row of the import columns.
    Csv,
    /// One proto3-JSON object per line.
    Jsonl,
    /// Apache Parquet with typed columns (DATE, TIMESTAMP UTC, integers, strings).
    Parquet,
}

/// `cosx export ...`
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Which records.
    #[arg(value_enum)]
    pub records: Records,
    /// The file to write (replaced when the export is complete).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// csv, jsonl or parquet (default: from the extension of --out, else csv).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Only this TMS.
    #[arg(long)]
    pub tms: Option<String>,
    /// Reports: include superseded versions.
    #[arg(long)]
    pub include_superseded: bool,
}

/// Writes records to the partial file in the chosen format.
struct Sink {
    format: ExportFormat,
    columns: Vec<&'static Column>,
    csv: Option<csv::Writer<std::io::BufWriter<std::fs::File>>>,
    jsonl: Option<std::io::BufWriter<std::fs::File>>,
    parquet: Option<ParquetSink>,
    path: PathBuf,
    rows: u64,
}

impl Sink {
    fn create(path: PathBuf, format: ExportFormat, record: RecordType) -> Result<Sink, ClientError> {
        let werr = |source| ClientError::WriteFile { path: path.clone(), source };
        let file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(werr)?);
        let columns: Vec<&Column> =
            columns(record).iter().filter(|c| c.path != "sync" && !c.path.starts_with("sync.")).collect();
        let mut sink = Sink { format, columns, csv: None, jsonl: None, parquet: None, path, rows: 0 };
        match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(file);
                w.write_record(sink.columns.iter().map(|c| c.path.as_str())).map_err(|e| sink.err(e))?;
                sink.csv = Some(w);
            }
            ExportFormat::Jsonl => sink.jsonl = Some(file),
            ExportFormat::Parquet => {
                let file = file.into_inner().map_err(|e| sink.err(e.error()))?;
                sink.parquet = Some(ParquetSink::create(file, &sink.columns).map_err(|e| sink.err(e))?);
            }
        }
        Ok(sink)
    }

    fn err(&self, e: impl std::fmt::Display) -> ClientError {
        ClientError::WriteFile { path: self.path.clone(), source: std::io::Error::other(e.to_string()) }
    }

    fn write<T: Serialize>(&mut self, records: &[T]) -> Result<(), ClientError> {
        for r in records {
            match self.format {
                ExportFormat::Csv => {
                    let cells = record_to_cells(r, &self.columns).map_err(|e| self.err(e))?;
                    let res = self.csv.as_mut().map(|w| w.write_record(&cells));
                    if let Some(Err(e)) = res {
                        return Err(self.err(e));
                    }
                }
                ExportFormat::Parquet => {
                    let res = self.parquet.as_mut().map(|p| p.write(r));
                    if let Some(Err(e)) = res {
                        return Err(self.err(e));
                    }
                }
                ExportFormat::Jsonl => {
                    let line = serde_json::to_string(r).map_err(|e| self.err(e))?;
                    let res = self.jsonl.as_mut().map(|w| writeln!(w, "{line}"));
                    if let Some(Err(e)) = res {
                        return Err(self.err(e));
                    }
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<u64, ClientError> {
        let flushed = match (self.csv.take(), self.jsonl.take()) {
            (Some(mut w), _) => w.flush(),
            (_, Some(mut w)) => w.flush(),
            _ => Ok(()),
        };
        flushed.map_err(|e| self.err(e))?;
        if let Some(p) = self.parquet.take() {
            p.finish().map_err(|e| self.err(e))?;
        }
        Ok(self.rows)
    }
}

pub(crate) async fn run(client: &Client, args: ExportArgs) -> Result<Outcome, ClientError> {
    let record = RecordType::from(args.records);
    let format = args.format.unwrap_or_else(|| {
        match args.out.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
            Some("jsonl" | "ndjson" | "json") => ExportFormat::Jsonl,
            Some("parquet" | "pq") => ExportFormat::Parquet,
            _ => ExportFormat::Csv,
        }
    });
    let mut partial = args.out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut sink = Sink::create(partial.clone(), format, record)?;
    let tms = args.tms.clone().unwrap_or_default();
    let mut token = String::new();
    let result: Result<(), ClientError> = async {
        loop {
            let next = match record {
                RecordType::RepairOrder => {
                    let req = ListRepairOrdersRequest {
                        page_size: 1000,
                        page_token: token.clone(),
                        tms: tms.clone(),
                        ..Default::default()
                    };
                    let resp = client.exchange().list_repair_orders(req).await?.into_inner();
                    sink.write(&resp.repair_orders)?;
                    resp.next_page_token
                }
                RecordType::CapacityOffer => {
                    let req = ListCapacityOffersRequest {
                        page_size: 1000,
                        page_token: token.clone(),
                        tms: tms.clone(),
                        ..Default::default()
                    };
                    let resp = client.exchange().list_capacity_offers(req).await?.into_inner();
                    sink.write(&resp.capacity_offers)?;
                    resp.next_page_token
                }
                RecordType::AvailabilityReport => {
                    let req = ListAvailabilityReportsRequest {
                        page_size: 1000,
                        page_token: token.clone(),
                        tms: tms.clone(),
                        include_superseded: args.include_superseded,
                        ..Default::default()
                    };
                    let resp = client.exchange().list_availability_reports(req).await?.into_inner();
                    sink.write(&resp.availability_reports)?;
                    resp.next_page_token
                }
            };
            if next.is_empty() {
                return Ok(());
            }
            token = next;
        }
    }
    .await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let rows = sink.finish()?;
    std::fs::rename(&partial, &args.out).map_err(|source| ClientError::WriteFile { path: args.out.clone(), source })?;
    eprintln!("{}: {rows} {} written", args.out.display(), record.plural());
    Ok(Outcome::Success)
}
