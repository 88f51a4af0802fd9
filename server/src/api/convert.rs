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
    }
}

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

// ----- repair orders ------------------------------------------------------

const MAX_QUANTITY: u32 = 1_000_000;

/// Parses a repair order submitted by its originator.
pub fn repair_order_in(v: &mut Violations, prefix: &str, o: &Option<pb::RepairOrder>) -> Option<RepairOrderDraft> {
    let Some(o) = o else {
        v.add(prefix, "is required");
        return None;
    };
    let f = |field: &str| at(prefix, field);
    let originator = party_id(v, f("originator"), &o.originator);
    let tms = tms(v, f("tms"), &o.tms);
    let system_category = category_in(v, f("system_category"), o.system_category);
    let component_family = optional_text(v, f("component_family"), &o.component_family);
    let item = item_in(v, &f("item"), &o.item);
    if o.quantity == 0 || o.quantity > MAX_QUANTITY {
        v.add(f("quantity"), format!("{}: must be between 1 and {MAX_QUANTITY}", o.quantity));
    }
    let maintenance_level = level_in(v, f("maintenance_level"), o.maintenance_level);
    let repair_type = repair_type_in(v, f("repair_type"), o.repair_type);
    if !(1..=15).contains(&o.priority) {
        v.add(f("priority"), format!("{}: a UMMIPS priority designator is 1 (highest) to 15", o.priority));
    }
    let required_by = date(v, f("required_by"), &o.required_by);
    let location = site(v, &f("location"), &o.location);
    let retrograde = o.retrograde.as_ref().map(|r| {
        let g = |field: &str| format!("{prefix}.retrograde.{field}");
        Retrograde {
            distance_km: non_negative(v, g("distance_km"), r.distance_km),
            transit_days: non_negative(v, g("transit_days"), r.transit_days),
            volume_m3: non_negative(v, g("volume_m3"), r.volume_m3),
            weight_kg: non_negative(v, g("weight_kg"), r.weight_kg),
            handling_complexity: optional_enum(v, &g("handling_complexity"), r.handling_complexity, level3_in),
            criticality: optional_enum(v, &g("criticality"), r.criticality, level3_in),
            transport_cost: money(v, g("transport_cost"), &r.transport_cost),
        }
    });
    let controls = match &o.controls {
        None => Controls::default(),
        Some(c) => Controls {
            usml_category: optional_text(v, f("controls.usml_category"), &c.usml_category),
            eccn: optional_text(v, f("controls.eccn"), &c.eccn),
            organic_only: c.organic_only,
            releasability: releasability(v, &f("controls.releasability"), &c.releasability),
        },
    };
    let funding = funding_in(v, &f("funding"), &o.funding);
    let department = optional_department(v, f("department"), o.department);
    let estimated_labor_hours = non_negative(v, f("estimated_labor_hours"), o.estimated_labor_hours);
    // Output-only fields are ignored on input, as AIP-203 asks.
    Some(RepairOrderDraft {
        originator: originator?,
        tms: tms?,
        system_category: system_category?,
        component_family,
        item: item?,
        quantity: o.quantity,
        maintenance_level: maintenance_level?,
        repair_type: repair_type?,
        priority: u8::try_from(o.priority).ok().filter(|p| (1..=15).contains(p))?,
        required_by: required_by?,
        location: location?,
        retrograde,
        controls,
        funding,
        department,
        estimated_labor_hours,
    })
    .filter(|_| o.quantity > 0 && o.quantity <= MAX_QUANTITY)
}

fn item_in(v: &mut Violations, prefix: &str, i: &Option<pb::Item>) -> Option<Item> {
    let Some(i) = i else {
        v.add(prefix, "is required: an NSN and/or a part number with CAGE code");
        return None;
    };
    let nsn = if i.nsn.is_empty() { None } else { v.check(&format!("{prefix}.nsn"), Nsn::parse(&i.nsn)) };
    let part_number = optional_text(v, format!("{prefix}.part_number"), &i.part_number);
    let cage_code = if i.cage_code.is_empty() {
        None
    } else {
        v.check(&format!("{prefix}.cage_code"), CageCode::parse(&i.cage_code))
    };
    if i.nsn.is_empty() && i.part_number.is_empty() {
        v.add(format!("{prefix}.nsn"), "give an NSN, or a part number with its CAGE code");
    }
    if !i.part_number.is_empty() && i.cage_code.is_empty() {
        v.add(format!("{prefix}.cage_code"), "is required with a part number");
    }
    Some(Item {
        nsn,
        part_number,
        cage_code,
        serial_number: optional_text(v, format!("{prefix}.serial_number"), &i.serial_number),
        nomenclature: optional_text(v, format!("{prefix}.nomenclature"), &i.nomenclature).unwrap_or_default(),
    })
}

