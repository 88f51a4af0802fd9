//! `cosx submit order|offer|report --file F`: send a file of records and
//! report, per record, the stored name or why it was refused.
//!
//! Small files go record by record through the unary calls; larger ones
//! through the `Ingest` stream. Both paths produce the same `IngestResult`
//! per record so the output does not depend on which was used. Request ids
//! are `<prefix>-<index>` (see [`crate::records::request_id`]), so re-running
//! a file is idempotent.

use cosx_proto::v1::ingest_request::Record;
use cosx_proto::v1::{
    CreateCapacityOfferRequest, CreateRepairOrderRequest, IngestRequest, IngestResult, SubmitAvailabilityReportRequest,
};
use tonic_types::StatusExt;

use super::ingest::Job;
use super::output::{Printer, render_table};
use super::{Outcome, RecordKind, SubmitArgs};
use crate::Client;
use crate::error::ClientError;
use crate::records::{default_prefix, read_records, request_id};
use crate::status::{code_name, render_ingest_result};

/// Above this many records, use the `Ingest` stream instead of unary calls.
pub(crate) const INGEST_THRESHOLD: usize = 50;

pub(crate) async fn run(client: &Client, args: SubmitArgs, printer: &Printer) -> Result<Outcome, ClientError> {
    let records: Vec<Record> = match args.kind {
        RecordKind::Order => read_records(&args.file)?.into_iter().map(Record::RepairOrder).collect(),
        RecordKind::Offer => read_records(&args.file)?.into_iter().map(Record::CapacityOffer).collect(),
        RecordKind::Report => read_records(&args.file)?.into_iter().map(Record::AvailabilityReport).collect(),
    };
    let prefix = args.request_id_prefix.unwrap_or_else(|| default_prefix(&args.file));
    let requests: Vec<IngestRequest> = records
        .into_iter()
        .enumerate()
        .map(|(i, record)| IngestRequest {
            request_id: request_id(&prefix, i),
            record: Some(record),
            ..Default::default()
        })
        .collect();
    let results = if requests.len() > INGEST_THRESHOLD {
        ingest(client, &requests).await?
    } else {
        unary(client, &requests).await
    };
    print_results(printer, &requests, &results)?;
    let refused = results.iter().filter(|r| r.code != 0).count();
    eprintln!("{} record(s): {} stored, {refused} refused", results.len(), results.len() - refused);
    Ok(if refused == 0 { Outcome::Success } else { Outcome::SomeRefused })
}

async fn unary(client: &Client, requests: &[IngestRequest]) -> Vec<IngestResult> {
    let mut exchange = client.exchange();
    let mut results = Vec::with_capacity(requests.len());
    for (index, req) in requests.iter().enumerate() {
        let request_id = req.request_id.clone();
        let outcome = match req.record.clone() {
            Some(Record::RepairOrder(r)) => exchange
                .create_repair_order(CreateRepairOrderRequest {
                    repair_order: Some(r),
                    request_id,
                    ..Default::default()
                })
                .await
                .map(|resp| resp.into_inner().name),
            Some(Record::CapacityOffer(r)) => exchange
                .create_capacity_offer(CreateCapacityOfferRequest {
                    capacity_offer: Some(r),
                    request_id,
                    ..Default::default()
                })
                .await
                .map(|resp| resp.into_inner().name),
            Some(Record::AvailabilityReport(r)) => exchange
                .submit_availability_report(SubmitAvailabilityReportRequest {
                    availability_report: Some(r),
                    request_id,
                    ..Default::default()
                })
                .await
                .map(|resp| resp.into_inner().name),
            None => Err(tonic::Status::invalid_argument("empty record")),
        };
        results.push(match outcome {
            Ok(name) => IngestResult { index: index as u64, name, ..IngestResult::default() },
            Err(status) => status_result(index as u64, &status),
        });
    }
    results
}

/// A refused unary call, in the shape `Ingest` reports refusals.
pub(crate) fn status_result(index: u64, status: &tonic::Status) -> IngestResult {
    let field_violations = status
        .get_details_bad_request()
        .map(|br| br.field_violations.into_iter().map(|v| format!("{}: {}", v.field, v.description)).collect())
        .unwrap_or_default();
    IngestResult {
        index,
        name: String::new(),
        code: status.code() as i32,
        message: status.message().to_owned(),
        field_violations,
    }
}

