//! `cosx import orders|offers|reports FILE` and `cosx import template ...`:
//! bulk files of records from ERP and depot systems, streamed through
//! `Ingest` in file order.
//!
//! Two passes over the file: the first checks its structure offline
//! (readable, UTF-8, a header of known columns, every row as wide as the
//! header, no huge cell) and counts rows, so a damaged file is refused whole
//! with one message and nothing stored; the second converts each row through
//! the record's proto3 JSON and streams it, at most 1,024 rows
//! in flight. Refused rows go to a reject file with the server's words. The
//! server alone decides what is valid; this module never retries a refused
//! row or edits one.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cosx_proto::v1::IngestRequest;
use cosx_proto::v1::ingest_request::Record;
use prost::Message;
use serde_json::Value;
use tokio::sync::mpsc;

use super::ingest::{self, Job};
use super::{GlobalArgs, Outcome};
use crate::Client;
use crate::error::ClientError;
use crate::files::map::Mapping;
use crate::files::row::{RESERVED_PREFIX, json_to_record, record_to_cells};
use crate::files::schema::{Column, input_columns};
use crate::files::source::{Original, RowReader};
use crate::files::{FileError, Format, RecordType, RequestIds, examples};
use crate::status::code_name;

/// `cosx import ...`
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Repair orders.
    Orders(ImportArgs),
    /// Capacity offers.
    Offers(ImportArgs),
    /// Availability reports.
    Reports(ImportArgs),
    /// Write a header row and one valid example row.
    Template(TemplateArgs),
}

/// Options of an import.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Exit status: 0 every row accepted; 3 some rows refused (see the reject file); \
4 the file cannot be imported at all (unreadable, not UTF-8, no header, unknown column, a row of the \
wrong width, a huge cell): nothing was sent; 1 a call failed; 2 bad usage.")]
pub struct ImportArgs {
    /// CSV with a header row, JSON lines, or an XLSX workbook.
    pub file: PathBuf,
    /// File format (default: from the extension: .csv .tsv .jsonl .ndjson .json .xlsx).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// CSV cell delimiter (default ',', or a tab for .tsv).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// Sheet of an XLSX workbook (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Where refused rows go (default: FILE.rejects.csv, or FILE.rejects.jsonl for JSON lines).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Map file (TOML) from the file's columns to cosx columns, with constants,
    /// date formats and enum synonyms (CSV and XLSX).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Batch name mixed into the request ids: the same record in two batches is two records.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub batch: String,
    /// Progress bar on standard error: auto (only on a terminal), always or never.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// When to draw the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// Only when standard error is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The record types by their plural command-line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Records {
    /// Repair orders.
    Orders,
    /// Capacity offers.
    Offers,
    /// Availability reports.
    Reports,
}

impl From<Records> for RecordType {
    fn from(r: Records) -> Self {
        match r {
            Records::Orders => RecordType::RepairOrder,
            Records::Offers => RecordType::CapacityOffer,
            Records::Reports => RecordType::AvailabilityReport,
        }
    }
}

/// `cosx import template orders|offers|reports`
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    /// Which record type.
    #[arg(value_enum)]
    pub records: Records,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// csv (default) or jsonl.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Party id to put in the originator, provider or reporter column.
    #[arg(long, value_name = "PARTY_ID", default_value = "US-PACAF-A4")]
    pub party: String,
}

pub(crate) async fn run(cmd: ImportCommand, global: &GlobalArgs) -> Result<Outcome, ClientError> {
    let (record, args) = match cmd {
        ImportCommand::Template(t) => return template(&t).map(|()| Outcome::Success),
        ImportCommand::Orders(a) => (RecordType::RepairOrder, a),
        ImportCommand::Offers(a) => (RecordType::CapacityOffer, a),
        ImportCommand::Reports(a) => (RecordType::AvailabilityReport, a),
    };
    import(record, args, global).await
}

/// Where and how to read the rows.
#[derive(Debug, Clone)]
struct SourceSpec {
    path: PathBuf,
    format: Format,
    record: RecordType,
    delimiter: u8,
    sheet: Option<String>,
    mapping: Option<Mapping>,
}

