//! Registry, Signals, Allocation and the conversation services (quotes, comments, requests for update, disruptions) at a node: parties read from the replica; everything the coordinator computes is passed straight through.
//!
//! Thin handlers: parsing and the write and visibility rules are the
//! edge's and the domain's; never a rule of its own.

use super::*;

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
        self.0.authenticate(&request)?;
        pb::registry_client::RegistryClient::new(self.0.upstream.channel()).register_party(request.into_inner()).await
    }

    async fn suspend_party(&self, request: Request<pb::SuspendPartyRequest>) -> Result<Response<pb::Party>, Status> {
        self.0.authenticate(&request)?;
        pb::registry_client::RegistryClient::new(self.0.upstream.channel()).suspend_party(request.into_inner()).await
    }
}

/// Signals at a node: the coordinator computes them; the node passes the
/// call through (UNAVAILABLE while the link is down).
pub struct NodeSignals(pub Arc<Node>);

macro_rules! pass_through {
    ($self:ident, $request:ident, $client:path, $method:ident) => {{
        $self.0.authenticate(&$request)?;
        <$client>::new($self.0.upstream.channel()).$method($request.into_inner()).await
    }};
}

#[tonic::async_trait]
impl pb::signals_server::Signals for NodeSignals {
    async fn get_availability_metrics(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<pb::GetAvailabilityMetricsResponse>, Status> {
        pass_through!(
            self,
            request,
            pb::signals_client::SignalsClient<tonic::transport::Channel>,
            get_availability_metrics
        )
    }

    async fn get_demand_signal(
        &self,
        request: Request<pb::GetDemandSignalRequest>,
    ) -> Result<Response<pb::GetDemandSignalResponse>, Status> {
        pass_through!(self, request, pb::signals_client::SignalsClient<tonic::transport::Channel>, get_demand_signal)
    }

    async fn get_capacity_comparison(
        &self,
        request: Request<pb::GetCapacityComparisonRequest>,
    ) -> Result<Response<pb::GetCapacityComparisonResponse>, Status> {
        pass_through!(
            self,
            request,
            pb::signals_client::SignalsClient<tonic::transport::Channel>,
            get_capacity_comparison
        )
    }

    async fn get_workload_balance(
        &self,
        request: Request<pb::GetWorkloadBalanceRequest>,
    ) -> Result<Response<pb::GetWorkloadBalanceResponse>, Status> {
        pass_through!(self, request, pb::signals_client::SignalsClient<tonic::transport::Channel>, get_workload_balance)
    }

    async fn set_depot_baseline(
        &self,
        request: Request<pb::SetDepotBaselineRequest>,
    ) -> Result<Response<pb::DepotBaseline>, Status> {
        pass_through!(self, request, pb::signals_client::SignalsClient<tonic::transport::Channel>, set_depot_baseline)
    }

    async fn get_order_counts(
        &self,
        request: Request<pb::GetOrderCountsRequest>,
    ) -> Result<Response<pb::GetOrderCountsResponse>, Status> {
        pass_through!(self, request, pb::signals_client::SignalsClient<tonic::transport::Channel>, get_order_counts)
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
        pass_through!(self, request, pb::allocation_client::AllocationClient<tonic::transport::Channel>, propose)
    }

    async fn commit(
        &self,
        request: Request<pb::CommitAllocationRequest>,
    ) -> Result<Response<pb::CommitAllocationResponse>, Status> {
        pass_through!(self, request, pb::allocation_client::AllocationClient<tonic::transport::Channel>, commit)
    }
}

/// Quotes at a node: passed through to the coordinator, which holds the
/// order a quote is about and decides every step (UNAVAILABLE while the
/// link is down; quotes are not yet queued in the outbox).
pub struct NodeQuotes(pub Arc<Node>);

#[tonic::async_trait]
impl pb::quotes_server::Quotes for NodeQuotes {
    async fn request_quotes(
        &self,
        request: Request<pb::RequestQuotesRequest>,
    ) -> Result<Response<pb::RequestQuotesResponse>, Status> {
        pass_through!(self, request, pb::quotes_client::QuotesClient<tonic::transport::Channel>, request_quotes)
    }

    async fn submit_quote(&self, request: Request<pb::SubmitQuoteRequest>) -> Result<Response<pb::Quote>, Status> {
        pass_through!(self, request, pb::quotes_client::QuotesClient<tonic::transport::Channel>, submit_quote)
    }

    async fn get_quote(&self, request: Request<pb::GetQuoteRequest>) -> Result<Response<pb::Quote>, Status> {
        pass_through!(self, request, pb::quotes_client::QuotesClient<tonic::transport::Channel>, get_quote)
    }

    async fn list_quotes(
        &self,
        request: Request<pb::ListQuotesRequest>,
    ) -> Result<Response<pb::ListQuotesResponse>, Status> {
        pass_through!(self, request, pb::quotes_client::QuotesClient<tonic::transport::Channel>, list_quotes)
    }

