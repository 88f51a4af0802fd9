//! Protobuf ⇄ domain. Requests are parsed once, here, into domain types;
//! every problem is recorded against the field's path
//! (`repair_order.item.nsn`) and the whole request is checked so that the
//! caller sees all its mistakes at once. Responses are built back from
//! domain types. Nothing else in the server touches protobuf messages'
//! insides.

use chrono::{DateTime, NaiveDate, Utc};
use cosx_domain::records::*;
use cosx_domain::vocab::{self, *};
use cosx_domain::{Action, Party, RepairOrderState, Violations};
use cosx_proto::pbjson_types::Timestamp;
use cosx_proto::v1 as pb;

// ----- scalar helpers ----------------------------------------------------

fn at(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_owned() } else { format!("{prefix}.{field}") }
}

fn required_text(v: &mut Violations, field: String, s: &str) -> Option<String> {
    if s.trim().is_empty() {
        v.add(field, "is required");
        None
    } else {
        v.check(&field, vocab::parse_text(s))
    }
}

fn optional_text(v: &mut Violations, field: String, s: &str) -> Option<String> {
    if s.is_empty() { None } else { v.check(&field, vocab::parse_text(s)) }
}

fn party_id(v: &mut Violations, field: String, s: &str) -> Option<PartyId> {
    if s.is_empty() {
        v.add(field, "is required");
        None
    } else {
        v.check(&field, PartyId::parse(s))
    }
}

fn nation(v: &mut Violations, field: String, s: &str) -> Option<Nation> {
    if s.is_empty() {
        v.add(field, "is required: an ISO 3166-1 alpha-3 code such as USA, JPN");
        None
    } else {
        v.check(&field, Nation::parse(s))
    }
}

fn date(v: &mut Violations, field: String, s: &str) -> Option<NaiveDate> {
    if s.is_empty() {
        v.add(field, "is required: a date YYYY-MM-DD");
        None
    } else {
        v.check(&field, vocab::parse_date(s))
    }
}

fn optional_date(v: &mut Violations, field: String, s: &str) -> Option<NaiveDate> {
    v.check(&field, vocab::parse_optional_date(s)).flatten()
}

fn non_negative(v: &mut Violations, field: String, x: f64) -> f64 {
    v.check(&field, vocab::parse_non_negative(x)).unwrap_or(0.0)
}

fn money(v: &mut Violations, field: String, m: &Option<pb::Money>) -> Option<Money> {
    let m = m.as_ref()?;
    v.check(&field, Money::parse(&m.currency_code, m.amount_minor))
}

/// Decodes a proto enum value; `UNSPECIFIED` and unknown numbers are errors.
macro_rules! enum_map {
    ($fn_in:ident, $fn_out:ident, $pb:ty, $dom:ty, $what:literal, { $($p:ident => $d:ident),+ $(,)? }) => {
        /// Parses a proto enum value into the domain enum.
        pub fn $fn_in(v: &mut Violations, field: String, raw: i32) -> Option<$dom> {
            match <$pb>::try_from(raw) {
                $(Ok(<$pb>::$p) => Some(<$dom>::$d),)+
                Ok(_) => {
                    v.add(field, concat!("is required: one of the ", $what, " values"));
                    None
                }
                Err(_) => {
                    v.add(field, format!("{raw} is not a known {} value", $what));
                    None
                }
            }
        }

        /// The proto enum value of a domain enum.
        pub fn $fn_out(d: $dom) -> i32 {
            match d {
                $(<$dom>::$d => <$pb>::$p as i32,)+
            }
        }
    };
}

