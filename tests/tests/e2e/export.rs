//! `cosx.v1.Export` against a real coordinator with real mTLS: each export
//! holds exactly what the list or signal call answers the same party (orders,
//! availability per TMS and per asset, demand cells with small cells still
//! suppressed, balance, events), over gRPC, over HTTP/JSON as NDJSON and
//! through `cosx export` as typed Parquet; bad requests are refused by field.

use std::path::Path;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, availability_report, monthly_demand, party, violated_fields};
use tonic::transport::Channel;

use super::files::{check_with_pyarrow, cosx};

type Export = pb::export_client::ExportClient<Channel>;

async fn export(ex: &TestExchange, who: &str) -> anyhow::Result<Export> {
    Ok(Export::new(ex.channel(who).await?))
}

async fn all<T>(stream: tonic::Streaming<T>) -> anyhow::Result<Vec<T>> {
    let mut stream = stream;
    let mut out = Vec::new();
    while let Some(row) = stream.message().await? {
        out.push(row);
    }
    Ok(out)
}

/// F-16C, November 2026, asset by asset in days: two PMAI aircraft of 30
/// possible days each.
fn f16_by_asset() -> pb::AvailabilityReport {
    let asset = |serial: &str, available: f64, nmcm: f64| pb::AssetAvailability {
        serial: serial.into(),
        pmai: true,
        possible: 30.0,
        time: Some(pb::TimeByCategory { available, nmcm, ..Default::default() }),
    };
    pb::AvailabilityReport {
        tms: "F-16C".into(),
        timeframe_start: "2026-11-01".into(),
        timeframe_end: "2026-11-30".into(),
        inventory: Some(pb::Inventory {
            tai: 2,
            pai: Some(2),
            bai: Some(0),
            pwr: Some(0),
            ar: Some(0),
            pmai: 2,
            ..Default::default()
        }),
        tai_time: None,
        pmai_time: None,
        assets: vec![asset("87-0217", 27.0, 3.0), asset("88-0412", 21.5, 8.5)],
        ..availability_report(party::USAF)
    }
}

