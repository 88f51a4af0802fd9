//! Disruptions in and out: a provider's notice (cause, capacity lost,
//! capabilities, dates, text) parsed field by field, disruption resource
//! names (`disruptions/{id}`), and disruptions for responses.
//!
//! Pure conversion: never authorizes, never stores, never judges whether a
//! disruption may be declared or changed (that is `cosx_domain::disruptions`).

#[allow(unused_imports)]
use super::*;
use cosx_domain::disruptions::{
    AffectedCapability, Disruption, DisruptionCause, DisruptionDraft, DisruptionState, MAX_CAPABILITIES, MAX_DAYS,
};

enum_map!(disruption_cause_in, disruption_cause_out, pb::DisruptionCause, DisruptionCause, "DisruptionCause", {
    NaturalDisaster => NaturalDisaster, HostileAction => HostileAction, Cyber => Cyber, Labour => Labour,
    PartsShortage => PartsShortage, Facility => Facility, Transport => Transport, Other => Other,
});
enum_map!(disruption_state_in, disruption_state_out, pb::DisruptionState, DisruptionState, "DisruptionState", {
    Active => Active, Resolved => Resolved,
});

/// A text of 1 to [`cosx_domain::disruptions::MAX_TEXT`] characters (newlines and tabs allowed), or
/// the violation on `field`.
pub fn disruption_text_in(v: &mut Violations, field: &str, text: &str) -> Option<String> {
    v.check(field, cosx_domain::limits::required_long_text(text))
}

/// Parses a notice declared or updated by `provider` (the caller): a site,
/// a cause, a reduction of 0 to 100 percent or of labor hours per month
/// (`disruptions::parse_effect`), at most [`MAX_CAPABILITIES`]
/// capabilities, a start and an expected end not before it (and at most
/// [`MAX_DAYS`] after it), and a text.
pub fn disruption_draft_in(
    v: &mut Violations,
    prefix: &str,
    provider: &PartyId,
    d: &Option<pb::Disruption>,
) -> Option<DisruptionDraft> {
    let Some(d) = d else {
        v.add(prefix, "is required");
        return None;
    };
    let f = |field: &str| at(prefix, field);
    let site = required_text(v, f("site"), &d.site);
    let cause = disruption_cause_in(v, f("cause"), d.cause);
    let effect = match cosx_domain::disruptions::parse_effect(
        d.capacity_reduction_percent,
        d.capacity_reduction_hours_per_month,
    ) {
        Ok(effect) => Some(effect),
        Err((field, why)) => {
            v.add(f(field), why);
            None
        }
    };
    if d.capabilities.len() > MAX_CAPABILITIES {
        v.add(f("capabilities"), format!("at most {MAX_CAPABILITIES}, not {}", d.capabilities.len()));
    }
    let capabilities: Vec<AffectedCapability> = d
        .capabilities
        .iter()
        .take(MAX_CAPABILITIES)
        .enumerate()
        .filter_map(|(i, c)| {
            let g = |field: &str| format!("{prefix}.capabilities[{i}].{field}");
            let label = required_text(v, g("tms_or_family"), &c.tms_or_family);
            let level = if c.maintenance_level == 0 {
                Some(None)
            } else {
                level_in(v, g("maintenance_level"), c.maintenance_level).map(Some)
            };
            Some(AffectedCapability { tms_or_family: label?, maintenance_level: level? })
        })
        .collect();
    let start = date(v, f("start_date"), &d.start_date);
    let end = date(v, f("expected_end_date"), &d.expected_end_date);
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            v.add(f("expected_end_date"), format!("{e} is before start_date {s}"));
        } else if (e - s).num_days() > MAX_DAYS {
            v.add(f("expected_end_date"), format!("at most {MAX_DAYS} days after start_date"));
        }
    }
    let text = disruption_text_in(v, &f("text"), &d.text);
    Some(DisruptionDraft {
        provider: provider.clone(),
        site: site?,
        cause: cause?,
        capacity_reduction_percent: effect?.0,
        capacity_reduction_hours_per_month: effect?.1,
        capabilities,
        start: start?,
        expected_end: end?,
        text: text?,
    })
}

/// A disruption's resource name.
pub fn disruption_name(d: &Disruption) -> String {
    format!("disruptions/{}", d.id)
}

