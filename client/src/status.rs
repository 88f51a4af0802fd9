//! Turning a refused call into words: the gRPC code by its canonical name,
//! the server's message, and each `google.rpc.BadRequest` field violation on
//! its own line, so a person can see which field of which record to fix.

use cosx_proto::v1::IngestResult;
use tonic::Code;
use tonic_types::StatusExt;

pub use cosx_proto::names::code_name;

/// Renders a status for a person:
///
/// ```text
/// INVALID_ARGUMENT: repair order is invalid
///   repair_order.item.nsn: expected 13 digits as NNNN-NN-NNN-NNNN
/// ```
///
/// When the message is empty, or already is the single violation, the
/// violations are put on the first line instead of being repeated.
pub fn render_status(status: &tonic::Status) -> String {
    let violations: Vec<String> = status
        .get_details_bad_request()
        .map(|br| {
            br.field_violations
                .into_iter()
                .map(|v| if v.field.is_empty() { v.description } else { format!("{}: {}", v.field, v.description) })
                .collect()
        })
        .unwrap_or_default();
    let mut out = render(code_name(status.code()), status.message(), &violations);
    // A status made by the client's own transport (refused handshake, reset
    // connection) says little by itself; its cause says what happened.
    if let Some(source) = std::error::Error::source(status) {
        let cause = crate::error::error_chain(source);
        if !out.contains(&cause) {
            out.push_str(&format!(" (cause: {cause})"));
        }
    }
    out
}

/// Renders one refused record of an `Ingest` stream the same way as
/// [`render_status`]; an accepted record renders as its name.
pub fn render_ingest_result(result: &IngestResult) -> String {
    if result.code == 0 {
        return result.name.clone();
    }
    render(code_name(Code::from(result.code)), &result.message, &result.field_violations)
}

fn render(code: &str, message: &str, violations: &[String]) -> String {
    let message = message.trim();
    let mut out = String::from(code);
    let mut rest: Vec<&str> = violations.iter().map(String::as_str).collect();
    if !message.is_empty() {
        out.push_str(": ");
        out.push_str(message);
        rest.retain(|v| *v != message);
    } else if let Some(first) = rest.first().copied() {
        out.push_str(": ");
        out.push_str(first);
        rest.remove(0);
    }
    for violation in rest {
        out.push_str("\n  ");
        out.push_str(violation);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    fn bad_request(message: &str, violations: &[(&str, &str)]) -> tonic::Status {
        let details = ErrorDetails::with_bad_request(
            violations.iter().map(|(f, d)| FieldViolation::new(*f, *d)).collect::<Vec<_>>(),
        );
        tonic::Status::with_error_details(Code::InvalidArgument, message, details)
    }

    #[test]
    fn a_plain_status_is_its_code_and_message() {
        let status = tonic::Status::not_found("repairOrders/42 not found");
        assert_eq!(render_status(&status), "NOT_FOUND: repairOrders/42 not found");
    }

    #[test]
    fn field_violations_are_listed_one_per_line() {
        let status = bad_request(
            "repair order is invalid",
            &[
                ("repair_order.item.nsn", "expected 13 digits as NNNN-NN-NNN-NNNN"),
                ("repair_order.quantity", "must be at least 1"),
            ],
        );
        assert_eq!(
            render_status(&status),
            "INVALID_ARGUMENT: repair order is invalid\n  \
             repair_order.item.nsn: expected 13 digits as NNNN-NN-NNN-NNNN\n  \
             repair_order.quantity: must be at least 1"
        );
    }

    #[test]
    fn a_message_that_is_the_only_violation_is_not_repeated() {
        let status = bad_request(
            "repair_order.item.nsn: expected 13 digits",
            &[("repair_order.item.nsn", "expected 13 digits")],
        );
        assert_eq!(render_status(&status), "INVALID_ARGUMENT: repair_order.item.nsn: expected 13 digits");
    }

    #[test]
    fn an_empty_message_takes_the_first_violation() {
        let status = bad_request("", &[("party.nation", "expected ISO 3166-1 alpha-3")]);
        assert_eq!(render_status(&status), "INVALID_ARGUMENT: party.nation: expected ISO 3166-1 alpha-3");
    }

    #[test]
    fn a_refused_ingest_record_renders_like_a_status() {
        let result = IngestResult {
            index: 3,
            name: String::new(),
            code: 3,
            message: "invalid".into(),
            field_violations: vec!["repair_order.tms: must not be empty".into()],
        };
        assert_eq!(render_ingest_result(&result), "INVALID_ARGUMENT: invalid\n  repair_order.tms: must not be empty");
    }

    #[test]
    fn an_accepted_ingest_record_renders_as_its_name() {
        let result = IngestResult { name: "repairOrders/7".into(), ..IngestResult::default() };
        assert_eq!(render_ingest_result(&result), "repairOrders/7");
    }
}
