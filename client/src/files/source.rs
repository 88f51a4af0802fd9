//! Reading rows from CSV and JSON-lines files, one row at a time so memory
//! stays flat in the size of the file.
//!
//! A reader checks the file's *structure* (encoding, header, number of cells
//! per row, cell size, JSON syntax) and reports a defect as a [`FileError`]
//! naming the row; what the cells *mean* is left to the record's proto3 JSON
//! mapping and the server. It never changes the file.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use super::FileError;
use super::map::Mapping;
use super::row::{Header, RESERVED_PREFIX, row_to_json};
use super::schema::RecordType;

/// The largest cell (or JSON line) accepted: larger is a damaged or wrong
/// file, not a record.
pub const MAX_CELL_BYTES: usize = 256 * 1024;

/// The formats a record file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row of column names.
    Csv,
    /// One proto3-JSON object per line.
    Jsonl,
    /// An Excel workbook: the first sheet, or --sheet.
    Xlsx,
}

impl Format {
    /// The format a file name suggests: `.csv`, `.tsv`, `.jsonl`/`.ndjson`/`.json`, `.xlsx`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// A row as it was in the file, kept to be written to the reject file.
#[derive(Debug, Clone)]
pub enum Original {
    /// The cells of a CSV or spreadsheet row.
    Cells(Vec<String>),
    /// A JSON line, parsed.
    Json(Value),
}

/// One data row.
#[derive(Debug, Clone)]
pub struct SourceRow {
    /// Row number as a spreadsheet counts it (the header is row 1) or, for
    /// JSON lines, the line number.
    pub number: u64,
    /// What was there.
    pub original: Original,
}

impl SourceRow {
    /// The row's proto3 JSON object; errors name the column or field.
    pub fn to_json(&self, header: Option<&Header>) -> Result<Value, Vec<String>> {
        match (&self.original, header) {
            (Original::Cells(cells), Some(h)) => row_to_json(h, cells),
            (Original::Json(v), _) => Ok(strip_reserved(v.clone())),
            (Original::Cells(_), None) => Err(vec!["row has cells but the file has no header".into()]),
        }
    }
}

fn strip_reserved(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|k, _| !k.starts_with(RESERVED_PREFIX));
    }
    v
}

/// Rows of a file, in order.
pub struct RowReader {
    header: Option<Header>,
    inner: Inner,
}

enum Inner {
    Csv { records: csv::Reader<BufReader<File>>, row: u64, width: usize },
    Jsonl { lines: BufReader<File>, line: u64, buf: Vec<u8> },
    Rows { rows: std::vec::IntoIter<Vec<String>>, row: u64 },
}

impl RowReader {
    /// Opens a CSV file with `delimiter` and resolves its header row.
    pub fn csv(
        path: &Path,
        record: RecordType,
        delimiter: u8,
        mapping: Option<&Mapping>,
    ) -> Result<RowReader, FileError> {
        let file = open(path)?;
        let mut records = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(BufReader::with_capacity(256 * 1024, file));
        let mut first = csv::ByteRecord::new();
        let got = records.read_byte_record(&mut first).map_err(|e| csv_error(1, &e))?;
        if !got {
            return Err(FileError::Empty);
        }
        let names = cells_of(&first, 1, None)?;
        let header = Header::parse(record, names, mapping)?;
        let width = header.names.len();
        Ok(RowReader { header: Some(header), inner: Inner::Csv { records, row: 1, width } })
    }

    /// Opens a JSON-lines file.
    pub fn jsonl(path: &Path) -> Result<RowReader, FileError> {
        let file = open(path)?;
        Ok(RowReader {
            header: None,
            inner: Inner::Jsonl { lines: BufReader::with_capacity(256 * 1024, file), line: 0, buf: Vec::new() },
        })
    }

    /// Rows already in memory (a spreadsheet), the first being the header,
    /// which is row `first` of the sheet.
    pub fn rows(
        record: RecordType,
        mut rows: Vec<Vec<String>>,
        first: u64,
        mapping: Option<&Mapping>,
    ) -> Result<RowReader, FileError> {
        if rows.is_empty() {
            return Err(FileError::Empty);
        }
        let names = rows.remove(0);
        let header = Header::parse(record, names, mapping)?;
        Ok(RowReader { header: Some(header), inner: Inner::Rows { rows: rows.into_iter(), row: first } })
    }

