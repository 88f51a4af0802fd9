//! The Exchange service at a node: writes checked with the coordinator's own rules, stored in the outbox and the replica, and answered; reads from the replica.
//!
//! Thin handlers: parsing and the write and visibility rules are the
//! edge's and the domain's; never a rule of its own.

use super::*;

/// The Exchange service at a node.
pub struct NodeExchange(pub Arc<Node>);

impl NodeExchange {
    async fn create_order(&self, r: pb::CreateRepairOrderRequest) -> Result<pb::RepairOrder, Status> {
        let n = &self.0;
        let draft = order_draft(&r.repair_order)?;
        n.acts_as("repair_order.originator", &draft.originator)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.repair_order.clone().unwrap_or_default(),
            "repair_order_id",
            &r.repair_order_id,
        )?;
        let subject = format!("repairOrders/{id}");
        let order = local::created_order(&id, draft, Utc::now());
        let up = pb::CreateRepairOrderRequest { request_id: request_id.clone(), repair_order_id: id, ..r };
        let key = (request_id.as_str(), hash.as_str());
        n.create(key, &subject, Method::CreateRepairOrder, up.encode_to_vec(), order, vec![]).await
    }

    async fn create_offer(&self, r: pb::CreateCapacityOfferRequest) -> Result<pb::CapacityOffer, Status> {
        let n = &self.0;
        let draft = offer_draft(&r.capacity_offer)?;
        n.acts_as("capacity_offer.provider", &draft.provider)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.capacity_offer.clone().unwrap_or_default(),
            "capacity_offer_id",
            &r.capacity_offer_id,
        )?;
        let subject = format!("capacityOffers/{id}");
        let offer = local::created_offer(&id, draft, Utc::now());
        let up = pb::CreateCapacityOfferRequest { request_id: request_id.clone(), capacity_offer_id: id, ..r };
        let key = (request_id.as_str(), hash.as_str());
        n.create(key, &subject, Method::CreateCapacityOffer, up.encode_to_vec(), offer, vec![]).await
    }

    async fn submit_report(&self, r: pb::SubmitAvailabilityReportRequest) -> Result<pb::AvailabilityReport, Status> {
        let n = &self.0;
        let draft = report_draft(&r.availability_report)?;
        n.acts_as("availability_report.reporter", &draft.reporter)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.availability_report.clone().unwrap_or_default(),
            "availability_report_id",
            &r.availability_report_id,
        )?;
        let subject = format!("availabilityReports/{id}");
        let report = local::submitted_report(&id, draft, Utc::now());
        let up =
            pb::SubmitAvailabilityReportRequest { request_id: request_id.clone(), availability_report_id: id, ..r };
        let key = (request_id.as_str(), hash.as_str());

        // Reports are ordered among themselves (a later one supersedes).
        let ordered_by = vec!["availabilityReports".to_owned()];
        let method = Method::SubmitAvailabilityReport;
        n.create(key, &subject, method, up.encode_to_vec(), report, ordered_by).await
    }
}

#[tonic::async_trait]
impl pb::exchange_server::Exchange for NodeExchange {
    async fn create_repair_order(
        &self,
        request: Request<pb::CreateRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        self.0.authenticate(&request)?;
        self.create_order(request.into_inner()).await.map(Response::new)
    }

    async fn get_repair_order(
        &self,
        request: Request<pb::GetRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        self.0.authenticate(&request)?;
        self.0.get(format!("repairOrders/{}", id_of(&request.get_ref().name, "repairOrders")?)).await
    }