enum_map!(party_kind_in, party_kind_out, pb::PartyKind, PartyKind, "PartyKind", {
    Organic => Organic, PartnerGovernment => PartnerGovernment, Contractor => Contractor, Coordinator => Coordinator,
});
enum_map!(department_in, department_out, pb::MilitaryDepartment, MilitaryDepartment, "MilitaryDepartment", {
    Army => Army, Navy => Navy, AirForce => AirForce,
});
enum_map!(region_in, region_out, pb::Region, Region, "Region", {
    Indopacom => Indopacom, Eucom => Eucom, Centcom => Centcom, Southcom => Southcom, Northcom => Northcom, Africom => Africom,
});
enum_map!(level_in, level_out, pb::MaintenanceLevel, MaintenanceLevel, "MaintenanceLevel", {
    Organizational => Organizational, Intermediate => Intermediate, Depot => Depot,
});
enum_map!(repair_type_in, repair_type_out, pb::RepairType, RepairType, "RepairType", {
    RepairAndReturn => RepairAndReturn, DirectExchange => DirectExchange, Overhaul => Overhaul,
    Modification => Modification, Inspection => Inspection, BattleDamageRepair => BattleDamageRepair,
});
enum_map!(category_in, category_out, pb::SystemCategory, SystemCategory, "SystemCategory", {
    Aircraft => Aircraft, Ship => Ship, Submarine => Submarine, GroundVehicle => GroundVehicle,
});
enum_map!(unit_in, unit_out, pb::CapacityUnit, CapacityUnit, "CapacityUnit", {
    InductionSlots => InductionSlots, LaborHours => LaborHours,
});
enum_map!(time_unit_in, time_unit_out, pb::TimeUnit, TimeUnit, "TimeUnit", {
    Days => Days, Hours => Hours,
});
enum_map!(state_in, state_out, pb::RepairOrderState, RepairOrderState, "RepairOrderState", {
    Submitted => Submitted, Proposed => Proposed, Accepted => Accepted, Declined => Declined, Inducted => Inducted,
    InWork => InWork, AwaitingParts => AwaitingParts, Completed => Completed, Shipped => Shipped, Closed => Closed,
    Cancelled => Cancelled,
});
enum_map!(level3_in, level3_out, pb::retrograde::Level, Level, "Retrograde.Level", {
    Low => Low, Medium => Medium, High => High,
});
enum_map!(reimbursement_in, reimbursement_out, pb::funding::acsa_order::Reimbursement, Reimbursement, "Reimbursement", {
    Cash => Cash, ReplacementInKind => ReplacementInKind, EqualValueExchange => EqualValueExchange,
});
enum_map!(auth_kind_in, auth_kind_out, pb::provider_authorization::Kind, AuthorizationKind, "ProviderAuthorization.Kind", {
    OemApproval => OemApproval, ExportLicense => ExportLicense, ThirdCountryTransfer => ThirdCountryTransfer,
    PrimeFacilityApproval => PrimeFacilityApproval,
});

/// An optional enum filter: UNSPECIFIED means "any".
pub fn optional_enum<T>(
    v: &mut Violations,
    field: &str,
    raw: i32,
    parse: fn(&mut Violations, String, i32) -> Option<T>,
) -> Option<T> {
    if raw == 0 { None } else { parse(v, field.to_owned(), raw) }
}

fn optional_department(v: &mut Violations, field: String, raw: i32) -> Option<MilitaryDepartment> {
    if raw == 0 { None } else { department_in(v, field, raw) }
}

/// A timestamp for a response.
pub fn timestamp(t: DateTime<Utc>) -> Option<Timestamp> {
    Some(Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 })
}

/// A time a response carried, back as the domain holds it (the epoch when
/// absent: a record read back keeps what the coordinator sent).
fn time_in(t: &Option<Timestamp>) -> DateTime<Utc> {
    t.as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .unwrap_or_default()
}

