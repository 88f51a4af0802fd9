//! Repair exceptions in and out: what a provider raises (a cause with its
//! new estimate or date, and text), the owner's answer, exception resource
//! names (`repairOrders/{order}/exceptions/{n}`), and exceptions for
//! responses.
//!
//! Pure conversion: never authorizes, never stores, never judges whether an
//! exception may be raised or answered (that is `cosx_domain::exceptions`).

#[allow(unused_imports)]
use super::*;
use cosx_domain::exceptions::*;

use pb::answer_exception_request::Decision;

enum_map!(exception_state_in, exception_state_out, pb::RepairExceptionState, ExceptionState, "RepairExceptionState", {
    Open => Open, Approved => Approved, Rejected => Rejected,
});

/// Text of at most [`MAX_EXCEPTION_TEXT`] characters with no control
/// characters but newlines and tabs; `None` (and no violation) when empty.
fn long_text(v: &mut Violations, field: &str, s: &str) -> Option<String> {
    v.check(field, cosx_domain::limits::long_text(s)).flatten()
}

/// Parses what a provider raises: the kind, the new estimate (never
/// negative; only and always for a cost-over), the new completion date
/// (only and always for a slip) and the text (required).
pub fn exception_cause_in(v: &mut Violations, r: &pb::RaiseExceptionRequest) -> Option<(ExceptionCause, String)> {
    use pb::RepairExceptionKind as K;
    let kind = match K::try_from(r.kind) {
        Ok(K::Unspecified) => {
            v.add("kind", "is required: one of the RepairExceptionKind values");
            None
        }
        Ok(k) => Some(k),
        Err(_) => {
            v.add("kind", format!("{} is not a known RepairExceptionKind value", r.kind));
            None
        }
    };
    let wants_estimate = kind == Some(K::CostOverEstimate);
    let wants_date = kind == Some(K::TurnaroundSlip);
    let estimate = match (&r.new_estimate, wants_estimate) {
        (Some(_), true) => money(v, "new_estimate".into(), &r.new_estimate),
        (None, true) => {
            v.add("new_estimate", "is required for COST_OVER_ESTIMATE");
            None
        }
        (Some(_), false) => {
            v.add("new_estimate", "is given only with COST_OVER_ESTIMATE");
            None
        }
        (None, false) => None,
    };
    let date = match (r.new_completion_date.is_empty(), wants_date) {
        (_, true) => date(v, "new_completion_date".into(), &r.new_completion_date),
        (false, false) => {
            v.add("new_completion_date", "is given only with TURNAROUND_SLIP");
            None
        }
        (true, false) => None,
    };
    let text = long_text(v, "text", &r.text);
    if text.is_none() && r.text.trim().is_empty() {
        v.add("text", "is required: what was found");
    }
    let cause = match kind? {
        K::CostOverEstimate => ExceptionCause::CostOverEstimate { new_estimate: estimate? },
        K::TurnaroundSlip => ExceptionCause::TurnaroundSlip { new_completion_date: date? },
        K::BeyondEconomicalRepair => ExceptionCause::BeyondEconomicalRepair,
        K::NoFaultFound => ExceptionCause::NoFaultFound,
        K::Scrap => ExceptionCause::Scrap,
        K::PartsUnobtainable => ExceptionCause::PartsUnobtainable,
        K::Unspecified => return None,
    };
    Some((cause, text?))
}

/// Parses the owner's answer: approve (with an optional note) or reject
/// (with its reason, required).
pub fn exception_answer_in(v: &mut Violations, r: &pb::AnswerExceptionRequest) -> Option<ExceptionAnswer> {
    let reason = long_text(v, "reason", &r.reason);
    match Decision::try_from(r.decision) {
        Ok(Decision::Approve) => Some(ExceptionAnswer::Approve(reason)),
        Ok(Decision::Reject) => match reason {
            Some(reason) => Some(ExceptionAnswer::Reject(reason)),
            None => {
                if r.reason.trim().is_empty() {
                    v.add("reason", "is required to reject: say why");
                }
                None
            }
        },
        Ok(Decision::Unspecified) => {
            v.add("decision", "is required: DECISION_APPROVE or DECISION_REJECT");
            None
        }
        Err(_) => {
            v.add("decision", format!("{} is not a known Decision value", r.decision));
            None
        }
    }
}

