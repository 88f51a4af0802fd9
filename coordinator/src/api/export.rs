//! `cosx.v1.Export`: whole tables streamed one row per message, for
//! enterprise analytics (DoDI 3110.05 para 4.2: metrics and supporting data).
//!
//! Each method takes the request of the list or signal call it exports and
//! answers what that call answers the same caller, by calling the same
//! functions its handler calls: the store filters of `exchange`, the
//! coordinator's paged `list_*` and `events` (which apply visibility), and
//! `SignalsService::availability` / `demand_signal` / `balance::workload_balance`
//! (which apply visibility and small-cell suppression). It must never hold a
//! visibility or suppression rule of its own, and never buffer a table of
//! records: records go out page by page through a bounded channel.

use std::sync::Arc;

use cosx_availability::export as flat;
use cosx_domain::{Caller, Violations};
use cosx_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::convert::*;
use super::exchange::{offer_filter, order_filter, report_filter};
use super::feed::event_out;
use super::signals::SignalsService;
use super::{authenticate, valid};
use crate::coordinator::{Coordinator, CoreError, Page};

/// Records fetched from the store per page.
const PAGE: i32 = 1000;
/// Rows buffered per stream.
const BUFFER: usize = 256;

/// The Export service, over the core and the Signals service it shares
/// views with.
pub struct ExportService {
    core: Arc<Coordinator>,
    signals: Arc<SignalsService>,
}

impl ExportService {
    /// Exports over `core`, computing signals with `signals`.
    pub fn new(core: Arc<Coordinator>, signals: Arc<SignalsService>) -> Self {
        ExportService { core, signals }
    }
}

type Rows<T> = ReceiverStream<Result<T, Status>>;

fn refuse(field: &str, reason: &str) -> Status {
    let mut v = Violations::new();
    v.add(field, reason);
    CoreError::Invalid(v).into()
}

/// Export streams every page itself: a page of its own is refused.
fn no_paging(page_size: i32, page_token: &str) -> Result<(), Status> {
    if page_size != 0 {
        return Err(refuse("page_size", "must be unset: an export streams every row"));
    }
    if !page_token.is_empty() {
        return Err(refuse("page_token", "must be unset: an export streams every row"));
    }
    Ok(())
}

/// Streams rows already computed (signal answers are computed whole).
fn stream_all<T: Send + 'static>(rows: Vec<T>) -> Response<Rows<T>> {
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(async move {
        for row in rows {
            if tx.send(Ok(row)).await.is_err() {
                return;
            }
        }
    });
    Response::new(ReceiverStream::new(rx))
}

/// Streams the pages `fetch` reads, from the first, converting each item.
fn stream_pages<T, R, F, Fut>(core: Arc<Coordinator>, caller: Caller, fetch: F, out: fn(&T) -> R) -> Response<Rows<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Arc<Coordinator>, Caller, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Page<T>, CoreError>> + Send,
{
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(async move {
        let mut token = String::new();
        loop {
            if !core.still_admitted(&caller) {
                let _ = tx.send(Err(Status::permission_denied(format!("party {} is suspended", caller.id())))).await;
                return;
            }
            let page = match fetch(core.clone(), caller.clone(), token).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            for item in page.items {
                let row = out(&item);
                if tx.send(Ok(row)).await.is_err() {
                    return;
                }
            }
            if page.next_page_token.is_empty() {
                return;
            }
            token = page.next_page_token;
        }
    });
    Response::new(ReceiverStream::new(rx))
}

fn category_of(c: cosx_availability::report::SystemCategory) -> i32 {
    use cosx_availability::report::SystemCategory as C;
    (match c {
        C::Aircraft => pb::SystemCategory::Aircraft,
        C::Ship => pb::SystemCategory::Ship,
        C::Submarine => pb::SystemCategory::Submarine,
        C::GroundVehicle => pb::SystemCategory::GroundVehicle,
    }) as i32
}

