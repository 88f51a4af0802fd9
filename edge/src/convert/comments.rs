//! Comments and requests for update in and out: record and comment
//! resource names (`repairOrders/{id}/comments/{comment}`), a comment's
//! content, what a request for update asks for, and both for responses.
//!
//! Pure conversion: never authorizes, never stores, never decides who may
//! see a comment (that is the commented record's read path) or who may
//! change it (`cosx_domain::comments`, `cosx_domain::update_requests`).

#[allow(unused_imports)]
use super::*;
use cosx_domain::comments::*;
use cosx_domain::update_requests::*;

enum_map!(comment_type_in, comment_type_out, pb::CommentType, CommentType, "CommentType", {
    Information => Information, Warning => Warning, ActionRequired => ActionRequired,
});
enum_map!(comment_state_in, comment_state_out, pb::CommentState, CommentState, "CommentState", {
    Active => Active, Withdrawn => Withdrawn,
});
enum_map!(update_request_state_in, update_request_state_out, pb::UpdateRequestState, UpdateRequestState,
    "UpdateRequestState", {
    Open => Open, Answered => Answered, Satisfied => Satisfied, Withdrawn => Withdrawn,
});

fn expected_record(v: &mut Violations, field: &str, name: &str) {
    v.add(
        field,
        format!(
            "{name:?}: expected repairOrders/ID, capacityOffers/ID, availabilityReports/ID or \
             demandCells/REGION.LEVEL.YYYY-MM.LABEL"
        ),
    );
}

/// The record a resource name `{collection}/{id}` names, for the
/// collections that take comments and requests for update.
pub fn record_ref_in(v: &mut Violations, field: &str, name: &str) -> Option<RecordRef> {
    let Some((collection, id)) = name.split_once('/') else {
        expected_record(v, field, name);
        return None;
    };
    if collection == "demandCells" {
        // A cell's id is its key (`DemandCell::from_id` says why one is wrong).
        return v.check(field, DemandCell::from_id(id)).map(|c| RecordRef::DemandCells(c.id()));
    }
    let mut inner = Violations::new();
    let id = resource_id(&mut inner, field, id, collection);
    match id.and_then(|id| RecordRef::new(collection, id)) {
        Some(r) if inner.is_empty() => Some(r),
        _ => {
            expected_record(v, field, name);
            None
        }
    }
}

/// The record and the comment id in a comment's resource name
/// `{collection}/{id}/comments/{comment}`.
pub fn comment_name_in(v: &mut Violations, field: &str, name: &str) -> Option<(RecordRef, String)> {
    let parsed = name.split_once("/comments/").and_then(|(record, comment)| {
        let mut inner = Violations::new();
        let record = record_ref_in(&mut inner, field, record)?;
        let ok = !comment.is_empty()
            && comment.len() <= 64
            && comment.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (ok && inner.is_empty()).then(|| (record.clone(), comment_id(&record, comment)))
    });
    if parsed.is_none() {
        v.add(
            field,
            format!(
                "{name:?}: expected repairOrders/ID/comments/COMMENT (or capacityOffers/..., availabilityReports/...)"
            ),
        );
    }
    parsed
}

/// A demand cell by its key fields, each refused by its own name.
pub fn demand_cell_in(v: &mut Violations, prefix: &str, c: &pb::DemandCellRef) -> Option<DemandCell> {
    let f = |field: &str| at(prefix, field);
    let region = region_in(v, f("region"), c.region);
    let label = v.check(&f("tms"), DemandCell::parse_label(&c.tms));
    let level = level_in(v, f("level"), c.level);
    let month = v.check(&f("month"), DemandCell::parse_month(&c.month));
    Some(DemandCell { region: region?, tms_or_family: label?, level: level?, month: month? })
}

