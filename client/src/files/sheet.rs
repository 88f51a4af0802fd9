//! Reading one sheet of an XLSX workbook into rows of text cells.
//!
//! Cells become the text a person sees: whole numbers without a decimal
//! point, dates as `YYYY-MM-DD` (with the time, RFC 3339 in UTC, when it has
//! one), booleans as `true`/`false`. A formula cell is refused rather than
//! trusting the value Excel last cached for it; a damaged or truncated
//! workbook, a missing sheet or an error cell (`#DIV/0!`) is one clear
//! [`FileError`]. A sheet is read whole (XLSX is a zip of XML; it cannot be
//! streamed row by row), which bounds memory by the sheet, at most the
//! format's 1,048,576 rows.

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};

use super::FileError;

/// A sheet's rows (the header first) and the spreadsheet number of its first row.
pub fn read(path: &Path, sheet: Option<&str>) -> Result<(Vec<Vec<String>>, u64), FileError> {
    let mut book: Xlsx<_> = open_workbook(path).map_err(|e| {
        FileError::Sheet(format!("not a readable XLSX workbook (damaged, truncated or another format): {e}"))
    })?;
    let names = book.sheet_names();
    let name =
        match sheet {
            Some(s) => names.iter().find(|n| n.as_str() == s).cloned().ok_or_else(|| {
                FileError::Sheet(format!("no sheet named {s:?}; the workbook has: {}", names.join(", ")))
            })?,
            None => names.first().cloned().ok_or_else(|| FileError::Sheet("the workbook has no sheet".into()))?,
        };
    let damaged = |e: calamine::XlsxError| FileError::Sheet(format!("sheet {name:?} cannot be read (damaged?): {e}"));
    let formulas = book.worksheet_formula(&name).map_err(damaged)?;
    if let Some((r, c, f)) = formulas.used_cells().find(|(_, _, f)| !f.is_empty()) {
        let (r0, c0) = formulas.start().unwrap_or((0, 0));
        return Err(FileError::Sheet(format!(
            "sheet {name:?}, cell {}{}: holds a formula (={f}); paste values instead (Paste Special > Values)",
            column_letters(c0 as usize + c),
            r0 as usize + r + 1
        )));
    }
    let range = book.worksheet_range(&name).map_err(damaged)?;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::with_capacity(range.height());
    for (i, row) in range.rows().enumerate() {
        let cells: Result<Vec<String>, FileError> = row
            .iter()
            .enumerate()
            .map(|(j, cell)| {
                text(cell).map_err(|e| {
                    FileError::Sheet(format!(
                        "sheet {name:?}, cell {}{}: {e}",
                        column_letters(c0 as usize + j),
                        r0 as usize + i + 1
                    ))
                })
            })
            .collect();
        rows.push(cells?);
    }
    Ok((rows, u64::from(r0) + 1))
}

fn text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) if d.is_datetime() => excel_date(d.as_f64()).ok_or("a date out of range")?,
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(e) => return Err(format!("an error cell ({e})")),
    })
}

/// An Excel serial date (days since 1899-12-30) as a date, or RFC 3339 UTC
/// when it has a time of day.
fn excel_date(serial: f64) -> Option<String> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let millis = (serial * 86_400_000.0).round() as i64;
    let at = epoch.checked_add_signed(chrono::Duration::milliseconds(millis))?;
    if at.time() == chrono::NaiveTime::MIN {
        Some(at.date().format("%Y-%m-%d").to_string())
    } else {
        Some(at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// `A`, `B`, ..., `Z`, `AA`, ... for a column index from 0.
fn column_letters(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_serial_dates_become_iso_dates() {
        assert_eq!(excel_date(46_387.0).as_deref(), Some("2026-12-31"));
        assert_eq!(excel_date(46_387.5).as_deref(), Some("2026-12-31T12:00:00Z"));
    }

    #[test]
    fn columns_are_lettered_like_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
    }

    #[test]
    fn a_file_that_is_not_a_workbook_is_refused_clearly() -> Result<(), Box<dyn std::error::Error>> {
        let f = tempfile::NamedTempFile::new()?;
        std::fs::write(f.path(), b"PK\x03\x04 truncated")?;
        let err = read(f.path(), None).expect_err("truncated");
        assert!(err.to_string().starts_with("not a readable XLSX workbook"), "{err}");
        Ok(())
    }
}