fn item_out(i: &Item) -> pb::Item {
    pb::Item {
        nsn: i.nsn.as_ref().map(ToString::to_string).unwrap_or_default(),
        part_number: i.part_number.clone().unwrap_or_default(),
        cage_code: i.cage_code.as_ref().map(ToString::to_string).unwrap_or_default(),
        serial_number: i.serial_number.clone().unwrap_or_default(),
        nomenclature: i.nomenclature.clone(),
    }
}

fn funding_in(v: &mut Violations, prefix: &str, f: &Option<pb::Funding>) -> Funding {
    let Some(f) = f else {
        return Funding {
            source: None,
            estimated_cost: None,
            actual_cost: None,
            fmf_funded: false,
            dsca_waiver_reference: None,
        };
    };
    use pb::funding::Source as S;
    let source = match &f.source {
        None => None,
        Some(S::UsAppropriation(a)) => {
            let department = department_in(v, format!("{prefix}.us_appropriation.department"), a.department);
            let appropriation = optional_text(v, format!("{prefix}.us_appropriation.appropriation"), &a.appropriation);
            if !(2000..=2100).contains(&a.fiscal_year) {
                v.add(
                    format!("{prefix}.us_appropriation.fiscal_year"),
                    format!("{}: expected a fiscal year such as 2027", a.fiscal_year),
                );
            }
            department.map(|department| FundingSource::UsAppropriation {
                department,
                appropriation: appropriation.unwrap_or_default(),
                fiscal_year: a.fiscal_year,
            })
        }
        Some(S::FmsCase(c)) => required_text(v, format!("{prefix}.fms_case.loa_id"), &c.loa_id)
            .map(|loa_id| FundingSource::FmsCase { loa_id }),
        Some(S::AcsaOrder(a)) => {
            let order_id = required_text(v, format!("{prefix}.acsa_order.order_id"), &a.order_id);
            let reimbursement = reimbursement_in(v, format!("{prefix}.acsa_order.reimbursement"), a.reimbursement);
            order_id
                .zip(reimbursement)
                .map(|(order_id, reimbursement)| FundingSource::AcsaOrder { order_id, reimbursement })
        }
        Some(S::DirectCommercialSale(d)) => {
            required_text(v, format!("{prefix}.direct_commercial_sale.contract_number"), &d.contract_number)
                .map(|contract_number| FundingSource::DirectCommercialSale { contract_number })
        }
    };
    Funding {
        source,
        estimated_cost: money(v, format!("{prefix}.estimated_cost"), &f.estimated_cost),
        actual_cost: money(v, format!("{prefix}.actual_cost"), &f.actual_cost),
        fmf_funded: f.fmf_funded,
        dsca_waiver_reference: optional_text(v, format!("{prefix}.dsca_waiver_reference"), &f.dsca_waiver_reference),
    }
}

fn funding_out(f: &Funding) -> pb::Funding {
    use pb::funding as pf;
    let source = f.source.as_ref().map(|s| match s {
        FundingSource::UsAppropriation { department, appropriation, fiscal_year } => {
            pf::Source::UsAppropriation(pf::UsAppropriation {
                department: department_out(*department),
                appropriation: appropriation.clone(),
                fiscal_year: *fiscal_year,
            })
        }
        FundingSource::FmsCase { loa_id } => pf::Source::FmsCase(pf::FmsCase { loa_id: loa_id.clone() }),
        FundingSource::AcsaOrder { order_id, reimbursement } => pf::Source::AcsaOrder(pf::AcsaOrder {
            order_id: order_id.clone(),
            reimbursement: reimbursement_out(*reimbursement),
        }),
        FundingSource::DirectCommercialSale { contract_number } => {
            pf::Source::DirectCommercialSale(pf::DirectCommercialSale { contract_number: contract_number.clone() })
        }
    });
    pb::Funding {
        source,
        estimated_cost: money_out(&f.estimated_cost),
        actual_cost: money_out(&f.actual_cost),
        fmf_funded: f.fmf_funded,
        dsca_waiver_reference: f.dsca_waiver_reference.clone().unwrap_or_default(),
    }
}

