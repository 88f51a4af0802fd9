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
//! [units]              # cosx column = unit of the source's numbers
//! estimatedLaborHours = "days"   # hours or days; a day is hours_per_day hours
//! [money]              # cosx amountMinor column = decimals of the source's amounts
//! "funding.estimatedCost.amountMinor" = 2   # "1,234.56" -> 123456
//! ```
//!
//! `hours_per_day` (top level, default 24; 8 for working days) converts
//! between the source's unit and the column's (`...Hours` or `...Days`).
//! A money column's currency comes from its own `currencyCode` column
//! (mapped from the source's currency column, or a constant).
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
    /// cosx column → unit of the source's numbers, `hours` or `days`.
    #[serde(default)]
    pub units: BTreeMap<String, String>,
    /// Hours in a source day (default 24).
    #[serde(default)]
    pub hours_per_day: Option<f64>,
    /// cosx `...amountMinor` column → decimal places of the source's amounts.
    #[serde(default)]
    pub money: BTreeMap<String, u32>,
}

/// `hours` or `days`, from a unit name or a column's name.
fn unit_of(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("hours") {
        Some("hours")
    } else if lower.ends_with("days") {
        Some("days")
    } else {
        None
    }
}

/// A decimal amount in major units (`1,234.56`) as minor units, exactly.
fn minor_units(cell: &str, decimals: u32) -> Result<String, String> {
    let plain: String = cell.chars().filter(|c| !matches!(c, ',' | ' ' | '_')).collect();
    let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
        return Err(format!("{cell:?} is not an amount such as 1234.56"));
    }
    if fraction.len() > decimals as usize {
        return Err(format!("{cell:?} has more than {decimals} decimal places"));
    }
    let padded = format!("{whole}{fraction:0<width$}", width = decimals as usize);
    let n: u128 = padded.parse().map_err(|e| format!("{cell:?}: {e}"))?;
    i64::try_from(n).map(|n| n.to_string()).map_err(|_| format!("{cell:?} is too large an amount"))
}

/// How one source column's cells are rewritten before they are read.
#[derive(Debug, Clone, Default)]
pub struct Transform {
    date_format: Option<String>,
    synonyms: BTreeMap<String, String>,
    /// Multiply the number by this (a unit conversion).
    factor: Option<f64>,
    /// Read a decimal amount with this many places into minor units.
    money_decimals: Option<u32>,
}

impl Transform {
    /// The cell as cosx reads it, or why it cannot be.
    pub fn apply(&self, cell: &str) -> Result<String, String> {
        let cell = self.synonyms.get(cell).map_or(cell, String::as_str);
        if let Some(decimals) = self.money_decimals {
            return minor_units(cell, decimals);
        }
        if let Some(factor) = self.factor {
            let n: f64 = cell.trim().parse().map_err(|_| format!("{cell:?} is not a number"))?;
            return Ok((n * factor).to_string());
        }
        match &self.date_format {
            Some(format) => chrono::NaiveDate::parse_from_str(cell, format)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .map_err(|e| format!("{cell:?} is not a date in the format {format:?} ({e})")),
            None => Ok(cell.to_owned()),
        }
    }

    /// Whether this rewrites nothing.
    pub fn is_identity(&self) -> bool {
        self.date_format.is_none() && self.synonyms.is_empty() && self.factor.is_none() && self.money_decimals.is_none()
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
        for field in mapping
            .constants
            .keys()
            .chain(mapping.dates.keys())
            .chain(mapping.enums.keys())
            .chain(mapping.units.keys())
            .chain(mapping.money.keys())
        {
            known("a setting", field)?;
        }
        let at = path.display();
        for (field, unit) in &mapping.units {
            if unit_of(unit).is_none_or(|u| u != unit.to_ascii_lowercase()) {
                return Err(format!("{at}: units.{field} is {unit:?}: expected \"hours\" or \"days\""));
            }
            if unit_of(field).is_none() {
                return Err(format!("{at}: units.{field}: the column is in neither hours nor days"));
            }
        }
        if let Some(h) = mapping.hours_per_day
            && !(h > 0.0 && h <= 24.0)
        {
            return Err(format!("{at}: hours_per_day is {h}: expected more than 0 and at most 24"));
        }
        for (field, decimals) in &mapping.money {
            if !find_column_path(field).ends_with("amountMinor") {
                return Err(format!("{at}: money.{field}: not an amountMinor column"));
            }
            if *decimals > 6 {
                return Err(format!("{at}: money.{field} is {decimals}: expected 0 to 6 decimal places"));
            }
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
        let hours_per_day = self.hours_per_day.unwrap_or(24.0);
        let factor = self.units.iter().find(|(k, _)| matches(k)).and_then(|(k, unit)| {
            match (unit.to_ascii_lowercase().as_str(), unit_of(k)?) {
                ("days", "hours") => Some(hours_per_day),
                ("hours", "days") => Some(1.0 / hours_per_day),
                _ => None,
            }
        });
        Transform {
            date_format: self.dates.iter().find(|(k, _)| matches(k)).map(|(_, v)| v.clone()),
            synonyms: self.enums.iter().find(|(k, _)| matches(k)).map(|(_, v)| v.clone()).unwrap_or_default(),
            factor,
            money_decimals: self.money.iter().find(|(k, _)| matches(k)).map(|(_, d)| *d),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Mapping, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("map.toml");
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Mapping::load(&path, RecordType::RepairOrder)
    }

    fn apply(m: &Mapping, column: &str, cell: &str) -> Result<String, String> {
        let c = find_column(RecordType::RepairOrder, column).ok_or("no such column")?;
        m.transform(c).apply(cell)
    }

    #[test]
    fn units_and_money_are_converted_exactly() -> Result<(), String> {
        let m = load(
            "hours_per_day = 8\n[units]\nestimatedLaborHours = \"days\"\n\
             [money]\n\"funding.estimatedCost.amountMinor\" = 2\n",
        )?;
        assert_eq!(apply(&m, "estimatedLaborHours", "2.5")?, "20");
        assert_eq!(apply(&m, "funding.estimatedCost.amountMinor", "1,234.5")?, "123450");
        assert_eq!(apply(&m, "funding.estimatedCost.amountMinor", "7")?, "700");
        assert!(apply(&m, "funding.estimatedCost.amountMinor", "1.234").is_err_and(|e| e.contains("2 decimal")));
        assert!(apply(&m, "funding.estimatedCost.amountMinor", "12 EUR").is_err());
        assert!(apply(&m, "estimatedLaborHours", "two").is_err_and(|e| e.contains("not a number")));
        Ok(())
    }

    #[test]
    fn a_unit_or_money_setting_that_cannot_apply_is_refused() {
        for (text, says) in [
            ("[units]\nestimatedLaborHours = \"weeks\"\n", "expected \"hours\" or \"days\""),
            ("[units]\nquantity = \"days\"\n", "neither hours nor days"),
            ("[money]\nquantity = 2\n", "not an amountMinor column"),
            ("hours_per_day = 30\n", "hours_per_day"),
        ] {
            let e = load(text).err().unwrap_or_default();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