/// What a listing of comments covers: as [`comment_parent_in`], or, with
/// `demand_cell` naming its level unspecified and its month empty, every
/// level and month of its region and TMS or component family.
pub fn comment_listing_in(
    v: &mut Violations,
    parent: &str,
    demand_cell: &Option<pb::DemandCellRef>,
) -> Option<Commented> {
    match demand_cell {
        Some(c) if parent.is_empty() && c.level == 0 && c.month.is_empty() => {
            let region = region_in(v, at("demand_cell", "region"), c.region);
            let label = v.check(&at("demand_cell", "tms"), DemandCell::parse_label(&c.tms));
            Some(Commented::CellSeries { region: region?, tms_or_family: label? })
        }
        _ => comment_parent_in(v, parent, demand_cell).map(Commented::Record),
    }
}

/// What a comment is on: `parent` (a resource name) or `demand_cell` (a
/// cell by its key fields), exactly one.
pub fn comment_parent_in(
    v: &mut Violations,
    parent: &str,
    demand_cell: &Option<pb::DemandCellRef>,
) -> Option<RecordRef> {
    match (parent.is_empty(), demand_cell) {
        (_, None) => record_ref_in(v, "parent", parent),
        (true, Some(c)) => demand_cell_in(v, "demand_cell", c).map(|c| RecordRef::DemandCells(c.id())),
        (false, Some(_)) => {
            v.add("demand_cell", "name the record in parent or the demand cell here, not both");
            None
        }
    }
}

fn demand_cell_out(c: &DemandCell) -> pb::DemandCellRef {
    pb::DemandCellRef {
        region: region_out(c.region),
        tms: c.tms_or_family.clone(),
        level: level_out(c.level),
        month: c.month.format("%Y-%m").to_string(),
    }
}

/// Parses what an author writes: a type, up to [`MAX_REFERENCE_DATES`]
/// dates (sorted, none repeated) and 1 to [`MAX_COMMENT_TEXT`] characters.
pub fn comment_content_in(v: &mut Violations, prefix: &str, c: &Option<pb::CommentContent>) -> Option<CommentBody> {
    let Some(c) = c else {
        v.add(prefix, "is required");
        return None;
    };
    let f = |field: &str| at(prefix, field);
    let comment_type = comment_type_in(v, f("comment_type"), c.comment_type);
    let dates: Vec<Option<NaiveDate>> = c
        .reference_dates
        .iter()
        .take(MAX_REFERENCE_DATES + 1)
        .enumerate()
        .map(|(i, d)| date(v, format!("{}[{i}]", f("reference_dates")), d))
        .collect();
    let dates = if c.reference_dates.len() > MAX_REFERENCE_DATES {
        v.add(f("reference_dates"), format!("at most {MAX_REFERENCE_DATES}, not {}", c.reference_dates.len()));
        None
    } else {
        dates.into_iter().collect::<Option<Vec<_>>>().and_then(|d| v.check(&f("reference_dates"), reference_dates(d)))
    };
    let text = v.check(&f("text"), cosx_domain::comments::parse_text(&c.text));
    Some(CommentBody { comment_type: comment_type?, reference_dates: dates?, text: text? })
}

fn comment_content_out(b: &CommentBody) -> pb::CommentContent {
    pb::CommentContent {
        comment_type: comment_type_out(b.comment_type),
        reference_dates: b.reference_dates.iter().map(ToString::to_string).collect(),
        text: b.text.clone(),
    }
}

/// A comment for a response.
pub fn comment_out(c: &Comment) -> pb::Comment {
    pb::Comment {
        name: c.id.clone(),
        parent: c.record.name(),
        author: c.author.to_string(),
        content: Some(comment_content_out(&c.body)),
        state: comment_state_out(c.state),
        version: c.version,
        earlier_versions: c
            .earlier
            .iter()
            .map(|e| pb::CommentVersion {
                version: e.version,
                content: Some(comment_content_out(&e.body)),
                time: timestamp(e.time),
            })
            .collect(),
        create_time: timestamp(c.create_time),
        update_time: timestamp(c.update_time),
        demand_cell: match &c.record {
            RecordRef::DemandCells(id) => DemandCell::from_id(id).ok().as_ref().map(demand_cell_out),
            _ => None,
        },
    }
}