/// A disruption as a response (or the feed) gave it, back in the domain's
/// terms: how a party node holds the notices its replica knows, to apply
/// the same rules to them (`cosx_domain::disruptions`). `None`, with the
/// violations, when a part is unreadable.
pub fn disruption_in(v: &mut Violations, d: &pb::Disruption) -> Option<Disruption> {
    let id = resource_id(v, "name", &d.name, "disruptions");
    let provider = party_id(v, "provider".into(), &d.provider);
    let state = disruption_state_in(v, "state".into(), d.state);
    let affected: Vec<Option<PartyId>> =
        d.affected_parties.iter().enumerate().map(|(i, p)| party_id(v, format!("affected_parties[{i}]"), p)).collect();
    let provider = provider?;
    let draft = disruption_draft_in(v, "", &provider, &Some(d.clone()));
    Some(Disruption {
        id: id?,
        draft: draft?,
        state: state?,
        resolution: (!d.resolution.is_empty()).then(|| d.resolution.clone()),
        affected_parties: affected.into_iter().collect::<Option<Vec<_>>>()?,
        version: d.version,
        create_time: time_in(&d.create_time),
        update_time: time_in(&d.update_time),
    })
}

/// A disruption for a response.
pub fn disruption_out(d: &Disruption) -> pb::Disruption {
    pb::Disruption {
        name: disruption_name(d),
        provider: d.draft.provider.to_string(),
        site: d.draft.site.clone(),
        cause: disruption_cause_out(d.draft.cause),
        capacity_reduction_percent: u32::from(d.draft.capacity_reduction_percent),
        capacity_reduction_hours_per_month: d.draft.capacity_reduction_hours_per_month.unwrap_or(0),
        capabilities: d
            .draft
            .capabilities
            .iter()
            .map(|c| pb::AffectedCapability {
                tms_or_family: c.tms_or_family.clone(),
                maintenance_level: c.maintenance_level.map_or(0, level_out),
            })
            .collect(),
        start_date: d.draft.start.to_string(),
        expected_end_date: d.draft.expected_end.to_string(),
        text: d.draft.text.clone(),
        state: disruption_state_out(d.state),
        resolution: d.resolution.clone().unwrap_or_default(),
        affected_parties: d.affected_parties.iter().map(ToString::to_string).collect(),
        version: d.version,
        create_time: timestamp(d.create_time),
        update_time: timestamp(d.update_time),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn notice() -> pb::Disruption {
        pb::Disruption {
            site: "Komaki South".into(),
            cause: pb::DisruptionCause::NaturalDisaster as i32,
            capacity_reduction_percent: 60,
            capabilities: vec![pb::AffectedCapability { tms_or_family: "F-16C".into(), maintenance_level: 0 }],
            start_date: "2027-03-01".into(),
            expected_end_date: "2027-03-31".into(),
            text: "Typhoon".into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_bad_field_of_a_notice_is_named_at_once() {
        let mhi = PartyId::parse("JPN-MHI-KOMAKI").unwrap();
        let mut d = notice();
        d.site = String::new();
        d.cause = 0;
        d.capacity_reduction_percent = 101;
        d.expected_end_date = "2027-02-28".into();
        d.text = " ".into();
        d.capabilities[0].maintenance_level = 99;
        let mut v = Violations::new();
        assert_eq!(disruption_draft_in(&mut v, "disruption", &mhi, &Some(d)), None);
        let fields: Vec<String> = v.0.iter().map(|f| f.field.clone()).collect();
        for f in [
            "disruption.site",
            "disruption.cause",
            "disruption.capacity_reduction_percent",
            "disruption.expected_end_date",
            "disruption.text",
            "disruption.capabilities[0].maintenance_level",
        ] {
            assert!(fields.iter().any(|g| g == f), "{f} missing from {fields:?}");
        }
        let mut v = Violations::new();
        let good = disruption_draft_in(&mut v, "disruption", &mhi, &Some(notice())).unwrap();
        assert!(v.is_empty());
        assert_eq!(good.capacity_reduction_percent, 60);
        assert_eq!(good.capabilities[0].maintenance_level, None);
        let mut v = Violations::new();
        disruption_text_in(&mut v, "resolution", &"x".repeat(cosx_domain::disruptions::MAX_TEXT + 1));
        assert_eq!(v.0.len(), 1);
    }
}
