//! `cosx.v1.Exchange`: repair orders, capacity offers, availability reports,
//! and the `Ingest` bulk stream.

use std::collections::VecDeque;
use std::sync::Arc;

use cosx_domain::{Caller, Violations};
use cosx_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::authenticate;
use super::convert::{self, *};
use crate::coordinator::Coordinator;
use crate::store::RecordFilter;
use cosx_edge::request::*;

/// The Exchange service.
pub struct ExchangeService(pub Arc<Coordinator>);

/// The store filter of a `ListRepairOrders` (and `ExportRepairOrders`) request.
pub(super) fn order_filter(r: &pb::ListRepairOrdersRequest) -> Result<RecordFilter, Status> {
    let mut v = Violations::new();
    let state = convert::optional_enum(&mut v, "state", r.state, state_in);
    let region = convert::optional_enum(&mut v, "region", r.region, region_in);
    valid(v, Some(()))?;
    Ok(RecordFilter {
        state: state.map(|s| s.as_str().to_owned()),
        tms: optional_string(&r.tms),
        owner: optional_string(&r.originator),
        provider: optional_string(&r.provider),
        region: region.map(|r| r.as_str().to_owned()),
        include_superseded: false,
        id_prefix: None,
    })
}

/// The store filter of a `ListCapacityOffers` (and `ExportCapacityOffers`) request.
pub(super) fn offer_filter(r: &pb::ListCapacityOffersRequest) -> Result<RecordFilter, Status> {
    let mut v = Violations::new();
    let region = convert::optional_enum(&mut v, "region", r.region, region_in);
    let state = match pb::CapacityOfferState::try_from(r.state) {
        Ok(pb::CapacityOfferState::Unspecified) => None,
        Ok(s) => Some(s.as_str_name().trim_start_matches("CAPACITY_OFFER_STATE_").to_owned()),
        Err(_) => {
            v.add("state", format!("{} is not a known CapacityOfferState value", r.state));
            None
        }
    };
    valid(v, Some(()))?;
    Ok(RecordFilter {
        state,
        tms: optional_string(&r.tms),
        owner: optional_string(&r.provider),
        provider: None,
        region: region.map(|r| r.as_str().to_owned()),
        include_superseded: false,
        id_prefix: None,
    })
}

/// The store filter of a `ListAvailabilityReports` (and `ExportAvailabilityReports`) request.
pub(super) fn report_filter(r: &pb::ListAvailabilityReportsRequest) -> RecordFilter {
    RecordFilter {
        tms: optional_string(&r.tms),
        owner: optional_string(&r.reporter),
        include_superseded: r.include_superseded,
        ..RecordFilter::default()
    }
}

async fn create_order(
    core: &Coordinator,
    caller: &Caller,
    order: &Option<pb::RepairOrder>,
    request_id: &str,
    new_id: &str,
) -> Result<cosx_domain::RepairOrder, Status> {
    let draft = order_draft(order)?;
    let key = create_key(
        caller.id(),
        request_id,
        order.as_ref().unwrap_or(&pb::RepairOrder::default()),
        "repair_order_id",
        new_id,
    )?;
    Ok(core.create_order(caller, draft, &key).await?)
}

async fn create_offer(
    core: &Coordinator,
    caller: &Caller,
    offer: &Option<pb::CapacityOffer>,
    request_id: &str,
    new_id: &str,
) -> Result<cosx_domain::CapacityOffer, Status> {
    let draft = offer_draft(offer)?;
    let key = create_key(
        caller.id(),
        request_id,
        offer.as_ref().unwrap_or(&pb::CapacityOffer::default()),
        "capacity_offer_id",
        new_id,
    )?;
    Ok(core.create_offer(caller, draft, &key).await?)
}

async fn submit_report(
    core: &Coordinator,
    caller: &Caller,
    report: &Option<pb::AvailabilityReport>,
    request_id: &str,
    new_id: &str,
) -> Result<cosx_domain::AvailabilityReport, Status> {
    let draft = report_draft(report)?;
    let empty = pb::AvailabilityReport::default();
    let key = create_key(caller.id(), request_id, report.as_ref().unwrap_or(&empty), "availability_report_id", new_id)?;
    Ok(core.submit_report(caller, draft, &key).await?)
}

