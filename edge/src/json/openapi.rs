//! The OpenAPI 3.1 document of the HTTP/JSON face, generated from the
//! protos: the `google.api.http` bindings give the paths, the messages
//! give the schemas (by their proto3 JSON names), and the proto comments
//! give the descriptions. Served at [`PATH`] and committed as
//! `proto/openapi.json`, which a test keeps equal to this output.
//!
//! Must never: be edited by hand, or describe a path the face does not
//! answer.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{DescriptorPool, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::routes::{BodyRule, Route};

/// Where the document is served.
pub const PATH: &str = "/v1/openapi.json";

/// The whole document.
pub fn document(pool: &DescriptorPool, routes: &[Route]) -> Value {
    let mut schemas = BTreeMap::new();
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for route in routes {
        let method = &route.method;
        let input = method.input();
        let output = method.output();
        let captured: BTreeSet<&str> = route.template.variables().collect();
        let mut parameters: Vec<Value> = route
            .template
            .openapi_parameters()
            .into_iter()
            .map(|field| {
                json!({
                    "name": field,
                    "in": "path",
                    "required": true,
                    "description": format!("The id in the resource name `{field}`."),
                    "schema": {"type": "string"},
                })
            })
            .collect();
        if route.body != BodyRule::All && !method.is_client_streaming() {
            let body_field = match &route.body {
                BodyRule::Field(f) => Some(f.as_str()),
                _ => None,
            };
            for (name, field) in query_fields(&input, "", 0) {
                if captured.contains(name.as_str())
                    || body_field.is_some_and(|b| name == b || name.starts_with(&format!("{b}.")))
                {
                    continue;
                }
                let mut parameter = json!({
                    "name": json_path(&name, &input),
                    "in": "query",
                    "required": false,
                    "schema": field_schema(&field, &mut schemas),
                });
                let description = comment(field.parent_file(), field.path());
                if !description.is_empty() {
                    parameter["description"] = json!(description);
                }
                parameters.push(parameter);
            }
        }
        let mut operation = Map::new();
        operation.insert("operationId".into(), json!(format!("{}_{}", method.parent_service().name(), method.name())));
        operation.insert("tags".into(), json!([method.parent_service().name()]));
        let description = comment(method.parent_file(), method.path());
        operation.insert(
            "summary".into(),
            json!(if description.is_empty() { method.name().to_owned() } else { description }),
        );
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        let body_schema = match &route.body {
            BodyRule::None => None,
            BodyRule::All => Some(message_ref(&input, &mut schemas)),
            BodyRule::Field(f) => input.get_field_by_name(f).map(|field| field_schema(&field, &mut schemas)),
        };
        if let Some(schema) = body_schema {
            let kind = if method.is_client_streaming() { "application/x-ndjson" } else { "application/json" };
            operation.insert("requestBody".into(), json!({"required": true, "content": {kind: {"schema": schema}}}));
        }
        let answer = message_ref(&output, &mut schemas);
        let content = if method.is_server_streaming() {
            json!({
                "application/x-ndjson": {"schema": answer.clone()},
                "text/event-stream": {"schema": answer},
            })
        } else {
            json!({"application/json": {"schema": answer}})
        };
        operation.insert(
            "responses".into(),
            json!({
                "200": {"description": "OK", "content": content},
                "default": {
                    "description": "An AIP-193 error: the HTTP status of the gRPC code, every bad field named.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            }),
        );
        paths
            .entry(route.template.openapi_path())
            .or_default()
            .insert(route.verb.as_str().to_ascii_lowercase(), Value::Object(operation));
    }
    let _ = pool;
    let mut components: Map<String, Value> = schemas.into_iter().collect();
    components.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cosx.v1",
            "version": "v1",
            "description": "The co-sustainment exchange over HTTP/JSON: the same API as gRPC `cosx.v1`, \
                mapped by the protos' google.api.http annotations. Bodies are canonical proto3 JSON; \
                unknown fields are refused. Authentication is the party's client certificate (mutual TLS). \
                `Idempotency-Key` sets `requestId`; `If-Match` sets `version` (a stale one answers 412); \
                answers carry `ETag`.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "security": [{"partyCertificate": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"partyCertificate": {"type": "mutualTLS", "description": "The party's X.509 certificate, URI SAN spiffe://<trust-domain>/party/<party_id>."}},
        },
    })
}

/// Scalar and enum fields settable from the query: top-level, and one
/// level into singular message fields (`params.sesAlpha`).
fn query_fields(desc: &MessageDescriptor, prefix: &str, depth: usize) -> Vec<(String, FieldDescriptor)> {
    let mut out = Vec::new();
    for field in desc.fields() {
        let name = format!("{prefix}{}", field.name());
        match field.kind() {
            Kind::Message(inner) if !field.is_list() && !field.is_map() && depth == 0 && !is_well_known(&inner) => {
                out.extend(query_fields(&inner, &format!("{name}."), depth + 1));
            }
            Kind::Message(_) | Kind::Bytes => {}
            _ if field.is_map() => {}
            _ => out.push((name, field)),
        }
    }
    out
}

