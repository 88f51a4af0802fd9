//! Writing records to Parquet with typed columns, through the `parquet`
//! crate's low-level writer (no Arrow).
//!
//! Columns are the export's flat columns, all OPTIONAL: dates (`YYYY-MM-DD`
//! fields) as DATE, `Timestamp`s as TIMESTAMP(MICROS, UTC), 32-bit signed
//! integers as INT32, unsigned 32-bit and 64-bit integers (money in minor
//! units, next to its `currencyCode` column) as INT64, doubles as DOUBLE,
//! booleans as BOOLEAN, enums as their proto names in STRING, repeated fields
//! as their proto3 JSON in STRING. A value the record does not carry (proto3
//! leaves defaults out) is null. Rows are buffered at most [`ROW_GROUP`] at
//! a time, so memory is flat in the number of records.

use std::fs::File;
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde::Serialize;
use serde_json::Value;

use super::row::value_at;
use super::schema::{Column, ColumnType};

/// Rows per row group.
pub const ROW_GROUP: usize = 8192;

enum Values {
    Bytes(Vec<ByteArray>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
}

struct Buffer {
    column: &'static Column,
    values: Values,
    defs: Vec<i16>,
}

/// A Parquet file being written.
pub struct ParquetSink {
    writer: SerializedFileWriter<File>,
    buffers: Vec<Buffer>,
    rows: usize,
}

fn physical(ty: &ColumnType) -> (Physical, Option<LogicalType>) {
    match ty {
        ColumnType::Date => (Physical::INT32, Some(LogicalType::Date)),
        ColumnType::Timestamp => {
            (Physical::INT64, Some(LogicalType::Timestamp { is_adjusted_to_u_t_c: true, unit: TimeUnit::MICROS }))
        }
        ColumnType::Int32 => (Physical::INT32, None),
        ColumnType::UInt32 | ColumnType::Int64 => (Physical::INT64, None),
        ColumnType::Double => (Physical::DOUBLE, None),
        ColumnType::Bool => (Physical::BOOLEAN, None),
        ColumnType::Str | ColumnType::Enum(_) | ColumnType::Repeated(_) | ColumnType::RepeatedMessage => {
            (Physical::BYTE_ARRAY, Some(LogicalType::String))
        }
    }
}

impl ParquetSink {
    /// Starts a file with one column per entry of `columns`.
    pub fn create(file: File, columns: &[&'static Column]) -> Result<ParquetSink, String> {
        let fields = columns
            .iter()
            .map(|c| {
                let (p, logical) = physical(&c.ty);
                Type::primitive_type_builder(&c.path, p)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
                    .map_err(|e| format!("column {}: {e}", c.path))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let schema = Type::group_type_builder("record").with_fields(fields).build().map_err(|e| e.to_string())?;
        let props = WriterProperties::builder().set_max_row_group_size(ROW_GROUP).build();
        let writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).map_err(|e| e.to_string())?;
        let buffers = columns
            .iter()
            .map(|c| Buffer {
                column: c,
                values: match physical(&c.ty).0 {
                    Physical::INT32 => Values::I32(Vec::new()),
                    Physical::INT64 => Values::I64(Vec::new()),
                    Physical::DOUBLE => Values::F64(Vec::new()),
                    Physical::BOOLEAN => Values::Bool(Vec::new()),
                    _ => Values::Bytes(Vec::new()),
                },
                defs: Vec::new(),
            })
            .collect();
        Ok(ParquetSink { writer, buffers, rows: 0 })
    }

    /// Adds one record.
    pub fn write<T: Serialize>(&mut self, record: &T) -> Result<(), String> {
        let value = serde_json::to_value(record).map_err(|e| e.to_string())?;
        for b in &mut self.buffers {
            let present = value_at(&value, &b.column.path).filter(|v| !v.is_null());
            let pushed = match present {
                None => false,
                Some(v) => {
                    push(&mut b.values, &b.column.ty, v).map_err(|e| format!("column {}: {e}", b.column.path))?
                }
            };
            b.defs.push(i16::from(pushed));
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group().map_err(|e| e.to_string())?;
        for b in &mut self.buffers {
            let Some(mut col) = group.next_column().map_err(|e| e.to_string())? else { break };
            let defs = Some(b.defs.as_slice());
            let written = match (col.untyped(), &mut b.values) {
                (ColumnWriter::ByteArrayColumnWriter(w), Values::Bytes(v)) => w.write_batch(v, defs, None),
                (ColumnWriter::Int32ColumnWriter(w), Values::I32(v)) => w.write_batch(v, defs, None),
                (ColumnWriter::Int64ColumnWriter(w), Values::I64(v)) => w.write_batch(v, defs, None),
                (ColumnWriter::DoubleColumnWriter(w), Values::F64(v)) => w.write_batch(v, defs, None),
                (ColumnWriter::BoolColumnWriter(w), Values::Bool(v)) => w.write_batch(v, defs, None),
                _ => return Err(format!("column {}: writer of another type", b.column.path)),
            };
            written.map_err(|e| format!("column {}: {e}", b.column.path))?;
            col.close().map_err(|e| e.to_string())?;
            b.defs.clear();
            match &mut b.values {
                Values::Bytes(v) => v.clear(),
                Values::I32(v) => v.clear(),
                Values::I64(v) => v.clear(),
                Values::F64(v) => v.clear(),
                Values::Bool(v) => v.clear(),
            }
        }
        group.close().map_err(|e| e.to_string())?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer.
    pub fn finish(mut self) -> Result<(), String> {
        self.flush()?;
        self.writer.close().map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Pushes a present value; `Ok(false)` when it is present but empty.
fn push(values: &mut Values, ty: &ColumnType, v: &Value) -> Result<bool, String> {
    let text = || v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    match (values, ty) {
        (Values::Bytes(out), ColumnType::Repeated(_) | ColumnType::RepeatedMessage) => {
            out.push(ByteArray::from(v.to_string().into_bytes()));
        }
        (Values::Bytes(out), _) => out.push(ByteArray::from(text().into_bytes())),
        (Values::I32(out), ColumnType::Date) => {
            let s = text();
            if s.is_empty() {
                return Ok(false);
            }
            let date = chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| format!("{s:?}: {e}"))?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("no epoch")?;
            out.push(i32::try_from((date - epoch).num_days()).map_err(|e| e.to_string())?);
        }
        (Values::I32(out), _) => {
            out.push(v.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| format!("{v} is not an int32"))?)
        }
        (Values::I64(out), ColumnType::Timestamp) => {
            let s = text();
            let at = chrono::DateTime::parse_from_rfc3339(&s).map_err(|e| format!("{s:?}: {e}"))?;
            out.push(at.timestamp_micros());
        }
        (Values::I64(out), _) => {
            let n = v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
            out.push(n.ok_or_else(|| format!("{v} is not an integer"))?);
        }
        (Values::F64(out), _) => {
            let n = v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
            out.push(n.ok_or_else(|| format!("{v} is not a number"))?);
        }
        (Values::Bool(out), _) => out.push(v.as_bool().ok_or_else(|| format!("{v} is not a boolean"))?),
    }
    Ok(true)
}