    async fn accept_quote(
        &self,
        request: Request<pb::AcceptQuoteRequest>,
    ) -> Result<Response<pb::AcceptQuoteResponse>, Status> {
        pass_through!(self, request, pb::quotes_client::QuotesClient<tonic::transport::Channel>, accept_quote)
    }
}

/// Comments at a node: passed through to the coordinator, which reads the
/// commented record through its own read path and decides every step
/// (UNAVAILABLE while the link is down; not yet queued in the outbox).
pub struct NodeComments(pub Arc<Node>);

type CommentsUpstream = pb::comments_client::CommentsClient<tonic::transport::Channel>;

#[tonic::async_trait]
impl pb::comments_server::Comments for NodeComments {
    async fn add_comment(&self, request: Request<pb::AddCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        pass_through!(self, request, CommentsUpstream, add_comment)
    }

    async fn edit_comment(&self, request: Request<pb::EditCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        pass_through!(self, request, CommentsUpstream, edit_comment)
    }

    async fn withdraw_comment(
        &self,
        request: Request<pb::WithdrawCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        pass_through!(self, request, CommentsUpstream, withdraw_comment)
    }

    async fn get_comment(&self, request: Request<pb::GetCommentRequest>) -> Result<Response<pb::Comment>, Status> {
        pass_through!(self, request, CommentsUpstream, get_comment)
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        pass_through!(self, request, CommentsUpstream, list_comments)
    }
}

/// Requests for update at a node: passed through to the coordinator.
pub struct NodeUpdateRequests(pub Arc<Node>);

type UpdateRequestsUpstream = pb::update_requests_client::UpdateRequestsClient<tonic::transport::Channel>;

#[tonic::async_trait]
impl pb::update_requests_server::UpdateRequests for NodeUpdateRequests {
    async fn request_update(
        &self,
        request: Request<pb::RequestUpdateRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        pass_through!(self, request, UpdateRequestsUpstream, request_update)
    }

    async fn get_update_request(
        &self,
        request: Request<pb::GetUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        pass_through!(self, request, UpdateRequestsUpstream, get_update_request)
    }

    async fn list_update_requests(
        &self,
        request: Request<pb::ListUpdateRequestsRequest>,
    ) -> Result<Response<pb::ListUpdateRequestsResponse>, Status> {
        pass_through!(self, request, UpdateRequestsUpstream, list_update_requests)
    }

    async fn answer_update_request(
        &self,
        request: Request<pb::AnswerUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        pass_through!(self, request, UpdateRequestsUpstream, answer_update_request)
    }

    async fn withdraw_update_request(
        &self,
        request: Request<pb::WithdrawUpdateRequestRequest>,
    ) -> Result<Response<pb::UpdateRequest>, Status> {
        pass_through!(self, request, UpdateRequestsUpstream, withdraw_update_request)
    }
}

/// Disruptions at a node: passed through to the coordinator, which holds
/// the offers that name a provider's sites and the orders a disruption
/// strands, and decides every step (UNAVAILABLE while the link is down;
/// notices are not yet queued in the outbox).
pub struct NodeDisruptions(pub Arc<Node>);

#[tonic::async_trait]
impl pb::disruptions_server::Disruptions for NodeDisruptions {
    async fn declare_disruption(
        &self,
        request: Request<pb::DeclareDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        pass_through!(
            self,
            request,
            pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>,
            declare_disruption
        )
    }

    async fn update_disruption(
        &self,
        request: Request<pb::UpdateDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        pass_through!(
            self,
            request,
            pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>,
            update_disruption
        )
    }

    async fn resolve_disruption(
        &self,
        request: Request<pb::ResolveDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        pass_through!(
            self,
            request,
            pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>,
            resolve_disruption
        )
    }

    async fn get_disruption(
        &self,
        request: Request<pb::GetDisruptionRequest>,
    ) -> Result<Response<pb::Disruption>, Status> {
        pass_through!(
            self,
            request,
            pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>,
            get_disruption
        )
    }

    async fn list_disruptions(
        &self,
        request: Request<pb::ListDisruptionsRequest>,
    ) -> Result<Response<pb::ListDisruptionsResponse>, Status> {
        pass_through!(
            self,
            request,
            pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>,
            list_disruptions
        )
    }

    async fn list_affected_orders(
        &self,
        request: Request<pb::ListAffectedOrdersRequest>,
    ) -> Result<Response<pb::ListAffectedOrdersResponse>, Status> {
        pass_through!(
            self,
            request,
            pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>,
            list_affected_orders
        )
    }

    async fn propose_replan(
        &self,
        request: Request<pb::ProposeReplanRequest>,
    ) -> Result<Response<pb::AllocationPlan>, Status> {
        pass_through!(
            self,
            request,
            pb::disruptions_client::DisruptionsClient<tonic::transport::Channel>,
            propose_replan
        )
    }
}