    /// The resolved header row (none for JSON lines).
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The next data row, or a structural defect naming the row.
    pub fn next_row(&mut self) -> Option<Result<SourceRow, FileError>> {
        match &mut self.inner {
            Inner::Csv { records, row, width } => {
                let mut rec = csv::ByteRecord::new();
                loop {
                    *row += 1;
                    match records.read_byte_record(&mut rec) {
                        Ok(false) => return None,
                        Err(e) => return Some(Err(csv_error(*row, &e))),
                        Ok(true) => {}
                    }
                    // A line holding only delimiters or spaces is no record.
                    if rec.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
                        continue;
                    }
                    if rec.len() != *width {
                        return Some(Err(FileError::CellCount { row: *row, expected: *width, found: rec.len() }));
                    }
                    let header = self.header.as_ref();
                    return Some(
                        cells_of(&rec, *row, header)
                            .map(|cells| SourceRow { number: *row, original: Original::Cells(cells) }),
                    );
                }
            }
            Inner::Rows { rows, row } => loop {
                let cells = rows.next()?;
                *row += 1;
                if cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let width = self.header.as_ref().map_or(0, |h| h.names.len());
                if cells.len() > width && cells[width..].iter().any(|c| !c.trim().is_empty()) {
                    return Some(Err(FileError::CellCount { row: *row, expected: width, found: cells.len() }));
                }
                return Some(Ok(SourceRow { number: *row, original: Original::Cells(cells) }));
            },
            Inner::Jsonl { lines, line, buf } => loop {
                buf.clear();
                *line += 1;
                match lines.read_until(b'\n', buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => return Some(Err(FileError::Read { row: *line, reason: e.to_string() })),
                }
                if buf.len() > MAX_CELL_BYTES {
                    return Some(Err(FileError::HugeCell { row: *line, column: "line".into(), bytes: buf.len() }));
                }
                let text = match std::str::from_utf8(buf) {
                    Ok(t) => t,
                    Err(e) => {
                        return Some(Err(FileError::NotUtf8 {
                            row: *line,
                            column: "line".into(),
                            offset: e.valid_up_to(),
                        }));
                    }
                };
                let text = text.trim().trim_start_matches('\u{feff}');
                if text.is_empty() {
                    continue;
                }
                return Some(match serde_json::from_str::<Value>(text) {
                    Ok(v) if v.is_object() => Ok(SourceRow { number: *line, original: Original::Json(v) }),
                    Ok(_) => Err(FileError::Json { line: *line, reason: "expected a JSON object".into() }),
                    Err(e) => Err(FileError::Json { line: *line, reason: e.to_string() }),
                });
            },
        }
    }
}

fn open(path: &Path) -> Result<File, FileError> {
    File::open(path).map_err(|e| FileError::Open { reason: e.to_string() })
}

fn csv_error(row: u64, e: &csv::Error) -> FileError {
    FileError::Read { row, reason: e.to_string() }
}

/// The cells of a CSV record as text; bytes that are not UTF-8 or a cell
/// over [`MAX_CELL_BYTES`] are defects of the file.
fn cells_of(rec: &csv::ByteRecord, row: u64, header: Option<&Header>) -> Result<Vec<String>, FileError> {
    let column = |i: usize| header.and_then(|h| h.names.get(i).cloned()).unwrap_or_else(|| format!("#{}", i + 1));
    rec.iter()
        .enumerate()
        .map(|(i, cell)| {
            if cell.len() > MAX_CELL_BYTES {
                return Err(FileError::HugeCell { row, column: column(i), bytes: cell.len() });
            }
            std::str::from_utf8(cell).map(str::to_owned).map_err(|e| FileError::NotUtf8 {
                row,
                column: column(i),
                offset: e.valid_up_to(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &[u8]) -> Result<tempfile::NamedTempFile, std::io::Error> {
        let mut f = tempfile::NamedTempFile::new()?;
        std::io::Write::write_all(&mut f, text)?;
        Ok(f)
    }

    fn all(mut r: RowReader) -> Result<Vec<SourceRow>, FileError> {
        std::iter::from_fn(|| r.next_row()).collect()
    }

    #[test]
    fn csv_rows_are_numbered_like_a_spreadsheet() -> Result<(), Box<dyn std::error::Error>> {
        let f = write(b"\xef\xbb\xbftms,quantity\nF-35A,2\n\n\"F-16C\nBlock 50\",3\n")?;
        let rows = all(RowReader::csv(f.path(), RecordType::RepairOrder, b',', None)?)?;
        let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 3]);
        Ok(())
    }

    #[test]
    fn a_row_with_too_few_cells_names_the_row() -> Result<(), Box<dyn std::error::Error>> {
        let f = write(b"tms,quantity\nF-35A,2\nF-16C\n")?;
        let err = all(RowReader::csv(f.path(), RecordType::RepairOrder, b',', None)?).expect_err("short row");
        assert_eq!(err.to_string(), "row 3 has 1 cells, the header has 2");
        Ok(())
    }

    #[test]
    fn bytes_that_are_not_utf8_name_the_row_and_column() -> Result<(), Box<dyn std::error::Error>> {
        let f = write(b"tms,item.nomenclature\nF-35A,PUMP \xff\n")?;
        let err = all(RowReader::csv(f.path(), RecordType::RepairOrder, b',', None)?).expect_err("latin-1");
        assert!(err.to_string().starts_with("row 2, column item.nomenclature: not UTF-8"), "{err}");
        Ok(())
    }

    #[test]
    fn a_huge_cell_is_a_damaged_file() -> Result<(), Box<dyn std::error::Error>> {
        let mut text = b"tms,item.nomenclature\nF-35A,".to_vec();
        text.extend(std::iter::repeat_n(b'A', MAX_CELL_BYTES + 1));
        let f = write(&text)?;
        let err = all(RowReader::csv(f.path(), RecordType::RepairOrder, b',', None)?).expect_err("huge");
        assert!(matches!(err, FileError::HugeCell { row: 2, .. }), "{err}");
        Ok(())
    }

    #[test]
    fn json_lines_skip_blank_lines_and_refuse_broken_ones() -> Result<(), Box<dyn std::error::Error>> {
        let f = write(b"{\"tms\":\"F-35A\"}\n\n{\"tms\":\"F-16C\",\"#row\":4}\n")?;
        let rows = all(RowReader::jsonl(f.path())?)?;
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(rows[1].to_json(None), Ok(serde_json::json!({"tms": "F-16C"})));
        let f = write(b"{\"tms\":\"F-35A\"}\n{\"tms\":")?;
        let err = all(RowReader::jsonl(f.path())?).expect_err("cut");
        assert!(err.to_string().starts_with("line 2: not JSON"), "{err}");
        Ok(())
    }
}
