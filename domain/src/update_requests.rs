//! Requests for update (Catena-X DCM "request for update"): a party asks a
//! record's owner for a newer version of a record it may see, or a
//! coordinator asks a party for its missing availability report of a month;
//! the coordinator raises the latter itself once a month's report is
//! [`missing_reports`] a configured number of days after the month ends.
//! It also asks a provider for a newer version of each capacity offer
//! whose validity has lapsed while orders still depend on it
//! ([`lapsed_offers`]), once per offer version.
//! The addressee answers; the requester withdraws; a request closes by
//! itself (SATISFIED) once the newer version or the report exists.
//!
//! A request is visible to its requester, its addressee and coordinators
//! ([`UpdateRequest::visible_to`] is `visibility::may_see` with nothing
//! released). Pure: no I/O, no clock read (`today` is always given).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::comments::RecordRef;
use crate::disruptions::{fits_capabilities, holds_unstarted};
use crate::party::Party;
use crate::records::{CapacityOffer, OfferState, RepairOrder};
use crate::vocab::{PartyId, Releasability, Tms};

/// Default days after a month ends before its missing report is asked for.
pub const DEFAULT_MISSING_REPORT_AFTER_DAYS: u32 = 10;
/// How many months back the coordinator looks for missing reports.
pub const MISSING_REPORT_LOOKBACK_MONTHS: u32 = 12;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UpdateSubject {
    /// A version of `record` newer than `version`.
    Record {
        /// The record.
        record: RecordRef,
        /// Its version when asked.
        version: i64,
    },
    /// The addressee's availability report(s) for the month starting `month`.
    MissingReport {
        /// First day of the month.
        month: NaiveDate,
        /// The TMS whose report is missing; empty: any report of the month.
        tms: Vec<Tms>,
    },
}

/// What a caller asks for, before the coordinator has looked the record up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateAsk {
    /// A newer version of a record (its owner is asked).
    Record(RecordRef),
    /// `party`'s report(s) for the month starting `month`.
    MissingReport {
        /// The party asked.
        party: PartyId,
        /// First day of the month.
        month: NaiveDate,
        /// The TMS missing; none: any report.
        tms: Vec<Tms>,
    },
}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpdateRequestState {
    /// Waiting for the addressee.
    Open,
    /// The addressee answered (with text).
    Answered,
    /// The newer version or the missing report arrived.
    Satisfied,
    /// The requester withdrew it.
    Withdrawn,
}

impl UpdateRequestState {
    /// The state's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateRequestState::Open => "OPEN",
            UpdateRequestState::Answered => "ANSWERED",
            UpdateRequestState::Satisfied => "SATISFIED",
            UpdateRequestState::Withdrawn => "WITHDRAWN",
        }
    }
}

/// A request for update as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRequest {
    /// Id; the resource name is `updateRequests/{id}`.
    pub id: String,
    /// Who asks (a party, or the coordinator's system actor).
    pub requester: PartyId,
    /// Who is asked: the record's owner, or the party whose report is missing.
    pub addressee: PartyId,
    /// What is asked for.
    pub subject: UpdateSubject,
    /// Why, if the requester said.
    pub text: Option<String>,
    /// State.
    pub state: UpdateRequestState,
    /// The addressee's answer, or what satisfied it.
    pub answer: Option<String>,
    /// Version, +1 on every change.
    pub version: i64,
    /// Asked.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

/// The actor the coordinator acts as by itself: the requester of the
/// requests its sweep raises (any coordinator may withdraw those).
pub const SYSTEM_ACTOR: &str = "COSX-SIGNALS";

impl UpdateRequest {
    /// A new, open request by `requester` asking `addressee` for `subject`.
    pub fn asked(
        id: String,
        requester: PartyId,
        addressee: PartyId,
        subject: UpdateSubject,
        text: Option<String>,
        time: DateTime<Utc>,
    ) -> UpdateRequest {
        UpdateRequest {
            id,
            requester,
            addressee,
            subject,
            text,
            state: UpdateRequestState::Open,
            answer: None,
            version: 1,
            create_time: time,
            update_time: time,
        }
    }
}