/// Parses the dates and actuals given with a provider step.
pub fn progress_in(v: &mut Violations, p: &Option<pb::WorkProgress>) -> WorkProgress {
    let Some(p) = p else {
        return WorkProgress::default();
    };
    WorkProgress {
        induction_date: optional_date(v, "progress.induction_date".into(), &p.induction_date),
        estimated_completion_date: optional_date(
            v,
            "progress.estimated_completion_date".into(),
            &p.estimated_completion_date,
        ),
        actual_completion_date: optional_date(v, "progress.actual_completion_date".into(), &p.actual_completion_date),
        ship_date: optional_date(v, "progress.ship_date".into(), &p.ship_date),
        actual_labor_hours: (p.actual_labor_hours != 0.0)
            .then(|| non_negative(v, "progress.actual_labor_hours".into(), p.actual_labor_hours)),
        actual_cost: money(v, "progress.actual_cost".into(), &p.actual_cost),
    }
}

/// Dates and actuals for a response.
pub fn progress_out(p: &WorkProgress) -> pb::WorkProgress {
    pb::WorkProgress {
        induction_date: date_out(p.induction_date),
        estimated_completion_date: date_out(p.estimated_completion_date),
        actual_completion_date: date_out(p.actual_completion_date),
        ship_date: date_out(p.ship_date),
        actual_labor_hours: p.actual_labor_hours.unwrap_or(0.0),
        actual_cost: money_out(&p.actual_cost),
    }
}

/// Parses a lifecycle action.
pub fn action_in(v: &mut Violations, raw: i32, provider: &str) -> Option<Action> {
    use pb::RepairOrderAction as A;
    let action = match A::try_from(raw) {
        Ok(A::Propose) => return party_id(v, "provider".into(), provider).map(Action::Propose),
        Ok(A::Accept) => Action::Accept,
        Ok(A::Decline) => Action::Decline,
        Ok(A::Induct) => Action::Induct,
        Ok(A::StartWork) => Action::StartWork,
        Ok(A::AwaitParts) => Action::AwaitParts,
        Ok(A::Complete) => Action::Complete,
        Ok(A::Ship) => Action::Ship,
        Ok(A::Close) => Action::Close,
        Ok(A::Cancel) => Action::Cancel,
        Ok(A::Unspecified) => {
            v.add("action", "is required");
            return None;
        }
        Err(_) => {
            v.add("action", format!("{raw} is not a known RepairOrderAction value"));
            return None;
        }
    };
    if !provider.is_empty() {
        v.add("provider", "is only given with PROPOSE");
    }
    Some(action)
}

/// A repair order for a response.
pub fn repair_order_out(o: &RepairOrder) -> pb::RepairOrder {
    let d = &o.draft;
    pb::RepairOrder {
        sync: None,
        name: format!("repairOrders/{}", o.id),
        originator: d.originator.to_string(),
        tms: d.tms.to_string(),
        system_category: category_out(d.system_category),
        component_family: d.component_family.clone().unwrap_or_default(),
        item: Some(item_out(&d.item)),
        quantity: d.quantity,
        maintenance_level: level_out(d.maintenance_level),
        repair_type: repair_type_out(d.repair_type),
        priority: u32::from(d.priority),
        required_by: d.required_by.to_string(),
        location: site_out(&d.location),
        retrograde: d.retrograde.as_ref().map(|r| pb::Retrograde {
            distance_km: r.distance_km,
            transit_days: r.transit_days,
            volume_m3: r.volume_m3,
            weight_kg: r.weight_kg,
            handling_complexity: r.handling_complexity.map_or(0, level3_out),
            criticality: r.criticality.map_or(0, level3_out),
            transport_cost: money_out(&r.transport_cost),
        }),
        controls: Some(pb::Controls {
            usml_category: d.controls.usml_category.clone().unwrap_or_default(),
            eccn: d.controls.eccn.clone().unwrap_or_default(),
            organic_only: d.controls.organic_only,
            releasability: releasability_out(&d.controls.releasability),
        }),
        funding: Some(funding_out(&d.funding)),
        department: d.department.map_or(0, department_out),
        estimated_labor_hours: d.estimated_labor_hours,
        state: state_out(o.state),
        provider: o.provider.as_ref().map(ToString::to_string).unwrap_or_default(),
        version: o.version,
        parent: o.parent.as_ref().map(|p| format!("repairOrders/{p}")).unwrap_or_default(),
        create_time: timestamp(o.create_time),
        update_time: timestamp(o.update_time),
        progress: Some(progress_out(&o.progress)),
    }
}

