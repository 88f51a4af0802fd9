//! CSV downloads of the console's tables (RFC 4180 quoting). Must never:
//! hold anything but the cells of a table the page shows.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A table as CSV: a header row, then the rows.
pub(crate) fn download(file: &str, head: &[&str], rows: &[Vec<String>]) -> Response {
    let mut out = String::new();
    line(&mut out, head.iter().copied());
    for row in rows {
        line(&mut out, row.iter().map(String::as_str));
    }
    let disposition = format!("attachment; filename=\"{file}.csv\"");
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], out)
        .into_response()
}

fn line<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A leading =, +, - or @ would be a formula to a spreadsheet.
        let guarded = cell.starts_with(['=', '+', '-', '@']) && cell.parse::<f64>().is_err();
        if guarded || cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            if guarded {
                out.push('\'');
            }
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}
