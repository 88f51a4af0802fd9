//! One flat row ⇄ one record, through the record's proto3 JSON form.
//!
//! A row becomes a JSON object (dotted columns nested, blank cells left out,
//! cells shaped by the column's type), and that object is deserialized by the
//! API's own pbjson mapping, so field names, enum names and number formats
//! are exactly the API's. Export goes the other way with the same columns, so
//! an exported file imports again unchanged. Nothing here decides whether a
//! record is valid: that is the server's answer.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::FileError;
use super::map::{Mapping, Transform};
use super::schema::{Column, ColumnType, RecordType, find_column};

/// Header cells starting with this are ours (a reject file's `#row` and
/// `#errors`) and are ignored on import.
pub const RESERVED_PREFIX: char = '#';

/// The columns of a file's header row, resolved against the schema.
#[derive(Debug, Clone)]
pub struct Header {
    /// The header cells as written.
    pub names: Vec<String>,
    /// The column each cell names; `None` for ignored (`#...`) columns.
    pub columns: Vec<Option<&'static Column>>,
    /// How each column's cells are rewritten (`--map`).
    pub transforms: Vec<Transform>,
    /// Values every row gets unless its own cell says otherwise (`--map`).
    pub constants: Vec<(&'static Column, String)>,
}

impl Header {
    /// Resolves header cells. A header in which no cell names a column is
    /// "missing"; cells naming no column are listed together.
    pub fn parse(record: RecordType, names: Vec<String>, mapping: Option<&Mapping>) -> Result<Header, FileError> {
        let names: Vec<String> =
            names.into_iter().map(|n| n.trim().trim_start_matches('\u{feff}').to_owned()).collect();
        if names.iter().all(|n| n.is_empty()) {
            return Err(FileError::MissingHeader { found: String::new() });
        }
        let mut columns = Vec::with_capacity(names.len());
        let mut unknown = Vec::new();
        let mut known = 0;
        for name in &names {
            if name.starts_with(RESERVED_PREFIX) {
                columns.push(None);
                continue;
            }
            let target = match mapping.and_then(|m| m.target(name)) {
                Some(None) => {
                    columns.push(None);
                    continue;
                }
                Some(Some(t)) => find_column(record, t),
                None => find_column(record, name),
            };
            match target {
                // Output-only columns (an export's name, state, times) are the
                // server's to set: read past them so an export imports again.
                Some(c) if c.output_only => columns.push(None),
                Some(c) => {
                    if columns.iter().flatten().any(|k: &&Column| k.path == c.path) {
                        return Err(FileError::DuplicateColumn { column: name.clone() });
                    }
                    known += 1;
                    columns.push(Some(c));
                }
                None => {
                    unknown.push(name.clone());
                    columns.push(None);
                }
            }
        }
        let constants = mapping.map(|m| m.constant_columns(record)).unwrap_or_default();
        if known == 0 && constants.is_empty() {
            let joined = names.join(",");
            if let Some(d) = [';', '\t', '|'].into_iter().find(|d| joined.contains(*d)) {
                return Err(FileError::WrongDelimiter { found: d, header: shorten(&joined) });
            }
            return Err(FileError::MissingHeader { found: shorten(&joined) });
        }
        if !unknown.is_empty() {
            return Err(FileError::UnknownColumns { columns: unknown, record: record.plural() });
        }
        let transforms = columns
            .iter()
            .map(|c| match (c, mapping) {
                (Some(c), Some(m)) => m.transform(c),
                _ => Transform::default(),
            })
            .collect();
        Ok(Header { names, columns, transforms, constants })
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 80 { format!("{}...", s.chars().take(80).collect::<String>()) } else { s.to_owned() }
}

impl Header {
    /// Words an error about field `path: ...` with the file's own column
    /// when the file calls it something else (`Qty (quantity): ...`).
    pub fn name_source(&self, error: String) -> String {
        let Some((path, rest)) = error.split_once(": ") else { return error };
        let source = self.columns.iter().zip(&self.names).find(|(c, _)| c.is_some_and(|c| c.path == path));
        match source {
            Some((_, name)) if name != path => format!("{name} ({path}): {rest}"),
            _ => error,
        }
    }
}

/// Builds the proto3 JSON object of a row. Errors name the column.
pub fn row_to_json(header: &Header, cells: &[String]) -> Result<Value, Vec<String>> {
    let mut root = Map::new();
    let mut errors = Vec::new();
    for (column, value) in &header.constants {
        match cell_to_json(&column.ty, value) {
            Ok(v) => insert(&mut root, &column.path, v),
            Err(e) => errors.push(format!("constant {}: {e}", column.path)),
        }
    }
    for (i, cell) in cells.iter().enumerate() {
        let Some(Some(column)) = header.columns.get(i) else { continue };
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let rewritten;
        let cell = match header.transforms.get(i) {
            Some(t) if !t.is_identity() => match t.apply(cell) {
                Ok(c) => {
                    rewritten = c;
                    rewritten.as_str()
                }
                Err(e) => {
                    errors.push(format!("{}: {e}", header.names[i]));
                    continue;
                }
            },
            _ => cell,
        };
        match cell_to_json(&column.ty, cell) {
            Ok(v) => insert(&mut root, &column.path, v),
            Err(e) => errors.push(format!("{}: {e}", header.names[i])),
        }
    }
    if errors.is_empty() { Ok(Value::Object(root)) } else { Err(errors) }
}

fn insert(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            node.insert(part.to_owned(), value);
            return;
        }
        let next = node.entry(part.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(map) = next else { return };
        node = map;
    }
}

/// One cell's JSON value. Numbers stay strings: pbjson reads numbers from
/// strings and words its own error when they are not numbers.
pub fn cell_to_json(ty: &ColumnType, cell: &str) -> Result<Value, String> {
    Ok(match ty {
        ColumnType::Bool => match cell.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Value::Bool(true),
            "false" | "no" | "0" => Value::Bool(false),
            _ => return Err(format!("expected true or false, found {cell:?}")),
        },
        ColumnType::Enum(names) => Value::String(enum_name(names, cell)),
        ColumnType::Repeated(inner) => {
            if cell.starts_with('[') {
                let items: Vec<Value> = serde_json::from_str(cell).map_err(|e| format!("not a JSON array: {e}"))?;
                // Enums inside an array may use the short spelling too.
                if let ColumnType::Enum(names) = inner.as_ref() {
                    Value::Array(
                        items
                            .into_iter()
                            .map(|v| match v {
                                Value::String(s) => Value::String(enum_name(names, &s)),
                                other => other,
                            })
                            .collect(),
                    )
                } else {
                    Value::Array(items)
                }
            } else {
                let items: Result<Vec<Value>, String> =
                    cell.split(';').map(str::trim).filter(|s| !s.is_empty()).map(|s| cell_to_json(inner, s)).collect();
                Value::Array(items?)
            }
        }
        ColumnType::RepeatedMessage => {
            let v: Value = serde_json::from_str(cell).map_err(|e| format!("expected a JSON array of objects: {e}"))?;
            if !v.is_array() {
                return Err("expected a JSON array of objects".into());
            }
            v
        }
        ColumnType::Str
        | ColumnType::Date
        | ColumnType::Int32
        | ColumnType::UInt32
        | ColumnType::Int64
        | ColumnType::Double
        | ColumnType::Timestamp => Value::String(cell.to_owned()),
    })
}

