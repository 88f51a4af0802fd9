//! `cosx export TABLE --format csv|jsonl|parquet --out FILE`: a table as
//! the caller may see it, streamed from the server's `cosx.v1.Export` calls
//! (orders, offers, reports, availability-assets, availability-tms, demand,
//! balance, events), in flat columns named by the proto3 JSON field paths
//! (for orders, offers and reports the columns `cosx import` reads, so an
//! export imports again).
//!
//! Visibility and small-cell suppression are the server's: this module only
//! asks and writes, and never filters or recomputes a row. It writes rows as
//! they arrive, so memory is bounded by a Parquet row group, and writes to
//! `FILE.partial` first so a failed export never leaves a file that looks
//! complete.

use std::io::Write;
use std::path::PathBuf;

use cosx_proto::v1 as pb;
use cosx_proto::v1::{Granularity, MilitaryDepartment, Region};
use serde::Serialize;
use tonic::Streaming;

use super::Outcome;
use crate::Client;
use crate::enums;
use crate::error::ClientError;
use crate::files::parquet_out::ParquetSink;
use crate::files::row::record_to_cells;
use crate::files::schema::{Column, message_columns};

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row of the columns.
    Csv,
    /// One proto3-JSON object per line.
    Jsonl,
    /// Apache Parquet with typed columns (DATE, TIMESTAMP UTC, integers, strings).
    Parquet,
}

/// The tables `cosx export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    /// Repair orders (as ListRepairOrders).
    Orders,
    /// Capacity offers (as ListCapacityOffers).
    Offers,
    /// Availability reports (as ListAvailabilityReports).
    Reports,
    /// One row per asset per report: the DoDI 3110.05 time account, unrounded.
    AvailabilityAssets,
    /// One row per TMS and timeframe: every input of A_M, A_O and C/DA.
    AvailabilityTms,
    /// Demand cells as GetDemandSignal releases them (suppressed cells marked).
    Demand,
    /// 50/50 rows per department and fiscal year (coordinators).
    Balance,
    /// The events the caller may see, up to now.
    Events,
}

impl Table {
    /// The message of one row.
    pub fn message(self) -> &'static str {
        match self {
            Table::Orders => "cosx.v1.RepairOrder",
            Table::Offers => "cosx.v1.CapacityOffer",
            Table::Reports => "cosx.v1.AvailabilityReport",
            Table::AvailabilityAssets => "cosx.v1.AvailabilityAssetRow",
            Table::AvailabilityTms => "cosx.v1.AvailabilityTmsRow",
            Table::Demand => "cosx.v1.DemandCell",
            Table::Balance => "cosx.v1.DepartmentBalance",
            Table::Events => "cosx.v1.Event",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Table::Orders => "orders",
            Table::Offers => "offers",
            Table::Reports => "reports",
            Table::AvailabilityAssets => "asset rows",
            Table::AvailabilityTms => "TMS rows",
            Table::Demand => "demand cells",
            Table::Balance => "balance rows",
            Table::Events => "events",
        }
    }
}

/// `cosx export ...`
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Which table.
    #[arg(value_enum)]
    pub table: Table,
    /// The file to write (replaced when the export is complete).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// csv, jsonl or parquet (default: from the extension of --out, else csv).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Only this TMS (every table but balance and events).
    #[arg(long)]
    pub tms: Option<String>,
    /// Only this party's records: originator (orders), provider (offers),
    /// reporter (reports), owner (availability-*).
    #[arg(long)]
    pub party: Option<String>,
    /// Orders: only those with this provider.
    #[arg(long)]
    pub provider: Option<String>,
    /// Only this region (orders, offers, availability-*, demand).
    #[arg(long, value_parser = enums::parse::<Region>)]
    pub region: Option<Region>,
    /// availability-*: only owners of this nation (ISO alpha-3).
    #[arg(long)]
    pub nation: Option<String>,
    /// availability-*, demand: from this date (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// availability-*, demand: to this date (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// demand: month (default), fiscal-quarter or fiscal-year.
    #[arg(long, value_parser = enums::parse::<Granularity>)]
    pub granularity: Option<Granularity>,
    /// balance, availability-*: only this military department.
    #[arg(long, value_parser = enums::parse::<MilitaryDepartment>)]
    pub department: Option<MilitaryDepartment>,
    /// balance: only this fiscal year.
    #[arg(long)]
    pub fiscal_year: Option<i32>,
    /// balance: count proposed work in the projected share.
    #[arg(long)]
    pub include_proposed: bool,
    /// reports: include superseded versions.
    #[arg(long)]
    pub include_superseded: bool,
    /// events: only those after this sequence.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
}