/// The store id in an exception's resource name
/// `repairOrders/{order}/exceptions/{n}`, or the violation on `field`.
pub fn exception_name_in(v: &mut Violations, field: &str, name: &str) -> Option<String> {
    let parsed = name.strip_prefix("repairOrders/").and_then(|rest| rest.split_once("/exceptions/"));
    let expected = || format!("{name:?}: expected repairOrders/ORDER/exceptions/N");
    let Some((order, n)) = parsed else {
        v.add(field, expected());
        return None;
    };
    let mut inner = Violations::new();
    let order = resource_id(&mut inner, field, order, "repairOrders");
    // Only the canonical spelling ("2", not "02" or "+2") names an exception.
    let n = n.parse::<usize>().ok().filter(|k| *k >= 1 && k.to_string() == n);
    match (order, n) {
        (Some(o), Some(n)) if inner.is_empty() => Some(exception_id(&o, n)),
        _ => {
            v.add(field, expected());
            None
        }
    }
}

/// An exception's resource name.
pub fn exception_name(e: &RepairException) -> String {
    format!("repairOrders/{}", e.id)
}

/// An exception as a response (or the feed) gave it, back in the domain's
/// terms: how a party node holds the exceptions its replica knows, to apply
/// the same rules to them. `raised_in` is not carried on the wire: it is
/// taken as `order_state`, the state of the order it is on as the caller
/// knows it. `None`, with the violations, when a part is unreadable.
pub fn exception_in(
    v: &mut Violations,
    e: &pb::RepairException,
    order_state: cosx_domain::RepairOrderState,
) -> Option<RepairException> {
    let id = exception_name_in(v, "name", &e.name);
    let order_id = resource_id(v, "repair_order", &e.repair_order, "repairOrders");
    let owner = v.check("owner", cosx_domain::PartyId::parse(&e.owner));
    let provider = v.check("provider", cosx_domain::PartyId::parse(&e.provider));
    let raised = pb::RaiseExceptionRequest {
        parent: e.repair_order.clone(),
        kind: e.kind,
        new_estimate: e.new_estimate.clone(),
        new_completion_date: e.new_completion_date.clone(),
        text: e.text.clone(),
        request_id: String::new(),
    };
    let cause = exception_cause_in(v, &raised);
    let state = exception_state_in(v, "state".into(), e.state);
    let answered_by =
        (!e.answered_by.is_empty()).then(|| v.check("answered_by", cosx_domain::PartyId::parse(&e.answered_by)));
    let time = |t: &Option<Timestamp>| {
        t.as_ref()
            .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
            .unwrap_or_default()
    };
    Some(RepairException {
        id: id?,
        order_id: order_id?,
        owner: owner?,
        provider: provider?,
        cause: cause?.0,
        text: e.text.clone(),
        state: state?,
        raised_in: order_state,
        answer_reason: (!e.answer_reason.is_empty()).then(|| e.answer_reason.clone()),
        answered_by: match answered_by {
            Some(p) => Some(p?),
            None => None,
        },
        version: e.version,
        create_time: time(&e.create_time),
        update_time: time(&e.update_time),
    })
}