/// The full name of an enum value given by its full name or its short form
/// (`depot`, `repair-and-return`); anything else is passed on unchanged so
/// the API's deserializer names it with the choices.
fn enum_name(names: &[String], cell: &str) -> String {
    if names.iter().any(|n| n == cell) {
        return cell.to_owned();
    }
    let prefix = names.first().and_then(|n| n.strip_suffix("UNSPECIFIED")).unwrap_or("");
    let short = cell.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    let full = format!("{prefix}{short}");
    if names.iter().any(|n| *n == full || *n == short) {
        if names.contains(&full) { full } else { short }
    } else {
        cell.to_owned()
    }
}

/// Deserializes a record from its proto3 JSON with the API's mapping; the
/// error names the field path (`item.nsn: ...`).
pub fn json_to_record<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || path.is_empty() { inner } else { format!("{path}: {inner}") }
    })
}

/// The cells of `record` under `columns`: strings as they are, numbers and
/// booleans as written by proto3 JSON, repeated fields as a JSON array,
/// absent or default values blank.
pub fn record_to_cells<T: Serialize>(record: &T, columns: &[&Column]) -> Result<Vec<String>, serde_json::Error> {
    let value = serde_json::to_value(record)?;
    Ok(columns.iter().map(|c| value_at(&value, &c.path).map(cell_of).unwrap_or_default()).collect())
}