impl SourceSpec {
    fn from_args(record: RecordType, args: &ImportArgs) -> Result<SourceSpec, ClientError> {
        let format = args.format.or_else(|| Format::from_path(&args.file)).ok_or_else(|| {
            ClientError::Usage(format!(
                "cannot tell the format of {} from its extension: pass --format csv, jsonl or xlsx",
                args.file.display()
            ))
        })?;
        let tsv = args.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        let delimiter = match args.delimiter {
            Some(c) if c.is_ascii() => c as u8,
            Some(c) => return Err(ClientError::Usage(format!("--delimiter {c:?}: must be one ASCII character"))),
            None if tsv => b'\t',
            None => b',',
        };
        let mapping = match &args.map {
            None => None,
            Some(_) if format == Format::Jsonl => {
                return Err(ClientError::Usage("--map applies to CSV and XLSX files, not JSON lines".into()));
            }
            Some(path) => Some(Mapping::load(path, record).map_err(ClientError::Usage)?),
        };
        Ok(SourceSpec { path: args.file.clone(), format, record, delimiter, sheet: args.sheet.clone(), mapping })
    }

    fn open(&self) -> Result<RowReader, FileError> {
        match self.format {
            Format::Csv => RowReader::csv(&self.path, self.record, self.delimiter, self.mapping.as_ref()),
            Format::Jsonl => RowReader::jsonl(&self.path),
            Format::Xlsx => {
                let (rows, first) = crate::files::sheet::read(&self.path, self.sheet.as_deref())?;
                RowReader::rows(self.record, rows, first, self.mapping.as_ref())
            }
        }
    }

    fn bad(&self, e: FileError) -> ClientError {
        ClientError::BadFile { path: self.path.clone(), reason: e.to_string() }
    }
}

/// Checks a file as `cosx import` does before sending anything (pass 1):
/// its format, encoding, header, row widths and cell sizes. Returns the
/// number of data rows; the error is the message the command prints.
pub fn preflight(records: Records, args: &ImportArgs) -> Result<u64, ClientError> {
    let spec = SourceSpec::from_args(records.into(), args)?;
    check(&spec).map(|(rows, _)| rows).map_err(|e| spec.bad(e))
}

/// Pass 1: the file's structure, offline. Returns the number of data rows
/// and the header row as written (none for JSON lines).
fn check(spec: &SourceSpec) -> Result<(u64, Option<Vec<String>>), FileError> {
    let mut reader = spec.open()?;
    let mut rows = 0;
    while let Some(row) = reader.next_row() {
        row?;
        rows += 1;
    }
    Ok((rows, reader.header().map(|h| h.names.clone())))
}

/// What travels with each row to its result.
struct Tag {
    number: u64,
    original: Original,
    errors: Vec<String>,
}