impl ExportArgs {
    /// Refuses a flag the table has no filter for, naming both.
    fn check_flags(&self) -> Result<(), ClientError> {
        use Table::*;
        let t = self.table;
        let given: [(&str, bool, &[Table]); 12] = [
            ("--tms", self.tms.is_some(), &[Orders, Offers, Reports, AvailabilityAssets, AvailabilityTms, Demand]),
            ("--party", self.party.is_some(), &[Orders, Offers, Reports, AvailabilityAssets, AvailabilityTms]),
            ("--provider", self.provider.is_some(), &[Orders]),
            ("--region", self.region.is_some(), &[Orders, Offers, AvailabilityAssets, AvailabilityTms, Demand]),
            ("--nation", self.nation.is_some(), &[AvailabilityAssets, AvailabilityTms]),
            ("--from", self.from.is_some(), &[AvailabilityAssets, AvailabilityTms, Demand]),
            ("--to", self.to.is_some(), &[AvailabilityAssets, AvailabilityTms, Demand]),
            ("--granularity", self.granularity.is_some(), &[Demand]),
            ("--department", self.department.is_some(), &[AvailabilityAssets, AvailabilityTms, Balance]),
            ("--fiscal-year", self.fiscal_year.is_some(), &[Balance]),
            ("--include-proposed", self.include_proposed, &[Balance]),
            ("--include-superseded", self.include_superseded, &[Reports]),
        ];
        for (flag, set, applies) in given {
            if set && !applies.contains(&t) {
                return Err(ClientError::Usage(format!("{flag} does not apply to cosx export {}", t.noun())));
            }
        }
        if self.after != 0 && t != Events {
            return Err(ClientError::Usage(format!("--after does not apply to cosx export {}", t.noun())));
        }
        Ok(())
    }

    fn metrics_request(&self) -> pb::GetAvailabilityMetricsRequest {
        pb::GetAvailabilityMetricsRequest {
            tms: self.tms.clone().unwrap_or_default(),
            owner: self.party.clone().unwrap_or_default(),
            department: self.department.map_or(0, |d| d as i32),
            nation: self.nation.clone().unwrap_or_default(),
            region: self.region.map_or(0, |r| r as i32),
            from_date: self.from.clone().unwrap_or_default(),
            to_date: self.to.clone().unwrap_or_default(),
            ..Default::default()
        }
    }
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
    fn create(path: PathBuf, format: ExportFormat, table: Table) -> Result<Sink, ClientError> {
        let werr = |source| ClientError::WriteFile { path: path.clone(), source };
        let file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(werr)?);
        // A node's sync state says where a write is on its way; it is not data.
        let not_sync = |c: &&Column| c.path != "sync" && !c.path.starts_with("sync.") && !c.path.contains(".sync.");
        let columns: Vec<&Column> = message_columns(table.message()).iter().filter(not_sync).collect();
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

/// Writes every row of `rows` as it arrives.
async fn drain<T: Serialize>(mut rows: Streaming<T>, sink: &mut Sink) -> Result<(), ClientError> {
    while let Some(row) = rows.message().await? {
        sink.write(std::slice::from_ref(&row))?;
    }
    Ok(())
}

async fn stream_table(client: &Client, args: &ExportArgs, sink: &mut Sink) -> Result<(), ClientError> {
    let mut export = pb::export_client::ExportClient::new(client.channel());
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    match args.table {
        Table::Orders => {
            let req = pb::ListRepairOrdersRequest {
                tms: text(&args.tms),
                originator: text(&args.party),
                provider: text(&args.provider),
                region: args.region.map_or(0, |r| r as i32),
                ..Default::default()
            };
            drain(export.export_repair_orders(req).await?.into_inner(), sink).await
        }
        Table::Offers => {
            let req = pb::ListCapacityOffersRequest {
                tms: text(&args.tms),
                provider: text(&args.party),
                region: args.region.map_or(0, |r| r as i32),
                ..Default::default()
            };
            drain(export.export_capacity_offers(req).await?.into_inner(), sink).await
        }
        Table::Reports => {
            let req = pb::ListAvailabilityReportsRequest {
                tms: text(&args.tms),
                reporter: text(&args.party),
                include_superseded: args.include_superseded,
                ..Default::default()
            };
            drain(export.export_availability_reports(req).await?.into_inner(), sink).await
        }
        Table::AvailabilityAssets => {
            drain(export.export_availability_assets(args.metrics_request()).await?.into_inner(), sink).await
        }
        Table::AvailabilityTms => {
            drain(export.export_availability_tms(args.metrics_request()).await?.into_inner(), sink).await
        }
        Table::Demand => {
            let req = pb::GetDemandSignalRequest {
                granularity: args.granularity.map_or(0, |g| g as i32),
                filter: Some(pb::DemandFilter {
                    regions: args.region.iter().map(|r| *r as i32).collect(),
                    tms: args.tms.iter().cloned().collect(),
                    levels: vec![],
                    from_date: text(&args.from),
                    to_date: text(&args.to),
                }),
                ..Default::default()
            };
            drain(export.export_demand(req).await?.into_inner(), sink).await
        }
        Table::Balance => {
            let req = pb::GetWorkloadBalanceRequest {
                department: args.department.map_or(0, |d| d as i32),
                fiscal_year: args.fiscal_year.unwrap_or(0),
                include_proposed: args.include_proposed,
                ..Default::default()
            };
            drain(export.export_balance(req).await?.into_inner(), sink).await
        }
        Table::Events => {
            let req = pb::SubscribeRequest { after_sequence: args.after, ..Default::default() };
            drain(export.export_events(req).await?.into_inner(), sink).await
        }
    }
}

pub(crate) async fn run(client: &Client, args: ExportArgs) -> Result<Outcome, ClientError> {
    args.check_flags()?;
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
    let mut sink = Sink::create(partial.clone(), format, args.table)?;
    if let Err(e) = stream_table(client, &args, &mut sink).await {
        drop(sink);
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let rows = sink.finish()?;
    std::fs::rename(&partial, &args.out).map_err(|source| ClientError::WriteFile { path: args.out.clone(), source })?;
    eprintln!("{}: {rows} {} written", args.out.display(), args.table.noun());
    Ok(Outcome::Success)
}