/// The value at a dotted path, if present.
pub fn value_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, part| v.get(part))
}

fn cell_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosx_proto::v1::{CapacityOffer, RepairOrder};

    fn header(names: &[&str]) -> Result<Header, FileError> {
        Header::parse(RecordType::RepairOrder, names.iter().map(|s| (*s).to_owned()).collect(), None)
    }

    fn cells(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn dotted_columns_nest_and_blank_cells_are_left_out() -> Result<(), Box<dyn std::error::Error>> {
        let h = header(&["tms", "item.nsn", "quantity", "maintenanceLevel", "controls.organicOnly", "priority"])?;
        let v = row_to_json(&h, &cells(&["F-35A", "2840-01-602-2317", "4", "depot", "yes", ""]))
            .map_err(|e| e.join(","))?;
        let order: RepairOrder = json_to_record(v)?;
        assert_eq!(order.tms, "F-35A");
        assert_eq!(order.item.map(|i| i.nsn), Some("2840-01-602-2317".to_owned()));
        assert_eq!(order.quantity, 4);
        assert_eq!(order.maintenance_level, cosx_proto::v1::MaintenanceLevel::Depot as i32);
        assert_eq!(order.controls.map(|c| c.organic_only), Some(true));
        assert_eq!(order.priority, 0);
        Ok(())
    }

    #[test]
    fn a_bad_number_names_its_column() -> Result<(), Box<dyn std::error::Error>> {
        let h = header(&["tms", "quantity"])?;
        let v = row_to_json(&h, &cells(&["F-35A", "many"])).map_err(|e| e.join(","))?;
        let err = json_to_record::<RepairOrder>(v).expect_err("bad number");
        assert!(err.starts_with("quantity: "), "{err}");
        Ok(())
    }

    #[test]
    fn a_bad_enum_is_refused_with_the_choices() -> Result<(), Box<dyn std::error::Error>> {
        let h = header(&["maintenanceLevel"])?;
        let v = row_to_json(&h, &cells(&["shipyard"])).map_err(|e| e.join(","))?;
        let err = json_to_record::<RepairOrder>(v).expect_err("bad enum");
        assert!(err.starts_with("maintenanceLevel: ") && err.contains("MAINTENANCE_LEVEL_DEPOT"), "{err}");
        Ok(())
    }

    #[test]
    fn a_bad_boolean_names_its_column() -> Result<(), Box<dyn std::error::Error>> {
        let h = header(&["controls.organicOnly"])?;
        let err = row_to_json(&h, &cells(&["maybe"])).expect_err("bad bool");
        assert_eq!(err, ["controls.organicOnly: expected true or false, found \"maybe\""]);
        Ok(())
    }

    #[test]
    fn unknown_and_missing_headers_are_told_apart() {
        let err = header(&["tms", "item.colour", "wings"]).expect_err("unknown");
        assert!(err.to_string().contains("item.colour, wings"), "{err}");
        let err = header(&["F-35A", "2840-01-602-2317"]).expect_err("data as header");
        assert!(matches!(err, FileError::MissingHeader { .. }), "{err}");
        let err = header(&["originator;tms;quantity"]).expect_err("semicolons");
        assert!(matches!(err, FileError::WrongDelimiter { found: ';', .. }), "{err}");
        assert!(header(&["tms", "#row", "#errors"]).is_ok());
        assert!(matches!(header(&["tms", "tms"]), Err(FileError::DuplicateColumn { .. })));
    }

    #[test]
    fn export_cells_import_again_unchanged() -> Result<(), Box<dyn std::error::Error>> {
        let offer = CapacityOffer {
            provider: "JPN-MHI-KOMAKI".into(),
            certifications: vec!["AS9110C".into(), "ISO 9001".into()],
            lead_time_days: 14,
            periods: vec![cosx_proto::v1::CapacityPeriod {
                start_date: "2027-01-01".into(),
                end_date: "2027-03-31".into(),
                capacity: 4000.5,
                surge_capacity: 0.0,
            }],
            ..Default::default()
        };
        let cols: Vec<&Column> = super::super::schema::input_columns(RecordType::CapacityOffer).collect();
        let row = record_to_cells(&offer, &cols)?;
        let h = Header::parse(RecordType::CapacityOffer, cols.iter().map(|c| c.path.clone()).collect(), None)?;
        let back: CapacityOffer = json_to_record(row_to_json(&h, &row).map_err(|e| e.join(","))?)?;
        assert_eq!(back, offer);
        Ok(())
    }
}