/// A lifecycle step for a response.
pub fn transition_out(t: &Transition, sequence: i64) -> pb::RepairOrderTransition {
    pb::RepairOrderTransition {
        version: t.version,
        from_state: t.from.map_or(0, state_out),
        to_state: state_out(t.to),
        actor: t.actor.to_string(),
        time: timestamp(t.time),
        reason: t.reason.clone().unwrap_or_default(),
        provider: t.provider.as_ref().map(ToString::to_string).unwrap_or_default(),
        progress: Some(progress_out(&t.progress)),
        sequence,
    }
}

// ----- capacity offers ----------------------------------------------------

/// Parses a capacity offer.
pub fn capacity_offer_in(
    v: &mut Violations,
    prefix: &str,
    o: &Option<pb::CapacityOffer>,
) -> Option<CapacityOfferDraft> {
    let Some(o) = o else {
        v.add(prefix, "is required");
        return None;
    };
    let f = |field: &str| at(prefix, field);
    let provider = party_id(v, f("provider"), &o.provider);
    let site = site(v, &f("site"), &o.site);
    if o.capabilities.is_empty() {
        v.add(f("capabilities"), "give at least one capability");
    }
    if o.capabilities.len() > MAX_LIST {
        v.add(f("capabilities"), format!("at most {MAX_LIST}"));
    }
    let capabilities: Vec<Capability> = o
        .capabilities
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let g = |field: &str| format!("{prefix}.capabilities[{i}].{field}");
            let tms = if c.tms.is_empty() { None } else { v.check(&g("tms"), Tms::parse(&c.tms)) };
            let family = optional_text(v, g("component_family"), &c.component_family);
            if c.tms.is_empty() && c.component_family.is_empty() {
                v.add(g("tms"), "give a TMS or a component family");
            }
            let level = level_in(v, g("maintenance_level"), c.maintenance_level);
            if c.repair_types.is_empty() {
                v.add(g("repair_types"), "give at least one repair type");
            }
            if c.repair_types.len() > MAX_LIST {
                v.add(g("repair_types"), format!("at most {MAX_LIST}"));
            }
            let types: Vec<RepairType> = c
                .repair_types
                .iter()
                .enumerate()
                .filter_map(|(j, t)| repair_type_in(v, format!("{prefix}.capabilities[{i}].repair_types[{j}]"), *t))
                .collect();
            Some(Capability { tms, component_family: family, maintenance_level: level?, repair_types: types })
        })
        .collect();
    let unit = unit_in(v, f("unit"), o.unit);
    if o.periods.len() > MAX_OFFER_PERIODS {
        v.add(f("periods"), format!("at most {MAX_OFFER_PERIODS} periods"));
    }
    let valid_from = date(v, f("valid_from"), &o.valid_from);
    let valid_until = date(v, f("valid_until"), &o.valid_until);
    let periods: Vec<CapacityPeriod> = o
        .periods
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let g = |field: &str| format!("{prefix}.periods[{i}].{field}");
            let start = date(v, g("start_date"), &p.start_date);
            let end = date(v, g("end_date"), &p.end_date);
            if let (Some(s), Some(e)) = (start, end)
                && e < s
            {
                v.add(g("end_date"), format!("{e} is before start_date {s}"));
            }
            // Every period lies inside the offer's validity, so a period
            // cannot stretch an offer's cost beyond its bounded span.
            if let (Some(s), Some(from)) = (start, valid_from)
                && s < from
            {
                v.add(g("start_date"), format!("{s} is before the offer's valid_from {from}"));
            }
            if let (Some(e), Some(until)) = (end, valid_until)
                && e > until
            {
                v.add(g("end_date"), format!("{e} is after the offer's valid_until {until}"));
            }
            Some(CapacityPeriod {
                start: start?,
                end: end?,
                capacity: non_negative(v, g("capacity"), p.capacity),
                surge_capacity: non_negative(v, g("surge_capacity"), p.surge_capacity),
            })
        })
        .collect();
    if let (Some(a), Some(b)) = (valid_from, valid_until) {
        if b < a {
            v.add(f("valid_until"), format!("{b} is before valid_from {a}"));
        } else if (b - a).num_days() > MAX_OFFER_VALIDITY_DAYS {
            v.add(
                f("valid_until"),
                format!("an offer is valid for at most {MAX_OFFER_VALIDITY_DAYS} days after valid_from {a}"),
            );
        }
    }
    if o.lead_time_days > 3650 {
        v.add(f("lead_time_days"), format!("{}: at most 3650", o.lead_time_days));
    }
    let rate = money(v, f("rate"), &o.rate);
    for (field, len) in [("certifications", o.certifications.len()), ("authorizations", o.authorizations.len())] {
        if len > MAX_LIST {
            v.add(f(field), format!("at most {MAX_LIST}"));
        }
    }
    if let Some(i) = o.authorizations.iter().position(|a| a.nations.len() > MAX_LIST) {
        v.add(format!("{prefix}.authorizations[{i}].nations"), format!("at most {MAX_LIST}"));
    }
    let certifications: Vec<String> = o
        .certifications
        .iter()
        .enumerate()
        .filter_map(|(i, c)| required_text(v, format!("{prefix}.certifications[{i}]"), c))
        .collect();
    let authorizations: Vec<Authorization> = o
        .authorizations
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let g = |field: &str| format!("{prefix}.authorizations[{i}].{field}");
            let kind = auth_kind_in(v, g("kind"), a.kind);
            Some(Authorization {
                kind: kind?,
                tms: if a.tms.is_empty() { None } else { v.check(&g("tms"), Tms::parse(&a.tms)) },
                reference: optional_text(v, g("reference"), &a.reference).unwrap_or_default(),
                export_classification: optional_text(v, g("export_classification"), &a.export_classification),
                nations: a
                    .nations
                    .iter()
                    .enumerate()
                    .filter_map(|(j, n)| nation(v, format!("{prefix}.authorizations[{i}].nations[{j}]"), n))
                    .collect(),
                valid_until: optional_date(v, g("valid_until"), &a.valid_until),
            })
        })
        .collect();
    let releasability = releasability(v, &f("releasability"), &o.releasability);
    Some(CapacityOfferDraft {
        provider: provider?,
        site: site?,
        capabilities,
        unit: unit?,
        periods,
        valid_from: valid_from?,
        valid_until: valid_until?,
        lead_time_days: o.lead_time_days,
        rate,
        certifications,
        authorizations,
        releasability,
    })
}