async fn ingest(client: &Client, requests: &[IngestRequest]) -> Result<Vec<IngestResult>, ClientError> {
    let (tx, rx) = tokio::sync::mpsc::channel(super::ingest::WINDOW);
    let jobs: Vec<Job<usize>> = requests.iter().cloned().enumerate().map(|(i, r)| Job::Send(i, r)).collect();
    let feed = tokio::spawn(async move {
        for job in jobs {
            if tx.send(job).await.is_err() {
                break;
            }
        }
    });
    let mut results: Vec<Option<IngestResult>> = vec![None; requests.len()];
    let outcome = super::ingest::run(client, rx, |i, result| {
        if let (Some(slot), Some(result)) = (results.get_mut(i), result) {
            *slot = Some(result);
        }
        Ok(())
    })
    .await?;
    feed.abort();
    // A failure of the stream itself is reported against every record that
    // got no result, rather than hiding the results that did arrive.
    let missing = match outcome {
        Ok(()) => tonic::Status::unknown("no result received for this record"),
        Err(broken) => broken.status,
    };
    Ok(results.into_iter().enumerate().map(|(i, r)| r.unwrap_or_else(|| status_result(i as u64, &missing))).collect())
}

fn print_results(printer: &Printer, requests: &[IngestRequest], results: &[IngestResult]) -> Result<(), ClientError> {
    if printer.is_json() {
        return results.iter().try_for_each(|r| printer.json_line(r));
    }
    printer.line(&render_table(&["INDEX", "REQUEST ID", "RESULT"], &result_rows(requests, results)))
}

/// One row per stored record; a refused record takes a row for the status
/// and one more per field violation, so long explanations stay aligned.
pub(crate) fn result_rows(requests: &[IngestRequest], results: &[IngestResult]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for result in results {
        let request_id = usize::try_from(result.index)
            .ok()
            .and_then(|i| requests.get(i))
            .map(|r| r.request_id.clone())
            .unwrap_or_default();
        let rendered = if result.code == 0 { result.name.clone() } else { render_ingest_result(result) };
        let mut lines = rendered.lines();
        let first = lines.next().unwrap_or(code_name(tonic::Code::from(result.code))).to_owned();
        rows.push(vec![result.index.to_string(), request_id, first]);
        for more in lines {
            rows.push(vec![" ".into(), " ".into(), more.trim_start().to_owned()]);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    #[test]
    fn a_refused_unary_call_becomes_an_ingest_result() {
        let status = tonic::Status::with_error_details(
            tonic::Code::InvalidArgument,
            "invalid repair order",
            ErrorDetails::with_bad_request(vec![FieldViolation::new("repair_order.item.nsn", "expected 13 digits")]),
        );
        let result = status_result(4, &status);
        assert_eq!(result.index, 4);
        assert_eq!(result.code, 3);
        assert_eq!(result.field_violations, ["repair_order.item.nsn: expected 13 digits"]);
    }

    #[test]
    fn result_rows_put_each_violation_on_its_own_row() {
        let requests: Vec<IngestRequest> = (0..2)
            .map(|i| IngestRequest { request_id: request_id("batch", i), record: None, ..Default::default() })
            .collect();
        let results = vec![
            IngestResult { index: 0, name: "repairOrders/1".into(), ..IngestResult::default() },
            IngestResult {
                index: 1,
                code: 3,
                message: "invalid repair order".into(),
                field_violations: vec!["repair_order.quantity: must be at least 1".into()],
                ..IngestResult::default()
            },
        ];
        let table = render_table(&["INDEX", "REQUEST ID", "RESULT"], &result_rows(&requests, &results));
        assert_eq!(
            table,
            "INDEX  REQUEST ID  RESULT\n\
             0      batch-0     repairOrders/1\n\
             1      batch-1     INVALID_ARGUMENT: invalid repair order\n\
             \x20                  repair_order.quantity: must be at least 1"
        );
    }
}