#[cfg(test)]
mod map_tests {
    use super::*;

    fn mapping(text: &str) -> Result<Mapping, Box<dyn std::error::Error>> {
        let f = tempfile::NamedTempFile::new()?;
        std::fs::write(f.path(), text)?;
        Ok(Mapping::load(f.path(), RecordType::RepairOrder)?)
    }

    const MAP: &str = r#"
ignore = ["Notes"]
[columns]
"Part No" = "item.nsn"
"Need Date" = "requiredBy"
"Level" = "maintenanceLevel"
[constants]
originator = "US-USAF-OOALC"
[dates]
requiredBy = "%m/%d/%Y"
[enums.maintenanceLevel]
D = "depot"
"#;

    #[test]
    fn a_map_renames_fills_in_and_rewrites() -> Result<(), Box<dyn std::error::Error>> {
        let m = mapping(MAP)?;
        let names = ["Part No", "Need Date", "Level", "Notes", "quantity"].map(String::from).to_vec();
        let h = Header::parse(RecordType::RepairOrder, names, Some(&m))?;
        let cells = ["2840-01-602-2317", "09/30/2027", "D", "call Bob", "2"].map(String::from);
        let order: cosx_proto::v1::RepairOrder = json_to_record(row_to_json(&h, &cells).map_err(|e| e.join(","))?)?;
        assert_eq!(order.originator, "US-USAF-OOALC");
        assert_eq!(order.required_by, "2027-09-30");
        assert_eq!(order.maintenance_level, cosx_proto::v1::MaintenanceLevel::Depot as i32);
        assert_eq!(order.item.map(|i| i.nsn).as_deref(), Some("2840-01-602-2317"));
        Ok(())
    }

    #[test]
    fn mapping_errors_name_the_source_column() -> Result<(), Box<dyn std::error::Error>> {
        let m = mapping(MAP)?;
        let h = Header::parse(RecordType::RepairOrder, vec!["Need Date".into()], Some(&m))?;
        let err = row_to_json(&h, &["2027-09-30".to_owned()]).expect_err("wrong date format");
        assert!(err[0].starts_with("Need Date: \"2027-09-30\" is not a date in the format \"%m/%d/%Y\""), "{err:?}");
        let err = Header::parse(RecordType::RepairOrder, vec!["Need Date".into(), "Colour".into()], Some(&m))
            .expect_err("unmapped");
        assert!(err.to_string().contains(": Colour;"), "{err}");
        let err = mapping("[columns]\n\"Part No\" = \"item.partNo\"\n").expect_err("bad target");
        assert!(err.to_string().contains("column \"Part No\" names \"item.partNo\""), "{err}");
        Ok(())
    }
}