fn date_out(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn money_out(m: &Option<Money>) -> Option<pb::Money> {
    m.as_ref().map(|m| pb::Money { currency_code: m.currency.clone(), amount_minor: m.amount_minor })
}

/// Accepts `prefix/ID` or a bare `ID`; ids are what this server issued.
pub fn resource_id(v: &mut Violations, field: &str, name: &str, collection: &str) -> Option<String> {
    let id = name.strip_prefix(collection).and_then(|rest| rest.strip_prefix('/')).unwrap_or(name);
    // `.` separates an owner's namespace from the name it chose (`records::owned_record_id`).
    let ok_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if !id.is_empty() && id.len() <= 128 && id.bytes().all(ok_byte) {
        Some(id.to_owned())
    } else {
        v.add(field, format!("{name:?}: expected {collection}/ID"));
        None
    }
}

// ----- shared pieces ------------------------------------------------------

fn site(v: &mut Violations, prefix: &str, s: &Option<pb::Site>) -> Option<Site> {
    let Some(s) = s else {
        v.add(prefix, "is required");
        return None;
    };
    let name = required_text(v, at(prefix, "name"), &s.name);
    let nation = nation(v, at(prefix, "nation"), &s.nation);
    let region = region_in(v, at(prefix, "region"), s.region);
    let latitude = v.check(&at(prefix, "latitude"), vocab::parse_latitude(s.latitude));
    let longitude = v.check(&at(prefix, "longitude"), vocab::parse_longitude(s.longitude));
    Some(Site { name: name?, nation: nation?, region: region?, latitude: latitude?, longitude: longitude? })
}

fn site_out(s: &Site) -> Option<pb::Site> {
    Some(pb::Site {
        name: s.name.clone(),
        nation: s.nation.to_string(),
        region: region_out(s.region),
        latitude: s.latitude,
        longitude: s.longitude,
    })
}

use cosx_domain::limits::{MAX_LIST, MAX_OFFER_PERIODS, MAX_OFFER_VALIDITY_DAYS};

fn releasability(v: &mut Violations, prefix: &str, r: &Option<pb::Releasability>) -> Releasability {
    let Some(r) = r else {
        return Releasability::default();
    };
    if r.nations.len() > MAX_LIST || r.party_ids.len() > MAX_LIST {
        v.add(prefix, format!("at most {MAX_LIST} nations and {MAX_LIST} parties"));
    }
    Releasability {
        nations: r
            .nations
            .iter()
            .enumerate()
            .filter_map(|(i, n)| nation(v, format!("{prefix}.nations[{i}]"), n))
            .collect(),
        parties: r
            .party_ids
            .iter()
            .enumerate()
            .filter_map(|(i, p)| party_id(v, format!("{prefix}.party_ids[{i}]"), p))
            .collect(),
        // Kept by the exchange (a quote request), never set by a writer.
        asked_to_quote: Vec::new(),
    }
}

/// The releasability as records show it: the providers asked to quote are
/// left out, so that none learns who else was asked.
fn releasability_out(r: &Releasability) -> Option<pb::Releasability> {
    Some(pb::Releasability {
        nations: r.nations.iter().map(ToString::to_string).collect(),
        party_ids: r.parties.iter().map(ToString::to_string).collect(),
    })
}

fn tms(v: &mut Violations, field: String, s: &str) -> Option<Tms> {
    if s.is_empty() {
        v.add(field, "is required: a TMS such as F-35A or a ship class such as DDG-51");
        None
    } else {
        v.check(&field, Tms::parse(s))
    }
}

// ----- parties ------------------------------------------------------------

/// Parses a party to register.
pub fn party_in(v: &mut Violations, p: &Option<pb::Party>) -> Option<Party> {
    let Some(p) = p else {
        v.add("party", "is required");
        return None;
    };
    let id = party_id(v, "party.party_id".into(), &p.party_id);
    let kind = party_kind_in(v, "party.kind".into(), p.kind);
    let nation = nation(v, "party.nation".into(), &p.nation);
    let department = optional_department(v, "party.department".into(), p.department);
    let display_name = optional_text(v, "party.display_name".into(), &p.display_name);
    let party = Party {
        display_name: display_name.unwrap_or_else(|| id.as_ref().map(ToString::to_string).unwrap_or_default()),
        id: id?,
        kind: kind?,
        nation: nation?,
        department,
        suspended: false,
    };
    if let Err((field, why)) = party.check() {
        v.add(format!("party.{field}"), why);
        return None;
    }
    Some(party)
}

/// A party for a response.
pub fn party_out(p: &Party, etag: i64) -> pb::Party {
    pb::Party {
        name: format!("parties/{}", p.id),
        party_id: p.id.to_string(),
        kind: party_kind_out(p.kind),
        nation: p.nation.to_string(),
        department: p.department.map_or(0, department_out),
        display_name: p.display_name.clone(),
        suspended: p.suspended,
        etag: etag.to_string(),
        create_time: None,
        update_time: None,
    }
}

mod comments;
mod disruptions;
mod exceptions;
mod offers;
mod orders;
mod quotes;
mod reports;
mod targets;

pub use comments::*;
pub use disruptions::*;
pub use exceptions::*;
pub use offers::*;
pub use orders::*;
pub use quotes::*;
pub use reports::*;
pub use targets::*;
