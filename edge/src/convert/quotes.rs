//! Quotes in and out: a provider's terms, quote resource names
//! (`repairOrders/{order}/quotes/{provider}`), and quotes for responses.
//!
//! Pure conversion: never authorizes, never stores, never judges whether a
//! quote may be given or accepted (that is `cosx_domain::quotes`).

#[allow(unused_imports)]
use super::*;
use cosx_domain::quotes::*;

enum_map!(quote_kind_in, quote_kind_out, pb::QuoteKind, QuoteKind, "QuoteKind", {
    Interim => Interim, Final => Final,
});
enum_map!(repair_process_in, repair_process_out, pb::RepairProcess, RepairProcess, "RepairProcess", {
    Repair => Repair, Overhaul => Overhaul, InspectTest => InspectTest, Modify => Modify,
});
enum_map!(quote_state_in, quote_state_out, pb::QuoteState, QuoteState, "QuoteState", {
    Requested => Requested, Quoted => Quoted, Accepted => Accepted, Closed => Closed,
});

/// Parses a provider's terms: a price that is never negative, a turnaround
/// of 1 to [`MAX_TURNAROUND_DAYS`] days, a process, a validity date (that it
/// is not past is the domain rule's, which knows today) and conditions of at
/// most [`MAX_CONDITIONS`] characters.
pub fn quote_terms_in(v: &mut Violations, prefix: &str, t: &Option<pb::QuoteTerms>) -> Option<QuoteTerms> {
    let Some(t) = t else {
        v.add(prefix, "is required");
        return None;
    };
    let f = |field: &str| at(prefix, field);
    let kind = quote_kind_in(v, f("kind"), t.kind);
    let price = match &t.price {
        None => {
            v.add(f("price"), "is required");
            None
        }
        Some(m) => v.check(&f("price"), Money::parse(&m.currency_code, m.amount_minor)),
    };
    if t.turnaround_days == 0 || t.turnaround_days > MAX_TURNAROUND_DAYS {
        v.add(f("turnaround_days"), format!("{}: expected 1 to {MAX_TURNAROUND_DAYS} days", t.turnaround_days));
    }
    let process = repair_process_in(v, f("process"), t.process);
    let valid_until = date(v, f("valid_until"), &t.valid_until);
    let conditions = v.check(&f("conditions"), cosx_domain::limits::long_text(&t.conditions)).flatten();
    Some(QuoteTerms {
        kind: kind?,
        price: price?,
        turnaround_days: t.turnaround_days,
        process: process?,
        valid_until: valid_until?,
        conditions,
    })
}

/// The order id and provider in a quote's resource name
/// `repairOrders/{order}/quotes/{provider}`, or the violation on `field`.
pub fn quote_name_in(v: &mut Violations, field: &str, name: &str) -> Option<(String, PartyId)> {
    let parsed = name.strip_prefix("repairOrders/").and_then(|rest| rest.split_once("/quotes/"));
    let Some((order, provider)) = parsed else {
        v.add(field, format!("{name:?}: expected repairOrders/ORDER/quotes/PROVIDER"));
        return None;
    };
    let mut inner = Violations::new();
    let order = resource_id(&mut inner, field, order, "repairOrders");
    let provider = PartyId::parse(provider).ok();
    match (order, provider) {
        (Some(o), Some(p)) if inner.is_empty() => Some((o, p)),
        _ => {
            v.add(field, format!("{name:?}: expected repairOrders/ORDER/quotes/PROVIDER"));
            None
        }
    }
}

/// A quote's resource name.
pub fn quote_name(q: &Quote) -> String {
    format!("repairOrders/{}", q.id)
}

/// A quote as a response (or the feed) gave it, back in the domain's
/// terms: how a party node holds the quotes its replica knows, to apply
/// the same rules to them (`cosx_domain::quotes`). `None`, with the
/// violations, when a part is unreadable.
pub fn quote_in(v: &mut Violations, q: &pb::Quote) -> Option<Quote> {
    let name = quote_name_in(v, "name", &q.name);
    let owner = party_id(v, "owner".into(), &q.owner);
    let provider = party_id(v, "provider".into(), &q.provider);
    let requested_by = party_id(v, "requested_by".into(), &q.requested_by);
    let state = quote_state_in(v, "state".into(), q.state);
    let terms = match &q.terms {
        Some(_) => Some(quote_terms_in(v, "terms", &q.terms)?),
        None => None,
    };
    let (order_id, named) = name?;
    let provider = provider?;
    if named != provider {
        v.add("provider", format!("{provider} is not the provider its name {:?} holds", q.name));
        return None;
    }
    Some(Quote {
        id: quote_id(&order_id, &provider),
        order_id,
        owner: owner?,
        provider,
        requested_by: requested_by?,
        state: state?,
        terms,
        close_reason: (!q.close_reason.is_empty()).then(|| q.close_reason.clone()),
        version: q.version,
        create_time: time_in(&q.create_time),
        update_time: time_in(&q.update_time),
    })
}

