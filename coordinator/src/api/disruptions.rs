//! `cosx.v1.Disruptions`: a provider's disruption notices (declare, update,
//! resolve), reading them, the orders they strand, and the re-plan that
//! moves that work elsewhere.
//!
//! A thin adapter: authenticate → parse (`cosx_edge::convert`) → the core
//! (`coordinator::disruptions`, which applies `cosx_domain::disruptions`)
//! → map. The re-plan is the allocation core (`cosx_allocation::allocate`)
//! over the stranded orders and the offers as `reduced_offer` counts them;
//! this module decides no rule and computes no capacity itself.

use std::sync::Arc;

use cosx_allocation as core;
use cosx_domain::disruptions::{reduced_offer, reopened};
use cosx_domain::{PartyId, Violations};
use cosx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::balance::{core_error, plan_out};
use super::convert::*;
use super::{authenticate, authenticate_write};
use crate::coordinator::Coordinator;
use crate::signals::balance as adapt;
use crate::store::RecordFilter;
use cosx_edge::request::*;

/// The Disruptions service.
pub struct DisruptionsService(pub Arc<Coordinator>);

fn disruption_id_in(v: &mut Violations, field: &str, name: &str) -> Option<String> {
    if name.is_empty() {
        v.add(field, "is required: disruptions/ID");
        return None;
    }
    resource_id(v, field, name, "disruptions")
}

/// Why an order the re-plan could not give another provider stays where it is.
const STAYS: &str = "STAYS_AT_DISRUPTED_SITE";

#[tonic::async_trait]
impl pb::disruptions_server::Disruptions for DisruptionsService {
    async fn declare_disruption(
        &self,
        request: Request<pb::DeclareDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let draft = disruption_draft_in(&mut v, "disruption", caller.id(), &r.disruption);
        let draft = valid(v, draft)?;
        let d = self.0.declare_disruption(&caller, draft, &key).await?;
        Ok(Response::new(disruption_out(&d)))
    }

    async fn update_disruption(
        &self,
        request: Request<pb::UpdateDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let given = r.disruption.clone().unwrap_or_default();
        let id = disruption_id_in(&mut v, "disruption.name", &given.name);
        version_in(&mut v, "disruption.version", given.version, "disruption");
        let draft = disruption_draft_in(&mut v, "disruption", caller.id(), &r.disruption);
        let (id, draft) = valid(v, id.zip(draft))?;
        let d = self.0.update_disruption(&caller, &id, given.version, draft, &key).await?;
        Ok(Response::new(disruption_out(&d)))
    }

    async fn resolve_disruption(
        &self,
        request: Request<pb::ResolveDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let id = disruption_id_in(&mut v, "name", &r.name);
        version_in(&mut v, "version", r.version, "disruption");
        let resolution = disruption_text_in(&mut v, "resolution", &r.resolution);
        let (id, resolution) = valid(v, id.zip(resolution))?;
        let d = self.0.resolve_disruption(&caller, &id, r.version, resolution, &key).await?;
        Ok(Response::new(disruption_out(&d)))
    }

    async fn get_disruption(
        &self,
        request: Request<pb::GetDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let mut v = Violations::new();
        let id = disruption_id_in(&mut v, "name", &request.get_ref().name);
        let id = valid(v, id)?;
        Ok(Response::new(disruption_out(&self.0.get_disruption(&caller, &id).await?)))
    }

