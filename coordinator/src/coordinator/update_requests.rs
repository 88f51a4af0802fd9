//! Requests for update: a party asks a record's owner for a newer version,
//! or a coordinator asks a party for its missing availability report of a
//! month; the addressee answers, the requester withdraws; and the sweep the
//! server runs (`sweep_update_requests`) raises a request for every monthly
//! report `update_requests::missing_reports` finds overdue and for every
//! offer `update_requests::lapsed_offers` finds lapsed with orders still
//! depending on it, and closes as SATISFIED every open request whose newer
//! version or report has arrived.
//!
//! Part of the core. A request is shown with its own rule
//! (`UpdateRequest::visible_to`: requester, addressee, coordinators, the
//! store's `VISIBLE` for its row); the record it asks about is read through
//! the record's own read path, so asking about a record one may not see is
//! NOT_FOUND as reading it would be. Never touches protobuf.

use chrono::NaiveDate;
use cosx_domain::comments::RecordRef;
use cosx_domain::update_requests::{
    self as rules, ReportSeen, UpdateAsk, UpdateRequest, UpdateRequestState, UpdateSubject,
};

use super::*;

fn request_write(r: &UpdateRequest, expected_version: Option<i64>) -> Result<RecordWrite> {
    Ok(RecordWrite {
        kind: RecordKind::UpdateRequest,
        id: r.id.clone(),
        expected_version,
        version: r.version,
        // Requester, addressee, coordinators: nothing released beyond them.
        audience: audience(&r.requester, Some(&r.addressee), &cosx_domain::Releasability::default()),
        state: Some(r.state.as_str().to_owned()),
        tms: None,
        region: None,
        natural_key: None,
        supersedes: None,
        body: to_json(r)?,
    })
}

fn request_change(r: &UpdateRequest, expected: Option<i64>, kind: &'static str) -> Result<Change> {
    let write = request_write(r, expected)?;
    Ok(Change {
        audience: write.audience.clone(),
        records: vec![write],
        transitions: vec![],
        kind,
        subject: format!("updateRequests/{}", r.id),
        content: EventContent::UpdateRequest { request: r.clone() },
        time: r.update_time,
    })
}

