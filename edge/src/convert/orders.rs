//! Repair orders in and out: the order, its item, funding, progress and lifecycle actions.
//!
//! Pure conversion: never authorizes, never stores.

#[allow(unused_imports)]
use super::*;

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
        repair_exception: t.exception.as_ref().map(|id| format!("repairOrders/{id}")).unwrap_or_default(),
    }
}
