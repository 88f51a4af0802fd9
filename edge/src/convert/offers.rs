//! Capacity offers in and out: capabilities, periods, authorizations.
//!
//! Pure conversion: never authorizes, never stores.

#[allow(unused_imports)]
use super::*;

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