    async fn list_disruptions(
        &self,
        request: Request<pb::ListDisruptionsRequest>,
    ) -> Result<Response<pb::ListDisruptionsResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let state = optional_enum(&mut v, "state", r.state, disruption_state_in);
        let provider = if r.provider.is_empty() { None } else { v.check("provider", PartyId::parse(&r.provider)) };
        valid(v, Some(()))?;
        let filter = RecordFilter {
            state: state.map(|s| s.as_str().to_owned()),
            // A disruption's record owner is its provider.
            owner: provider.map(|p| p.to_string()),
            ..RecordFilter::default()
        };
        let page = self.0.list_disruptions(&caller, filter, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListDisruptionsResponse {
            disruptions: page.items.iter().map(disruption_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_affected_orders(
        &self,
        request: Request<pb::ListAffectedOrdersRequest>,
    ) -> Result<Response<pb::ListAffectedOrdersResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let mut v = Violations::new();
        let id = disruption_id_in(&mut v, "name", &request.get_ref().name);
        let id = valid(v, id)?;
        let orders = self.0.affected_orders(&caller, &id).await?;
        Ok(Response::new(pb::ListAffectedOrdersResponse {
            repair_orders: orders.iter().map(repair_order_out).collect(),
        }))
    }

    async fn propose_replan(
        &self,
        request: Request<pb::ProposeReplanRequest>,
    ) -> Result<Response<pb::AllocationPlan>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let id = disruption_id_in(&mut v, "name", &r.name);
        let as_of = v.check("as_of", cosx_domain::vocab::parse_optional_date(&r.as_of)).flatten();
        let id = valid(v, id)?;
        let as_of = as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
        let (disruption, stranded) = self.0.replan_inputs(&caller, &id).await?;
        let (orders, offers, baselines, parties) = self.0.balance_inputs(&caller).await?;
        // The stranded work leaves its provider's 50/50 count: it is being planned again.
        let others: Vec<cosx_domain::RepairOrder> =
            orders.iter().filter(|o| !stranded.iter().any(|s| s.id == o.id)).cloned().collect();
        let work = adapt::work_records(&others, &offers, &parties);
        let config = core::BalanceConfig { include_proposed: true, ..core::BalanceConfig::default() };
        let balances = core::department_balances(&work, &adapt::baselines(&baselines), &config).map_err(core_error)?;
        let funds: Vec<core::FundsBalance> = balances.iter().map(core::FundsBalance::from).collect();
        // Every active disruption's capacity is left out, this one's included.
        let disruptions = self.0.active_disruptions().await?;
        let reduced: Vec<cosx_domain::CapacityOffer> =
            offers.iter().map(|o| reduced_offer(o, &offers, &disruptions)).collect();
        let reopened_orders: Vec<cosx_domain::RepairOrder> = stranded.iter().map(reopened).collect();
        let open = adapt::open_orders(&reopened_orders, &parties);
        let core_offers = adapt::offers(&reduced, &parties, as_of);
        let plan = core::allocate(&open, &core_offers, &funds, &self.0.allocation_config(as_of)).map_err(core_error)?;
        let mut out = plan_out(
            &plan,
            &|id| stranded.iter().find(|o| o.id == id).map_or(0, |o| o.version),
            open.len(),
            core_offers.len(),
        );
        let name = format!("disruptions/{}", disruption.id);
        let provider = disruption.draft.provider.to_string();
        // What the disrupted site can still take stays there: not a move.
        let (stay, moves): (Vec<_>, Vec<_>) = out.assignments.drain(..).partition(|a| a.provider == provider);
        out.assignments =
            moves.into_iter().map(|a| pb::AllocationAssignment { disruption: name.clone(), ..a }).collect();
        out.unplaced.extend(stay.into_iter().map(|a| pb::UnplacedOrder {
            repair_order: a.repair_order,
            reason: STAYS.into(),
            detail: format!(
                "{provider}'s site {:?} keeps enough capacity for it in the periods its work falls in \
                 ({} lost from {} to {})",
                disruption.draft.site,
                cosx_domain::disruptions::effect_label(&disruption.draft),
                disruption.draft.start,
                disruption.draft.expected_end
            ),
            blocked_by: vec![],
        }));
        // An order allocation could not judge at all (its originator's nation unknown, say).
        for o in &stranded {
            let named = format!("repairOrders/{}", o.id);
            if !out.assignments.iter().any(|a| a.repair_order == named)
                && !out.unplaced.iter().any(|u| u.repair_order == named)
            {
                out.unplaced.push(pb::UnplacedOrder {
                    repair_order: named,
                    reason: "CANNOT_BE_JUDGED".into(),
                    detail: "allocation cannot use this order's fields or its originator's nation".into(),
                    blocked_by: vec![],
                });
            }
        }
        Ok(Response::new(out))
    }
}