fn seen(r: &AvailabilityReport) -> ReportSeen {
    ReportSeen {
        reporter: r.draft.reporter.clone(),
        tms: r.draft.tms.clone(),
        start: r.draft.timeframe_start,
        end: r.draft.timeframe_end,
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Requests for missing reports raised.
    pub raised: usize,
    /// Requests for a newer version of a lapsed offer raised.
    pub lapsed_offers: usize,
    /// Open requests closed as SATISFIED.
    pub satisfied: usize,
}

impl Coordinator {
    /// Asks for an update: of a record the caller may see (its owner is
    /// asked), or (coordinators) of a party's missing report of a month.
    pub async fn request_update(
        &self,
        caller: &Caller,
        ask: UpdateAsk,
        text: Option<String>,
        key: &RequestKey,
    ) -> Result<UpdateRequest> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let today = now().date_naive();
        let (addressee, subject) = match ask {
            UpdateAsk::Record(record) => {
                let (owner, version) = self.owner_and_version(caller, &record).await?;
                rules::check_ask_record(caller.id(), &owner).map_err(|e| update_request_error(&record.name(), e))?;
                (owner, UpdateSubject::Record { record, version })
            }
            UpdateAsk::MissingReport { party, month, tms } => {
                if !caller.is_coordinator() {
                    let e = rules::UpdateRequestError::NotACoordinator;
                    return Err(update_request_error("missing_report", e));
                }
                let Some((addressee, _)) = self.party(&party) else {
                    let mut v = Violations::new();
                    v.add("missing_report.party", format!("{party} is not a registered party"));
                    return Err(v.into());
                };
                let arrived = rules::report_arrived(month, &tms, &self.reports_of(&party).await?);
                rules::check_ask_missing_report(true, &addressee, month, arrived, today)
                    .map_err(|e| update_request_error("missing_report", e))?;
                (party, UpdateSubject::MissingReport { month, tms })
            }
        };
        let id = cosx_domain::records::named_by_request(caller.id(), &key.request_id, new_id);
        let request = UpdateRequest::asked(id, caller.id().clone(), addressee, subject, text, now());
        let change = request_change(&request, None, "UPDATE_REQUESTED")?;
        Ok(self.commit(caller, key, change, &request).await?.unwrap_or(request))
    }

    /// The owner of `record` and its version, read as the caller (NOT_FOUND
    /// exactly as reading the record would be).
    async fn owner_and_version(&self, caller: &Caller, record: &RecordRef) -> Result<(PartyId, i64)> {
        Ok(match record {
            RecordRef::RepairOrders(id) => {
                let o = self.get_order(caller, id).await?;
                (o.draft.originator, o.version)
            }
            RecordRef::CapacityOffers(id) => {
                let o = self.get_offer(caller, id).await?;
                (o.draft.provider, o.version)
            }
            RecordRef::AvailabilityReports(id) => {
                let r = self.get_report(caller, id).await?;
                (r.draft.reporter, r.version)
            }
            RecordRef::DemandCells(_) => {
                let mut v = Violations::new();
                v.add("record", "a demand cell has no owner to ask for a newer version; comment on it instead");
                return Err(v.into());
            }
        })
    }

    /// The current version of `record` as the exchange holds it (a report's
    /// is that of the report now current for its reporter, TMS and timeframe).
    async fn current_version(&self, record: &RecordRef) -> Result<Option<i64>> {
        #[derive(serde::Deserialize)]
        struct Versioned {
            version: i64,
        }
        let read = |kind, id: &str| {
            let id = id.to_owned();
            async move {
                self.store.record(kind, &id).await?.map(|b| from_json::<Versioned>(&b).map(|v| v.version)).transpose()
            }
        };
        match record {
            RecordRef::RepairOrders(id) => read(RecordKind::RepairOrder, id).await,
            RecordRef::CapacityOffers(id) => read(RecordKind::CapacityOffer, id).await,
            RecordRef::AvailabilityReports(id) => {
                let Some(body) = self.store.record(RecordKind::AvailabilityReport, id).await? else { return Ok(None) };
                let report: AvailabilityReport = from_json(&body)?;
                let current: Option<AvailabilityReport> = self.current(&report_key(&report.draft)).await?;
                Ok(Some(current.map_or(report.version, |c| c.version.max(report.version))))
            }
            RecordRef::DemandCells(_) => Ok(None),
        }
    }

    /// Every current report of `party`, as the missing-report rule sees them.
    async fn reports_of(&self, party: &PartyId) -> Result<Vec<ReportSeen>> {
        let filter = RecordFilter { owner: Some(party.to_string()), ..RecordFilter::default() };
        let reports: Vec<AvailabilityReport> =
            self.all_records(RecordKind::AvailabilityReport, &system_viewer(), &filter).await?;
        Ok(reports.iter().map(seen).collect())
    }

    /// One request, if the caller may see it (requester, addressee, coordinators).
    pub async fn get_update_request(&self, caller: &Caller, id: &str) -> Result<UpdateRequest> {
        self.load_visible(caller, RecordKind::UpdateRequest, id, |r: &UpdateRequest| r.visible_to(&caller.party)).await
    }

    /// A page of the requests the caller may see (`owner` filters by
    /// requester, `provider` by addressee).
    pub async fn list_update_requests(
        &self,
        caller: &Caller,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<UpdateRequest>> {
        self.list(RecordKind::UpdateRequest, caller, filter, page_size, page_token).await
    }

    /// Request `id` (and its resource name) as the caller may see it,
    /// refused unless it is still at `version`.
    async fn update_request_at(&self, caller: &Caller, id: &str, version: i64) -> Result<(String, UpdateRequest)> {
        let name = format!("updateRequests/{id}");
        let request = self.get_update_request(caller, id).await?;
        CoreError::check_version(&name, request.version, version)?;
        Ok((name, request))
    }

    /// The addressee answers an open request; it closes as ANSWERED.
    pub async fn answer_update_request(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        answer: String,
        key: &RequestKey,
    ) -> Result<UpdateRequest> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let (name, request) = self.update_request_at(caller, id, version).await?;
        rules::check_answer(&request, caller.id()).map_err(|e| update_request_error(&name, e))?;
        let closed = request.closed(UpdateRequestState::Answered, Some(answer), now());
        let change = request_change(&closed, Some(version), "UPDATE_REQUEST_ANSWERED")?;
        Ok(self.commit(caller, key, change, &closed).await?.unwrap_or(closed))
    }

    /// The requester (any coordinator, for one the coordinator raised) withdraws an open request.
    pub async fn withdraw_update_request(
        &self,
        caller: &Caller,
        id: &str,
        version: i64,
        key: &RequestKey,
    ) -> Result<UpdateRequest> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let (name, request) = self.update_request_at(caller, id, version).await?;
        rules::check_withdraw(&request, caller.id(), caller.is_coordinator(), SYSTEM_ACTOR)
            .map_err(|e| update_request_error(&name, e))?;
        let closed = request.closed(UpdateRequestState::Withdrawn, None, now());
        let change = request_change(&closed, Some(version), "UPDATE_REQUEST_WITHDRAWN")?;
        Ok(self.commit(caller, key, change, &closed).await?.unwrap_or(closed))
    }

    /// One round of the coordinator's own requests for update on `today`:
    /// raises a request for each monthly report overdue by more than
    /// `after_days` days (`update_requests::missing_reports`, once per party
    /// and month ever) and for each offer lapsed while orders still depend
    /// on it (`update_requests::lapsed_offers`, once per offer version
    /// ever), then closes every open request whose newer version or report
    /// has arrived. Safe to run on several replicas at once: each change has
    /// a deterministic idempotency key.
    pub async fn sweep_update_requests(&self, today: NaiveDate, after_days: u32) -> Result<Swept> {
        let raised = self.raise_missing_report_requests(today, after_days).await?;
        let lapsed_offers = self.raise_lapsed_offer_requests(today).await?;
        let satisfied = self.close_satisfied_update_requests().await?;
        Ok(Swept { raised, lapsed_offers, satisfied })
    }

    async fn raise_lapsed_offer_requests(&self, today: NaiveDate) -> Result<usize> {
        let active = RecordFilter { state: Some(OfferState::Active.as_str().to_owned()), ..RecordFilter::default() };
        let offers: Vec<CapacityOffer> = self.all_records(RecordKind::CapacityOffer, &system_viewer(), &active).await?;
        let lapsed: Vec<CapacityOffer> = offers.into_iter().filter(|o| o.draft.valid_until < today).collect();
        // Only the orders of providers with a lapsed offer, and only those held unstarted.
        let providers: std::collections::BTreeSet<&PartyId> = lapsed.iter().map(|o| &o.draft.provider).collect();
        let mut orders: Vec<RepairOrder> = Vec::new();
        for provider in providers {
            for state in [RepairOrderState::Proposed, RepairOrderState::Accepted] {
                let filter = RecordFilter {
                    provider: Some(provider.to_string()),
                    state: Some(state.as_str().to_owned()),
                    ..RecordFilter::default()
                };
                orders
                    .extend(self.all_records::<RepairOrder>(RecordKind::RepairOrder, &system_viewer(), &filter).await?);
            }
        }
        let mut raised = 0;
        for found in rules::lapsed_offers(&lapsed, &orders, today) {
            let id = rules::lapsed_offer_id(&found.offer, found.version);
            let record = RecordRef::CapacityOffers(found.offer.clone());
            let text = format!(
                "{record}'s validity ended on {} while {} order(s) PROPOSED or ACCEPTED to you for what it \
                 offers still depend on it: publish a newer version (a new validity) or withdraw it",
                found.valid_until, found.dependent_orders
            );
            let subject = UpdateSubject::Record { record, version: found.version };
            if self.raise_as_system(id, found.provider, subject, text).await? {
                raised += 1;
            }
        }
        Ok(raised)
    }

    async fn raise_missing_report_requests(&self, today: NaiveDate, after_days: u32) -> Result<usize> {
        let reports: Vec<AvailabilityReport> =
            self.all_records(RecordKind::AvailabilityReport, &system_viewer(), &RecordFilter::default()).await?;
        let seen: Vec<ReportSeen> = reports.iter().map(seen).collect();
        let mut raised = 0;
        for missing in rules::missing_reports(&seen, today, after_days) {
            let id = rules::missing_report_id(&missing.reporter, missing.month);
            let month = missing.month.format("%Y-%m");
            let tms = missing.tms.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            let text = format!(
                "the availability report for {month} ({tms}) is missing more than {after_days} days after the \
                 month ended"
            );
            let subject = UpdateSubject::MissingReport { month: missing.month, tms: missing.tms };
            if self.raise_as_system(id, missing.reporter, subject, text).await? {
                raised += 1;
            }
        }
        Ok(raised)
    }

    /// Raises, as the system, the open request `id` to `addressee` about
    /// `subject`, unless the addressee is unknown or suspended or request
    /// `id` exists already (raised before, by this or another replica);
    /// whether it raised it.
    async fn raise_as_system(
        &self,
        id: String,
        addressee: PartyId,
        subject: UpdateSubject,
        text: String,
    ) -> Result<bool> {
        if self.party(&addressee).is_none_or(|(p, _)| p.suspended)
            || self.store.record(RecordKind::UpdateRequest, &id).await?.is_some()
        {
            return Ok(false);
        }
        let system = PartyId::parse(SYSTEM_ACTOR).map_err(|e| CoreError::Store(StoreError::Corrupt(e)))?;
        let time = now();
        let request = UpdateRequest {
            text: Some(text),
            id: id.clone(),
            requester: system,
            addressee,
            subject,
            state: UpdateRequestState::Open,
            answer: None,
            version: 1,
            create_time: time,
            update_time: time,
        };
        self.commit_as_system(request_change(&request, None, "UPDATE_REQUESTED")?, &format!("update:{id}")).await
    }

    /// Closes as SATISFIED every open request whose newer version or
    /// missing report has arrived; how many it closed.
    pub async fn close_satisfied_update_requests(&self) -> Result<usize> {
        let filter =
            RecordFilter { state: Some(UpdateRequestState::Open.as_str().to_owned()), ..RecordFilter::default() };
        let open: Vec<UpdateRequest> = self.all_records(RecordKind::UpdateRequest, &system_viewer(), &filter).await?;
        let mut closed = 0;
        for request in open {
            let why = match &request.subject {
                UpdateSubject::Record { record, version } => match self.current_version(record).await? {
                    Some(now_at) if now_at > *version => Some(format!("{record} is now at version {now_at}")),
                    _ => None,
                },
                UpdateSubject::MissingReport { month, tms } => {
                    rules::report_arrived(*month, tms, &self.reports_of(&request.addressee).await?)
                        .then(|| format!("the availability report for {} arrived", month.format("%Y-%m")))
                }
            };
            let Some(why) = why else { continue };
            let done = request.closed(UpdateRequestState::Satisfied, Some(why), now());
            let change = request_change(&done, Some(request.version), "UPDATE_REQUEST_SATISFIED")?;
            if self.commit_as_system(change, &format!("update:{}:satisfied", request.id)).await? {
                closed += 1;
            }
        }
        Ok(closed)
    }
}