/// An exception for a response.
pub fn exception_out(e: &RepairException) -> pb::RepairException {
    use pb::RepairExceptionKind as K;
    let (kind, new_estimate, new_completion_date) = match &e.cause {
        ExceptionCause::CostOverEstimate { new_estimate } => {
            (K::CostOverEstimate, money_out(&Some(new_estimate.clone())), String::new())
        }
        ExceptionCause::TurnaroundSlip { new_completion_date } => {
            (K::TurnaroundSlip, None, new_completion_date.to_string())
        }
        ExceptionCause::BeyondEconomicalRepair => (K::BeyondEconomicalRepair, None, String::new()),
        ExceptionCause::NoFaultFound => (K::NoFaultFound, None, String::new()),
        ExceptionCause::Scrap => (K::Scrap, None, String::new()),
        ExceptionCause::PartsUnobtainable => (K::PartsUnobtainable, None, String::new()),
    };
    pb::RepairException {
        name: exception_name(e),
        repair_order: format!("repairOrders/{}", e.order_id),
        owner: e.owner.to_string(),
        provider: e.provider.to_string(),
        kind: kind as i32,
        new_estimate,
        new_completion_date,
        text: e.text.clone(),
        state: exception_state_out(e.state),
        answer_reason: e.answer_reason.clone().unwrap_or_default(),
        answered_by: e.answered_by.as_ref().map(ToString::to_string).unwrap_or_default(),
        version: e.version,
        create_time: timestamp(e.create_time),
        update_time: timestamp(e.update_time),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn raise() -> pb::RaiseExceptionRequest {
        pb::RaiseExceptionRequest {
            parent: "repairOrders/US-USAF-OOALC.o-1".into(),
            kind: pb::RepairExceptionKind::CostOverEstimate as i32,
            new_estimate: Some(pb::Money { currency_code: "USD".into(), amount_minor: 15_000_000 }),
            new_completion_date: String::new(),
            text: "Corrosion found\nunder the skin.".into(),
            request_id: String::new(),
        }
    }

    fn fields(v: &Violations) -> Vec<String> {
        v.0.iter().map(|f| f.field.clone()).collect()
    }

    #[test]
    fn every_bad_part_of_an_exception_is_named_at_once() {
        let mut v = Violations::new();
        let mut r = raise();
        r.new_estimate = Some(pb::Money { currency_code: "USD".into(), amount_minor: -1 });
        r.new_completion_date = "2027-06-01".into();
        r.text = "x".repeat(MAX_EXCEPTION_TEXT + 1);
        assert_eq!(exception_cause_in(&mut v, &r), None);
        assert_eq!(fields(&v), vec!["new_estimate", "new_completion_date", "text"]);

        let mut v = Violations::new();
        let slip = pb::RaiseExceptionRequest {
            kind: pb::RepairExceptionKind::TurnaroundSlip as i32,
            new_estimate: None,
            text: " ".into(),
            ..raise()
        };
        assert_eq!(exception_cause_in(&mut v, &slip), None);
        assert_eq!(fields(&v), vec!["new_completion_date", "text"]);

        let mut v = Violations::new();
        let (cause, text) = exception_cause_in(&mut v, &raise()).unwrap();
        assert!(v.is_empty());
        assert_eq!(cause.as_str(), "COST_OVER_ESTIMATE");
        assert_eq!(text, "Corrosion found\nunder the skin.");
    }

    #[test]
    fn a_rejection_needs_its_reason_and_a_decision_is_required() {
        let answer = |decision: Decision, reason: &str| {
            let mut v = Violations::new();
            let r = pb::AnswerExceptionRequest {
                name: String::new(),
                decision: decision as i32,
                reason: reason.into(),
                request_id: String::new(),
            };
            (exception_answer_in(&mut v, &r), fields(&v))
        };
        assert_eq!(answer(Decision::Reject, ""), (None, vec!["reason".to_owned()]));
        assert_eq!(answer(Decision::Unspecified, "x"), (None, vec!["decision".to_owned()]));
        assert_eq!(answer(Decision::Reject, "too dear").0, Some(ExceptionAnswer::Reject("too dear".into())));
        assert_eq!(answer(Decision::Approve, "").0, Some(ExceptionAnswer::Approve(None)));
    }

    #[test]
    fn an_exception_read_back_from_its_response_is_the_same_exception() {
        let mut v = Violations::new();
        let (cause, text) = exception_cause_in(&mut v, &raise()).unwrap();
        let order = cosx_domain::RepairOrderState::InWork;
        let usaf = cosx_domain::PartyId::parse("US-USAF-OOALC").unwrap();
        let mhi = cosx_domain::PartyId::parse("JPN-MHI-KOMAKI").unwrap();
        let time = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut e = RepairException {
            id: exception_id("US-USAF-OOALC.o-1", 2),
            order_id: "US-USAF-OOALC.o-1".into(),
            owner: usaf.clone(),
            provider: mhi,
            cause,
            text,
            state: ExceptionState::Open,
            raised_in: order,
            answer_reason: None,
            answered_by: None,
            version: 1,
            create_time: time,
            update_time: time,
        };
        assert_eq!(exception_in(&mut v, &exception_out(&e), order), Some(e.clone()));
        (e.state, e.answer_reason, e.answered_by, e.version) =
            (ExceptionState::Rejected, Some("no".into()), Some(usaf), 2);
        assert_eq!(exception_in(&mut v, &exception_out(&e), order), Some(e.clone()));
        assert!(v.is_empty(), "{v}");
        let mut broken = exception_out(&e);
        broken.owner = "nobody at all".into();
        assert_eq!(exception_in(&mut v, &broken, order), None);
        assert_eq!(fields(&v), vec!["owner"]);
    }

    #[test]
    fn an_exception_name_holds_an_order_and_a_number() {
        let mut v = Violations::new();
        let id = exception_name_in(&mut v, "name", "repairOrders/US-USAF-OOALC.o-1/exceptions/2").unwrap();
        assert_eq!(id, "US-USAF-OOALC.o-1/exceptions/2");
        for bad in [
            "repairOrders/x",
            "repairOrders/x/exceptions/0",
            "repairOrders/x/exceptions/01",
            "repairOrders/x/exceptions/-1",
            "repairOrders/x/exceptions/one",
            "repairOrders/a b/exceptions/1",
            "exceptions/1",
        ] {
            let mut v = Violations::new();
            assert_eq!(exception_name_in(&mut v, "name", bad), None, "{bad}");
            assert!(!v.is_empty());
        }
    }
}