async fn import(record: RecordType, args: ImportArgs, global: &GlobalArgs) -> Result<Outcome, ClientError> {
    let started = Instant::now();
    let spec = SourceSpec::from_args(record, &args)?;
    let checked = spec.clone();
    let (total, header_names) = tokio::task::spawn_blocking(move || check(&checked))
        .await
        .map_err(|e| ClientError::Usage(format!("file check stopped: {e}")))?
        .map_err(|e| spec.bad(e))?;

    let settings = super::profile::resolve(global, &super::profile::process_env)?;
    let client = Client::connect(&settings).await?;

    let rejects_path = args.rejects.clone().unwrap_or_else(|| default_rejects(&spec.path, spec.format));
    let mut rejects = Rejects::create(&rejects_path, header_names)?;
    let progress = Progress::new(total, args.progress);

    let (tx, rx) = mpsc::channel(ingest::WINDOW);
    let producer_spec = spec.clone();
    let batch = args.batch.clone();
    let producer = tokio::task::spawn_blocking(move || produce(&producer_spec, &batch, total, &tx));

    let (mut accepted, mut refused) = (0u64, 0u64);
    let outcome = ingest::run(&client, rx, |tag: Tag, result| {
        let errors = match result {
            Some(r) if r.code == 0 => {
                accepted += 1;
                progress.tick(accepted, refused, false);
                return Ok(());
            }
            Some(r) if r.field_violations.is_empty() => {
                vec![format!("{}: {}", code_name(tonic::Code::from(r.code)), r.message)]
            }
            Some(r) => r.field_violations,
            None => tag.errors,
        };
        refused += 1;
        progress.tick(accepted, refused, true);
        rejects.write(tag.number, &tag.original, &errors)
    })
    .await?;
    progress.finish();
    let produced = producer.await.map_err(|e| ClientError::Usage(format!("file reader stopped: {e}")))?;

    let elapsed = started.elapsed().as_secs_f64();
    let rows = accepted + refused;
    let kept = rejects.finish(refused > 0)?;
    let mut summary = format!(
        "{}: {rows} row(s), {accepted} accepted, {refused} refused in {elapsed:.1} s ({:.0} rows/s)",
        spec.path.display(),
        rows as f64 / elapsed.max(1e-9)
    );
    if let Some(path) = kept {
        summary.push_str(&format!("; refused rows are in {}", path.display()));
    }
    eprintln!("{summary}");
    if let Err(broken) = outcome {
        let at = broken.unanswered.first().map_or(0, |t| t.number);
        return Err(ClientError::Interrupted { row: at, status: Box::new(broken.status) });
    }
    if let Err(e) = produced {
        return Err(ClientError::BadFile {
            path: spec.path.clone(),
            reason: format!("{e} (the file changed while it was imported; rows before it were sent)"),
        });
    }
    Ok(if refused == 0 { Outcome::Success } else { Outcome::RowsRefused })
}

/// Pass 2: rows → requests, in order, into the bounded channel.
fn produce(spec: &SourceSpec, batch: &str, rows: u64, tx: &mpsc::Sender<Job<Tag>>) -> Result<(), FileError> {
    let mut reader = spec.open()?;
    // Sized for every row from the start (pass 1 counted them): growing the
    // map holds the old and the new table at once, half again its size.
    let mut ids = RequestIds::with_capacity(spec.record, batch, usize::try_from(rows).unwrap_or(0));
    while let Some(row) = reader.next_row() {
        let row = row?;
        let converted = row.to_json(reader.header()).and_then(|v| {
            request(spec.record, v, &mut ids).map_err(|errors| match reader.header() {
                Some(h) => errors.into_iter().map(|e| h.name_source(e)).collect(),
                None => errors,
            })
        });
        let job = match converted {
            Ok(request) => Job::Send(Tag { number: row.number, original: row.original, errors: Vec::new() }, request),
            Err(errors) => Job::Skip(Tag { number: row.number, original: row.original, errors }),
        };
        if tx.blocking_send(job).is_err() {
            break;
        }
    }
    Ok(())
}

/// A row's record as the API's message, with its content-derived request id.
fn request(record: RecordType, value: Value, ids: &mut RequestIds) -> Result<IngestRequest, Vec<String>> {
    let (record, encoded) = match record {
        RecordType::RepairOrder => {
            let m: cosx_proto::v1::RepairOrder = json_to_record(value).map_err(|e| vec![e])?;
            let bytes = m.encode_to_vec();
            (Record::RepairOrder(m), bytes)
        }
        RecordType::CapacityOffer => {
            let m: cosx_proto::v1::CapacityOffer = json_to_record(value).map_err(|e| vec![e])?;
            let bytes = m.encode_to_vec();
            (Record::CapacityOffer(m), bytes)
        }
        RecordType::AvailabilityReport => {
            let m: cosx_proto::v1::AvailabilityReport = json_to_record(value).map_err(|e| vec![e])?;
            let bytes = m.encode_to_vec();
            (Record::AvailabilityReport(m), bytes)
        }
    };
    Ok(IngestRequest { request_id: ids.next(&encoded), record: Some(record), ..Default::default() })
}

