//! Repair exceptions: the provider an order is with raises one when the
//! work turns out differently; the order's originator approves or rejects
//! it. Each is one commit: the exception record, the order (version +1,
//! state unchanged; an approved cost-over or slip revises its estimate or
//! date), a step in the order's history and one `REPAIR_EXCEPTION_*` event.
//!
//! Part of the core: each write authorizes, applies
//! `cosx_domain::exceptions` and commits through the machinery in the
//! parent module; never touches protobuf, and never shows an exception
//! beyond its owner, its provider and coordinators (the event's audience
//! and the record's are the same: nothing released, whatever the order's
//! releasability).

use cosx_domain::exceptions::{self, ExceptionAnswer, ExceptionCause, ExceptionState, RepairException, Revision};

use super::*;

fn exception_write(e: &RepairException, expected_version: Option<i64>) -> Result<RecordWrite> {
    Ok(RecordWrite {
        kind: RecordKind::RepairException,
        id: e.id.clone(),
        expected_version,
        version: e.version,
        audience: audience(&e.owner, Some(&e.provider), &cosx_domain::Releasability::default()),
        state: Some(e.state.as_str().to_owned()),
        tms: None,
        region: None,
        natural_key: None,
        supersedes: None,
        body: to_json(e)?,
    })
}

fn order_view(order: &RepairOrder) -> OrderView<'_> {
    OrderView { state: order.state, originator: &order.draft.originator, provider: order.provider.as_ref() }
}

impl Coordinator {
    /// The provider the order is with raises an exception on it.
    pub async fn raise_exception(
        &self,
        caller: &Caller,
        order_id: &str,
        cause: ExceptionCause,
        text: String,
        key: &RequestKey,
    ) -> Result<RepairException> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let order = self.get_order(caller, order_id).await?;
        let name = format!("repairOrders/{order_id}");
        let raised = self.order_exceptions(order_id).await?.len();
        exceptions::check_raise(order_view(&order), caller.id(), raised).map_err(|e| exception_error(&name, e))?;
        let time = now();
        let exception = exceptions::raise(&order.id, order_view(&order), raised + 1, cause, text, time)
            .ok_or_else(|| CoreError::FailedPrecondition(format!("{name} is with no provider")))?;
        self.commit_exception_step(caller, key, order, exception, None, "REPAIR_EXCEPTION_RAISED", None, time).await
    }

    /// The order's originator approves or rejects an open exception.
    pub async fn answer_exception(
        &self,
        caller: &Caller,
        id: &str,
        answer: ExceptionAnswer,
        key: &RequestKey,
    ) -> Result<RepairException> {
        if let Some(done) = self.replay(caller, key).await? {
            return Ok(done);
        }
        let exception = self.get_exception(caller, id).await?;
        let mut order = self.get_order(caller, &exception.order_id).await?;
        let name = format!("repairOrders/{id}");
        exceptions::check_answer(&exception, order_view(&order), caller.id()).map_err(|e| exception_error(&name, e))?;
        let time = now();
        let expected = exception.version;
        let (exception, revision) = exceptions::answer(exception, answer, caller.id(), time);
        let kind = match exception.state {
            ExceptionState::Rejected => "REPAIR_EXCEPTION_REJECTED",
            _ => "REPAIR_EXCEPTION_APPROVED",
        };
        let mut progress = WorkProgress::default();
        if let Some(Revision::EstimatedCompletion(d)) = &revision {
            progress.estimated_completion_date = Some(*d);
        }
        if let Some(r) = revision {
            r.apply(&mut order);
        }
        self.commit_exception_step(caller, key, order, exception, Some(expected), kind, Some(progress), time).await
    }

    /// One commit for an exception raised or answered: the exception, the
    /// order one version on (its state unchanged), the step in its history
    /// and the event, all seen by the owner, the provider and coordinators.
    #[allow(clippy::too_many_arguments)]
    async fn commit_exception_step(
        &self,
        caller: &Caller,
        key: &RequestKey,
        mut order: RepairOrder,
        exception: RepairException,
        expected: Option<i64>,
        kind: &'static str,
        progress: Option<WorkProgress>,
        time: DateTime<Utc>,
    ) -> Result<RepairException> {
        let order_version = order.version;
        order.version += 1;
        order.update_time = time;
        let transition = Transition {
            version: order.version,
            from: Some(order.state),
            to: order.state,
            actor: caller.id().clone(),
            time,
            reason: Some(exceptions::history_reason(&exception)),
            provider: None,
            progress: progress.unwrap_or_default(),
            exception: Some(exception.id.clone()),
        };
        let row = exception_write(&exception, expected)?;
        let audience = row.audience.clone();
        let records = vec![order_write(&order, Some(order_version))?, row];
        let attached = Some(Box::new(exception.clone()));
        let change = Change::order_step(order, transition, records, kind, audience, None, attached)?;
        Ok(self.commit(caller, key, change, &exception).await?.unwrap_or(exception))
    }

    /// One exception, if the caller may see it (owner, provider,
    /// coordinators); NOT_FOUND otherwise, as if it did not exist.
    pub async fn get_exception(&self, caller: &Caller, id: &str) -> Result<RepairException> {
        self.load_visible(caller, RecordKind::RepairException, id, |e: &RepairException| e.visible_to(&caller.party))
            .await
    }

    /// A page of one order's exceptions the caller may see, oldest first;
    /// NOT_FOUND when the caller may not see the order.
    pub async fn list_exceptions(
        &self,
        caller: &Caller,
        order_id: &str,
        state: Option<ExceptionState>,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<RepairException>> {
        self.get_order(caller, order_id).await?;
        let filter = RecordFilter {
            id_prefix: Some(exceptions::exceptions_of(order_id)),
            state: state.map(|s| s.as_str().to_owned()),
            ..RecordFilter::default()
        };
        self.list(RecordKind::RepairException, caller, &filter, page_size, page_token).await
    }

    /// Every exception raised on an order, as the rules need them (not as
    /// any caller is shown them).
    pub(super) async fn order_exceptions(&self, order_id: &str) -> Result<Vec<RepairException>> {
        let filter = RecordFilter { id_prefix: Some(exceptions::exceptions_of(order_id)), ..RecordFilter::default() };
        self.all_records(RecordKind::RepairException, &system_viewer(), &filter).await
    }
}