/// Orders and reports as the other demand and availability tests make them:
/// five F-35A orders from three originators (a released cell) and one F-16C
/// order (a cell of one originator, suppressed for parties).
async fn stock(ex: &TestExchange) -> anyhow::Result<()> {
    for who in [party::USAF, party::USAF, party::KAI, party::RAAF, party::RAAF] {
        ex.order_as(who, "F-35A", "2027-03-31").await?;
    }
    ex.order_as(party::USAF, "F-16C", "2027-04-15").await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    for (id, report) in [("oct", availability_report(party::USAF)), ("nov", f16_by_asset())] {
        usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(report),
            request_id: id.into(),
            ..Default::default()
        })
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn each_export_holds_what_the_api_answers_the_same_party() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    stock(&ex).await?;
    for who in [party::MHI, party::USAF, party::COORDINATOR] {
        let mut out = export(&ex, who).await?;
        let mut signals = pb::signals_client::SignalsClient::new(ex.channel(who).await?);

        // Orders: the names ListRepairOrders pages through, in its order.
        let listed: Vec<String> = ex.listed_orders(who).await?.into_iter().map(|o| o.name).collect();
        let exported =
            all(out.export_repair_orders(pb::ListRepairOrdersRequest::default()).await?.into_inner()).await?;
        assert_eq!(exported.iter().map(|o| o.name.clone()).collect::<Vec<_>>(), listed, "{who}");

        // Demand: the same cells, suppressed ones still suppressed with nothing in them.
        let api = signals.get_demand_signal(monthly_demand()).await?.into_inner().cells;
        let cells = all(out.export_demand(monthly_demand()).await?.into_inner()).await?;
        assert_eq!(cells, api, "{who}");
        let f16 = cells.iter().find(|c| c.key.as_ref().is_some_and(|k| k.tms == "F-16C"));
        let f16 = f16.ok_or_else(|| anyhow::anyhow!("{who}: F-16C cell missing"))?;
        if who == party::COORDINATOR {
            assert!(!f16.suppressed && f16.orders == 1, "{f16:?}");
        } else if who == party::MHI {
            assert!(f16.suppressed && f16.orders == 0 && f16.quantity == 0 && f16.labor_hours == 0.0, "{f16:?}");
        }

        // Availability per TMS and timeframe: the API's metrics, unrounded.
        let asked = pb::GetAvailabilityMetricsRequest::default();
        let metrics = signals.get_availability_metrics(asked.clone()).await?.into_inner();
        let tms = all(out.export_availability_tms(asked.clone()).await?.into_inner()).await?;
        assert_eq!(tms.len(), metrics.metrics.len(), "{who}");
        for (row, m) in tms.iter().zip(&metrics.metrics) {
            let (t, p) = (m.tai_time.unwrap_or_default(), m.pmai_time.unwrap_or_default());
            assert_eq!(
                (&row.tms, &row.timeframe_start, &row.timeframe_end),
                (&m.tms, &m.timeframe_start, &m.timeframe_end)
            );
            assert_eq!(
                (row.a_m, row.a_o, row.cost_per_day_of_availability),
                (m.a_m, m.a_o, m.cost_per_day_of_availability)
            );
            assert_eq!((row.tai, row.pmai), (m.tai_inventory, m.pmai_inventory));
            assert_eq!(
                (row.tai_possible_days, row.tai_available_days, row.tai_nmcm_days),
                (t.possible, t.available, t.nmcm)
            );
            assert_eq!((row.pmai_possible_days, row.pmai_available_days), (p.possible, p.available));
            assert_eq!(row.tai_upnr_reconciled_days, t.upnr_unaccounted + t.upnr_missing_assets);
            assert_eq!(row.cda_cost_cents, m.costs.as_ref().map_or(0, |c| c.cda_cents));
        }
        // Per asset: the API's asset rows.
        let with_assets = pb::GetAvailabilityMetricsRequest { include_assets: true, ..asked.clone() };
        let api_assets = signals.get_availability_metrics(with_assets).await?.into_inner().assets;
        let assets = all(out.export_availability_assets(asked).await?.into_inner()).await?;
        assert_eq!(assets.len(), api_assets.len(), "{who}");
        for (row, a) in assets.iter().zip(&api_assets) {
            let time = a.time.unwrap_or_default();
            assert_eq!((&row.serial, &row.owner, row.pmai), (&a.serial, &a.owner, a.pmai));
            assert_eq!(
                (row.possible_days, row.available_days, row.availability),
                (time.possible, time.available, a.availability)
            );
            assert_eq!(row.report_version, 1);
        }
        match who {
            // The reporter and the coordinator see both reports; the contractor neither.
            party::MHI => assert!(tms.is_empty() && assets.is_empty(), "{tms:?} {assets:?}"),
            _ => {
                assert_eq!(tms.len(), 2, "{who}");
                assert_eq!(assets.iter().map(|a| a.serial.as_str()).collect::<Vec<_>>(), ["87-0217", "88-0412"]);
                assert_eq!(assets[1].availability, Some(21.5 / 30.0));
            }
        }

        // Events: only of orders the party may see.
        let events = all(out.export_events(pb::SubscribeRequest::default()).await?.into_inner()).await?;
        for e in &events {
            if let Some(pb::event::Subject::RepairOrder(o)) = &e.subject {
                assert!(listed.contains(&o.name), "{who} was exported an event of {}", o.name);
            }
        }
        assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence));
        assert!(!events.is_empty(), "{who}: its own or released records' events");

        // Balance: coordinators only, as GetWorkloadBalance.
        let balance = out.export_balance(pb::GetWorkloadBalanceRequest::default()).await;
        if who == party::COORDINATOR {
            let api = signals.get_workload_balance(pb::GetWorkloadBalanceRequest::default()).await?.into_inner();
            assert_eq!(all(balance?.into_inner()).await?, api.departments);
        } else {
            let status = balance.err().ok_or_else(|| anyhow::anyhow!("{who} was exported the balance"))?;
            assert_eq!(status.code(), tonic::Code::PermissionDenied);
        }
    }
    Ok(())
}

