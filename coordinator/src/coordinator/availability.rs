//! Availability reports, targets and depot baselines, and the inputs the metrics and balance views read.
//!
//! Part of the core: each write authorizes, applies the domain rule and
//! commits through the machinery in the parent module; never touches
//! protobuf, and never reads a record without the visibility rule.

use super::*;

impl Coordinator {
    /// Stores a report; a report for the same reporter, TMS and timeframe supersedes the current one.
    pub async fn submit_report(
        &self,
        caller: &Caller,
        draft: AvailabilityReportDraft,
        key: &RequestKey,
    ) -> Result<AvailabilityReport> {
        if &draft.reporter != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "availability_report.reporter: {} may only report as itself, not as {}",
                caller.id(),
                draft.reporter
            )));
        }
        let natural_key = report_key(&draft);
        // The first attempt reads nothing: it supersedes the report this
        // process last stored for the same reporter, TMS and timeframe, or
        // nothing (most reports open a new timeframe). The store checks that
        // guess as it commits: if another report is current, it refuses the
        // insert, and the second attempt supersedes the one it then reads.
        // A repeated request id is replayed either way.
        let mut draft = draft;
        let mut current: Option<(String, i64)> = self.guess_current_report(&natural_key);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let time = now();
            let report = AvailabilityReport {
                id: Self::id_for(key),
                version: current.as_ref().map_or(1, |(_, version)| version + 1),
                supersedes: current.as_ref().map(|(id, _)| id.clone()),
                draft,
                create_time: time,
            };
            let write = RecordWrite {
                kind: RecordKind::AvailabilityReport,
                id: report.id.clone(),
                expected_version: None,
                version: report.version,
                audience: audience(&report.draft.reporter, None, &report.draft.releasability),
                state: None,
                tms: Some(report.draft.tms.to_string()),
                region: Some(report.draft.region.as_str().to_owned()),
                natural_key: Some(natural_key.clone()),
                supersedes: report.supersedes.clone(),
                body: to_json(&report)?,
            };
            let change = Change {
                audience: write.audience.clone(),
                records: vec![write],
                transitions: vec![],
                kind: "AVAILABILITY_REPORT_SUBMITTED",
                subject: format!("availabilityReports/{}", report.id),
                content: EventContent::AvailabilityReport { report: report.clone() },
                time,
            };
            match self.commit_create(caller, key, change, RecordKind::AvailabilityReport).await {
                Ok(Some(replayed)) => return Ok(replayed),
                Ok(None) => {
                    self.remember_current_report(natural_key, &report);
                    return Ok(report);
                }
                Err(CoreError::Aborted(_)) if attempt == 1 => {
                    let stored: Option<AvailabilityReport> = self.current(&natural_key).await?;
                    current = stored.map(|c| (c.id, c.version));
                    draft = report.draft;
                }
                Err(refused) => return Err(refused),
            }
        }
    }

    pub(super) fn guess_current_report(&self, natural_key: &str) -> Option<(String, i64)> {
        self.current_reports.lock().unwrap_or_else(|e| e.into_inner()).get(natural_key).cloned()
    }

    pub(super) fn remember_current_report(&self, natural_key: String, report: &AvailabilityReport) {
        let mut known = self.current_reports.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= CURRENT_REPORTS && !known.contains_key(&natural_key) {
            known.clear();
        }
        known.insert(natural_key, (report.id.clone(), report.version));
    }

    /// One report, if the caller may see it.
    pub async fn get_report(&self, caller: &Caller, id: &str) -> Result<AvailabilityReport> {
        self.load_visible(caller, RecordKind::AvailabilityReport, id, |r: &AvailabilityReport| {
            Self::may_see_report(caller, r)
        })
        .await
    }

    /// A page of the reports the caller may see.
    pub async fn list_reports(
        &self,
        caller: &Caller,
        filter: &RecordFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<AvailabilityReport>> {
        self.list(RecordKind::AvailabilityReport, caller, filter, page_size, page_token).await
    }

    // ----- availability targets and metrics -----------------------------

    /// Sets the caller's A_M / A_O target for one TMS; the previous one is superseded.
    pub async fn set_target(
        &self,
        caller: &Caller,
        draft: AvailabilityTargetDraft,
        key: &RequestKey,
    ) -> Result<AvailabilityTarget> {
        if &draft.owner != caller.id() {
            return Err(CoreError::PermissionDenied(format!(
                "target.owner: {} may only set targets for its own fleets, not for {}",
                caller.id(),
                draft.owner
            )));
        }
        let natural_key = format!("target|{}|{}", draft.owner, draft.tms);
        let current: Option<AvailabilityTarget> = self.current(&natural_key).await?;
        let time = now();
        let target = AvailabilityTarget {
            id: Self::id_for(key),
            version: current.as_ref().map_or(1, |c| c.version + 1),
            draft,
            create_time: time,
        };
        let write = RecordWrite {
            kind: RecordKind::AvailabilityTarget,
            id: target.id.clone(),
            expected_version: None,
            version: target.version,
            audience: audience(&target.draft.owner, None, &cosx_domain::Releasability::default()),
            state: None,
            tms: Some(target.draft.tms.to_string()),
            region: None,
            natural_key: Some(natural_key),
            supersedes: current.map(|c| c.id),
            body: to_json(&target)?,
        };
        let change = Change {
            audience: write.audience.clone(),
            records: vec![write],
            transitions: vec![],
            kind: "AVAILABILITY_TARGET_SET",
            subject: format!("availabilityTargets/{}", target.id),
            content: EventContent::AvailabilityTarget { target: target.clone() },
            time,
        };
        Ok(self.commit_create(caller, key, change, RecordKind::AvailabilityTarget).await?.unwrap_or(target))
    }

    /// The current targets the caller may see.
    pub async fn list_targets(
        &self,
        caller: &Caller,
        owner: Option<String>,
        tms: Option<String>,
    ) -> Result<Vec<AvailabilityTarget>> {
        let filter = RecordFilter { owner, tms, ..RecordFilter::default() };
        self.all_visible(RecordKind::AvailabilityTarget, caller, &filter).await
    }

    /// The nation a report's figures count for: its reporter's.
    pub fn reporter_nation(&self, r: &AvailabilityReport) -> cosx_domain::Nation {
        self.party(&r.draft.reporter).map_or_else(cosx_domain::Nation::usa, |(p, _)| p.nation)
    }

    /// Whether the caller may see a report: the one rule, for reads of the
    /// store and of the views alike.
    pub fn may_see_report(caller: &Caller, r: &AvailabilityReport) -> bool {
        may_see(&caller.party, &r.draft.reporter, None, &r.draft.releasability)
    }

    // ----- feed -----------------------------------------------------------

    /// Records depot work done outside the exchange (coordinators only).
    pub async fn set_baseline(
        &self,
        caller: &Caller,
        mut baseline: DepotBaseline,
        key: &RequestKey,
    ) -> Result<DepotBaseline> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied("only a COORDINATOR party may record depot baselines".into()));
        }
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let natural_key = format!("baseline|{}|{}", baseline.department, baseline.fiscal_year);
        let current: Option<DepotBaseline> = self.current(&natural_key).await?;
        baseline.id = new_id();
        baseline.version = current.as_ref().map_or(1, |c| c.version + 1);
        let write = RecordWrite {
            kind: RecordKind::DepotBaseline,
            id: baseline.id.clone(),
            expected_version: None,
            version: baseline.version,
            audience: Audience { owner: caller.id().to_string(), ..Audience::default() },
            state: None,
            tms: None,
            region: None,
            natural_key: Some(natural_key),
            supersedes: current.map(|c| c.id),
            body: to_json(&baseline)?,
        };
        let change = Change {
            audience: write.audience.clone(),
            records: vec![write],
            transitions: vec![],
            kind: "DEPOT_BASELINE_SET",
            subject: format!("depotBaselines/{}", baseline.id),
            content: EventContent::DepotBaseline { baseline: baseline.clone() },
            time: now(),
        };
        Ok(self.commit(caller, key, change, &baseline).await?.unwrap_or(baseline))
    }

    /// What a disruption's re-plan weighs, as a coordinator sees it: every
    /// order, every active offer, every baseline, and the registry (for
    /// provider kinds and nations), read from the store (Propose and Commit
    /// read the log views instead). Coordinators only.
    pub async fn balance_inputs(
        &self,
        caller: &Caller,
    ) -> Result<(Vec<RepairOrder>, Vec<CapacityOffer>, Vec<DepotBaseline>, HashMap<PartyId, Party>)> {
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied(
                "workload balance and allocation are computed for coordinating offices only".into(),
            ));
        }
        let orders = self.all_visible(RecordKind::RepairOrder, caller, &RecordFilter::default()).await?;
        let offers = self.visible_offers(caller).await?;
        let baselines = self.all_visible(RecordKind::DepotBaseline, caller, &RecordFilter::default()).await?;
        let parties = self
            .parties
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, (p, _))| (k.clone(), p.clone()))
            .collect();
        Ok((orders, offers, baselines, parties))
    }
}
