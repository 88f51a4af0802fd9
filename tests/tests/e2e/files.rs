//! Bulk files through the `cosx` CLI against a real coordinator with real
//! mTLS: `cosx import` of CSV and JSON lines (template, re-import, reject
//! files, damaged files) and `cosx export` (round trip, visibility).

use std::path::Path;

use clap::Parser;
use cosx_client::cli::import::{ImportCommand, Records, preflight};
use cosx_client::cli::{Cli, Command, run};
use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party};

use super::cli::pki_dir;

/// Runs the CLI as `as_party` and returns its exit code (0 all accepted,
/// 3 some rows refused, 4 file refused whole, 1 call failed).
pub(super) async fn cosx(ex: &TestExchange, as_party: &str, pki: &Path, args: &[&str]) -> u8 {
    let endpoint = format!("https://localhost:{}", ex.addr().port());
    let mut argv: Vec<String> = ["cosx", "--endpoint", &endpoint].iter().map(ToString::to_string).collect();
    for (flag, ext) in [("--cert", "pem"), ("--key", "key")] {
        argv.push(flag.into());
        argv.push(pki.join(format!("{as_party}.{ext}")).display().to_string());
    }
    argv.push("--ca".into());
    argv.push(pki.join("ca.pem").display().to_string());
    argv.extend(args.iter().map(ToString::to_string));
    let code = run(Cli::parse_from(argv)).await;
    (0..=255u8).find(|n| format!("{:?}", std::process::ExitCode::from(*n)) == format!("{code:?}")).unwrap_or(255)
}

/// Runs `scripts/check_export.py` with `args`: an independent reader
/// (pyarrow) of exported files, when it is installed (`python3 -m pip
/// install pyarrow`). CI installs pyarrow and sets COSX_REQUIRE_PYARROW, so
/// there the independent reader can never be skipped silently.
pub(super) fn check_with_pyarrow(args: &[&str]) -> anyhow::Result<()> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_export.py");
    let has_pyarrow =
        std::process::Command::new("python3").args(["-c", "import pyarrow"]).status().is_ok_and(|s| s.success());
    if has_pyarrow {
        let output = std::process::Command::new("python3").arg(&script).args(args).output()?;
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        eprint!("{}", String::from_utf8_lossy(&output.stdout));
    } else {
        assert!(
            std::env::var_os("COSX_REQUIRE_PYARROW").is_none(),
            "COSX_REQUIRE_PYARROW is set but pyarrow is not installed (python3 -m pip install pyarrow)"
        );
        eprintln!("pyarrow check skipped: pyarrow not installed (python3 -m pip install pyarrow)");
    }
    Ok(())
}

async fn stored_orders(ex: &TestExchange) -> anyhow::Result<Vec<pb::RepairOrder>> {
    ex.listed_orders(party::COORDINATOR).await
}

/// The template for `records` as `party`: header line and example row.
async fn template(ex: &TestExchange, pki: &Path, records: &str, as_party: &str) -> anyhow::Result<(String, String)> {
    let out = pki.join(format!("template-{records}.csv"));
    let out_arg = out.display().to_string();
    let code = cosx(ex, as_party, pki, &["import", "template", records, "--party", as_party, "--out", &out_arg]).await;
    anyhow::ensure!(code == 0, "template exited {code}");
    let text = std::fs::read_to_string(&out)?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_owned();
    let row = lines.next().unwrap_or_default().to_owned();
    Ok((header, row))
}

/// Replaces the cell of `column` in a CSV line without quoted commas after it.
fn with_cell(header: &str, row: &str, column: &str, value: &str) -> anyhow::Result<String> {
    let text = format!("{header}\n{row}\n");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    let names: Vec<&str> = records[0].iter().collect();
    let at = names.iter().position(|n| *n == column).ok_or_else(|| anyhow::anyhow!("no column {column}"))?;
    let mut cells: Vec<String> = records[1].iter().map(ToOwned::to_owned).collect();
    cells[at] = value.to_owned();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cells)?;
    Ok(String::from_utf8(w.into_inner()?)?.trim_end().to_owned())
}