/// A capacity offer for a response.
pub fn capacity_offer_out(o: &CapacityOffer) -> pb::CapacityOffer {
    let d = &o.draft;
    pb::CapacityOffer {
        sync: None,
        name: format!("capacityOffers/{}", o.id),
        provider: d.provider.to_string(),
        site: site_out(&d.site),
        capabilities: d
            .capabilities
            .iter()
            .map(|c| pb::Capability {
                tms: c.tms.as_ref().map(ToString::to_string).unwrap_or_default(),
                component_family: c.component_family.clone().unwrap_or_default(),
                maintenance_level: level_out(c.maintenance_level),
                repair_types: c.repair_types.iter().map(|t| repair_type_out(*t)).collect(),
            })
            .collect(),
        unit: unit_out(d.unit),
        periods: d
            .periods
            .iter()
            .map(|p| pb::CapacityPeriod {
                start_date: p.start.to_string(),
                end_date: p.end.to_string(),
                capacity: p.capacity,
                surge_capacity: p.surge_capacity,
            })
            .collect(),
        valid_from: d.valid_from.to_string(),
        valid_until: d.valid_until.to_string(),
        lead_time_days: d.lead_time_days,
        rate: money_out(&d.rate),
        certifications: d.certifications.clone(),
        authorizations: d
            .authorizations
            .iter()
            .map(|a| pb::ProviderAuthorization {
                kind: auth_kind_out(a.kind),
                tms: a.tms.as_ref().map(ToString::to_string).unwrap_or_default(),
                reference: a.reference.clone(),
                export_classification: a.export_classification.clone().unwrap_or_default(),
                nations: a.nations.iter().map(ToString::to_string).collect(),
                valid_until: date_out(a.valid_until),
            })
            .collect(),
        releasability: releasability_out(&d.releasability),
        state: match o.state {
            OfferState::Active => pb::CapacityOfferState::Active,
            OfferState::Withdrawn => pb::CapacityOfferState::Withdrawn,
            OfferState::Expired => pb::CapacityOfferState::Expired,
        } as i32,
        version: o.version,
        create_time: timestamp(o.create_time),
        update_time: timestamp(o.update_time),
    }
}

// ----- availability reports -----------------------------------------------

const MAX_ASSETS: usize = 10_000;
/// Tolerance for float rounding when sums are compared with possible time.
const SLACK: f64 = 1e-9;