/// A comment as a response (or the feed) gave it, back in the domain's
/// terms: how a party node holds the comments its replica knows, to apply
/// the same rules to them (`cosx_domain::comments`). `None`, with the
/// violations, when a part is unreadable.
pub fn comment_in(v: &mut Violations, c: &pb::Comment) -> Option<Comment> {
    let name = comment_name_in(v, "name", &c.name);
    let author = party_id(v, "author".into(), &c.author);
    let body = comment_content_in(v, "content", &c.content);
    let state = comment_state_in(v, "state".into(), c.state);
    let earlier: Vec<Option<CommentVersion>> = c
        .earlier_versions
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let body = comment_content_in(v, &format!("earlier_versions[{i}].content"), &e.content)?;
            Some(CommentVersion { version: e.version, body, time: time_in(&e.time) })
        })
        .collect();
    let (record, id) = name?;
    Some(Comment {
        id,
        record,
        author: author?,
        body: body?,
        state: state?,
        version: c.version,
        earlier: earlier.into_iter().collect::<Option<Vec<_>>>()?,
        create_time: time_in(&c.create_time),
        update_time: time_in(&c.update_time),
    })
}

/// The first day of the month `YYYY-MM`.
fn month_in(v: &mut Violations, field: String, s: &str) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok().filter(|_| s.len() == 7);
    if parsed.is_none() {
        v.add(field, format!("{s:?}: expected a month YYYY-MM"));
    }
    parsed
}

/// What a request for update asks for: a record (`record`) or a party's
/// missing report (`missing_report`), exactly one; and its optional text.
pub fn update_ask_in(
    v: &mut Violations,
    record: &str,
    missing: &Option<pb::MissingReport>,
    text: &str,
) -> Option<(UpdateAsk, Option<String>)> {
    let text =
        if text.is_empty() { Some(None) } else { v.check("text", cosx_domain::comments::parse_text(text)).map(Some) };
    let ask = match (record.is_empty(), missing) {
        (false, None) => match record_ref_in(v, "record", record) {
            Some(RecordRef::DemandCells(_)) => {
                v.add("record", "a demand cell has no owner to ask for a newer version; comment on it instead");
                None
            }
            r => r.map(UpdateAsk::Record),
        },
        (true, Some(m)) => {
            let party = party_id(v, "missing_report.party".into(), &m.party);
            let month = month_in(v, "missing_report.month".into(), &m.month);
            let tms: Vec<Option<Tms>> =
                m.tms.iter().enumerate().map(|(i, t)| tms(v, format!("missing_report.tms[{i}]"), t)).collect();
            if m.tms.len() > cosx_domain::limits::MAX_LIST {
                v.add("missing_report.tms", format!("at most {}, not {}", cosx_domain::limits::MAX_LIST, m.tms.len()));
            }
            let tms = tms.into_iter().collect::<Option<Vec<_>>>();
            match (party, month, tms) {
                (Some(party), Some(month), Some(mut tms)) => {
                    tms.sort();
                    tms.dedup();
                    Some(UpdateAsk::MissingReport { party, month, tms })
                }
                _ => None,
            }
        }
        (false, Some(_)) => {
            v.add("missing_report", "ask for a record or for a missing report, not both");
            None
        }
        (true, None) => {
            v.add("record", "is required: the record to update, or missing_report");
            None
        }
    };
    Some((ask?, text?))
}