#[tokio::test]
async fn a_csv_file_goes_in_once_however_often_it_is_imported() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let (header, row) = template(&ex, dir.path(), "orders", party::USAF).await?;
    // 300 rows: more than the in-flight window; two pairs of identical rows
    // are two records each.
    let mut text = format!("{header}\n");
    for i in 0..300 {
        let quantity = if i < 4 { 1 } else { 1 + i % 7 };
        text.push_str(&with_cell(&header, &row, "quantity", &quantity.to_string())?);
        text.push('\n');
    }
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, &text)?;
    let arg = file.display().to_string();
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &arg]).await, 0);
    assert_eq!(stored_orders(&ex).await?.len(), 300);
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &arg, "--progress", "always"]).await, 0);
    assert_eq!(stored_orders(&ex).await?.len(), 300, "a re-import stores nothing twice");
    assert!(!dir.path().join("orders.csv.rejects.csv").exists());

    // The same rows as JSON lines are the same records.
    let jsonl: String = stored_orders(&ex)
        .await?
        .into_iter()
        .map(|mut o| {
            o.name.clear();
            let line = serde_json::json!({
                "originator": o.originator, "tms": o.tms, "quantity": o.quantity,
            });
            line.to_string() + "\n"
        })
        .take(1)
        .collect();
    let jfile = dir.path().join("one.jsonl");
    std::fs::write(&jfile, jsonl)?;
    // A JSON line missing required fields is refused by the server, in its words.
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &jfile.display().to_string()]).await, 3);
    let rejects = std::fs::read_to_string(dir.path().join("one.jsonl.rejects.jsonl"))?;
    let reject: serde_json::Value = serde_json::from_str(rejects.trim())?;
    assert_eq!(reject["#row"], 1);
    assert!(reject["#errors"].to_string().contains("repair_order."), "{reject}");
    Ok(())
}

#[tokio::test]
async fn a_corrected_reject_file_stores_only_the_corrected_rows() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let (header, row) = template(&ex, dir.path(), "orders", party::USAF).await?;
    // Each bad row is another order than the good one once corrected (an
    // order corrected into an exact copy of a stored one is that order).
    let bad_nsn = with_cell(&header, &with_cell(&header, &row, "quantity", "5")?, "item.nsn", "2840-1")?;
    let bad_date = with_cell(&header, &with_cell(&header, &row, "quantity", "6")?, "requiredBy", "2027-02-30")?;
    let bad_number = with_cell(&header, &row, "quantity", "many")?;
    let file = dir.path().join("mixed.csv");
    std::fs::write(&file, format!("{header}\n{row}\n{bad_nsn}\n{bad_date}\n{bad_number}\n"))?;
    let arg = file.display().to_string();
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &arg]).await, 3);
    assert_eq!(stored_orders(&ex).await?.len(), 1);

    let rejects_path = dir.path().join("mixed.csv.rejects.csv");
    let mut reader = csv::Reader::from_path(&rejects_path)?;
    let head: Vec<String> = reader.headers()?.iter().map(ToOwned::to_owned).collect();
    assert_eq!(&head[head.len() - 2..], ["#row", "#errors"]);
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    let row_numbers: Vec<&str> = rows.iter().map(|r| &r[head.len() - 2]).collect();
    assert_eq!(row_numbers, ["3", "4", "5"]);
    let errors: Vec<&str> = rows.iter().map(|r| &r[head.len() - 1]).collect();
    assert!(errors[0].contains("repair_order.item.nsn"), "{errors:?}");
    assert!(errors[1].contains("repair_order.required_by"), "{errors:?}");
    assert!(errors[2].starts_with("quantity: "), "{errors:?}");

    // Fix two of the three rows in the reject file and import it.
    let fixed = std::fs::read_to_string(&rejects_path)?
        .replace("2840-1,", "2840-01-602-2317,")
        .replace("2027-02-30", "2027-02-28");
    let fixed_path = dir.path().join("fixed.csv");
    std::fs::write(&fixed_path, fixed)?;
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &fixed_path.display().to_string()]).await, 3);
    assert_eq!(stored_orders(&ex).await?.len(), 3);
    // Fixing the same rows in the original file stores nothing more.
    let original =
        std::fs::read_to_string(&file)?.replace("2840-1,", "2840-01-602-2317,").replace("2027-02-30", "2027-02-28");
    std::fs::write(&file, original)?;
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &arg]).await, 3);
    assert_eq!(stored_orders(&ex).await?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_damaged_file_is_refused_whole_with_one_message() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let (header, row) = template(&ex, dir.path(), "orders", party::USAF).await?;
    let good = format!("{row}\n");
    let huge = with_cell(&header, &row, "item.nomenclature", &"X".repeat(300 * 1024))?;
    let mut latin1 = format!("{header}\n{good}").into_bytes();
    latin1.extend(with_cell(&header, &row, "item.nomenclature", "PUMP-")?.replace("PUMP-", "PUMP\u{1}").into_bytes());
    let at = latin1.iter().rposition(|b| *b == 1).unwrap_or(0);
    latin1[at] = 0xE9; // 'é' in Latin-1: not UTF-8
    latin1.push(b'\n');
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "semicolons.csv",
            format!("{}\n{}", header.replace(',', ";"), good.replace(',', ";")).into_bytes(),
            "--delimiter",
        ),
        ("no-header.csv", format!("{good}{good}").into_bytes(), "missing header row"),
        (
            "unknown.csv",
            format!("{header},wingspan\n{},40\n", row).into_bytes(),
            "unknown column(s) for orders: wingspan",
        ),
        ("short-row.csv", format!("{header}\n{good}F-35A,2\n").into_bytes(), "row 3 has 2 cells"),
        ("huge.csv", format!("{header}\n{good}{huge}\n").into_bytes(), "row 3, column item.nomenclature: cell of"),
        ("latin1.csv", latin1, "row 3, column item.nomenclature: not UTF-8"),
        ("empty.csv", Vec::new(), "empty"),
        ("cut.jsonl", b"{\"tms\":\"F-35A\"}\n{\"tms\":\"F-".to_vec(), "line 2: not JSON"),
    ];
    for (name, bytes, expected) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)?;
        let cli = Cli::try_parse_from(["cosx", "import", "orders", path.to_str().unwrap_or_default()])?;
        let Command::Import(ImportCommand::Orders(args)) = cli.command else { anyhow::bail!("not an import") };
        let message = preflight(Records::Orders, &args).expect_err(name).to_string();
        assert!(message.contains(expected) && message.ends_with("nothing was imported"), "{name}: {message}");
        let code = cosx(&ex, party::USAF, dir.path(), &["import", "orders", &path.display().to_string()]).await;
        assert_eq!(code, 4, "{name}");
        assert!(!dir.path().join(format!("{name}.rejects.csv")).exists(), "{name}");
    }
    assert_eq!(stored_orders(&ex).await?.len(), 0, "nothing of a damaged file is stored");
    Ok(())
}