fn times_in(v: &mut Violations, prefix: &str, t: &pb::TimeByCategory) -> TimeByCategory {
    TimeByCategory {
        available: non_negative(v, format!("{prefix}.available"), t.available),
        nmcm: non_negative(v, format!("{prefix}.nmcm"), t.nmcm),
        nmcs: non_negative(v, format!("{prefix}.nmcs"), t.nmcs),
        depot: non_negative(v, format!("{prefix}.depot"), t.depot),
        upnr: non_negative(v, format!("{prefix}.upnr"), t.upnr),
    }
}

fn times_out(t: &TimeByCategory) -> pb::TimeByCategory {
    pb::TimeByCategory { available: t.available, nmcm: t.nmcm, nmcs: t.nmcs, depot: t.depot, upnr: t.upnr }
}

fn check_within(v: &mut Violations, prefix: &str, t: &TimeByCategory, possible: f64) {
    let limit = possible * (1.0 + SLACK) + SLACK;
    for (name, x) in
        [("available", t.available), ("nmcm", t.nmcm), ("nmcs", t.nmcs), ("depot", t.depot), ("upnr", t.upnr)]
    {
        if x > limit {
            v.add(format!("{prefix}.{name}"), format!("{x} exceeds the possible time {possible}"));
        }
    }
    if t.total() > limit {
        v.add(prefix, format!("categories sum to {}, more than the possible time {possible}", t.total()));
    }
}

/// Parses an availability report: unit, inventory identities, and no time
/// beyond what is possible.
pub fn availability_report_in(
    v: &mut Violations,
    prefix: &str,
    r: &Option<pb::AvailabilityReport>,
) -> Option<AvailabilityReportDraft> {
    let Some(r) = r else {
        v.add(prefix, "is required");
        return None;
    };
    let f = |field: &str| at(prefix, field);
    let reporter = party_id(v, f("reporter"), &r.reporter);
    let tms = tms(v, f("tms"), &r.tms);
    let system_category = category_in(v, f("system_category"), r.system_category);
    let department = optional_department(v, f("department"), r.department);
    let region = region_in(v, f("region"), r.region);
    let start = date(v, f("timeframe_start"), &r.timeframe_start);
    let end = date(v, f("timeframe_end"), &r.timeframe_end);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        v.add(f("timeframe_end"), format!("{e} is before timeframe_start {s}"));
    }
    let time_unit = time_unit_in(v, f("time_unit"), r.time_unit);
    let inventory = match &r.inventory {
        None => {
            v.add(f("inventory"), "is required");
            None
        }
        Some(i) => Some(inventory_in(v, &f("inventory"), i)),
    };
    let tai_time = r.tai_time.as_ref().map(|t| times_in(v, &f("tai_time"), t));
    let pmai_time = r.pmai_time.as_ref().map(|t| times_in(v, &f("pmai_time"), t));
    if r.assets.len() > MAX_ASSETS {
        v.add(f("assets"), format!("at most {MAX_ASSETS} assets per report"));
    }
    let mut serials = std::collections::HashSet::new();
    let assets: Vec<AssetAvailability> = r
        .assets
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let g = |field: &str| format!("{prefix}.assets[{i}].{field}");
            let serial = required_text(v, g("serial"), &a.serial)?;
            if !serials.insert(serial.clone()) {
                v.add(g("serial"), format!("{serial:?} appears twice"));
            }
            let time = a.time.as_ref().map(|t| times_in(v, &g("time"), t)).unwrap_or_default();
            Some(AssetAvailability { serial, pmai: a.pmai, possible: non_negative(v, g("possible"), a.possible), time })
        })
        .collect();
    if !assets.is_empty() && (tai_time.is_some() || pmai_time.is_some()) {
        v.add(f("assets"), "give fleet totals (tai_time, pmai_time) or assets, not both");
    }
    if assets.is_empty() && tai_time.is_none() {
        v.add(f("tai_time"), "is required when no assets are given");
    }
    let costs: Vec<(String, Money)> = r
        .costs
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let g = |field: &str| format!("{prefix}.costs[{i}].{field}");
            let element = required_text(v, g("element"), &c.element);
            if let Some(e) = &element
                && !e.split('.').all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            {
                v.add(g("element"), format!("{e:?}: expected a cost element such as 1.2, 3.1 or 3.2"));
            }
            if c.amount.is_none() {
                v.add(g("amount"), "is required");
            }
            Some((element?, money(v, g("amount"), &c.amount)?))
        })
        .collect();
    let releasability = releasability(v, &f("releasability"), &r.releasability);
    let draft = AvailabilityReportDraft {
        reporter: reporter?,
        tms: tms?,
        system_category: system_category?,
        department,
        region: region?,
        timeframe_start: start?,
        timeframe_end: end?,
        time_unit: time_unit?,
        inventory: inventory?,
        tai_time,
        pmai_time,
        assets,
        costs,
        releasability,
    };
    if draft.timeframe_end < draft.timeframe_start {
        return None;
    }
    // Time can never exceed what is possible: inventory × length of the timeframe.
    let length = draft.timeframe_length();
    let tai_possible = f64::from(draft.inventory.tai) * length;
    let pmai_possible = f64::from(draft.inventory.pmai) * length;
    if let Some(t) = &draft.tai_time {
        check_within(v, &f("tai_time"), t, tai_possible);
    }
    if let Some(t) = &draft.pmai_time {
        check_within(v, &f("pmai_time"), t, pmai_possible);
    }
    for (i, a) in draft.assets.iter().enumerate() {
        if a.possible > length * (1.0 + SLACK) {
            v.add(
                format!("{prefix}.assets[{i}].possible"),
                format!("{} exceeds the length of the timeframe {length}", a.possible),
            );
        }
        check_within(v, &format!("{prefix}.assets[{i}].time"), &a.time, a.possible);
    }
    if draft.assets.len() > draft.inventory.tai as usize {
        v.add(
            f("assets"),
            format!("{} assets reported but inventory.tai is {}", draft.assets.len(), draft.inventory.tai),
        );
    }
    Some(draft)
}