/// A request for update as a response (or the feed) gave it, back in the
/// domain's terms: how a party node holds the requests its replica knows,
/// to apply the same rules to them (`cosx_domain::update_requests`). `None`,
/// with the violations, when a part is unreadable.
pub fn update_request_in(v: &mut Violations, r: &pb::UpdateRequest) -> Option<UpdateRequest> {
    let id = resource_id(v, "name", &r.name, "updateRequests");
    let requester = party_id(v, "requester".into(), &r.requester);
    let addressee = party_id(v, "addressee".into(), &r.addressee);
    let state = update_request_state_in(v, "state".into(), r.state);
    let subject = match update_ask_in(v, &r.record, &r.missing_report, "")? {
        (UpdateAsk::Record(record), _) => UpdateSubject::Record { record, version: r.record_version },
        (UpdateAsk::MissingReport { month, tms, .. }, _) => UpdateSubject::MissingReport { month, tms },
    };
    Some(UpdateRequest {
        id: id?,
        requester: requester?,
        addressee: addressee?,
        subject,
        text: (!r.text.is_empty()).then(|| r.text.clone()),
        state: state?,
        answer: (!r.answer.is_empty()).then(|| r.answer.clone()),
        version: r.version,
        create_time: time_in(&r.create_time),
        update_time: time_in(&r.update_time),
    })
}

