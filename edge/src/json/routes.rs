//! The HTTP mapping of `cosx.v1`, read from the `google.api.http`
//! annotations in the protos (AIP-127): which verb and path template
//! reach which method, and which request field the body fills.
//!
//! It is the only place the mapping is known at run time; the protos are
//! the only place it is written. Must never: hold a route of its own that
//! the protos do not declare.

use std::fmt;

use prost_reflect::{DescriptorPool, MethodDescriptor, Value};

/// One HTTP binding of a method.
#[derive(Debug, Clone)]
pub struct Route {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub verb: http::Method,
    /// The path template as written in the proto.
    pub template: Template,
    /// What the request body fills.
    pub body: BodyRule,
    /// The gRPC method it reaches.
    pub method: MethodDescriptor,
}

impl Route {
    /// The gRPC path, `/cosx.v1.Exchange/CreateRepairOrder`.
    pub fn grpc_path(&self) -> String {
        format!("/{}/{}", self.method.parent_service().full_name(), self.method.name())
    }
}

/// What the HTTP body maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRule {
    /// No body: every field not in the path comes from the query.
    None,
    /// `body: "*"`: the whole request message.
    All,
    /// `body: "field"`: that field of the request; the rest from the query.
    Field(String),
}

/// A path template such as `/v1/{name=repairOrders/*}:transition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
    verb: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// A field path and the pattern of segments it captures.
    Variable {
        field: String,
        pattern: Vec<Part>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `*`: exactly one segment.
    One,
}

/// A template the protos hold that this mapping cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Parses a template; `**` and nested variables are not used by cosx
    /// and are refused.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let bad = |why: &str| TemplateError(format!("path template {source:?}: {why}"));
        let rest = source.strip_prefix('/').ok_or_else(|| bad("must start with /"))?;
        // The verb is a `:name` after the last segment (never inside braces).
        let (body, verb) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('}') && !rest[i..].contains('/') => {
                (&rest[..i], Some(rest[i + 1..].to_owned()))
            }
            _ => (rest, None),
        };
        let mut segments = Vec::new();
        let mut chars = body;
        while !chars.is_empty() {
            if let Some(inner) = chars.strip_prefix('{') {
                let end = inner.find('}').ok_or_else(|| bad("unclosed {"))?;
                let (field, pattern) = match inner[..end].split_once('=') {
                    Some((f, p)) => (f, p),
                    None => (&inner[..end], "*"),
                };
                let pattern = pattern
                    .split('/')
                    .map(|p| match p {
                        "*" => Ok(Part::One),
                        "**" => Err(bad("** is not supported")),
                        lit if !lit.is_empty() && !lit.contains(['{', '}', '=']) => Ok(Part::Literal(lit.to_owned())),
                        _ => Err(bad("bad variable pattern")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                segments.push(Segment::Variable { field: field.to_owned(), pattern });
                chars = &inner[end + 1..];
                chars = chars.strip_prefix('/').unwrap_or(chars);
            } else {
                let end = chars.find('/').unwrap_or(chars.len());
                let literal = &chars[..end];
                if literal.is_empty() || literal.contains(['{', '}']) {
                    return Err(bad("bad literal segment"));
                }
                segments.push(Segment::Literal(literal.to_owned()));
                chars = chars.get(end + 1..).unwrap_or("");
            }
        }
        Ok(Template { source: source.to_owned(), segments, verb })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The field paths the template captures, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable { field, .. } => Some(field.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The OpenAPI path parameters of [`Template::openapi_path`], in order.
    pub fn openapi_parameters(&self) -> Vec<String> {
        self.segments
            .iter()
            .flat_map(|s| match s {
                Segment::Variable { field, pattern } => {
                    let names = Self::wildcard_names(field, pattern);
                    if names.is_empty() { vec![field.clone()] } else { names }
                }
                Segment::Literal(_) => vec![],
            })
            .collect()
    }

    fn wildcard_names(field: &str, pattern: &[Part]) -> Vec<String> {
        let mut names = Vec::new();
        let mut before: Option<&str> = None;
        for p in pattern {
            match p {
                Part::Literal(l) => before = Some(l),
                Part::One if names.is_empty() => names.push(field.to_owned()),
                Part::One => names.push(format!("{field}.{}", before.unwrap_or("id"))),
            }
        }
        names
    }

    /// The template in OpenAPI's form: `/v1/repairOrders/{repairOrder}:transition`
    /// with one parameter per `*` ([`Template::openapi_parameters`]): the
    /// first of a variable is named by its field path, each later one by the
    /// field path and the literal before it (`{name}/quotes/{name.quotes}`).
    pub fn openapi_path(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Literal(l) => out.push_str(l),
                Segment::Variable { field, pattern } => {
                    let mut names = Self::wildcard_names(field, pattern).into_iter();
                    let mut first_wildcard_seen = false;
                    let mut parts = Vec::new();
                    for p in pattern {
                        match p {
                            Part::Literal(l) => parts.push(l.clone()),
                            Part::One => {
                                first_wildcard_seen = true;
                                parts.push(format!("{{{}}}", names.next().unwrap_or_default()));
                            }
                        }
                    }
                    if !first_wildcard_seen {
                        parts.push(format!("{{{field}}}"));
                    }
                    out.push_str(&parts.join("/"));
                }
            }
        }
        if let Some(verb) = &self.verb {
            out.push(':');
            out.push_str(verb);
        }
        out
    }

    /// Matches a request path (still percent-encoded); on a match, the
    /// value of each variable, decoded, as its field path and value.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let rest = path.strip_prefix('/')?;
        let rest = match &self.verb {
            Some(verb) => rest.strip_suffix(verb.as_str())?.strip_suffix(':')?,
            None => rest,
        };
        let mut parts = rest.split('/');
        let mut captured = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(l) => {
                    if parts.next()? != l {
                        return None;
                    }
                }
                Segment::Variable { field, pattern } => {
                    let mut value = Vec::with_capacity(pattern.len());
                    for part in pattern {
                        let raw = parts.next()?;
                        let decoded = percent_decode(raw)?;
                        let ok = match part {
                            Part::Literal(l) => decoded == *l,
                            // A segment captured by `*` may not hide a verb.
                            Part::One => !decoded.is_empty() && !decoded.contains([':', '/']),
                        };
                        if !ok {
                            return None;
                        }
                        value.push(decoded);
                    }
                    captured.push((field.clone(), value.join("/")));
                }
            }
        }
        parts.next().is_none().then_some(captured)
    }
}