fn asset_row_out(r: &flat::AssetRow) -> pb::AvailabilityAssetRow {
    pb::AvailabilityAssetRow {
        owner: r.owner.clone(),
        tms: r.tms.clone(),
        system_category: category_of(r.category),
        timeframe_start: r.timeframe_first.to_string(),
        timeframe_end: r.timeframe_last.to_string(),
        report_version: r.version,
        serial: r.serial.clone(),
        pmai: r.pmai,
        possible_days: r.possible_days,
        available_days: r.available_days,
        nmcm_days: r.nmcm_days,
        nmcs_days: r.nmcs_days,
        depot_days: r.depot_days,
        upnr_reported_days: r.upnr_reported_days,
        upnr_reconciled_days: r.upnr_reconciled_days,
        upnr_days: r.upnr_days,
        availability: r.availability,
    }
}

fn tms_row_out(r: &flat::TmsRow) -> pb::AvailabilityTmsRow {
    pb::AvailabilityTmsRow {
        tms: r.tms.clone(),
        timeframe_start: r.timeframe_first.to_string(),
        timeframe_end: r.timeframe_last.to_string(),
        reports: u32::try_from(r.reports).unwrap_or(u32::MAX),
        tai: r.tai,
        pmai: r.pmai,
        tai_possible_days: r.tai_possible_days,
        tai_available_days: r.tai_available_days,
        tai_nmcm_days: r.tai_nmcm_days,
        tai_nmcs_days: r.tai_nmcs_days,
        tai_depot_days: r.tai_depot_days,
        tai_upnr_reported_days: r.tai_upnr_reported_days,
        tai_upnr_reconciled_days: r.tai_upnr_reconciled_days,
        pmai_possible_days: r.pmai_possible_days,
        pmai_available_days: r.pmai_available_days,
        pmai_nmcm_days: r.pmai_nmcm_days,
        pmai_nmcs_days: r.pmai_nmcs_days,
        pmai_depot_days: r.pmai_depot_days,
        pmai_upnr_reported_days: r.pmai_upnr_reported_days,
        pmai_upnr_reconciled_days: r.pmai_upnr_reconciled_days,
        a_m: r.a_m,
        a_o: r.a_o,
        cda_cost_cents: r.cda_cost_cents,
        excluded_cost_cents: r.excluded_cost_cents,
        cost_per_day_of_availability: r.cost_per_day_of_availability,
    }
}

/// Events fetched from the log per page.
const EVENT_PAGE: u32 = 256;

#[tonic::async_trait]
impl pb::export_server::Export for ExportService {
    type ExportRepairOrdersStream = Rows<pb::RepairOrder>;
    type ExportCapacityOffersStream = Rows<pb::CapacityOffer>;
    type ExportAvailabilityReportsStream = Rows<pb::AvailabilityReport>;
    type ExportAvailabilityAssetsStream = Rows<pb::AvailabilityAssetRow>;
    type ExportAvailabilityTmsStream = Rows<pb::AvailabilityTmsRow>;
    type ExportDemandStream = Rows<pb::DemandCell>;
    type ExportBalanceStream = Rows<pb::DepartmentBalance>;
    type ExportEventsStream = Rows<pb::Event>;

