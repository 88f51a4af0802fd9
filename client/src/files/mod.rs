//! Bulk files: the flat columns of each record type, and reading rows from
//! CSV, JSON lines and spreadsheets into records through their proto3 JSON.
//!
//! Used by `cosx import` and `cosx export`. This module only moves data
//! between files and API messages: it never decides whether a record is
//! valid (the server does, through `Ingest`) and never holds a whole file in
//! memory when it can stream it.

pub mod examples;
pub mod map;
pub mod parquet_out;
pub mod row;
pub mod schema;
pub mod sheet;
pub mod source;

use std::collections::HashMap;

use sha2::{Digest, Sha256};

pub use schema::RecordType;
pub use source::Format;

/// What is wrong with a file as a whole: nothing of it is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The file cannot be opened.
    #[error("cannot open the file: {reason}")]
    Open {
        /// The I/O error.
        reason: String,
    },
    /// Reading failed part way.
    #[error("row {row}: cannot read the file: {reason}")]
    Read {
        /// Where.
        row: u64,
        /// Why.
        reason: String,
    },
    /// The file holds nothing.
    #[error("the file is empty: expected a header row of column names")]
    Empty,
    /// The first row is not column names.
    #[error(
        "missing header row: the first row ({found:?}) names no column; the first row must be column names such as \
         tms,item.nsn,quantity (see `cosx import template`)"
    )]
    MissingHeader {
        /// What the first row held.
        found: String,
    },
    /// The header is one cell holding another delimiter.
    #[error("the header {header:?} is one column: the file looks {found:?}-delimited; pass --delimiter {found:?}")]
    WrongDelimiter {
        /// The delimiter seen.
        found: char,
        /// The header as read.
        header: String,
    },
    /// Columns the record type does not have.
    #[error("unknown column(s) for {record}: {}; see `cosx import template {record}` for the columns", columns.join(", "))]
    UnknownColumns {
        /// The unknown header cells.
        columns: Vec<String>,
        /// orders, offers or reports.
        record: &'static str,
    },
    /// A column given twice.
    #[error("column {column} appears twice in the header")]
    DuplicateColumn {
        /// The header cell.
        column: String,
    },
    /// A row whose cell count differs from the header's.
    #[error("row {row} has {found} cells, the header has {expected}")]
    CellCount {
        /// Where.
        row: u64,
        /// Header width.
        expected: usize,
        /// Cells in the row.
        found: usize,
    },
    /// Bytes that are not UTF-8.
    #[error("row {row}, column {column}: not UTF-8 (invalid byte after {offset} valid bytes); save the file as UTF-8")]
    NotUtf8 {
        /// Where.
        row: u64,
        /// Which column.
        column: String,
        /// Valid bytes before the bad one.
        offset: usize,
    },
    /// A cell too large to be a field of a record.
    #[error("row {row}, column {column}: cell of {bytes} bytes is over the limit of {} bytes", source::MAX_CELL_BYTES)]
    HugeCell {
        /// Where.
        row: u64,
        /// Which column.
        column: String,
        /// Its size.
        bytes: usize,
    },
    /// A JSON line that is not a JSON object.
    #[error("line {line}: not JSON: {reason}")]
    Json {
        /// Where.
        line: u64,
        /// Why.
        reason: String,
    },
    /// A spreadsheet defect (not a workbook, truncated, no such sheet, a formula).
    #[error("{0}")]
    Sheet(String),
}

/// Request ids for the rows of an import, derived from what each row *is*.
///
/// The id hashes the record type, an optional batch name, the record's
/// canonical protobuf encoding (so spelling, column order, blank columns and
/// a reject file's `#row`/`#errors` columns do not change it) and how many
/// identical records came before it in the same file (so two identical
/// rows are two records). It deliberately does not hash the file name, the
/// row number or the rest of the file: re-importing a file stores nothing
/// twice, re-importing it after fixing some rows stores only the fixed rows,
/// and importing the corrected reject file does the same. Two files holding
/// the same record are one record unless given different `--batch` names.
#[derive(Debug, Default)]
pub struct RequestIds {
    seed: Vec<u8>,
    // 16 bytes of digest per distinct record: flat enough for millions of rows.
    seen: HashMap<[u8; 16], u32>,
}

impl RequestIds {
    /// Ids for records of `record` in batch `batch` (empty: none).
    pub fn new(record: RecordType, batch: &str) -> Self {
        let mut seed = b"cosx-import-v1\0".to_vec();
        seed.extend_from_slice(record.message_name().as_bytes());
        seed.push(0);
        seed.extend_from_slice(batch.as_bytes());
        seed.push(0);
        RequestIds { seed, seen: HashMap::new() }
    }

    /// [`RequestIds::new`] with room for `records` distinct records.
    pub fn with_capacity(record: RecordType, batch: &str, records: usize) -> Self {
        let mut ids = RequestIds::new(record, batch);
        ids.seen.reserve(records);
        ids
    }

    /// The id of the next record, given its protobuf encoding.
    pub fn next(&mut self, encoded: &[u8]) -> String {
        let content: [u8; 16] = digest16(&[&self.seed, encoded]);
        let n = self.seen.entry(content).or_insert(0);
        let occurrence = *n;
        *n += 1;
        let id: [u8; 16] = digest16(&[&content, &occurrence.to_le_bytes()]);
        format!("imp-{}", hex::encode(id))
    }
}

fn digest16(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_records_get_distinct_ids_and_a_rerun_gets_the_same_ones() {
        let run = || {
            let mut ids = RequestIds::new(RecordType::RepairOrder, "");
            [ids.next(b"a"), ids.next(b"b"), ids.next(b"a")]
        };
        let first = run();
        assert_ne!(first[0], first[2]);
        assert_eq!(first, run());
        assert!(first.iter().all(|id| id.len() == 36 && id.starts_with("imp-")));
    }

    #[test]
    fn the_id_depends_on_the_record_type_and_batch_not_on_position() {
        let id = |r, b: &str| RequestIds::new(r, b).next(b"x");
        assert_ne!(id(RecordType::RepairOrder, ""), id(RecordType::CapacityOffer, ""));
        assert_ne!(id(RecordType::RepairOrder, ""), id(RecordType::RepairOrder, "2027-01"));
        let mut ids = RequestIds::new(RecordType::RepairOrder, "");
        let _ = ids.next(b"other");
        assert_eq!(ids.next(b"x"), id(RecordType::RepairOrder, ""));
    }
}