fn default_rejects(path: &Path, format: Format) -> PathBuf {
    let ext = if format == Format::Jsonl { "rejects.jsonl" } else { "rejects.csv" };
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".");
    name.push(ext);
    path.with_file_name(name)
}

/// The reject file: the refused rows as they were, with `#row` (the row
/// number in the imported file) and `#errors` (one error per line). Written
/// to a `.partial` file and moved into place at the end, so a reject file
/// is always the complete answer of one run; a run with no refusal removes
/// the previous run's file.
struct Rejects {
    path: PathBuf,
    partial: PathBuf,
    out: RejectsOut,
}

#[allow(clippy::large_enum_variant)] // one per run
enum RejectsOut {
    Csv { writer: csv::Writer<std::fs::File>, keep: Vec<usize> },
    Jsonl(std::io::BufWriter<std::fs::File>),
}

impl Rejects {
    fn create(path: &Path, header: Option<Vec<String>>) -> Result<Rejects, ClientError> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let werr = |source| ClientError::WriteFile { path: partial.clone(), source };
        let file = std::fs::File::create(&partial).map_err(werr)?;
        let out = match header {
            Some(names) => {
                let keep: Vec<usize> = (0..names.len()).filter(|i| !names[*i].starts_with(RESERVED_PREFIX)).collect();
                let mut writer = csv::Writer::from_writer(file);
                let mut head: Vec<&str> = keep.iter().map(|i| names[*i].as_str()).collect();
                head.extend(["#row", "#errors"]);
                writer.write_record(&head).map_err(|e| werr(std::io::Error::other(e)))?;
                RejectsOut::Csv { writer, keep }
            }
            None => RejectsOut::Jsonl(std::io::BufWriter::new(file)),
        };
        Ok(Rejects { path: path.to_owned(), partial, out })
    }

    fn write(&mut self, row: u64, original: &Original, errors: &[String]) -> Result<(), ClientError> {
        let werr = |source| ClientError::WriteFile { path: self.partial.clone(), source };
        match (&mut self.out, original) {
            (RejectsOut::Csv { writer, keep }, Original::Cells(cells)) => {
                let mut record: Vec<String> = keep.iter().map(|i| cells.get(*i).cloned().unwrap_or_default()).collect();
                record.push(row.to_string());
                record.push(errors.join("\n"));
                writer.write_record(&record).map_err(|e| werr(std::io::Error::other(e)))
            }
            (RejectsOut::Jsonl(out), Original::Json(v)) => {
                let mut v = v.clone();
                if let Value::Object(map) = &mut v {
                    map.insert("#row".into(), Value::from(row));
                    map.insert("#errors".into(), Value::from(errors.to_vec()));
                }
                let text = serde_json::to_string(&v).map_err(|e| werr(std::io::Error::other(e)))?;
                std::io::Write::write_all(out, format!("{text}\n").as_bytes()).map_err(werr)
            }
            _ => Ok(()),
        }
    }

    /// Moves the file into place when there were refusals; returns its path.
    fn finish(self, any: bool) -> Result<Option<PathBuf>, ClientError> {
        let werr = |source| ClientError::WriteFile { path: self.partial.clone(), source };
        match self.out {
            RejectsOut::Csv { mut writer, .. } => writer.flush().map_err(werr)?,
            RejectsOut::Jsonl(mut out) => std::io::Write::flush(&mut out).map_err(werr)?,
        }
        if any {
            std::fs::rename(&self.partial, &self.path)
                .map_err(|source| ClientError::WriteFile { path: self.path.clone(), source })?;
            return Ok(Some(self.path));
        }
        let _ = std::fs::remove_file(&self.partial);
        if self.path.exists() {
            std::fs::remove_file(&self.path)
                .map_err(|source| ClientError::WriteFile { path: self.path.clone(), source })?;
            eprintln!("no row refused: removed the previous reject file {}", self.path.display());
        }
        Ok(None)
    }
}

/// The progress bar: rows done of the total, accepted and refused, rate and
/// ETA, on standard error. Hidden unless asked for or on a terminal.
struct Progress(indicatif::ProgressBar);