    async fn export_repair_orders(
        &self,
        request: Request<pb::ListRepairOrdersRequest>,
    ) -> Result<Response<Self::ExportRepairOrdersStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.get_ref();
        no_paging(r.page_size, &r.page_token)?;
        let filter = order_filter(r)?;
        let fetch = move |core: Arc<Coordinator>, caller: Caller, token: String| {
            let filter = filter.clone();
            async move { core.list_orders(&caller, &filter, PAGE, &token).await }
        };
        Ok(stream_pages(self.core.clone(), caller, fetch, repair_order_out))
    }

    async fn export_capacity_offers(
        &self,
        request: Request<pb::ListCapacityOffersRequest>,
    ) -> Result<Response<Self::ExportCapacityOffersStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.get_ref();
        no_paging(r.page_size, &r.page_token)?;
        let filter = offer_filter(r)?;
        let fetch = move |core: Arc<Coordinator>, caller: Caller, token: String| {
            let filter = filter.clone();
            async move { core.list_offers(&caller, &filter, PAGE, &token).await }
        };
        Ok(stream_pages(self.core.clone(), caller, fetch, capacity_offer_out))
    }

    async fn export_availability_reports(
        &self,
        request: Request<pb::ListAvailabilityReportsRequest>,
    ) -> Result<Response<Self::ExportAvailabilityReportsStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.get_ref();
        no_paging(r.page_size, &r.page_token)?;
        let filter = report_filter(r);
        let fetch = move |core: Arc<Coordinator>, caller: Caller, token: String| {
            let filter = filter.clone();
            async move { core.list_reports(&caller, &filter, PAGE, &token).await }
        };
        Ok(stream_pages(self.core.clone(), caller, fetch, availability_report_out))
    }

    async fn export_availability_assets(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<Self::ExportAvailabilityAssetsStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let mut r = request.into_inner();
        if r.group_by != 0 {
            return Err(refuse("group_by", "must be unset: asset rows are per report and asset"));
        }
        r.include_assets = true;
        let m = self.signals.availability(&caller, &r, chrono::Utc::now().date_naive()).await?;
        let rows: Vec<_> = m.assets.iter().flat_map(flat::asset_rows).map(|a| asset_row_out(&a)).collect();
        Ok(stream_all(rows))
    }

    async fn export_availability_tms(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<Self::ExportAvailabilityTmsStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.into_inner();
        if !matches!(
            pb::AvailabilityGrouping::try_from(r.group_by),
            Ok(pb::AvailabilityGrouping::Unspecified | pb::AvailabilityGrouping::TmsTimeframe)
        ) {
            return Err(refuse("group_by", "must be unset or AVAILABILITY_GROUPING_TMS_TIMEFRAME"));
        }
        let m = self.signals.availability(&caller, &r, chrono::Utc::now().date_naive()).await?;
        let rows: Vec<_> = m
            .metrics
            .iter()
            .filter_map(|(key, rollup)| {
                let tms = key.tms.as_deref()?;
                let (first, last) = key.timeframe?;
                Some(tms_row_out(&flat::tms_row(tms, first, last, rollup)))
            })
            .collect();
        Ok(stream_all(rows))
    }

    async fn export_demand(
        &self,
        request: Request<pb::GetDemandSignalRequest>,
    ) -> Result<Response<Self::ExportDemandStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.get_ref();
        if r.forecast_periods != 0 {
            return Err(refuse(
                "forecast_periods",
                "must be 0: an export holds cells; forecasts come from GetDemandSignal",
            ));
        }
        let answer = self.signals.demand_signal(&caller, r).await?;
        Ok(stream_all(answer.cells))
    }

    async fn export_balance(
        &self,
        request: Request<pb::GetWorkloadBalanceRequest>,
    ) -> Result<Response<Self::ExportBalanceStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let answer = self.signals.workload_balance(&caller, request.get_ref()).await?;
        Ok(stream_all(answer.departments))
    }

    async fn export_events(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::ExportEventsStream>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        if r.after_sequence < 0 {
            v.add("after_sequence", "must be >= 0");
        }
        if r.checkpoints {
            v.add("checkpoints", "must be false: an export ends at the log's head");
        }
        valid(v, Some(()))?;
        let core = self.core.clone();
        // Everything committed before the call is in the export; later commits are not.
        let head = *core.watch_head().borrow();
        let kinds = cosx_edge::request::KindFilter::new(&r.kinds);
        let (tx, rx) = mpsc::channel(BUFFER);
        tokio::spawn(async move {
            let mut cursor = r.after_sequence;
            while cursor < head {
                if !core.still_admitted(&caller) {
                    let status = Status::permission_denied(format!("party {} is suspended", caller.id()));
                    let _ = tx.send(Err(status)).await;
                    return;
                }
                let events = match core.events(&caller, cursor, EVENT_PAGE).await {
                    Ok(events) => events,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                let full = events.len() == EVENT_PAGE as usize;
                for e in &events {
                    if e.sequence > head {
                        return;
                    }
                    let event = event_out(e);
                    if kinds.admits(event.kind) && tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                    cursor = e.sequence;
                }
                if !full {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
