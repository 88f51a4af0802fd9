//! The wire's own names, shared by every face that speaks them: a gRPC code
//! as `google.rpc.Code` spells it, and a proto field path as proto3 JSON
//! spells it. Must never: hold a rule of the exchange, or an HTTP mapping
//! (that is the edge's).

use tonic::Code;

/// The canonical upper-case name of a gRPC code, e.g. `INVALID_ARGUMENT`
/// (AIP-193's `status`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::Unauthenticated => "UNAUTHENTICATED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
    }
}

/// `repair_order.item.nsn` as proto3 JSON names it: `repairOrder.item.nsn`
/// (indexes such as `parts[1]` kept).
pub fn json_field_path(path: &str) -> String {
    path.split('.').map(lower_camel).collect::<Vec<_>>().join(".")
}

/// One field name in proto3 JSON's lowerCamelCase: `repair_order` → `repairOrder`.
pub fn lower_camel(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut upper = false;
    for c in segment.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_take_proto3_json_names() {
        assert_eq!(json_field_path("repair_order.item.nsn"), "repairOrder.item.nsn");
        assert_eq!(json_field_path("parts[1].quantity_ordered"), "parts[1].quantityOrdered");
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
    }
}