fn inventory_in(v: &mut Violations, prefix: &str, i: &pb::Inventory) -> Inventory {
    let inv = Inventory {
        toai: i.toai,
        tai: i.tai,
        pai: i.pai,
        bai: i.bai,
        pwr: i.pwr,
        ar: i.ar,
        tii: i.tii,
        epsli: i.epsli,
        pmai: i.pmai,
    };
    let parts = [inv.pai, inv.bai, inv.pwr, inv.ar];
    if parts.iter().all(Option::is_some) {
        let sum: u64 = parts.iter().flatten().map(|&x| u64::from(x)).sum();
        if sum != u64::from(inv.tai) {
            v.add(format!("{prefix}.tai"), format!("TAI = PAI + BAI + PWR + AR must hold: {} != {sum}", inv.tai));
        }
    } else {
        let sum: u64 = parts.iter().flatten().map(|&x| u64::from(x)).sum();
        if sum > u64::from(inv.tai) {
            v.add(format!("{prefix}.tai"), format!("PAI + BAI + PWR + AR given so far ({sum}) exceed TAI {}", inv.tai));
        }
    }
    if let Some(toai) = inv.toai {
        let sum = u64::from(inv.tai) + u64::from(inv.tii.unwrap_or(0)) + u64::from(inv.epsli.unwrap_or(0));
        let complete = inv.tii.is_some() && inv.epsli.is_some();
        if (complete && sum != u64::from(toai)) || sum > u64::from(toai) {
            v.add(format!("{prefix}.toai"), format!("TOAI = TAI + TII + EPSLI must hold: {toai} vs {sum}"));
        }
    }
    let pmai_limit = inv.pai.unwrap_or(inv.tai);
    if inv.pmai > pmai_limit {
        v.add(format!("{prefix}.pmai"), format!("PMAI {} is part of PAI and cannot exceed {pmai_limit}", inv.pmai));
    }
    inv
}

/// An availability report for a response.
pub fn availability_report_out(r: &AvailabilityReport) -> pb::AvailabilityReport {
    let d = &r.draft;
    let i = &d.inventory;
    pb::AvailabilityReport {
        sync: None,
        name: format!("availabilityReports/{}", r.id),
        reporter: d.reporter.to_string(),
        tms: d.tms.to_string(),
        system_category: category_out(d.system_category),
        department: d.department.map_or(0, department_out),
        region: region_out(d.region),
        timeframe_start: d.timeframe_start.to_string(),
        timeframe_end: d.timeframe_end.to_string(),
        time_unit: time_unit_out(d.time_unit),
        inventory: Some(pb::Inventory {
            toai: i.toai,
            tai: i.tai,
            pai: i.pai,
            bai: i.bai,
            pwr: i.pwr,
            ar: i.ar,
            tii: i.tii,
            epsli: i.epsli,
            pmai: i.pmai,
        }),
        tai_time: d.tai_time.as_ref().map(times_out),
        pmai_time: d.pmai_time.as_ref().map(times_out),
        assets: d
            .assets
            .iter()
            .map(|a| pb::AssetAvailability {
                serial: a.serial.clone(),
                pmai: a.pmai,
                possible: a.possible,
                time: Some(times_out(&a.time)),
            })
            .collect(),
        costs: d
            .costs
            .iter()
            .map(|(e, m)| pb::CostElementAmount { element: e.clone(), amount: money_out(&Some(m.clone())) })
            .collect(),
        releasability: releasability_out(&d.releasability),
        version: r.version,
        supersedes: r.supersedes.as_ref().map(|s| format!("availabilityReports/{s}")).unwrap_or_default(),
        create_time: timestamp(r.create_time),
    }
}