/// A quote for a response.
pub fn quote_out(q: &Quote) -> pb::Quote {
    pb::Quote {
        name: quote_name(q),
        repair_order: format!("repairOrders/{}", q.order_id),
        owner: q.owner.to_string(),
        provider: q.provider.to_string(),
        requested_by: q.requested_by.to_string(),
        state: quote_state_out(q.state),
        terms: q.terms.as_ref().map(|t| pb::QuoteTerms {
            kind: quote_kind_out(t.kind),
            price: money_out(&Some(t.price.clone())),
            turnaround_days: t.turnaround_days,
            process: repair_process_out(t.process),
            valid_until: t.valid_until.to_string(),
            conditions: t.conditions.clone().unwrap_or_default(),
        }),
        close_reason: q.close_reason.clone().unwrap_or_default(),
        version: q.version,
        create_time: timestamp(q.create_time),
        update_time: timestamp(q.update_time),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn terms() -> pb::QuoteTerms {
        pb::QuoteTerms {
            kind: pb::QuoteKind::Final as i32,
            price: Some(pb::Money { currency_code: "USD".into(), amount_minor: 12_500_000 }),
            turnaround_days: 45,
            process: pb::RepairProcess::Overhaul as i32,
            valid_until: "2027-02-01".into(),
            conditions: "Teardown may reveal\ncorrosion.".into(),
        }
    }

    #[test]
    fn a_quote_read_back_from_its_response_is_the_same_quote() {
        let usaf = PartyId::parse("US-USAF-OOALC").unwrap();
        let mhi = PartyId::parse("JPN-MHI-KOMAKI").unwrap();
        let time = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut q = Quote::requested("US-USAF-OOALC.o-1", &usaf, &mhi, &usaf, time);
        let mut v = Violations::new();
        assert_eq!(quote_in(&mut v, &quote_out(&q)), Some(q.clone()));
        q.state = QuoteState::Quoted;
        q.terms = quote_terms_in(&mut v, "terms", &Some(terms()));
        q.version = 2;
        assert_eq!(quote_in(&mut v, &quote_out(&q)), Some(q.clone()));
        assert!(v.is_empty(), "{v}");
        let mut forged = quote_out(&q);
        forged.provider = "KOR-KAI-SACHEON".into();
        assert_eq!(quote_in(&mut v, &forged), None);
    }

    #[test]
    fn every_bad_term_is_named_at_once() {
        let mut v = Violations::new();
        let mut t = terms();
        t.price = Some(pb::Money { currency_code: "USD".into(), amount_minor: -1 });
        t.turnaround_days = 0;
        t.kind = 0;
        t.valid_until = "soon".into();
        t.conditions = "x".repeat(MAX_CONDITIONS + 1);
        assert_eq!(quote_terms_in(&mut v, "terms", &Some(t)), None);
        let fields: Vec<String> = v.0.iter().map(|f| f.field.clone()).collect();
        for f in ["terms.kind", "terms.price", "terms.turnaround_days", "terms.valid_until", "terms.conditions"] {
            assert!(fields.iter().any(|g| g == f), "{f} missing from {fields:?}");
        }
        let mut v = Violations::new();
        let good = quote_terms_in(&mut v, "terms", &Some(terms())).unwrap();
        assert!(v.is_empty());
        assert_eq!(good.price.amount_minor, 12_500_000);
    }

    #[test]
    fn a_quote_name_holds_an_order_and_a_provider() {
        let mut v = Violations::new();
        let (order, provider) =
            quote_name_in(&mut v, "name", "repairOrders/US-USAF-OOALC.o-1/quotes/JPN-MHI-KOMAKI").unwrap();
        assert_eq!(order, "US-USAF-OOALC.o-1");
        assert_eq!(provider.as_str(), "JPN-MHI-KOMAKI");
        for bad in [
            "repairOrders/x",
            "quotes/JPN-MHI-KOMAKI",
            "repairOrders/a b/quotes/JPN-MHI-KOMAKI",
            "repairOrders/x/quotes/%",
        ] {
            let mut v = Violations::new();
            assert_eq!(quote_name_in(&mut v, "name", bad), None, "{bad}");
            assert!(!v.is_empty());
        }
    }
}
