//! The flat columns of a record type, read from the API's own descriptor
//! (`cosx_proto::FILE_DESCRIPTOR_SET`), so the column names are the proto3
//! JSON field names and no second copy of the schema exists.
//!
//! A singular message field is flattened into its fields with a dot
//! (`item.nsn`, `funding.estimatedCost.amountMinor`); a repeated field is one
//! column whose cell is a JSON array (or, for repeated scalars, values
//! separated by `;`); a `google.protobuf.Timestamp` is one RFC 3339 column.
//! This module must never decide what is *valid*: it only knows names and
//! JSON shapes; the server validates.

use std::collections::HashMap;
use std::sync::OnceLock;

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};

/// The JSON shape of a column's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// A string.
    Str,
    /// A calendar date held as a `YYYY-MM-DD` string.
    Date,
    /// An enum: its value names, in number order.
    Enum(Vec<String>),
    /// `true` or `false`.
    Bool,
    /// A 32-bit signed integer.
    Int32,
    /// A 32-bit unsigned integer.
    UInt32,
    /// A 64-bit integer (a string in proto3 JSON).
    Int64,
    /// A double.
    Double,
    /// A `google.protobuf.Timestamp`, RFC 3339 in UTC.
    Timestamp,
    /// A repeated field: a JSON array in one cell.
    Repeated(Box<ColumnType>),
    /// A repeated message field: a JSON array of objects in one cell.
    RepeatedMessage,
}

/// One flat column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Dotted proto3 JSON path, e.g. `item.nsn`.
    pub path: String,
    /// Its JSON shape.
    pub ty: ColumnType,
    /// Set by the server only (a record's `name`, and top-level fields
    /// numbered 20 and above, the API's convention for output-only fields).
    pub output_only: bool,
}

/// The record types files can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// `cosx.v1.RepairOrder`.
    RepairOrder,
    /// `cosx.v1.CapacityOffer`.
    CapacityOffer,
    /// `cosx.v1.AvailabilityReport`.
    AvailabilityReport,
}

impl RecordType {
    /// The message's full proto name.
    pub fn message_name(self) -> &'static str {
        match self {
            RecordType::RepairOrder => "cosx.v1.RepairOrder",
            RecordType::CapacityOffer => "cosx.v1.CapacityOffer",
            RecordType::AvailabilityReport => "cosx.v1.AvailabilityReport",
        }
    }

    /// The plural word used on the command line.
    pub fn plural(self) -> &'static str {
        match self {
            RecordType::RepairOrder => "orders",
            RecordType::CapacityOffer => "offers",
            RecordType::AvailabilityReport => "reports",
        }
    }
}

/// The columns of a record type, in field-number order, output-only ones
/// included (import refuses nothing by name that the API knows; the server
/// decides what it ignores).
pub fn columns(record: RecordType) -> &'static [Column] {
    static ALL: OnceLock<HashMap<RecordType, Vec<Column>>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let pool = Pool::load();
        [RecordType::RepairOrder, RecordType::CapacityOffer, RecordType::AvailabilityReport]
            .into_iter()
            .map(|r| {
                let mut out = Vec::new();
                pool.flatten(r.message_name(), "", true, &mut out);
                (r, out)
            })
            .collect()
    });
    all.get(&record).map(Vec::as_slice).unwrap_or(&[])
}

/// The flat columns of any `cosx.v1` message an export writes (e.g.
/// `cosx.v1.DemandCell`), in field-number order; empty for an unknown name.
pub fn message_columns(message: &str) -> &'static [Column] {
    static ALL: OnceLock<std::sync::Mutex<HashMap<String, &'static [Column]>>> = OnceLock::new();
    let all = ALL.get_or_init(Default::default);
    let mut all = all.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(c) = all.get(message) {
        return c;
    }
    let mut out = Vec::new();
    Pool::load().flatten(message, "", true, &mut out);
    // A handful of message types per process: leaked once, kept for its life.
    let leaked: &'static [Column] = Vec::leak(out);
    all.insert(message.to_owned(), leaked);
    leaked
}

/// Finds the column a header names: its dotted JSON path, or the same path
/// in proto (snake_case) field names.
pub fn find_column(record: RecordType, header: &str) -> Option<&'static Column> {
    let header = header.trim();
    let cols = columns(record);
    cols.iter().find(|c| c.path == header).or_else(|| {
        let camel = cosx_proto::names::json_field_path(header);
        cols.iter().find(|c| c.path == camel)
    })
}

/// Fields whose strings are calendar dates, `YYYY-MM-DD` (the proto says so
/// in comments only; this is the one place that knows).
fn is_date_field(json_name: &str) -> bool {
    json_name.ends_with("Date")
        || matches!(json_name, "requiredBy" | "validFrom" | "validUntil" | "timeframeStart" | "timeframeEnd")
}

struct Pool {
    messages: HashMap<String, DescriptorProto>,
    enums: HashMap<String, EnumDescriptorProto>,
}

impl Pool {
    fn load() -> Self {
        // The descriptor is compiled into cosx-proto by its build script; a
        // decode failure would be a build defect, and leaves the pool empty.
        let fds = FileDescriptorSet::decode(cosx_proto::FILE_DESCRIPTOR_SET).unwrap_or_default();
        let mut pool = Pool { messages: HashMap::new(), enums: HashMap::new() };
        for file in fds.file {
            let package = file.package.clone().unwrap_or_default();
            for m in file.message_type {
                pool.add_message(&package, m);
            }
            for e in file.enum_type {
                pool.enums.insert(format!("{package}.{}", e.name()), e);
            }
        }
        pool
    }