/// `%XX` decoding of one path segment or query component; `None` when the
/// escapes are malformed or the result is not UTF-8.
pub(crate) fn percent_decode(raw: &str) -> Option<String> {
    if !raw.contains('%') {
        return Some(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Every HTTP binding the pool's services declare, in declaration order.
pub fn routes(pool: &DescriptorPool) -> Result<Vec<Route>, TemplateError> {
    let Some(http) = pool.get_extension_by_name("google.api.http") else {
        return Ok(Vec::new());
    };
    let mut routes = Vec::new();
    for service in pool.services() {
        for method in service.methods() {
            let options = method.options();
            if !options.has_extension(&http) {
                continue;
            }
            let Value::Message(rule) = options.get_extension(&http).into_owned() else {
                continue;
            };
            let text = |name: &str| match rule.get_field_by_name(name).as_deref() {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            };
            let (verb, path) = [
                ("get", http::Method::GET),
                ("post", http::Method::POST),
                ("patch", http::Method::PATCH),
                ("put", http::Method::PUT),
                ("delete", http::Method::DELETE),
            ]
            .into_iter()
            .find_map(|(name, verb)| text(name).map(|path| (verb, path)))
            .ok_or_else(|| TemplateError(format!("{}: google.api.http without a verb", method.full_name())))?;
            let body = match text("body").as_deref() {
                None => BodyRule::None,
                Some("*") => BodyRule::All,
                Some(field) => BodyRule::Field(field.to_owned()),
            };
            routes.push(Route { verb, template: Template::parse(&path)?, body, method: method.clone() });
        }
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_capture_resource_names_and_verbs() {
        let t = Template::parse("/v1/{name=repairOrders/*}:transition").expect("parses");
        assert_eq!(
            t.matches("/v1/repairOrders/ro-1:transition"),
            Some(vec![("name".to_owned(), "repairOrders/ro-1".to_owned())])
        );
        assert_eq!(t.matches("/v1/repairOrders/ro-1"), None);
        assert_eq!(t.matches("/v1/repairOrders/ro-1/x:transition"), None);
        assert_eq!(t.matches("/v1/capacityOffers/ro-1:transition"), None);
        assert_eq!(t.openapi_path(), "/v1/repairOrders/{name}:transition");

        let get = Template::parse("/v1/{name=repairOrders/*}").expect("parses");
        assert_eq!(get.matches("/v1/repairOrders/a%2Db"), Some(vec![("name".into(), "repairOrders/a-b".into())]));
        // An encoded slash or a verb may not be smuggled into one segment.
        assert_eq!(get.matches("/v1/repairOrders/a%2Fb"), None);
        assert_eq!(get.matches("/v1/repairOrders/a:split"), None);
        assert_eq!(get.matches("/v1/repairOrders/%zz"), None);

        let list = Template::parse("/v1/repairOrders").expect("parses");
        assert_eq!(list.matches("/v1/repairOrders"), Some(vec![]));
        assert_eq!(list.matches("/v1/repairOrders/"), None);
        assert!(Template::parse("/v1/{name=**}").is_err());
    }

    #[test]
    fn every_method_of_the_api_has_a_binding() {
        let pool = DescriptorPool::decode(cosx_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let routes = routes(&pool).expect("templates parse");
        for service in pool.services().filter(|s| s.package_name() == "cosx.v1") {
            for method in service.methods() {
                assert!(
                    routes.iter().any(|r| r.method.full_name() == method.full_name()),
                    "{} has no google.api.http binding",
                    method.full_name()
                );
            }
        }
        // No two bindings answer the same verb and path.
        for (i, a) in routes.iter().enumerate() {
            for b in &routes[i + 1..] {
                assert!(
                    a.verb != b.verb || a.template.openapi_path() != b.template.openapi_path(),
                    "{} and {} share a binding",
                    a.method.full_name(),
                    b.method.full_name()
                );
            }
        }
    }
}