/// A request for update for a response.
pub fn update_request_out(r: &UpdateRequest) -> pb::UpdateRequest {
    let (record, record_version, missing_report) = match &r.subject {
        UpdateSubject::Record { record, version } => (record.name(), *version, None),
        UpdateSubject::MissingReport { month, tms } => (
            String::new(),
            0,
            Some(pb::MissingReport {
                party: r.addressee.to_string(),
                month: month.format("%Y-%m").to_string(),
                tms: tms.iter().map(ToString::to_string).collect(),
            }),
        ),
    };
    pb::UpdateRequest {
        name: format!("updateRequests/{}", r.id),
        requester: r.requester.to_string(),
        addressee: r.addressee.to_string(),
        record,
        record_version,
        missing_report,
        text: r.text.clone().unwrap_or_default(),
        state: update_request_state_out(r.state),
        answer: r.answer.clone().unwrap_or_default(),
        version: r.version,
        create_time: timestamp(r.create_time),
        update_time: timestamp(r.update_time),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn content() -> pb::CommentContent {
        pb::CommentContent {
            comment_type: pb::CommentType::Warning as i32,
            reference_dates: vec!["2027-03-01".into(), "2027-02-01".into()],
            text: "Seal kit on back order.".into(),
        }
    }

    #[test]
    fn every_bad_part_of_a_comment_is_named_at_once() {
        let mut v = Violations::new();
        let good = comment_content_in(&mut v, "content", &Some(content())).unwrap();
        assert!(v.is_empty());
        assert_eq!(good.reference_dates[0].to_string(), "2027-02-01");
        let mut bad = content();
        bad.comment_type = 9;
        bad.reference_dates = vec!["soon".into()];
        bad.text = "x".repeat(MAX_COMMENT_TEXT + 1);
        let mut v = Violations::new();
        assert_eq!(comment_content_in(&mut v, "content", &Some(bad)), None);
        let fields: Vec<String> = v.0.iter().map(|f| f.field.clone()).collect();
        assert_eq!(fields, vec!["content.comment_type", "content.reference_dates[0]", "content.text"]);
        let mut v = Violations::new();
        assert_eq!(
            comment_content_in(&mut v, "content", &Some(pb::CommentContent { text: String::new(), ..content() })),
            None
        );
        assert_eq!(v.0[0].field, "content.text");
    }

    #[test]
    fn names_hold_a_commentable_record_and_a_comment() {
        let mut v = Violations::new();
        let (record, id) = comment_name_in(&mut v, "name", "capacityOffers/JPN-MHI-KOMAKI.f-1/comments/0a1b").unwrap();
        assert_eq!(record, RecordRef::CapacityOffers("JPN-MHI-KOMAKI.f-1".into()));
        assert_eq!(id, "capacityOffers/JPN-MHI-KOMAKI.f-1/comments/0a1b");
        for bad in [
            "quotes/x/comments/a",
            "repairOrders/x/comments/",
            "repairOrders/x/comments/A B",
            "repairOrders/x",
            "repairOrders/a b/comments/c",
            "parties/x/comments/c",
        ] {
            let mut v = Violations::new();
            assert_eq!(comment_name_in(&mut v, "name", bad), None, "{bad}");
            assert_eq!(v.0[0].field, "name");
        }
        assert!(record_ref_in(&mut Violations::new(), "parent", "availabilityReports/r-1").is_some());
        assert!(record_ref_in(&mut Violations::new(), "parent", "updateRequests/r-1").is_none());
    }

    #[test]
    fn a_demand_cell_is_named_or_given_by_its_key_fields_each_refused_by_name() {
        let key = pb::DemandCellRef {
            region: pb::Region::Indopacom as i32,
            tms: "F-35A".into(),
            level: pb::MaintenanceLevel::Depot as i32,
            month: "2027-03".into(),
        };
        let mut v = Violations::new();
        let by_key = comment_parent_in(&mut v, "", &Some(key.clone())).unwrap();
        let by_name = comment_parent_in(&mut v, "demandCells/INDOPACOM.DEPOT.2027-03.F-35A", &None).unwrap();
        assert!(v.is_empty(), "{v}");
        assert_eq!((by_key.clone(), by_key.name()), (by_name, "demandCells/INDOPACOM.DEPOT.2027-03.F-35A".into()));
        let bad = pb::DemandCellRef { region: 99, tms: String::new(), level: 0, month: "2027-3".into() };
        let mut v = Violations::new();
        assert_eq!(comment_parent_in(&mut v, "", &Some(bad)), None);
        let fields: Vec<String> = v.0.iter().map(|f| f.field.clone()).collect();
        assert_eq!(fields, ["demand_cell.region", "demand_cell.tms", "demand_cell.level", "demand_cell.month"]);
        let mut v = Violations::new();
        assert_eq!(comment_parent_in(&mut v, "repairOrders/o-1", &Some(key)), None);
        assert_eq!(v.0[0].field, "demand_cell");
        let mut v = Violations::new();
        assert_eq!(record_ref_in(&mut v, "parent", "demandCells/MARS.DEPOT.2027-03.F-35A"), None);
        assert_eq!(v.0[0].field, "parent");
        let mut v = Violations::new();
        let (record, _) = comment_name_in(&mut v, "name", "demandCells/EUCOM.DEPOT.2027-01.F-16C/comments/0a").unwrap();
        assert_eq!(record, RecordRef::DemandCells("EUCOM.DEPOT.2027-01.F-16C".into()));
        let mut v = Violations::new();
        assert!(update_ask_in(&mut v, "demandCells/EUCOM.DEPOT.2027-01.F-16C", &None, "").is_none());
        assert_eq!(v.0[0].field, "record");
    }

    #[test]
    fn a_request_for_update_names_a_record_or_a_missing_report_not_both() {
        let mut v = Violations::new();
        let (ask, text) = update_ask_in(&mut v, "repairOrders/o-1", &None, "please").unwrap();
        assert_eq!(ask, UpdateAsk::Record(RecordRef::RepairOrders("o-1".into())));
        assert_eq!(text.as_deref(), Some("please"));
        let missing = pb::MissingReport { party: "US-USAF-OOALC".into(), month: "2027-01".into(), tms: vec![] };
        let mut v = Violations::new();
        let (ask, _) = update_ask_in(&mut v, "", &Some(missing.clone()), "").unwrap();
        assert!(matches!(ask, UpdateAsk::MissingReport { month, .. } if month.to_string() == "2027-01-01"));
        let mut v = Violations::new();
        assert!(update_ask_in(&mut v, "repairOrders/o-1", &Some(missing), "").is_none());
        assert_eq!(v.0[0].field, "missing_report");
        let mut v = Violations::new();
        let bad = pb::MissingReport { party: "x y".into(), month: "2027-1".into(), tms: vec![String::new()] };
        assert!(update_ask_in(&mut v, "", &Some(bad), &"x".repeat(5001)).is_none());
        let fields: Vec<String> = v.0.iter().map(|f| f.field.clone()).collect();
        assert_eq!(fields, vec!["text", "missing_report.party", "missing_report.month", "missing_report.tms[0]"]);
    }
}