/// The id of the request the coordinator raises for `reporter`'s missing
/// report of the month starting `month`: one per party and month, ever.
pub fn missing_report_id(reporter: &PartyId, month: NaiveDate) -> String {
    format!("missing-report.{reporter}.{}", month.format("%Y-%m"))
}

impl UpdateRequest {
    /// Whether `viewer` may see it: requester, addressee and coordinators —
    /// the one visibility rule with nothing released beyond them.
    pub fn visible_to(&self, viewer: &Party) -> bool {
        crate::visibility::may_see(viewer, &self.requester, Some(&self.addressee), &Releasability::default())
    }

    /// The request after it closed as `state` with `answer` at `time`.
    pub fn closed(&self, state: UpdateRequestState, answer: Option<String>, time: DateTime<Utc>) -> UpdateRequest {
        UpdateRequest { state, answer, version: self.version + 1, update_time: time, ..self.clone() }
    }
}

/// Why a request step is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateRequestError {
    /// A party does not ask itself.
    OwnRecord,
    /// Only coordinators ask a party for a missing report.
    NotACoordinator,
    /// Coordinators file no availability reports.
    AddresseeIsCoordinator(PartyId),
    /// The month has not ended yet.
    MonthNotOver(NaiveDate),
    /// The report is there already.
    AlreadyReported(NaiveDate),
    /// Only the addressee answers.
    NotTheAddressee(PartyId),
    /// Only the requester (or, for the coordinator's own, a coordinator) withdraws.
    NotTheRequester(PartyId),
    /// It is closed already.
    NotOpen(UpdateRequestState),
}

impl fmt::Display for UpdateRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateRequestError::OwnRecord => f.write_str("the record is the caller's own; update it instead"),
            UpdateRequestError::NotACoordinator => {
                f.write_str("only a coordinating party asks a party for a missing availability report")
            }
            UpdateRequestError::AddresseeIsCoordinator(p) => {
                write!(f, "{p} is a coordinating party, which files no availability reports")
            }
            UpdateRequestError::MonthNotOver(m) => write!(f, "the month {} has not ended yet", m.format("%Y-%m")),
            UpdateRequestError::AlreadyReported(m) => {
                write!(f, "the party has already reported for {}", m.format("%Y-%m"))
            }
            UpdateRequestError::NotTheAddressee(p) => write!(f, "only the party asked ({p}) may answer it"),
            UpdateRequestError::NotTheRequester(p) => write!(f, "only the party that asked ({p}) may withdraw it"),
            UpdateRequestError::NotOpen(s) => write!(f, "the request is {}; it can no longer change", s.as_str()),
        }
    }
}

/// Whether `caller` may ask `owner` for a newer version of a record it
/// may see (that it may is the record's read path's to decide).
pub fn check_ask_record(caller: &PartyId, owner: &PartyId) -> Result<(), UpdateRequestError> {
    if caller == owner { Err(UpdateRequestError::OwnRecord) } else { Ok(()) }
}

/// Whether a caller may ask `addressee` for its report of `month` on
/// `today`, given whether one already covers it.
pub fn check_ask_missing_report(
    caller_is_coordinator: bool,
    addressee: &Party,
    month: NaiveDate,
    already_reported: bool,
    today: NaiveDate,
) -> Result<(), UpdateRequestError> {
    if !caller_is_coordinator {
        return Err(UpdateRequestError::NotACoordinator);
    }
    if addressee.kind == crate::vocab::PartyKind::Coordinator {
        return Err(UpdateRequestError::AddresseeIsCoordinator(addressee.id.clone()));
    }
    if today <= month_end(month) {
        return Err(UpdateRequestError::MonthNotOver(month));
    }
    if already_reported {
        return Err(UpdateRequestError::AlreadyReported(month));
    }
    Ok(())
}

/// Whether `caller` may answer `request`.
pub fn check_answer(request: &UpdateRequest, caller: &PartyId) -> Result<(), UpdateRequestError> {
    if caller != &request.addressee {
        return Err(UpdateRequestError::NotTheAddressee(request.addressee.clone()));
    }
    check_open(request)
}