    fn add_message(&mut self, scope: &str, m: DescriptorProto) {
        let full = format!("{scope}.{}", m.name());
        for nested in &m.nested_type {
            self.add_message(&full, nested.clone());
        }
        for e in &m.enum_type {
            self.enums.insert(format!("{full}.{}", e.name()), e.clone());
        }
        self.messages.insert(full, m);
    }

    fn flatten(&self, message: &str, prefix: &str, top: bool, out: &mut Vec<Column>) {
        let Some(m) = self.messages.get(message) else { return };
        for f in &m.field {
            let json = f.json_name.clone().unwrap_or_else(|| cosx_proto::names::lower_camel(f.name()));
            let path = if prefix.is_empty() { json.clone() } else { format!("{prefix}.{json}") };
            let output_only = top && (f.number() == 1 && f.name() == "name" || f.number() >= 20);
            let type_name = f.type_name().trim_start_matches('.');
            let repeated = f.label() == Label::Repeated;
            let scalar = match f.r#type() {
                Type::Message if type_name == "google.protobuf.Timestamp" => Some(ColumnType::Timestamp),
                Type::Message => None,
                Type::Enum => Some(ColumnType::Enum(
                    self.enums
                        .get(type_name)
                        .map(|e| e.value.iter().map(|v| v.name().to_owned()).collect())
                        .unwrap_or_default(),
                )),
                Type::Bool => Some(ColumnType::Bool),
                Type::Int32 | Type::Sint32 | Type::Sfixed32 => Some(ColumnType::Int32),
                Type::Uint32 | Type::Fixed32 => Some(ColumnType::UInt32),
                Type::Int64 | Type::Sint64 | Type::Sfixed64 | Type::Uint64 | Type::Fixed64 => Some(ColumnType::Int64),
                Type::Double | Type::Float => Some(ColumnType::Double),
                Type::String if is_date_field(&json) => Some(ColumnType::Date),
                _ => Some(ColumnType::Str),
            };
            match (repeated, scalar) {
                (true, Some(t)) => out.push(Column { path, ty: ColumnType::Repeated(Box::new(t)), output_only }),
                (true, None) => out.push(Column { path, ty: ColumnType::RepeatedMessage, output_only }),
                (false, Some(ty)) => out.push(Column { path, ty, output_only }),
                (false, None) => {
                    let start = out.len();
                    self.flatten(type_name, &path, false, out);
                    for c in &mut out[start..] {
                        c.output_only |= output_only;
                    }
                }
            }
        }
    }
}

/// The columns a party fills in when it submits: everything but the
/// output-only ones.
pub fn input_columns(record: RecordType) -> impl Iterator<Item = &'static Column> {
    columns(record).iter().filter(|c| !c.output_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_columns_are_dotted_json_names() {
        let paths: Vec<&str> = columns(RecordType::RepairOrder).iter().map(|c| c.path.as_str()).collect();
        for p in ["originator", "item.nsn", "location.nation", "funding.usAppropriation.fiscalYear", "requiredBy"] {
            assert!(paths.contains(&p), "{p} missing from {paths:?}");
        }
        assert_eq!(find_column(RecordType::RepairOrder, "item.nsn").map(|c| &c.ty), Some(&ColumnType::Str));
        assert_eq!(find_column(RecordType::RepairOrder, "required_by").map(|c| &c.ty), Some(&ColumnType::Date));
        assert!(find_column(RecordType::RepairOrder, "item.colour").is_none());
    }

    #[test]
    fn output_only_fields_are_marked() {
        let by = |p: &str| find_column(RecordType::RepairOrder, p).map(|c| c.output_only);
        assert_eq!(by("name"), Some(true));
        assert_eq!(by("state"), Some(true));
        assert_eq!(by("progress.shipDate"), Some(true));
        assert_eq!(by("createTime"), Some(true));
        assert_eq!(by("item.nsn"), Some(false));
        assert_eq!(find_column(RecordType::RepairOrder, "createTime").map(|c| &c.ty), Some(&ColumnType::Timestamp));
    }

    #[test]
    fn export_rows_have_typed_columns() {
        let ty = |m: &str, p: &str| message_columns(m).iter().find(|c| c.path == p).map(|c| c.ty.clone());
        assert_eq!(ty("cosx.v1.AvailabilityTmsRow", "timeframeStart"), Some(ColumnType::Date));
        assert_eq!(ty("cosx.v1.AvailabilityTmsRow", "aM"), Some(ColumnType::Double));
        assert_eq!(ty("cosx.v1.AvailabilityTmsRow", "cdaCostCents"), Some(ColumnType::Int64));
        assert_eq!(ty("cosx.v1.DemandCell", "period.startDate"), Some(ColumnType::Date));
        assert_eq!(ty("cosx.v1.DemandCell", "suppressed"), Some(ColumnType::Bool));
        assert!(matches!(ty("cosx.v1.AvailabilityAssetRow", "systemCategory"), Some(ColumnType::Enum(_))));
        assert!(message_columns("cosx.v1.NoSuchThing").is_empty());
    }

    #[test]
    fn repeated_fields_are_one_column() {
        let c = find_column(RecordType::CapacityOffer, "periods").map(|c| &c.ty);
        assert_eq!(c, Some(&ColumnType::RepeatedMessage));
        let c = find_column(RecordType::CapacityOffer, "certifications").map(|c| &c.ty);
        assert_eq!(c, Some(&ColumnType::Repeated(Box::new(ColumnType::Str))));
        assert!(find_column(RecordType::CapacityOffer, "periods.startDate").is_none());
    }
}