impl Progress {
    fn new(total: u64, mode: ProgressMode) -> Progress {
        let show = match mode {
            ProgressMode::Always => true,
            ProgressMode::Never => false,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
        };
        if !show {
            return Progress(indicatif::ProgressBar::hidden());
        }
        let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} rows, {msg}, {per_sec}, ETA {eta}")
        {
            bar.set_style(style);
        }
        Progress(bar)
    }

    fn tick(&self, accepted: u64, refused: u64, refusal: bool) {
        let done = accepted + refused;
        self.0.set_position(done);
        if refusal || done % 64 == 1 {
            self.0.set_message(format!("{accepted} accepted, {refused} refused"));
        }
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// `cosx import template`: the input columns and one valid example row.
fn template(args: &TemplateArgs) -> Result<(), ClientError> {
    let record = RecordType::from(args.records);
    let columns: Vec<&Column> = input_columns(record).collect();
    let text = match args.format {
        Format::Csv => {
            let cells = match record {
                RecordType::RepairOrder => record_to_cells(&examples::repair_order(&args.party), &columns),
                RecordType::CapacityOffer => record_to_cells(&examples::capacity_offer(&args.party), &columns),
                RecordType::AvailabilityReport => {
                    record_to_cells(&examples::availability_report(&args.party), &columns)
                }
            }
            .map_err(|e| ClientError::Output(std::io::Error::other(e)))?;
            let mut writer = csv::Writer::from_writer(Vec::new());
            let out = |e: csv::Error| ClientError::Output(std::io::Error::other(e));
            writer.write_record(columns.iter().map(|c| c.path.as_str())).map_err(out)?;
            writer.write_record(&cells).map_err(out)?;
            let bytes = writer.into_inner().map_err(|e| ClientError::Output(std::io::Error::other(e.to_string())))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Format::Jsonl => {
            let line = match record {
                RecordType::RepairOrder => serde_json::to_string(&examples::repair_order(&args.party)),
                RecordType::CapacityOffer => serde_json::to_string(&examples::capacity_offer(&args.party)),
                RecordType::AvailabilityReport => serde_json::to_string(&examples::availability_report(&args.party)),
            }
            .map_err(|e| ClientError::Output(std::io::Error::other(e)))?;
            format!("{line}\n")
        }
        Format::Xlsx => return Err(ClientError::Usage("templates are written as csv or jsonl".into())),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|source| ClientError::WriteFile { path: path.clone(), source })
        }
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(text.as_bytes()).map_err(ClientError::Output)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reject_file_sits_next_to_the_input() {
        assert_eq!(default_rejects(Path::new("/d/orders.csv"), Format::Csv), Path::new("/d/orders.csv.rejects.csv"));
        assert_eq!(default_rejects(Path::new("o.jsonl"), Format::Jsonl), Path::new("o.jsonl.rejects.jsonl"));
    }

    #[test]
    fn every_template_reads_back_as_its_record() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        for records in [Records::Orders, Records::Offers, Records::Reports] {
            let out = dir.path().join("t.csv");
            let args = TemplateArgs { records, out: Some(out.clone()), format: Format::Csv, party: "P".into() };
            template(&args)?;
            let record = RecordType::from(records);
            let mut reader = RowReader::csv(&out, record, b',', None)?;
            let row = reader.next_row().ok_or("no row")??;
            assert!(reader.next_row().is_none());
            let value = row.to_json(reader.header()).map_err(|e| e.join(","))?;
            let req = request(record, value, &mut RequestIds::new(record, "")).map_err(|e| e.join(","))?;
            let expected = match record {
                RecordType::RepairOrder => Record::RepairOrder(examples::repair_order("P")),
                RecordType::CapacityOffer => Record::CapacityOffer(examples::capacity_offer("P")),
                RecordType::AvailabilityReport => Record::AvailabilityReport(examples::availability_report("P")),
            };
            assert_eq!(req.record, Some(expected), "{records:?}");
        }
        Ok(())
    }
}