/// Whether `caller` may withdraw `request`: its requester, or any
/// coordinator for one `system` (the coordinator itself) raised.
pub fn check_withdraw(
    request: &UpdateRequest,
    caller: &PartyId,
    caller_is_coordinator: bool,
    system: &str,
) -> Result<(), UpdateRequestError> {
    let by_system = request.requester.as_str() == system && caller_is_coordinator;
    if caller != &request.requester && !by_system {
        return Err(UpdateRequestError::NotTheRequester(request.requester.clone()));
    }
    check_open(request)
}

fn check_open(request: &UpdateRequest) -> Result<(), UpdateRequestError> {
    match request.state {
        UpdateRequestState::Open => Ok(()),
        s => Err(UpdateRequestError::NotOpen(s)),
    }
}

/// The first day of the month `day` is in.
pub fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The last day of the month starting `month`.
pub fn month_end(month: NaiveDate) -> NaiveDate {
    let start = month_start(month);
    start.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(start)
}

/// Whether the report of the month starting `month` is overdue on `today`:
/// more than `after_days` days have passed since the month's last day.
pub fn is_overdue(month: NaiveDate, today: NaiveDate, after_days: u32) -> bool {
    (today - month_end(month)).num_days() > i64::from(after_days)
}

/// Whether a timeframe `[start, end]` overlaps the month starting `month`.
pub fn covers(month: NaiveDate, start: NaiveDate, end: NaiveDate) -> bool {
    start <= month_end(month) && end >= month_start(month)
}

/// A report as the missing-report rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSeen {
    /// Its reporter.
    pub reporter: PartyId,
    /// Its TMS.
    pub tms: Tms,
    /// First day of its timeframe.
    pub start: NaiveDate,
    /// Last day of its timeframe.
    pub end: NaiveDate,
}

/// A month whose report a party owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingReport {
    /// The party.
    pub reporter: PartyId,
    /// First day of the month.
    pub month: NaiveDate,
    /// The TMS it reported before and has not reported for this month.
    pub tms: Vec<Tms>,
}

/// Every month a party owes a report for on `today`: for each reporter and
/// each TMS it has reported, every month from its first report of that TMS
/// (at most [`MISSING_REPORT_LOOKBACK_MONTHS`] back) that is overdue
/// ([`is_overdue`]) and that no report of that TMS overlaps. One entry per
/// party and month, its TMS sorted; entries in reporter, then month order.
pub fn missing_reports(reports: &[ReportSeen], today: NaiveDate, after_days: u32) -> Vec<MissingReport> {
    let mut first: BTreeMap<(&PartyId, &Tms), NaiveDate> = BTreeMap::new();
    for r in reports {
        let m = month_start(r.start);
        first.entry((&r.reporter, &r.tms)).and_modify(|f| *f = (*f).min(m)).or_insert(m);
    }
    let earliest =
        month_start(today).checked_sub_months(Months::new(MISSING_REPORT_LOOKBACK_MONTHS)).unwrap_or(NaiveDate::MIN);
    let mut owed: BTreeMap<(&PartyId, NaiveDate), BTreeSet<&Tms>> = BTreeMap::new();
    for ((reporter, tms), first_month) in first {
        let mut month = first_month.max(earliest);
        while is_overdue(month, today, after_days) {
            let reported =
                reports.iter().any(|r| &r.reporter == reporter && &r.tms == tms && covers(month, r.start, r.end));
            if !reported {
                owed.entry((reporter, month)).or_default().insert(tms);
            }
            let Some(next) = month.checked_add_months(Months::new(1)) else { break };
            month = next;
        }
    }
    owed.into_iter()
        .map(|((reporter, month), tms)| MissingReport {
            reporter: reporter.clone(),
            month,
            tms: tms.into_iter().cloned().collect(),
        })
        .collect()
}

/// Whether an open missing-report request is satisfied by `reports` (the
/// addressee's): every TMS it names (or, naming none, any report) has a
/// report overlapping the month.
pub fn report_arrived(month: NaiveDate, tms: &[Tms], reports: &[ReportSeen]) -> bool {
    let covering =
        |t: Option<&Tms>| reports.iter().any(|r| t.is_none_or(|t| &r.tms == t) && covers(month, r.start, r.end));
    if tms.is_empty() { covering(None) } else { tms.iter().all(|t| covering(Some(t))) }
}