/// Writes `header` and `rows` (CSV lines) to an XLSX sheet named "Orders";
/// whole-number cells are written as numbers, as a spreadsheet holds them.
fn write_xlsx(path: &Path, header: &str, rows: &[String], formula_at: Option<(u32, u16)>) -> anyhow::Result<()> {
    let text = std::iter::once(header.to_owned()).chain(rows.iter().cloned()).collect::<Vec<_>>().join("\n");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Orders")?;
    for (r, record) in reader.records().enumerate() {
        for (c, cell) in record?.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if formula_at == Some((r, c)) {
                sheet.write_formula(r, c, "=1+1")?;
            } else if r > 0 && !cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit()) {
                sheet.write_number(r, c, cell.parse::<f64>()?)?;
            } else if !cell.is_empty() {
                sheet.write_string(r, c, cell)?;
            }
        }
    }
    book.save(path)?;
    Ok(())
}

#[tokio::test]
async fn an_xlsx_sheet_imports_and_a_damaged_one_is_refused_whole() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let (header, row) = template(&ex, dir.path(), "orders", party::USAF).await?;
    let rows = vec![row.clone(), with_cell(&header, &row, "quantity", "7")?];
    let book = dir.path().join("orders.xlsx");
    write_xlsx(&book, &header, &rows, None)?;
    let arg = book.display().to_string();
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &arg, "--sheet", "Orders"]).await, 0);
    let mut quantities: Vec<u32> = stored_orders(&ex).await?.iter().map(|o| o.quantity).collect();
    quantities.sort_unstable();
    assert_eq!(quantities, [2, 7]);

    let check = |path: &Path, extra: &[&str]| -> anyhow::Result<String> {
        let mut argv = vec!["cosx", "import", "orders", path.to_str().unwrap_or_default()];
        argv.extend_from_slice(extra);
        let Command::Import(ImportCommand::Orders(args)) = Cli::try_parse_from(argv)?.command else {
            anyhow::bail!("not an import")
        };
        Ok(preflight(Records::Orders, &args).expect_err("refused").to_string())
    };
    assert!(check(&book, &["--sheet", "Sheet9"])?.contains("no sheet named \"Sheet9\"; the workbook has: Orders"));
    let formula = dir.path().join("formula.xlsx");
    write_xlsx(&formula, &header, &rows, Some((2, 9)))?;
    assert!(check(&formula, &[])?.contains("cell J3: holds a formula (=1+1)"));
    let bytes = std::fs::read(&book)?;
    let cut = dir.path().join("cut.xlsx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2])?;
    assert!(check(&cut, &[])?.contains("not a readable XLSX workbook"));
    for bad in [&formula, &cut] {
        assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &bad.display().to_string()]).await, 4);
    }
    assert_eq!(stored_orders(&ex).await?.len(), 2, "nothing of a refused workbook is stored");
    Ok(())
}