/// Ingest records handled at once in one stream: enough to fill the
/// store's group commit (`MAX_BATCH`) while the previous batch is written.
const INGEST_WINDOW: usize = 1024;

/// The dependency keys of the records in flight, in stream order, with a
/// count per key, so that checking a new record costs one lookup per key.
#[derive(Default)]
struct InFlightKeys {
    order: VecDeque<Vec<String>>,
    count: std::collections::HashMap<String, usize>,
}

impl InFlightKeys {
    fn depends(&self, keys: &[String]) -> bool {
        keys.iter().any(|k| self.count.contains_key(k))
    }

    fn push(&mut self, keys: Vec<String>) {
        for k in &keys {
            *self.count.entry(k.clone()).or_default() += 1;
        }
        self.order.push_back(keys);
    }

    /// The oldest record in flight was answered.
    fn pop(&mut self) {
        for k in self.order.pop_front().unwrap_or_default() {
            if let std::collections::hash_map::Entry::Occupied(mut e) = self.count.entry(k) {
                *e.get_mut() -= 1;
                if *e.get() == 0 {
                    e.remove();
                }
            }
        }
    }
}

/// What an ingest record's outcome may depend on: its request id (a repeat
/// replays the first) and, for an availability report, its reporter's
/// report for the same TMS and timeframe (which it supersedes).
fn dependency_keys(record: &pb::IngestRequest) -> Vec<String> {
    let mut keys = Vec::new();
    if !record.request_id.is_empty() {
        keys.push(format!("request|{}", record.request_id));
    }
    if let Some(pb::ingest_request::Record::AvailabilityReport(r)) = &record.record {
        let date = |s: &str| cosx_domain::vocab::parse_date(s).map_or_else(|_| s.to_owned(), |d| d.to_string());
        keys.push(format!("report|{}|{}|{}", r.tms, date(&r.timeframe_start), date(&r.timeframe_end)));
    }
    keys
}

/// Handles one ingest record on its own task (so a stream's records are
/// parsed and prepared on every core while their commits wait together).
fn spawn_ingest_one(
    core: &Arc<Coordinator>,
    caller: &Caller,
    record: pb::IngestRequest,
) -> impl Future<Output = Result<String, Status>> + use<> {
    let handled = tokio::spawn(ingest_one(core.clone(), caller.clone(), record));
    async move { handled.await.unwrap_or_else(|e| Err(Status::internal(format!("ingest record failed: {e}")))) }
}

/// Handles one ingest record: its resource name, or why it was refused.
async fn ingest_one(core: Arc<Coordinator>, caller: Caller, record: pb::IngestRequest) -> Result<String, Status> {
    use pb::ingest_request::Record;
    match record.record {
        Some(Record::RepairOrder(o)) => create_order(&core, &caller, &Some(o), &record.request_id, &record.record_id)
            .await
            .map(|o| format!("repairOrders/{}", o.id)),
        Some(Record::CapacityOffer(o)) => create_offer(&core, &caller, &Some(o), &record.request_id, &record.record_id)
            .await
            .map(|o| format!("capacityOffers/{}", o.id)),
        Some(Record::AvailabilityReport(r)) => {
            submit_report(&core, &caller, &Some(r), &record.request_id, &record.record_id)
                .await
                .map(|r| format!("availabilityReports/{}", r.id))
        }
        None => {
            let mut v = Violations::new();
            v.add("record", "is required: a repair_order, capacity_offer or availability_report");
            Err(crate::coordinator::CoreError::Invalid(v).into())
        }
    }
}

#[tonic::async_trait]
impl pb::exchange_server::Exchange for ExchangeService {
    async fn create_repair_order(
        &self,
        request: Request<pb::CreateRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let order = create_order(&self.0, &caller, &r.repair_order, &r.request_id, &r.repair_order_id).await?;
        Ok(Response::new(repair_order_out(&order)))
    }

