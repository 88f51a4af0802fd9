//! Reading record files: proto3 JSON (camelCase or snake_case field names,
//! enums by full name, int64 as strings) holding one object, an array of
//! objects, or one object per line (JSON Lines).
//!
//! Parsing is all-or-nothing: a file with one malformed record is refused
//! before anything is sent, naming the record and line, so a half-submitted
//! batch never has to be untangled.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::ClientError;

/// Parses `text` as one object, a JSON array of objects, or a sequence of
/// objects separated by whitespace (JSON Lines). Errors name the record
/// index (from 0) and the line.
pub fn parse_records<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        // Parse the array element by element so an error can name the record.
        let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| format!("not a JSON array: {e}"))?;
        return items
            .into_iter()
            .enumerate()
            .map(|(i, v)| serde_json::from_value(v).map_err(|e| format!("record {i}: {e}")))
            .collect();
    }
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    loop {
        let line = line_of(text, stream.byte_offset());
        match stream.next() {
            None => break,
            Some(Err(e)) => return Err(format!("record {}: {e}", out.len())),
            Some(Ok(value)) => {
                let record =
                    serde_json::from_value(value).map_err(|e| format!("record {} (line {line}): {e}", out.len()))?;
                out.push(record);
            }
        }
    }
    if out.is_empty() {
        return Err("no records: expected a JSON object, an array of objects or JSON lines".into());
    }
    Ok(out)
}

/// Line number (from 1) of the first non-blank character at or after `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    let start = text[offset..].find(|c: char| !c.is_whitespace()).map_or(offset, |n| offset + n);
    text[..start].matches('\n').count() + 1
}

/// Reads and parses a record file with [`parse_records`].
pub fn read_records<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::ReadFile {
        what: "--file".into(),
        path: path.to_owned(),
        source,
    })?;
    parse_records(&text).map_err(|reason| ClientError::RecordFile { path: path.to_owned(), reason })
}

/// The idempotency key of record `index` of a batch: `<prefix>-<index>`.
///
/// Deterministic on purpose: re-running the same file with the same prefix
/// returns the records stored the first time instead of duplicating them.
/// Changing a record and re-running with the same prefix is refused by the
/// server (`ALREADY_EXISTS`); use a new prefix for a new batch.
pub fn request_id(prefix: &str, index: usize) -> String {
    format!("{prefix}-{index}")
}

/// The default request-id prefix for a file: its name without extension.
pub fn default_prefix(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "records".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosx_proto::v1::{MaintenanceLevel, RepairOrder};

    const ORDER: &str = r#"{"originator":"JPN-JASDF-GIFU","tms":"F-35A","quantity":2,
        "maintenanceLevel":"MAINTENANCE_LEVEL_DEPOT","item":{"nsn":"2840-01-234-5678"},"version":"3"}"#;

    #[test]
    fn a_single_object_is_one_record() {
        let records: Vec<RepairOrder> = parse_records(ORDER).expect("parses");
        assert_eq!(records.len(), 1);
        let order = &records[0];
        assert_eq!(order.tms, "F-35A");
        assert_eq!(order.quantity, 2);
        assert_eq!(order.maintenance_level, MaintenanceLevel::Depot as i32);
        assert_eq!(order.item.as_ref().map(|i| i.nsn.as_str()), Some("2840-01-234-5678"));
        assert_eq!(order.version, 3);
    }

    #[test]
    fn an_array_is_many_records() {
        let text = format!("[{ORDER}, {{\"tms\":\"F-16C\"}}]");
        let records: Vec<RepairOrder> = parse_records(&text).expect("parses");
        assert_eq!(records.iter().map(|r| r.tms.as_str()).collect::<Vec<_>>(), ["F-35A", "F-16C"]);
    }

    #[test]
    fn json_lines_are_many_records() {
        let text = "{\"tms\":\"F-35A\"}\n{\"tms\":\"F-16C\"}\n\n{\"tms\":\"C-130J\"}\n";
        let records: Vec<RepairOrder> = parse_records(text).expect("parses");
        assert_eq!(records.len(), 3);
        assert_eq!(records[2].tms, "C-130J");
    }

    #[test]
    fn snake_case_field_names_are_accepted_too() {
        let records: Vec<RepairOrder> =
            parse_records(r#"{"system_category":"SYSTEM_CATEGORY_AIRCRAFT"}"#).expect("parses");
        assert_eq!(records[0].system_category, 1);
    }

    #[test]
    fn a_bad_record_in_json_lines_names_its_index_and_line() {
        let text = "{\"tms\":\"F-35A\"}\n{\"maintenanceLevel\":\"DEPOT\"}\n";
        let err = parse_records::<RepairOrder>(text).expect_err("bad enum");
        assert!(err.starts_with("record 1 (line 2): "), "{err}");
    }

    #[test]
    fn a_bad_record_in_an_array_names_its_index() {
        let err = parse_records::<RepairOrder>("[{}, {\"quantity\":\"many\"}]").expect_err("bad");
        assert!(err.starts_with("record 1: "), "{err}");
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert!(parse_records::<RepairOrder>("  \n").is_err());
    }

    #[test]
    fn truncated_json_is_refused() {
        let err = parse_records::<RepairOrder>("{\"tms\":\"F-35A\"}\n{\"tms\":").expect_err("cut");
        assert!(err.starts_with("record 1: "), "{err}");
    }

    #[test]
    fn request_ids_are_stable_per_file_and_index() {
        let prefix = default_prefix(Path::new("/data/orders-2027-01.json"));
        assert_eq!(prefix, "orders-2027-01");
        assert_eq!(request_id(&prefix, 0), "orders-2027-01-0");
        assert_eq!(request_id(&prefix, 41), "orders-2027-01-41");
    }
}