#[tokio::test]
async fn an_erp_extract_imports_through_a_map_file() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let map = dir.path().join("map.toml");
    std::fs::write(
        &map,
        format!(
            r#"ignore = ["Remarks"]
hours_per_day = 8
[columns]
"NSN" = "item.nsn"
"Qty" = "quantity"
"Need By" = "requiredBy"
"Lvl" = "maintenanceLevel"
"Sys" = "tms"
"Labor Days" = "estimatedLaborHours"
[constants]
originator = "{}"
systemCategory = "aircraft"
repairType = "repair-and-return"
priority = "3"
"location.name" = "Hill AFB"
"location.nation" = "USA"
"location.region" = "northcom"
"location.latitude" = "41.12"
"location.longitude" = "-111.97"
department = "air-force"
[units]
estimatedLaborHours = "days"
[dates]
requiredBy = "%d.%m.%Y"
[enums.maintenanceLevel]
DEP = "depot"
"#,
            party::USAF
        ),
    )?;
    let file = dir.path().join("erp.csv");
    std::fs::write(
        &file,
        "NSN,Qty,Need By,Lvl,Sys,Labor Days,Remarks\n2840-01-602-2317,3,30.09.2027,DEP,F-35A,5,urgent\n\
         2840-01-602-2317,1,31.09.2027,DEP,F-35A,5,\n2840-01-602-2317,many,30.09.2027,DEP,F-35A,5,\n\
         2840-01-602-2317,2,30.09.2027,DEP,F-35A,five,\n",
    )?;
    let (f, m) = (file.display().to_string(), map.display().to_string());
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &f, "--map", &m]).await, 3);
    let stored = stored_orders(&ex).await?;
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].quantity, stored[0].required_by.as_str()), (3, "2027-09-30"));
    assert_eq!(stored[0].estimated_labor_hours, 40.0, "5 working days of 8 hours");
    let rejects = std::fs::read_to_string(dir.path().join("erp.csv.rejects.csv"))?;
    assert!(rejects.contains("Need By: \"\"31.09.2027\"\" is not a date in the format"), "{rejects}");
    assert!(rejects.contains("Qty (quantity): "), "a field error names the source column: {rejects}");
    assert!(rejects.contains("Labor Days: \"\"five\"\" is not a number"), "{rejects}");
    Ok(())
}

/// The rows of a CSV file as column → cell maps.
fn csv_rows(path: &Path) -> anyhow::Result<Vec<std::collections::BTreeMap<String, String>>> {
    let mut reader = csv::Reader::from_path(path)?;
    let head: Vec<String> = reader.headers()?.iter().map(ToOwned::to_owned).collect();
    reader.records().map(|r| Ok(head.iter().cloned().zip(r?.iter().map(ToOwned::to_owned)).collect())).collect()
}

#[tokio::test]
async fn a_template_round_trips_through_import_and_export_field_by_field() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    for (records, who) in [("orders", party::USAF), ("offers", party::MHI)] {
        let template_path = dir.path().join(format!("template-{records}.csv"));
        template(&ex, dir.path(), records, who).await?;
        let t = template_path.display().to_string();
        assert_eq!(cosx(&ex, who, dir.path(), &["import", records, &t]).await, 0, "{records}");
        let out = dir.path().join(format!("export-{records}.csv"));
        let o = out.display().to_string();
        assert_eq!(cosx(&ex, who, dir.path(), &["export", records, "--out", &o]).await, 0, "{records}");
        let sent = csv_rows(&template_path)?;
        let got = csv_rows(&out)?;
        assert_eq!(got.len(), 1, "{records}");
        for (column, cell) in &sent[0] {
            assert_eq!(got[0].get(column), Some(cell), "{records}: column {column}");
        }
        assert!(got[0]["name"].starts_with(if records == "orders" { "repairOrders/" } else { "capacityOffers/" }));
        // The export imports again as the same records: nothing is stored twice.
        assert_eq!(cosx(&ex, who, dir.path(), &["import", records, &o]).await, 0, "{records}");
        let again = dir.path().join(format!("again-{records}.csv"));
        let a = again.display().to_string();
        assert_eq!(cosx(&ex, who, dir.path(), &["export", records, "--out", &a]).await, 0);
        assert_eq!(csv_rows(&again)?.len(), 1, "{records}: re-importing an export stored nothing");
    }
    Ok(())
}