// ----- availability targets -------------------------------------------------

fn target_fraction(v: &mut Violations, field: &str, x: Option<f64>) -> Option<f64> {
    let x = x?;
    if x.is_finite() && x > 0.0 && x <= 1.0 {
        Some(x)
    } else {
        v.add(field, format!("{x}: a target is a fraction in (0, 1], e.g. 0.75 for 75 %"));
        None
    }
}

/// Parses an availability target.
pub fn availability_target_in(
    v: &mut Violations,
    t: &Option<pb::AvailabilityTarget>,
) -> Option<AvailabilityTargetDraft> {
    let Some(t) = t else {
        v.add("target", "is required");
        return None;
    };
    let owner = party_id(v, "target.owner".into(), &t.owner);
    let tms = tms(v, "target.tms".into(), &t.tms);
    let a_m = target_fraction(v, "target.a_m", t.a_m);
    let a_o = target_fraction(v, "target.a_o", t.a_o);
    if t.a_m.is_none() && t.a_o.is_none() {
        v.add("target.a_m", "give an A_M target, an A_O target, or both");
    }
    Some(AvailabilityTargetDraft { owner: owner?, tms: tms?, a_m, a_o })
}

/// A target for a response.
pub fn availability_target_out(t: &AvailabilityTarget) -> pb::AvailabilityTarget {
    pb::AvailabilityTarget {
        sync: None,
        name: format!("availabilityTargets/{}", t.id),
        owner: t.draft.owner.to_string(),
        tms: t.draft.tms.to_string(),
        a_m: t.draft.a_m,
        a_o: t.draft.a_o,
        version: t.version,
    }
}

// ----- alerts (feed) ------------------------------------------------------

/// A bottleneck alert for the feed.
pub fn bottleneck_alert_out(a: &crate::signals::alerts::BottleneckAlert) -> pb::BottleneckAlert {
    pb::BottleneckAlert {
        key: Some(pb::DemandCellKey {
            region: region_out(a.region),
            tms: a.tms.clone(),
            level: level_out(a.level),
            owner_nation: String::new(),
            repair_type: 0,
        }),
        period: Some(pb::DemandPeriod {
            label: a.period.clone(),
            start_date: a.period_start.to_string(),
            end_date: a.period_end.to_string(),
        }),
        unit: unit_out(a.unit),
        demand_kind: a.demand_kind.clone(),
        demand: a.demand,
        capacity: a.capacity,
        surge: a.surge,
        shortfall: a.shortfall,
        shortfall_relative: a.shortfall_relative,
        threshold_absolute: a.threshold_absolute,
        threshold_relative: a.threshold_relative,
        raised: a.raised,
        change: a.change,
    }
}

fn balance_status_out(s: cosx_allocation::BalanceStatus) -> i32 {
    (match s {
        cosx_allocation::BalanceStatus::Ok => pb::BalanceStatus::Ok,
        cosx_allocation::BalanceStatus::Warning => pb::BalanceStatus::Warning,
        cosx_allocation::BalanceStatus::Violation => pb::BalanceStatus::Violation,
    }) as i32
}

/// A 50/50 alert for the feed.
pub fn balance_alert_out(a: &crate::signals::alerts::BalanceAlert) -> pb::BalanceAlert {
    pb::BalanceAlert {
        department: department_out(a.department),
        fiscal_year: a.fiscal_year,
        status: balance_status_out(a.status),
        previous_status: balance_status_out(a.previous),
        contract_share: a.contract_share,
        organic_cents: a.organic_cents,
        contract_cents: a.contract_cents,
        warning_percent: a.warning_percent,
        change: a.change,
    }
}