    async fn get_repair_order(
        &self,
        request: Request<pb::GetRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let id = id_of(&request.get_ref().name, "repairOrders")?;
        Ok(Response::new(repair_order_out(&self.0.get_order(&caller, &id).await?)))
    }

    async fn list_repair_orders(
        &self,
        request: Request<pb::ListRepairOrdersRequest>,
    ) -> Result<Response<pb::ListRepairOrdersResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let filter = order_filter(r)?;
        let page = self.0.list_orders(&caller, &filter, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListRepairOrdersResponse {
            repair_orders: page.items.iter().map(repair_order_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn transition_repair_order(
        &self,
        request: Request<pb::TransitionRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let Step { id, action, reason, progress } = step_in(r)?;
        let key = request_key(&r.request_id, r)?;
        let order = self.0.transition_order(&caller, &id, r.version, action, reason, progress, &key).await?;
        Ok(Response::new(repair_order_out(&order)))
    }

    async fn split_repair_order(
        &self,
        request: Request<pb::SplitRepairOrderRequest>,
    ) -> Result<Response<pb::SplitRepairOrderResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let id = id_of(&r.name, "repairOrders")?;
        let key = request_key(&r.request_id, r)?;
        let (parent, parts) = self.0.split_order(&caller, &id, r.version, &r.quantities, &key).await?;
        Ok(Response::new(pb::SplitRepairOrderResponse {
            parent: Some(repair_order_out(&parent)),
            parts: parts.iter().map(repair_order_out).collect(),
        }))
    }

    async fn get_repair_order_history(
        &self,
        request: Request<pb::GetRepairOrderHistoryRequest>,
    ) -> Result<Response<pb::GetRepairOrderHistoryResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let id = id_of(&request.get_ref().name, "repairOrders")?;
        let history = self.0.order_history(&caller, &id).await?;
        Ok(Response::new(pb::GetRepairOrderHistoryResponse {
            transitions: history.iter().map(|(t, seq)| transition_out(t, *seq)).collect(),
        }))
    }

    async fn create_capacity_offer(
        &self,
        request: Request<pb::CreateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let offer = create_offer(&self.0, &caller, &r.capacity_offer, &r.request_id, &r.capacity_offer_id).await?;
        Ok(Response::new(capacity_offer_out(&offer)))
    }

    async fn get_capacity_offer(
        &self,
        request: Request<pb::GetCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let id = id_of(&request.get_ref().name, "capacityOffers")?;
        Ok(Response::new(capacity_offer_out(&self.0.get_offer(&caller, &id).await?)))
    }

    async fn list_capacity_offers(
        &self,
        request: Request<pb::ListCapacityOffersRequest>,
    ) -> Result<Response<pb::ListCapacityOffersResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let filter = offer_filter(r)?;
        let page = self.0.list_offers(&caller, &filter, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListCapacityOffersResponse {
            capacity_offers: page.items.iter().map(capacity_offer_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_capacity_offer(
        &self,
        request: Request<pb::UpdateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let name = r.capacity_offer.as_ref().map(|o| o.name.clone()).unwrap_or_default();
        let id = resource_id(&mut v, "capacity_offer.name", &name, "capacityOffers");
        let version = r.capacity_offer.as_ref().map_or(0, |o| o.version);
        if version <= 0 {
            v.add("capacity_offer.version", "is required: the version of the offer you last read");
        }
        let draft = capacity_offer_in(&mut v, "capacity_offer", &r.capacity_offer);
        let (id, draft) = valid(v, id.zip(draft))?;
        let key = request_key(&r.request_id, r)?;
        Ok(Response::new(capacity_offer_out(&self.0.update_offer(&caller, &id, version, draft, &key).await?)))
    }

    async fn withdraw_capacity_offer(
        &self,
        request: Request<pb::WithdrawCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let id = id_of(&r.name, "capacityOffers")?;
        let key = request_key(&r.request_id, r)?;
        Ok(Response::new(capacity_offer_out(&self.0.withdraw_offer(&caller, &id, r.version, &key).await?)))
    }

    async fn submit_availability_report(
        &self,
        request: Request<pb::SubmitAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let report =
            submit_report(&self.0, &caller, &r.availability_report, &r.request_id, &r.availability_report_id).await?;
        Ok(Response::new(availability_report_out(&report)))
    }

    async fn get_availability_report(
        &self,
        request: Request<pb::GetAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let id = id_of(&request.get_ref().name, "availabilityReports")?;
        Ok(Response::new(availability_report_out(&self.0.get_report(&caller, &id).await?)))
    }

    async fn list_availability_reports(
        &self,
        request: Request<pb::ListAvailabilityReportsRequest>,
    ) -> Result<Response<pb::ListAvailabilityReportsResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let filter = report_filter(r);
        let page = self.0.list_reports(&caller, &filter, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListAvailabilityReportsResponse {
            availability_reports: page.items.iter().map(availability_report_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn set_availability_target(
        &self,
        request: Request<pb::SetAvailabilityTargetRequest>,
    ) -> Result<Response<pb::AvailabilityTarget>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let draft = availability_target_in(&mut v, &r.target);
        let draft = valid(v, draft)?;
        let key = create_key(
            caller.id(),
            &r.request_id,
            &r.target.clone().unwrap_or_default(),
            "availability_target_id",
            &r.availability_target_id,
        )?;
        Ok(Response::new(availability_target_out(&self.0.set_target(&caller, draft, &key).await?)))
    }

    async fn list_availability_targets(
        &self,
        request: Request<pb::ListAvailabilityTargetsRequest>,
    ) -> Result<Response<pb::ListAvailabilityTargetsResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let targets = self.0.list_targets(&caller, optional_string(&r.owner), optional_string(&r.tms)).await?;
        Ok(Response::new(pb::ListAvailabilityTargetsResponse {
            targets: targets.iter().map(availability_target_out).collect(),
        }))
    }

    type IngestStream = ReceiverStream<Result<pb::IngestResult, Status>>;

    async fn ingest(
        &self,
        request: Request<Streaming<pb::IngestRequest>>,
    ) -> Result<Response<Self::IngestStream>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let mut records = request.into_inner();
        let core = self.0.clone();
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            // Up to INGEST_WINDOW records are handled at once, so that their
            // commits share one group commit in the store; results still go
            // out in stream order. A record that depends on one in flight
            // waits until everything before it is answered, so the stream
            // behaves as if each record were handled after the previous one.
            let mut in_flight = futures::stream::FuturesOrdered::new();
            let mut in_flight_keys = InFlightKeys::default();
            let mut index = 0u64;
            let mut reading = true;
            loop {
                // Reached only when everything in flight must be answered first.
                let waiting = tokio::select! {
                    biased;
                    Some(outcome) = in_flight.next(), if !in_flight.is_empty() => {
                        in_flight_keys.pop();
                        if tx.send(Ok(ingest_result(index, outcome))).await.is_err() {
                            return;
                        }
                        index += 1;
                        continue;
                    }
                    next = records.next(), if reading && in_flight.len() < INGEST_WINDOW => match next {
                        None => {
                            reading = false;
                            continue;
                        }
                        Some(Ok(record)) => {
                            let keys = dependency_keys(&record);
                            let depends = in_flight_keys.depends(&keys);
                            if depends {
                                Ok((record, keys))
                            } else {
                                in_flight_keys.push(keys);
                                in_flight.push_back(spawn_ingest_one(&core, &caller, record));
                                continue;
                            }
                        }
                        // A message refused while decoding (e.g. OUT_OF_RANGE
                        // for its size) ends the stream with that status,
                        // after the answers to the records before it; a
                        // client that went away just doesn't hear it.
                        Some(Err(status)) => Err(status),
                    },
                    else => break,
                };
                while let Some(outcome) = in_flight.next().await {
                    in_flight_keys.pop();
                    if tx.send(Ok(ingest_result(index, outcome))).await.is_err() {
                        return;
                    }
                    index += 1;
                }
                match waiting {
                    Ok((record, keys)) => {
                        in_flight_keys.push(keys);
                        in_flight.push_back(spawn_ingest_one(&core, &caller, record));
                    }
                    Err(status) => {
                        tracing::info!(%status, "ingest stream ended by the client");
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