#[tokio::test]
async fn a_contractors_export_holds_only_what_it_may_see() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let (header, row) = template(&ex, dir.path(), "orders", party::USAF).await?;
    let releasable =
        with_cell(&header, &with_cell(&header, &row, "quantity", "9")?, "controls.releasability.nations", "JPN")?;
    let other = with_cell(&header, &row, "quantity", "5")?;
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, format!("{header}\n{row}\n{releasable}\n{other}\n"))?;
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &file.display().to_string()]).await, 0);

    let export = |who: &'static str| {
        let out = dir.path().join(format!("{who}.jsonl"));
        let pki = dir.path().to_owned();
        let ex = &ex;
        async move {
            let o = out.display().to_string();
            anyhow::ensure!(cosx(ex, who, &pki, &["export", "orders", "--out", &o]).await == 0, "export as {who}");
            let text = std::fs::read_to_string(&out)?;
            text.lines().map(|l| Ok(serde_json::from_str::<pb::RepairOrder>(l)?)).collect::<anyhow::Result<Vec<_>>>()
        }
    };
    let contractor = export(party::MHI).await?;
    let api: Vec<String> = ex.listed_orders(party::MHI).await?.into_iter().map(|o| o.name).collect();
    assert_eq!(contractor.iter().map(|o| o.name.clone()).collect::<Vec<_>>(), api);
    assert_eq!(contractor.iter().map(|o| o.quantity).collect::<Vec<_>>(), [9], "only the order released to JPN");
    assert_eq!(export(party::COORDINATOR).await?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_parquet_export_has_typed_columns_and_the_apis_values() -> anyhow::Result<()> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    let ex = TestExchange::start().await?;
    let dir = pki_dir(&ex)?;
    let (header, row) = template(&ex, dir.path(), "orders", party::USAF).await?;
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, format!("{header}\n{row}\n{}\n", with_cell(&header, &row, "quantity", "7")?))?;
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["import", "orders", &file.display().to_string()]).await, 0);
    let out = dir.path().join("orders.parquet");
    let o = out.display().to_string();
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["export", "orders", "--out", &o]).await, 0);

    let reader = SerializedFileReader::new(std::fs::File::open(&out)?)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let type_of = |name: &str| {
        schema.columns().iter().find(|c| c.name() == name).map(|c| (c.physical_type(), c.logical_type_ref().cloned()))
    };
    assert_eq!(type_of("requiredBy"), Some((parquet::basic::Type::INT32, Some(parquet::basic::LogicalType::Date))));
    assert!(matches!(
        type_of("createTime"),
        Some((
            parquet::basic::Type::INT64,
            Some(parquet::basic::LogicalType::Timestamp { is_adjusted_to_u_t_c: true, .. })
        ))
    ));
    assert_eq!(type_of("quantity").map(|t| t.0), Some(parquet::basic::Type::INT64));
    let mut api = stored_orders(&ex).await?;
    api.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rows = Vec::new();
    for r in reader.get_row_iter(None)? {
        let r = r?;
        let get = |name: &str| r.get_column_iter().find(|(n, _)| n.as_str() == name).map(|(_, f)| f.clone());
        rows.push((get("name"), get("quantity"), get("requiredBy"), get("item.nsn"), get("retrograde.volumeM3")));
    }
    rows.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
    assert_eq!(rows.len(), api.len());
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(|| anyhow::anyhow!("epoch"))?;
    for (row, order) in rows.iter().zip(&api) {
        assert_eq!(row.0, Some(Field::Str(order.name.clone())));
        assert_eq!(row.1, Some(Field::Long(i64::from(order.quantity))));
        let days = (chrono::NaiveDate::parse_from_str(&order.required_by, "%Y-%m-%d")? - epoch).num_days();
        assert_eq!(row.2, Some(Field::Date(i32::try_from(days)?)));
        assert_eq!(row.3, Some(Field::Str(order.item.as_ref().map(|i| i.nsn.clone()).unwrap_or_default())));
        assert_eq!(row.4, Some(Field::Null), "a value the record does not carry is null");
    }

    // An independent reader (pyarrow) sees the same rows in the Parquet and
    // CSV files, when it is installed (`python3 -m pip install pyarrow`).
    let csv_out = dir.path().join("orders.csv.export");
    let c = csv_out.display().to_string();
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["export", "orders", "--format", "csv", "--out", &c]).await, 0);
    let expected: Vec<serde_json::Value> = api
        .iter()
        .map(|o| serde_json::json!({"name": o.name, "quantity": o.quantity, "requiredBy": o.required_by}))
        .collect();
    let expect = dir.path().join("expected.json");
    std::fs::write(&expect, serde_json::to_string(&expected)?)?;
    check_with_pyarrow(&["--parquet", &o, "--csv", &c, "--expect", &expect.display().to_string()])?;
    Ok(())
}
