//! `--map map.toml`: importing an ERP extract whose columns are not cosx's.
//!
//! ```toml
//! ignore = ["Notes"]   # source columns to skip
//! [columns]            # source column = cosx column
//! "Part No" = "item.nsn"
//! "Need Date" = "requiredBy"
//! [constants]          # cosx column = value for every row
//! originator = "US-USAF-OOALC"
//! [dates]              # cosx column = chrono format of the source dates
//! requiredBy = "%m/%d/%Y"
//! [enums.maintenanceLevel]   # synonyms: source value = cosx value
//! D = "depot"
//! ```
//!
//! A mapping only renames, fills in and rewrites text; the record is then
//! read and validated exactly as an unmapped file would be. Every error
//! names the source column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::schema::{Column, RecordType, find_column};

/// A parsed map file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Source column → cosx column.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Source columns to skip.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// cosx column → value for every row.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    /// cosx column → chrono format of its dates in the source.
    #[serde(default)]
    pub dates: BTreeMap<String, String>,
    /// cosx column → (source value → cosx value).
    #[serde(default)]
    pub enums: BTreeMap<String, BTreeMap<String, String>>,
}

/// How one source column's cells are rewritten before they are read.
#[derive(Debug, Clone, Default)]
pub struct Transform {
    date_format: Option<String>,
    synonyms: BTreeMap<String, String>,
}

impl Transform {
    /// The cell as cosx reads it, or why it cannot be.
    pub fn apply(&self, cell: &str) -> Result<String, String> {
        let cell = self.synonyms.get(cell).map_or(cell, String::as_str);
        match &self.date_format {
            Some(format) => chrono::NaiveDate::parse_from_str(cell, format)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .map_err(|e| format!("{cell:?} is not a date in the format {format:?} ({e})")),
            None => Ok(cell.to_owned()),
        }
    }

    /// Whether this rewrites nothing.
    pub fn is_identity(&self) -> bool {
        self.date_format.is_none() && self.synonyms.is_empty()
    }
}

impl Mapping {
    /// Reads and checks a map file against the record's columns.
    pub fn load(path: &Path, record: RecordType) -> Result<Mapping, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mapping: Mapping = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let known = |what: &str, field: &str| {
            find_column(record, field).map(|_| ()).ok_or_else(|| {
                format!("{}: {what} names {field:?}, which is not a column of {}", path.display(), record.plural())
            })
        };
        for (source, field) in &mapping.columns {
            known(&format!("column {source:?}"), field)?;
        }
        for field in mapping.constants.keys().chain(mapping.dates.keys()).chain(mapping.enums.keys()) {
            known("a setting", field)?;
        }
        Ok(mapping)
    }

    /// The cosx column a source header names, if any; `Ok(None)` when ignored.
    pub fn target(&self, source: &str) -> Option<Option<&str>> {
        if self.ignore.iter().any(|s| s == source) {
            return Some(None);
        }
        self.columns.get(source).map(|t| Some(t.as_str()))
    }

    /// The rewrite of cells of `column`.
    pub fn transform(&self, column: &Column) -> Transform {
        let matches = |k: &String| find_column_path(k) == column.path;
        Transform {
            date_format: self.dates.iter().find(|(k, _)| matches(k)).map(|(_, v)| v.clone()),
            synonyms: self.enums.iter().find(|(k, _)| matches(k)).map(|(_, v)| v.clone()).unwrap_or_default(),
        }
    }

    /// The constant columns, resolved.
    pub fn constant_columns(&self, record: RecordType) -> Vec<(&'static Column, String)> {
        self.constants.iter().filter_map(|(k, v)| find_column(record, k).map(|c| (c, v.clone()))).collect()
    }
}

fn find_column_path(name: &str) -> String {
    // Settings may use proto (snake_case) names; compare on the JSON path.
    cosx_proto::names::json_field_path(name)
}