#[tokio::test]
async fn an_export_request_it_cannot_honour_is_refused_naming_the_field() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut out = export(&ex, party::USAF).await?;
    let paged = pb::ListRepairOrdersRequest { page_token: "abc".into(), ..Default::default() };
    let status = out.export_repair_orders(paged).await.err().ok_or_else(|| anyhow::anyhow!("paged export served"))?;
    assert_eq!((status.code(), violated_fields(&status)), (tonic::Code::InvalidArgument, vec!["page_token".into()]));
    let forecast = pb::GetDemandSignalRequest { forecast_periods: 3, ..monthly_demand() };
    let status = out.export_demand(forecast).await.err().ok_or_else(|| anyhow::anyhow!("forecast exported"))?;
    assert_eq!(violated_fields(&status), ["forecast_periods"]);
    let grouped =
        pb::GetAvailabilityMetricsRequest { group_by: pb::AvailabilityGrouping::Owner as i32, ..Default::default() };
    let status = out.export_availability_tms(grouped).await.err().ok_or_else(|| anyhow::anyhow!("grouped"))?;
    assert_eq!(violated_fields(&status), ["group_by"]);
    let follow = pb::SubscribeRequest { checkpoints: true, ..Default::default() };
    let status = out.export_events(follow).await.err().ok_or_else(|| anyhow::anyhow!("checkpoints"))?;
    assert_eq!(violated_fields(&status), ["checkpoints"]);
    let bad_date = pb::GetAvailabilityMetricsRequest { from_date: "2026-13-01".into(), ..Default::default() };
    let status = out.export_availability_assets(bad_date).await.err().ok_or_else(|| anyhow::anyhow!("bad date"))?;
    assert_eq!(violated_fields(&status), ["from_date"]);
    Ok(())
}

#[tokio::test]
async fn the_http_face_streams_an_export_as_ndjson() -> anyhow::Result<()> {
    use tower::{Service as _, ServiceExt as _};
    let ex = TestExchange::start().await?;
    stock(&ex).await?;
    let request = http::Request::get("/v1/export/demand?granularity=GRANULARITY_MONTH&basis=DATE_BASIS_REQUIRED_BY")
        .body(tonic::body::Body::empty())?;
    let mut channel = ex.channel(party::MHI).await?;
    let response = channel.ready().await?.call(request).await?;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/x-ndjson"));
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await?.to_bytes();
    let cells: Vec<pb::DemandCell> =
        String::from_utf8_lossy(&bytes).lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    let api = export(&ex, party::MHI).await?.export_demand(monthly_demand()).await?.into_inner();
    assert_eq!(cells, all(api).await?);
    assert!(cells.iter().any(|c| c.suppressed), "the F-16C cell stays suppressed over HTTP");
    Ok(())
}

/// The Parquet columns of `file`: name, physical type and logical type.
fn parquet_columns(
    file: &Path,
) -> anyhow::Result<Vec<(String, parquet::basic::Type, Option<parquet::basic::LogicalType>)>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(file)?)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    Ok(schema.columns().iter().map(|c| (c.path().string(), c.physical_type(), c.logical_type_ref().cloned())).collect())
}