    async fn list_repair_orders(
        &self,
        request: Request<pb::ListRepairOrdersRequest>,
    ) -> Result<Response<pb::ListRepairOrdersResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let keep = |o: &pb::RepairOrder| {
            (r.state == 0 || o.state == r.state)
                && (r.tms.is_empty() || o.tms == r.tms)
                && (r.originator.is_empty() || o.originator == r.originator)
                && (r.provider.is_empty() || o.provider == r.provider)
                && (r.region == 0 || o.location.as_ref().is_some_and(|l| l.region == r.region))
        };
        let (repair_orders, next_page_token) =
            self.0.visible_page(Kind::RepairOrder, keep, r.page_size, &r.page_token).await?;
        self.0.fresh(pb::ListRepairOrdersResponse { repair_orders, next_page_token }).await
    }

    async fn transition_repair_order(
        &self,
        request: Request<pb::TransitionRepairOrderRequest>,
    ) -> Result<Response<pb::RepairOrder>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let step = step_in(&r)?;
        let subject = format!("repairOrders/{}", step.id);
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let coordinator = n.is_coordinator().await?;
        let up =
            pb::TransitionRepairOrderRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        // The exceptions the replica knows on the order: an open one holds back COMPLETE and SHIP.
        let exceptions = format!("{subject}/exceptions/");
        let record = n
            .write_related(&request_id, &hash, Some(&subject), Some(&exceptions), |current, related| {
                let order = held::<pb::RepairOrder>(current, &subject)?;
                let known: Vec<pb::RepairException> = related
                    .into_iter()
                    .filter_map(|v| match v.record {
                        Record::RepairException(e) => Some(e),
                        _ => None,
                    })
                    .collect();
                let next = local::transitioned(
                    &order,
                    &n.party,
                    coordinator,
                    r.version,
                    &step.action,
                    &step.progress,
                    &known,
                    Utc::now(),
                )?;
                Ok(Accepted::answering(Method::TransitionRepairOrder, &up, next))
            })
            .await?;
        Ok(Response::new(record_as!(record, RepairOrder, subject)?))
    }

    async fn split_repair_order(
        &self,
        request: Request<pb::SplitRepairOrderRequest>,
    ) -> Result<Response<pb::SplitRepairOrderResponse>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let subject = format!("repairOrders/{}", id_of(&r.name, "repairOrders")?);
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let coordinator = n.is_coordinator().await?;
        let up = pb::SplitRepairOrderRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let record = n
            .write(&request_id, &hash, Some(&subject), |current| {
                let order = held::<pb::RepairOrder>(current, &subject)?;
                let (parent, parts) =
                    local::split(&order, &n.party, coordinator, r.version, &r.quantities, Utc::now())?;
                let mut records = vec![Record::RepairOrder(parent.clone())];
                records.extend(parts.iter().cloned().map(Record::RepairOrder));
                Ok(Accepted::new(Method::SplitRepairOrder, &up, &parent, records))
            })
            .await?;
        let parent = record_as!(record, RepairOrder, subject.clone())?;
        let mut parts = Vec::new();
        for i in 1..=r.quantities.len() {
            let part = n.view(format!("{subject}-{i}")).await?.with_sync();
            parts.push(record_as!(part, RepairOrder, subject.clone())?);
        }
        Ok(Response::new(pb::SplitRepairOrderResponse { parent: Some(parent), parts }))
    }

    async fn get_repair_order_history(
        &self,
        request: Request<pb::GetRepairOrderHistoryRequest>,
    ) -> Result<Response<pb::GetRepairOrderHistoryResponse>, Status> {
        self.0.authenticate(&request)?;
        let subject = format!("repairOrders/{}", id_of(&request.get_ref().name, "repairOrders")?);
        self.0.view(subject.clone()).await?;
        let transitions = self.0.store.events_about(&subject).await?.into_iter().filter_map(|e| e.transition).collect();
        self.0.fresh(pb::GetRepairOrderHistoryResponse { transitions }).await
    }

    async fn create_capacity_offer(
        &self,
        request: Request<pb::CreateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        self.0.authenticate(&request)?;
        self.create_offer(request.into_inner()).await.map(Response::new)
    }

    async fn get_capacity_offer(
        &self,
        request: Request<pb::GetCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        self.0.authenticate(&request)?;
        self.0.get(format!("capacityOffers/{}", id_of(&request.get_ref().name, "capacityOffers")?)).await
    }

    async fn list_capacity_offers(
        &self,
        request: Request<pb::ListCapacityOffersRequest>,
    ) -> Result<Response<pb::ListCapacityOffersResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let keep = |o: &pb::CapacityOffer| {
            (r.state == 0 || o.state == r.state)
                && (r.provider.is_empty() || o.provider == r.provider)
                && (r.tms.is_empty() || o.capabilities.iter().any(|c| c.tms == r.tms))
                && (r.region == 0 || o.site.as_ref().is_some_and(|s| s.region == r.region))
        };
        let (capacity_offers, next_page_token) =
            self.0.visible_page(Kind::CapacityOffer, keep, r.page_size, &r.page_token).await?;
        self.0.fresh(pb::ListCapacityOffersResponse { capacity_offers, next_page_token }).await
    }

    async fn update_capacity_offer(
        &self,
        request: Request<pb::UpdateCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let mut v = cosx_domain::Violations::new();
        let name = r.capacity_offer.as_ref().map(|o| o.name.clone()).unwrap_or_default();
        let id = cosx_edge::convert::resource_id(&mut v, "capacity_offer.name", &name, "capacityOffers");
        let version = r.capacity_offer.as_ref().map_or(0, |o| o.version);
        if version <= 0 {
            v.add("capacity_offer.version", "is required: the version of the offer you last read");
        }
        let draft = cosx_edge::convert::capacity_offer_in(&mut v, "capacity_offer", &r.capacity_offer);
        let (id, draft) = valid(v, id.zip(draft))?;
        let subject = format!("capacityOffers/{id}");
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let up = pb::UpdateCapacityOfferRequest { request_id: request_id.clone(), ..r };
        let key = (request_id.as_str(), hash.as_str());
        let next = |offer| local::updated_offer(&offer, &n.party, draft, version, Utc::now());
        n.replace(key, &subject, Method::UpdateCapacityOffer, up.encode_to_vec(), next).await.map(Response::new)
    }

    async fn withdraw_capacity_offer(
        &self,
        request: Request<pb::WithdrawCapacityOfferRequest>,
    ) -> Result<Response<pb::CapacityOffer>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let subject = format!("capacityOffers/{}", id_of(&r.name, "capacityOffers")?);
        let (request_id, hash) = n.travelling_key(&r.request_id, &r)?;
        let up =
            pb::WithdrawCapacityOfferRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let key = (request_id.as_str(), hash.as_str());
        let next = |offer| local::withdrawn_offer(&offer, &n.party, r.version, Utc::now());
        n.replace(key, &subject, Method::WithdrawCapacityOffer, up.encode_to_vec(), next).await.map(Response::new)
    }

    async fn submit_availability_report(
        &self,
        request: Request<pb::SubmitAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        self.0.authenticate(&request)?;
        self.submit_report(request.into_inner()).await.map(Response::new)
    }

    async fn get_availability_report(
        &self,
        request: Request<pb::GetAvailabilityReportRequest>,
    ) -> Result<Response<pb::AvailabilityReport>, Status> {
        self.0.authenticate(&request)?;
        self.0.get(format!("availabilityReports/{}", id_of(&request.get_ref().name, "availabilityReports")?)).await
    }

    async fn list_availability_reports(
        &self,
        request: Request<pb::ListAvailabilityReportsRequest>,
    ) -> Result<Response<pb::ListAvailabilityReportsResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let reports: Vec<pb::AvailabilityReport> = self
            .0
            .visible_views(Kind::AvailabilityReport)
            .await?
            .iter()
            .filter(|v| r.include_superseded || !v.superseded)
            .filter_map(|v| match v.with_sync() {
                Record::AvailabilityReport(o) => Some(o),
                _ => None,
            })
            .filter(|o| (r.reporter.is_empty() || o.reporter == r.reporter) && (r.tms.is_empty() || o.tms == r.tms))
            .collect();
        let (availability_reports, next_page_token) = page(reports, r.page_size, &r.page_token)?;
        self.0.fresh(pb::ListAvailabilityReportsResponse { availability_reports, next_page_token }).await
    }

    async fn set_availability_target(
        &self,
        request: Request<pb::SetAvailabilityTargetRequest>,
    ) -> Result<Response<pb::AvailabilityTarget>, Status> {
        let n = &self.0;
        n.authenticate(&request)?;
        let r = request.into_inner();
        let mut v = cosx_domain::Violations::new();
        let draft = cosx_edge::convert::availability_target_in(&mut v, &r.target);
        let draft = valid(v, draft)?;
        n.acts_as("target.owner", &draft.owner)?;
        let (request_id, hash, id) = n.creating_key(
            &r.request_id,
            &r.target.clone().unwrap_or_default(),
            "availability_target_id",
            &r.availability_target_id,
        )?;
        let target = local::set_target(&id, draft, Utc::now());
        let up = pb::SetAvailabilityTargetRequest { request_id: request_id.clone(), availability_target_id: id, ..r };
        let record = n
            .write(&request_id, &hash, None, |_| {
                Ok(Accepted::answering(Method::SetAvailabilityTarget, &up, target)
                    .after(vec!["availabilityTargets".into()]))
            })
            .await?;
        Ok(Response::new(record_as!(record, AvailabilityTarget, "availability target")?))
    }

    async fn list_availability_targets(
        &self,
        request: Request<pb::ListAvailabilityTargetsRequest>,
    ) -> Result<Response<pb::ListAvailabilityTargetsResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        // The current target per owner and TMS: the latest set.
        let mut current: std::collections::BTreeMap<(String, String), pb::AvailabilityTarget> = Default::default();
        for view in self.0.store.views(Kind::AvailabilityTarget).await? {
            if let Record::AvailabilityTarget(t) = view.with_sync()
                && (r.owner.is_empty() || t.owner == r.owner)
                && (r.tms.is_empty() || t.tms == r.tms)
            {
                current.insert((t.owner.clone(), t.tms.clone()), t);
            }
        }
        self.0.fresh(pb::ListAvailabilityTargetsResponse { targets: current.into_values().collect() }).await
    }

    type IngestStream = ReceiverStream<Result<pb::IngestResult, Status>>;

    async fn ingest(
        &self,
        request: Request<Streaming<pb::IngestRequest>>,
    ) -> Result<Response<Self::IngestStream>, Status> {
        self.0.authenticate(&request)?;
        let mut records = request.into_inner();
        let this = NodeExchange(self.0.clone());
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            let mut index = 0u64;
            while let Some(next) = records.next().await {
                let record = match next {
                    Ok(r) => r,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                };
                use pb::ingest_request::Record as R;
                let (request_id, id) = (record.request_id, record.record_id);
                let outcome = match record.record {
                    Some(R::RepairOrder(o)) => this
                        .create_order(pb::CreateRepairOrderRequest {
                            repair_order: Some(o),
                            request_id,
                            repair_order_id: id,
                        })
                        .await
                        .map(|o| o.name),
                    Some(R::CapacityOffer(o)) => this
                        .create_offer(pb::CreateCapacityOfferRequest {
                            capacity_offer: Some(o),
                            request_id,
                            capacity_offer_id: id,
                        })
                        .await
                        .map(|o| o.name),
                    Some(R::AvailabilityReport(r)) => this
                        .submit_report(pb::SubmitAvailabilityReportRequest {
                            availability_report: Some(r),
                            request_id,
                            availability_report_id: id,
                        })
                        .await
                        .map(|r| r.name),
                    None => {
                        let mut v = cosx_domain::Violations::new();
                        v.add("record", "is required: a repair_order, capacity_offer or availability_report");
                        Err(CoreError::Invalid(v).into())
                    }
                };
                if tx.send(Ok(ingest_result(index, outcome))).await.is_err() {
                    break;
                }
                index += 1;
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