/// A capacity offer whose validity has lapsed while orders still depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LapsedOffer {
    /// The offer's id.
    pub offer: String,
    /// Its provider: the party asked.
    pub provider: PartyId,
    /// The version that lapsed.
    pub version: i64,
    /// Its last valid day.
    pub valid_until: NaiveDate,
    /// How many orders depend on it.
    pub dependent_orders: usize,
}

/// The id of the coordinator's own request for a newer version of offer
/// `offer` at `version`: one request per offer version, ever.
pub fn lapsed_offer_id(offer: &str, version: i64) -> String {
    format!("lapsed-offer.{offer}.v{version}")
}

/// Every ACTIVE offer whose validity ended before `today` while orders
/// still depend on it, in offer order. An order depends on an offer when
/// the offer's provider holds it unstarted (PROPOSED or ACCEPTED, not yet
/// inducted: `disruptions::holds_unstarted`) and one of the offer's
/// capabilities covers it (`disruptions::fits_capabilities`). Orders do not
/// name the offer they were placed against, so this is the narrowest
/// reading the records allow: work the provider has yet to start, of a
/// kind only this offer (or another of the provider's offering the same
/// capability) says it has capacity for. Inducted work no longer waits on
/// offered capacity, and open orders are not the provider's yet.
pub fn lapsed_offers(offers: &[CapacityOffer], orders: &[RepairOrder], today: NaiveDate) -> Vec<LapsedOffer> {
    offers
        .iter()
        .filter(|o| o.state == OfferState::Active && o.draft.valid_until < today)
        .filter_map(|o| {
            let d = &o.draft;
            let dependent_orders = orders
                .iter()
                .filter(|r| holds_unstarted(r, &d.provider) && fits_capabilities(r, &d.capabilities))
                .count();
            (dependent_orders > 0).then(|| LapsedOffer {
                offer: o.id.clone(),
                provider: d.provider.clone(),
                version: o.version,
                valid_until: d.valid_until,
                dependent_orders,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::vocab::{Nation, PartyKind};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn id(s: &str) -> PartyId {
        PartyId::parse(s).unwrap()
    }

    fn report(reporter: &str, tms: &str, start: &str, end: &str) -> ReportSeen {
        ReportSeen { reporter: id(reporter), tms: Tms::parse(tms).unwrap(), start: d(start), end: d(end) }
    }

    fn party(s: &str, kind: PartyKind) -> Party {
        Party {
            id: id(s),
            kind,
            nation: Nation::parse("USA").unwrap(),
            department: None,
            display_name: s.into(),
            suspended: false,
        }
    }

    #[test]
    fn a_month_ends_on_its_last_day_whatever_its_length() {
        assert_eq!(month_end(d("2027-01-01")), d("2027-01-31"));
        assert_eq!(month_end(d("2028-02-01")), d("2028-02-29"), "leap year");
        assert_eq!(month_end(d("2027-02-14")), d("2027-02-28"));
        assert_eq!(month_end(d("2026-12-01")), d("2026-12-31"));
        assert_eq!(month_start(d("2027-04-30")), d("2027-04-01"));
    }

    #[test]
    fn a_report_is_overdue_only_once_the_days_after_its_month_have_passed() {
        let jan = d("2027-01-01");
        assert!(!is_overdue(jan, d("2027-01-31"), 10));
        assert!(!is_overdue(jan, d("2027-02-10"), 10), "ten days after the 31st is the 10th");
        assert!(is_overdue(jan, d("2027-02-11"), 10));
        assert!(is_overdue(jan, d("2027-02-01"), 0));
        assert!(!is_overdue(d("2026-12-01"), d("2027-01-10"), 10), "across the year end");
        assert!(is_overdue(d("2026-12-01"), d("2027-01-11"), 10));
    }

    #[test]
    fn the_months_after_a_partys_first_report_without_a_report_are_missing() {
        let usaf = "US-USAF-OOALC";
        let reports = vec![
            report(usaf, "F-16C", "2026-10-01", "2026-10-31"),
            report(usaf, "F-16C", "2026-12-01", "2026-12-31"),
            report(usaf, "C-130J", "2026-11-01", "2026-11-30"),
            report("JPN-MHI-KOMAKI", "F-35A", "2027-01-01", "2027-01-31"),
        ];
        let missing = missing_reports(&reports, d("2027-02-11"), 10);
        let got: Vec<(String, String, Vec<String>)> = missing
            .iter()
            .map(|m| (m.reporter.to_string(), m.month.to_string(), m.tms.iter().map(ToString::to_string).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                (usaf.into(), "2026-11-01".into(), vec!["F-16C".into()]),
                (usaf.into(), "2026-12-01".into(), vec!["C-130J".into()]),
                (usaf.into(), "2027-01-01".into(), vec!["C-130J".into(), "F-16C".into()]),
            ]
        );
        // A day earlier, January is not overdue yet.
        assert!(missing_reports(&reports, d("2027-02-10"), 10).iter().all(|m| m.month < d("2027-01-01")));
        // A longer grace moves every month back.
        assert_eq!(missing_reports(&reports, d("2027-02-11"), 45).len(), 1);
    }

    #[test]
    fn a_quarterly_report_covers_each_month_it_overlaps_and_old_gaps_age_out() {
        let reports = vec![report("US-USAF-OOALC", "F-16C", "2025-01-01", "2027-03-31")];
        assert!(missing_reports(&reports, d("2027-04-20"), 10).is_empty());
        let old = vec![report("US-USAF-OOALC", "F-16C", "2020-01-01", "2020-01-31")];
        let missing = missing_reports(&old, d("2027-04-20"), 10);
        assert_eq!(missing.len(), MISSING_REPORT_LOOKBACK_MONTHS as usize);
        assert_eq!(missing[0].month, d("2026-04-01"));
    }

    #[test]
    fn a_missing_report_request_is_satisfied_once_each_tms_it_names_is_reported() {
        let jan = d("2027-01-01");
        let f16 = Tms::parse("F-16C").unwrap();
        let c130 = Tms::parse("C-130J").unwrap();
        let some = vec![report("US-USAF-OOALC", "F-16C", "2027-01-01", "2027-01-31")];
        assert!(report_arrived(jan, std::slice::from_ref(&f16), &some));
        assert!(!report_arrived(jan, &[f16, c130], &some));
        assert!(report_arrived(jan, &[], &some));
        assert!(!report_arrived(d("2027-02-01"), &[], &some));
    }

    #[test]
    fn only_coordinators_ask_for_a_missing_report_of_a_month_that_is_over() {
        let usaf = party("US-USAF-OOALC", PartyKind::Organic);
        let j4 = party("US-INDOPACOM-J4", PartyKind::Coordinator);
        let jan = d("2027-01-01");
        assert_eq!(check_ask_missing_report(true, &usaf, jan, false, d("2027-02-01")), Ok(()));
        assert_eq!(
            check_ask_missing_report(false, &usaf, jan, false, d("2027-02-01")),
            Err(UpdateRequestError::NotACoordinator)
        );
        assert_eq!(
            check_ask_missing_report(true, &usaf, jan, false, d("2027-01-31")),
            Err(UpdateRequestError::MonthNotOver(jan))
        );
        assert_eq!(
            check_ask_missing_report(true, &usaf, jan, true, d("2027-02-01")),
            Err(UpdateRequestError::AlreadyReported(jan))
        );
        assert!(matches!(
            check_ask_missing_report(true, &j4, jan, false, d("2027-02-01")),
            Err(UpdateRequestError::AddresseeIsCoordinator(_))
        ));
        assert_eq!(missing_report_id(&usaf.id, jan), "missing-report.US-USAF-OOALC.2027-01");
    }

    #[test]
    fn the_addressee_answers_and_the_requester_withdraws_an_open_request_only() {
        let now = Utc::now();
        let r = UpdateRequest {
            id: "u1".into(),
            requester: id("JPN-MHI-KOMAKI"),
            addressee: id("US-USAF-OOALC"),
            subject: UpdateSubject::Record { record: RecordRef::RepairOrders("US-USAF-OOALC.o-1".into()), version: 1 },
            text: None,
            state: UpdateRequestState::Open,
            answer: None,
            version: 1,
            create_time: now,
            update_time: now,
        };
        assert_eq!(check_ask_record(&r.requester, &r.addressee), Ok(()));
        assert_eq!(check_ask_record(&r.addressee, &r.addressee), Err(UpdateRequestError::OwnRecord));
        assert_eq!(check_answer(&r, &r.addressee), Ok(()));
        assert!(check_answer(&r, &r.requester).is_err());
        assert_eq!(check_withdraw(&r, &r.requester, false, "COSX-SIGNALS"), Ok(()));
        assert!(check_withdraw(&r, &r.addressee, false, "COSX-SIGNALS").is_err());
        assert!(check_withdraw(&r, &id("US-INDOPACOM-J4"), true, "COSX-SIGNALS").is_err(), "not the system's own");
        let answered = r.closed(UpdateRequestState::Answered, Some("done".into()), now);
        assert_eq!(answered.version, 2);
        assert_eq!(
            check_answer(&answered, &r.addressee),
            Err(UpdateRequestError::NotOpen(UpdateRequestState::Answered))
        );
        let mut system = r.clone();
        system.requester = id("COSX-SIGNALS");
        assert_eq!(check_withdraw(&system, &id("US-INDOPACOM-J4"), true, "COSX-SIGNALS"), Ok(()));
        let kai = party("KOR-KAI-SACHEON", PartyKind::Contractor);
        assert!(!r.visible_to(&kai));
        assert!(r.visible_to(&party("US-USAF-OOALC", PartyKind::Organic)));
        assert!(r.visible_to(&party("US-INDOPACOM-J4", PartyKind::Coordinator)));
    }

    #[test]
    fn an_offer_lapsed_while_its_provider_holds_unstarted_work_it_covers_is_asked_for() {
        use crate::disruptions::tests::{capability, offer, order};
        use crate::lifecycle::RepairOrderState as S;
        use crate::vocab::CapacityUnit;
        let mut lapsed = offer(CapacityUnit::LaborHours, vec![capability("F-16C")], 100.0);
        lapsed.draft.valid_until = d("2027-06-30");
        lapsed.version = 3;
        let mut elsewhere = lapsed.clone();
        elsewhere.id = "JPN-MHI-KOMAKI.f-35".into();
        elsewhere.draft.capabilities = vec![capability("F-35A")];
        let offers = vec![lapsed.clone(), elsewhere];
        let orders = vec![
            order(S::Accepted, Some("JPN-MHI-KOMAKI"), "F-16C"),
            order(S::Proposed, Some("JPN-MHI-KOMAKI"), "F-16C"),
            // Not dependent: begun, someone else's, not yet anyone's, another capability.
            order(S::Inducted, Some("JPN-MHI-KOMAKI"), "F-16C"),
            order(S::Accepted, Some("KOR-KAI-SACHEON"), "F-16C"),
            order(S::Submitted, None, "F-16C"),
        ];
        let found = lapsed_offers(&offers, &orders, d("2027-07-01"));
        assert_eq!(
            found,
            vec![LapsedOffer {
                offer: lapsed.id.clone(),
                provider: id("JPN-MHI-KOMAKI"),
                version: 3,
                valid_until: d("2027-06-30"),
                dependent_orders: 2,
            }],
            "the F-35A offer has no order depending on it"
        );
        assert!(lapsed_offers(&offers, &orders, d("2027-06-30")).is_empty(), "valid through its last day");
        let mut withdrawn = lapsed.clone();
        withdrawn.state = OfferState::Withdrawn;
        assert!(lapsed_offers(&[withdrawn], &orders, d("2027-07-01")).is_empty());
        assert!(lapsed_offers(&offers, &orders[2..], d("2027-07-01")).is_empty());
        assert_eq!(lapsed_offer_id(&lapsed.id, 3), "lapsed-offer.JPN-MHI-KOMAKI.o.v3");
    }
}
