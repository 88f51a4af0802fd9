//! Export at a node: passed straight through to the coordinator, like
//! Signals, so a party's export from its node is the coordinator's answer
//! for that party (UNAVAILABLE while the link is down).
//!
//! The node's replica could serve orders, offers and reports, but the
//! availability, demand and balance tables are the coordinator's to compute;
//! one path for every table keeps one answer. Must never: filter or
//! reshape a row (the coordinator already applied visibility and suppression).

use super::*;

/// Export at a node.
pub struct NodeExport(pub Arc<Node>);

type ExportUpstream = pb::export_client::ExportClient<tonic::transport::Channel>;

#[tonic::async_trait]
impl pb::export_server::Export for NodeExport {
    type ExportRepairOrdersStream = Streaming<pb::RepairOrder>;
    type ExportCapacityOffersStream = Streaming<pb::CapacityOffer>;
    type ExportAvailabilityReportsStream = Streaming<pb::AvailabilityReport>;
    type ExportAvailabilityAssetsStream = Streaming<pb::AvailabilityAssetRow>;
    type ExportAvailabilityTmsStream = Streaming<pb::AvailabilityTmsRow>;
    type ExportDemandStream = Streaming<pb::DemandCell>;
    type ExportBalanceStream = Streaming<pb::DepartmentBalance>;
    type ExportEventsStream = Streaming<pb::Event>;

    async fn export_repair_orders(
        &self,
        request: Request<pb::ListRepairOrdersRequest>,
    ) -> Result<Response<Self::ExportRepairOrdersStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_repair_orders)
    }

    async fn export_capacity_offers(
        &self,
        request: Request<pb::ListCapacityOffersRequest>,
    ) -> Result<Response<Self::ExportCapacityOffersStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_capacity_offers)
    }

    async fn export_availability_reports(
        &self,
        request: Request<pb::ListAvailabilityReportsRequest>,
    ) -> Result<Response<Self::ExportAvailabilityReportsStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_availability_reports)
    }

    async fn export_availability_assets(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<Self::ExportAvailabilityAssetsStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_availability_assets)
    }

    async fn export_availability_tms(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<Self::ExportAvailabilityTmsStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_availability_tms)
    }

    async fn export_demand(
        &self,
        request: Request<pb::GetDemandSignalRequest>,
    ) -> Result<Response<Self::ExportDemandStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_demand)
    }

    async fn export_balance(
        &self,
        request: Request<pb::GetWorkloadBalanceRequest>,
    ) -> Result<Response<Self::ExportBalanceStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_balance)
    }

    async fn export_events(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::ExportEventsStream>, Status> {
        pass_through!(self, request, ExportUpstream, export_events)
    }
}