fn json_path(path: &str, desc: &MessageDescriptor) -> String {
    let mut out = Vec::new();
    let mut current = Some(desc.clone());
    for segment in path.split('.') {
        let field = current.as_ref().and_then(|d| d.get_field_by_name(segment));
        out.push(field.as_ref().map_or(segment.to_owned(), |f| f.json_name().to_owned()));
        current = field.and_then(|f| match f.kind() {
            Kind::Message(m) => Some(m),
            _ => None,
        });
    }
    out.join(".")
}

fn is_well_known(desc: &MessageDescriptor) -> bool {
    desc.package_name() == "google.protobuf"
}

/// The leading comment of the element at `path` of `file`, trimmed.
fn comment(file: FileDescriptor, path: &[i32]) -> String {
    let proto = file.file_descriptor_proto();
    let Some(info) = &proto.source_code_info else {
        return String::new();
    };
    info.location
        .iter()
        .find(|l| l.path == path)
        .and_then(|l| l.leading_comments.as_deref().or(l.trailing_comments.as_deref()))
        .map(|c| c.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn message_ref(desc: &MessageDescriptor, schemas: &mut BTreeMap<String, Value>) -> Value {
    if let Some(wkt) = well_known_schema(desc) {
        return wkt;
    }
    let name = desc.full_name().to_owned();
    if !schemas.contains_key(&name) {
        schemas.insert(name.clone(), Value::Null);
        let mut properties = Map::new();
        for field in desc.fields() {
            let mut schema = field_schema(&field, schemas);
            let description = comment(field.parent_file(), field.path());
            if !description.is_empty()
                && let Value::Object(o) = &mut schema
            {
                if o.contains_key("$ref") {
                    schema = json!({"allOf": [schema], "description": description});
                } else {
                    o.insert("description".into(), json!(description));
                }
            }
            properties.insert(field.json_name().to_owned(), schema);
        }
        let mut schema = json!({"type": "object", "properties": properties, "additionalProperties": false});
        let description = comment(desc.parent_file(), desc.path());
        if !description.is_empty() {
            schema["description"] = json!(description);
        }
        schemas.insert(name.clone(), schema);
    }
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn well_known_schema(desc: &MessageDescriptor) -> Option<Value> {
    Some(match desc.full_name() {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"}),
        "google.protobuf.Struct" => json!({"type": "object"}),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.Empty" => json!({"type": "object", "additionalProperties": false}),
        "google.protobuf.StringValue" => json!({"type": "string"}),
        "google.protobuf.BoolValue" => json!({"type": "boolean"}),
        "google.protobuf.DoubleValue" | "google.protobuf.FloatValue" => json!({"type": "number"}),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => json!({"type": "integer"}),
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => json!({"type": "string", "format": "int64"}),
        _ => return None,
    })
}

fn field_schema(field: &FieldDescriptor, schemas: &mut BTreeMap<String, Value>) -> Value {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            return json!({"type": "object"});
        };
        let value = field_schema(&entry.map_entry_value_field(), schemas);
        return json!({"type": "object", "additionalProperties": value});
    }
    let single = match field.kind() {
        Kind::String => json!({"type": "string"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        Kind::Double | Kind::Float => json!({"type": "number"}),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({"type": "integer", "format": "int32"}),
        Kind::Uint32 | Kind::Fixed32 => json!({"type": "integer", "format": "int32", "minimum": 0}),
        // proto3 JSON writes 64-bit integers as strings (and reads either).
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            json!({"type": ["string", "integer"], "format": "int64"})
        }
        Kind::Enum(e) => json!({"type": "string", "enum": e.values().map(|v| v.name().to_owned()).collect::<Vec<_>>()}),
        Kind::Message(m) => message_ref(&m, schemas),
    };
    if field.is_list() { json!({"type": "array", "items": single}) } else { single }
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "description": "AIP-193 error.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer", "description": "The HTTP status."},
                    "status": {"type": "string", "description": "The gRPC code's name, e.g. INVALID_ARGUMENT."},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object", "properties": {"@type": {"type": "string"}}}},
                },
                "required": ["code", "status", "message"],
            },
        },
        "required": ["error"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed document is what the protos generate; run with
    /// `COSX_WRITE_OPENAPI=1` to rewrite it.
    #[test]
    fn the_committed_openapi_document_is_up_to_date() {
        let pool = crate::json::descriptors().expect("descriptors");
        let routes = crate::json::routes::routes(&pool).expect("routes");
        let generated = serde_json::to_string_pretty(&document(&pool, &routes)).expect("json") + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/openapi.json");
        if std::env::var_os("COSX_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("write");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "proto/openapi.json is out of date: run `COSX_WRITE_OPENAPI=1 cargo test -p cosx-edge openapi`"
        );
    }
}
