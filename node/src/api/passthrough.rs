//! Registry, Signals and Allocation at a node: parties read from the replica; everything the coordinator computes is passed straight through.
//!
//! Thin handlers: parsing and the write and visibility rules are the
//! edge's and the domain's; never a rule of its own.

use super::*;

type RegistryUpstream = pb::registry_client::RegistryClient<tonic::transport::Channel>;
type SignalsUpstream = pb::signals_client::SignalsClient<tonic::transport::Channel>;
type AllocationUpstream = pb::allocation_client::AllocationClient<tonic::transport::Channel>;

/// The Registry at a node: parties from the replica; changes go to the
/// coordinator.
pub struct NodeRegistry(pub Arc<Node>);

#[tonic::async_trait]
impl pb::registry_server::Registry for NodeRegistry {
    async fn get_party(&self, request: Request<pb::GetPartyRequest>) -> Result<Response<pb::Party>, Status> {
        self.0.authenticate(&request)?;
        let name = &request.get_ref().name;
        let subject = if name.starts_with("parties/") { name.clone() } else { format!("parties/{name}") };
        let record = self.0.view(subject.clone()).await?.record;
        self.0.fresh(record_as!(record, Party, subject)?).await
    }

    async fn list_parties(
        &self,
        request: Request<pb::ListPartiesRequest>,
    ) -> Result<Response<pb::ListPartiesResponse>, Status> {
        self.0.authenticate(&request)?;
        let r = request.into_inner();
        let parties: Vec<pb::Party> = self
            .0
            .store
            .views(Kind::Party)
            .await?
            .into_iter()
            .filter_map(|v| match v.record {
                Record::Party(p) => Some(p),
                _ => None,
            })
            .filter(|p| (r.kind == 0 || p.kind == r.kind) && (r.nation.is_empty() || p.nation == r.nation))
            .collect();
        let (parties, next_page_token) = page(parties, r.page_size, &r.page_token)?;
        self.0.fresh(pb::ListPartiesResponse { parties, next_page_token }).await
    }

    async fn register_party(&self, request: Request<pb::RegisterPartyRequest>) -> Result<Response<pb::Party>, Status> {
        pass_through!(self, request, RegistryUpstream, register_party)
    }

    async fn suspend_party(&self, request: Request<pb::SuspendPartyRequest>) -> Result<Response<pb::Party>, Status> {
        pass_through!(self, request, RegistryUpstream, suspend_party)
    }
}

/// Signals at a node: the coordinator computes them; the node passes the
/// call through (UNAVAILABLE while the link is down).
pub struct NodeSignals(pub Arc<Node>);

#[tonic::async_trait]
impl pb::signals_server::Signals for NodeSignals {
    async fn get_availability_metrics(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<pb::GetAvailabilityMetricsResponse>, Status> {
        pass_through!(self, request, SignalsUpstream, get_availability_metrics)
    }

    async fn get_demand_signal(
        &self,
        request: Request<pb::GetDemandSignalRequest>,
    ) -> Result<Response<pb::GetDemandSignalResponse>, Status> {
        pass_through!(self, request, SignalsUpstream, get_demand_signal)
    }

    async fn get_capacity_comparison(
        &self,
        request: Request<pb::GetCapacityComparisonRequest>,
    ) -> Result<Response<pb::GetCapacityComparisonResponse>, Status> {
        pass_through!(self, request, SignalsUpstream, get_capacity_comparison)
    }

    async fn get_workload_balance(
        &self,
        request: Request<pb::GetWorkloadBalanceRequest>,
    ) -> Result<Response<pb::GetWorkloadBalanceResponse>, Status> {
        pass_through!(self, request, SignalsUpstream, get_workload_balance)
    }

    async fn set_depot_baseline(
        &self,
        request: Request<pb::SetDepotBaselineRequest>,
    ) -> Result<Response<pb::DepotBaseline>, Status> {
        pass_through!(self, request, SignalsUpstream, set_depot_baseline)
    }

    async fn get_order_counts(
        &self,
        request: Request<pb::GetOrderCountsRequest>,
    ) -> Result<Response<pb::GetOrderCountsResponse>, Status> {
        pass_through!(self, request, SignalsUpstream, get_order_counts)
    }
}

/// Allocation at a node: passed through to the coordinator.
pub struct NodeAllocation(pub Arc<Node>);

#[tonic::async_trait]
impl pb::allocation_server::Allocation for NodeAllocation {
    async fn propose(
        &self,
        request: Request<pb::ProposeAllocationRequest>,
    ) -> Result<Response<pb::AllocationPlan>, Status> {
        pass_through!(self, request, AllocationUpstream, propose)
    }

    async fn commit(
        &self,
        request: Request<pb::CommitAllocationRequest>,
    ) -> Result<Response<pb::CommitAllocationResponse>, Status> {
        pass_through!(self, request, AllocationUpstream, commit)
    }
}