#[tokio::test]
async fn cosx_export_writes_availability_and_demand_as_typed_parquet() -> anyhow::Result<()> {
    use parquet::basic::{LogicalType, Type};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    let ex = TestExchange::start().await?;
    stock(&ex).await?;
    let dir = super::cli::pki_dir(&ex)?;
    for table in ["availability-assets", "availability-tms", "demand", "events", "orders"] {
        let out = dir.path().join(format!("{table}.parquet"));
        let o = out.display().to_string();
        assert_eq!(cosx(&ex, party::MHI, dir.path(), &["export", table, "--out", &o]).await, 0, "{table}");
    }
    let tms_file = dir.path().join("usaf-tms.parquet");
    let t = tms_file.display().to_string();
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["export", "availability-tms", "--out", &t]).await, 0);
    let assets_file = dir.path().join("usaf-assets.parquet");
    let a = assets_file.display().to_string();
    assert_eq!(cosx(&ex, party::USAF, dir.path(), &["export", "availability-assets", "--out", &a]).await, 0);
    // A flag the table has no filter for is refused before anything is asked.
    assert_eq!(
        cosx(&ex, party::USAF, dir.path(), &["export", "demand", "--fiscal-year", "2027", "--out", &a]).await,
        2
    );

    let cols = parquet_columns(&tms_file)?;
    let ty = |name: &str| cols.iter().find(|c| c.0 == name).map(|c| (c.1, c.2.clone()));
    assert_eq!(ty("timeframeStart"), Some((Type::INT32, Some(LogicalType::Date))));
    assert_eq!(ty("aM").map(|t| t.0), Some(Type::DOUBLE));
    assert_eq!(ty("cdaCostCents").map(|t| t.0), Some(Type::INT64));
    assert_eq!(ty("tai").map(|t| t.0), Some(Type::INT64));
    let reader = SerializedFileReader::new(std::fs::File::open(&tms_file)?)?;
    let mut signals = pb::signals_client::SignalsClient::new(ex.channel(party::USAF).await?);
    let api = signals.get_availability_metrics(pb::GetAvailabilityMetricsRequest::default()).await?.into_inner();
    let mut rows = 0;
    for (row, m) in reader.get_row_iter(None)?.zip(&api.metrics) {
        let row = row?;
        let get = |name: &str| row.get_column_iter().find(|(n, _)| n.as_str() == name).map(|(_, f)| f.clone());
        assert_eq!(get("tms"), Some(Field::Str(m.tms.clone())));
        assert_eq!(get("aM"), Some(m.a_m.map_or(Field::Null, Field::Double)));
        assert_eq!(get("aO"), Some(m.a_o.map_or(Field::Null, Field::Double)));
        rows += 1;
    }
    assert_eq!(rows, api.metrics.len());
    // The F-16C report has no costs: its C/DA is null, not zero.
    let cols = parquet_columns(&assets_file)?;
    let ty = |name: &str| cols.iter().find(|c| c.0 == name).map(|c| (c.1, c.2.clone()));
    assert_eq!(ty("systemCategory"), Some((Type::BYTE_ARRAY, Some(LogicalType::String))));
    assert_eq!(ty("availableDays").map(|t| t.0), Some(Type::DOUBLE));

    let demand = dir.path().join("demand.parquet");
    let cols = parquet_columns(&demand)?;
    let ty = |name: &str| cols.iter().find(|c| c.0 == name).map(|c| (c.1, c.2.clone()));
    assert_eq!(ty("period.startDate"), Some((Type::INT32, Some(LogicalType::Date))));
    assert_eq!(ty("suppressed").map(|t| t.0), Some(Type::BOOLEAN));
    let reader = SerializedFileReader::new(std::fs::File::open(&demand)?)?;
    let mut suppressed = 0;
    for row in reader.get_row_iter(None)? {
        let row = row?;
        let get = |name: &str| row.get_column_iter().find(|(n, _)| n.as_str() == name).map(|(_, f)| f.clone());
        if get("suppressed") == Some(Field::Bool(true)) {
            suppressed += 1;
            // proto3 leaves zero counts out: null in the file, never a number.
            assert_eq!(get("orders"), Some(Field::Null));
        }
    }
    assert!(suppressed > 0, "the contractor's file keeps the F-16C cell suppressed");

    // An independent reader (pyarrow) checks the same files when installed.
    let expect = dir.path().join("tms-expected.json");
    let rows: Vec<serde_json::Value> = api
        .metrics
        .iter()
        .map(|m| serde_json::json!({"tms": m.tms, "timeframeStart": m.timeframe_start, "aM": m.a_m, "aO": m.a_o}))
        .collect();
    std::fs::write(&expect, serde_json::to_string(&rows)?)?;
    let (expect, demand) = (expect.display().to_string(), demand.display().to_string());
    check_with_pyarrow(&["--tms-parquet", &t, "--tms-expect", &expect, "--demand-parquet", &demand])?;
    Ok(())
}

#[tokio::test]
async fn a_party_node_serves_the_coordinators_export_for_its_party() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    stock(&ex).await?;
    let node = ex.start_node(party::USAF).await?;
    let mut at_node = Export::new(ex.node_channel(&node).await?);
    let mut at_coordinator = export(&ex, party::USAF).await?;
    let asked = pb::GetAvailabilityMetricsRequest::default();
    let via_node = all(at_node.export_availability_tms(asked.clone()).await?.into_inner()).await?;
    assert_eq!(via_node, all(at_coordinator.export_availability_tms(asked).await?.into_inner()).await?);
    assert_eq!(via_node.len(), 2);
    let cells = all(at_node.export_demand(monthly_demand()).await?.into_inner()).await?;
    assert_eq!(cells, all(at_coordinator.export_demand(monthly_demand()).await?.into_inner()).await?);
    // The node refuses what the coordinator refuses, by the same field.
    let paged = pb::ListRepairOrdersRequest { page_size: 5, ..Default::default() };
    let status = at_node.export_repair_orders(paged).await.err().ok_or_else(|| anyhow::anyhow!("paged export"))?;
    assert_eq!(violated_fields(&status), ["page_size"]);
    Ok(())
}
