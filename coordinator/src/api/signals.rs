//! `cosx.v1.Signals`: availability metrics (DoDI 3110.05) over the reports
//! the caller may see.

use std::sync::Arc;

use cosx_demand as dm;
use cosx_domain::{Caller, Violations};
use cosx_proto::v1 as pb;
use prost::Message;
use prost::bytes::Bytes;
use tonic::codegen::http;
use tonic::{Request, Response, Status};

use super::answers::Answers;
use super::availability_rows::EncodedRows;
use super::convert::{self, *};
use super::encoded::{self, RouteFuture};
use super::{authenticate, valid};
use crate::config::SignalsConfig;
use crate::coordinator::{Coordinator, CoreError};
use crate::signals::availability::{self as metrics, Grouping, MetricsQuery};
use crate::signals::demand::{capacity_entries, invalid};
use crate::signals::views::LogViews;

/// The Signals service.
pub struct SignalsService {
    core: Arc<Coordinator>,
    views: Arc<tokio::sync::Mutex<LogViews>>,
    config: SignalsConfig,
    /// `GetAvailabilityMetrics` answers since the last report, target or
    /// party event, by caller, request and day (about 600 kB each at 100k
    /// reports).
    /// Kept encoded: a kept answer is sent as it is, neither copied nor
    /// encoded again (see [`SignalsRoutes`]).
    availability_answers: Answers<(String, Vec<u8>, chrono::NaiveDate), Bytes>,
    /// The last answer's metric rows, encoded: a miss encodes only the
    /// groups that changed since.
    availability_rows: EncodedRows,
}

impl SignalsService {
    /// A Signals service over `core` reading `views` (shared with the alert
    /// task; they fill from the log on first use).
    pub fn new(core: Arc<Coordinator>, views: Arc<tokio::sync::Mutex<LogViews>>, config: SignalsConfig) -> Self {
        SignalsService {
            core,
            views,
            config,
            availability_answers: Answers::new(16),
            availability_rows: EncodedRows::default(),
        }
    }

    fn disclosure(&self) -> dm::DisclosureControl {
        dm::DisclosureControl { k: self.config.min_cell_orders, ..dm::DisclosureControl::default() }
    }
}

fn query(v: &mut Violations, r: &pb::GetAvailabilityMetricsRequest) -> MetricsQuery {
    let date =
        |v: &mut Violations, field: &str, s: &str| v.check(field, cosx_domain::vocab::parse_optional_date(s)).flatten();
    let group_by = match pb::AvailabilityGrouping::try_from(r.group_by) {
        Ok(pb::AvailabilityGrouping::Unspecified | pb::AvailabilityGrouping::TmsTimeframe) => Grouping::TmsTimeframe,
        Ok(pb::AvailabilityGrouping::Owner) => Grouping::Owner,
        Ok(pb::AvailabilityGrouping::Department) => Grouping::Department,
        Ok(pb::AvailabilityGrouping::Nation) => Grouping::Nation,
        Ok(pb::AvailabilityGrouping::Region) => Grouping::Region,
        Err(_) => {
            v.add("group_by", format!("{} is not a known AvailabilityGrouping value", r.group_by));
            Grouping::TmsTimeframe
        }
    };
    let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    MetricsQuery {
        tms: text(&r.tms),
        owner: text(&r.owner),
        department: convert::optional_enum(v, "department", r.department, department_in),
        nation: text(&r.nation),
        region: convert::optional_enum(v, "region", r.region, region_in),
        from: date(v, "from_date", &r.from_date),
        to: date(v, "to_date", &r.to_date),
        group_by,
        include_assets: r.include_assets,
        review_fiscal_year: r.review_fiscal_year.and_then(|y| {
            if (2000..=2100).contains(&y) {
                Some(cosx_domain::FiscalYear(y))
            } else {
                v.add("review_fiscal_year", format!("{y}: expected a fiscal year such as 2027"));
                None
            }
        }),
    }
}

/// The forecast configuration of a request: the coordinator's
/// `[signals.forecast]` with the request's set fields over it. Bad values
/// are field violations named as the request names them
/// (`forecast_params.ses_alpha`).
fn forecast_config(
    v: &mut Violations,
    settings: &crate::config::ForecastSettings,
    horizon: u32,
    p: &Option<pb::ForecastParams>,
) -> dm::ForecastConfig {
    let mut config = settings.config(horizon.max(1) as usize);
    let Some(p) = p else { return config };
    let c = &mut config.params;
    for (into, given) in [
        (&mut c.ses_alpha, p.ses_alpha),
        (&mut c.croston_alpha, p.croston_alpha),
        (&mut c.tsb_alpha_demand, p.tsb_alpha_demand),
        (&mut c.tsb_alpha_probability, p.tsb_alpha_probability),
    ] {
        if let Some(x) = given {
            *into = x;
        }
    }
    if p.aggregation_alpha.is_some() {
        c.aggregation_alpha = p.aggregation_alpha;
    }
    if let Err(dm::DemandError::InvalidField { field, reason }) = c.check() {
        v.add(field, reason);
    }
    if let Some(coverage) = p.band_coverage {
        if coverage > 0.0 && coverage < 1.0 {
            config.band_coverage = coverage;
        } else {
            v.add("forecast_params.band_coverage", format!("{coverage}: expected 0 < coverage < 1"));
        }
    }
    let c = config.params;
    config.method_override = match p.method.as_deref() {
        None | Some("") => None,
        Some("SES") => Some(dm::ForecastMethod::Ses { alpha: c.ses_alpha }),
        Some("CROSTON_CLASSIC") => Some(dm::ForecastMethod::CrostonClassic { alpha: c.croston_alpha }),
        Some("CROSTON_SBA") => Some(dm::ForecastMethod::CrostonSba { alpha: c.croston_alpha }),
        Some("TSB") => Some(dm::ForecastMethod::Tsb {
            alpha_demand: c.tsb_alpha_demand,
            alpha_probability: c.tsb_alpha_probability,
        }),
        Some("ADIDA") => Some(dm::ForecastMethod::Adida { alpha: c.aggregation_alpha }),
        Some("IMAPA") => Some(dm::ForecastMethod::Imapa { alpha: c.aggregation_alpha }),
        Some(other) => {
            v.add(
                "forecast_params.method",
                format!("{other:?}: expected SES, CROSTON_CLASSIC, CROSTON_SBA, TSB, ADIDA or IMAPA"),
            );
            None
        }
    };
    config
}

#[tonic::async_trait]
impl pb::signals_server::Signals for SignalsService {
    async fn get_availability_metrics(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<pb::GetAvailabilityMetricsResponse>, Status> {
        // The routes answer with the encoded form (`SignalsRoutes`); this is
        // the same answer for anything that calls the trait itself.
        let encoded = self.availability_metrics_encoded(request).await?.into_inner();
        pb::GetAvailabilityMetricsResponse::decode(encoded)
            .map(Response::new)
            .map_err(|e| Status::internal(e.to_string()))
    }

    async fn get_workload_balance(
        &self,
        request: Request<pb::GetWorkloadBalanceRequest>,
    ) -> Result<Response<pb::GetWorkloadBalanceResponse>, Status> {
        let caller = authenticate(&self.core, &request)?;
        Ok(Response::new(self.workload_balance(&caller, request.get_ref()).await?))
    }

    async fn set_depot_baseline(
        &self,
        request: Request<pb::SetDepotBaselineRequest>,
    ) -> Result<Response<pb::DepotBaseline>, Status> {
        super::balance::set_depot_baseline(&self.core, request).await
    }

    async fn get_order_counts(
        &self,
        request: Request<pb::GetOrderCountsRequest>,
    ) -> Result<Response<pb::GetOrderCountsResponse>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let mut views = self.views.lock().await;
        views.catch_up(&self.core).await?;
        let counts = views.order_counts.visible_to(&caller.party);
        drop(views);
        let total = counts.iter().map(|(_, n)| n).sum();
        let counts =
            counts.into_iter().map(|(state, orders)| pb::OrderCount { state: state_out(state), orders }).collect();
        Ok(Response::new(pb::GetOrderCountsResponse { counts, total }))
    }

    async fn get_demand_signal(
        &self,
        request: Request<pb::GetDemandSignalRequest>,
    ) -> Result<Response<pb::GetDemandSignalResponse>, Status> {
        let caller = authenticate(&self.core, &request)?;
        Ok(Response::new(self.demand_signal(&caller, request.get_ref()).await?))
    }

    async fn get_capacity_comparison(
        &self,
        request: Request<pb::GetCapacityComparisonRequest>,
    ) -> Result<Response<pb::GetCapacityComparisonResponse>, Status> {
        self.capacity_comparison(request).await
    }
}

impl SignalsService {
    /// `GetWorkloadBalance` for `caller` (coordinators only).
    pub(super) async fn workload_balance(
        &self,
        caller: &Caller,
        r: &pb::GetWorkloadBalanceRequest,
    ) -> Result<pb::GetWorkloadBalanceResponse, Status> {
        super::balance::workload_balance(&self.core, &self.views, &self.config, caller, r).await
    }

    /// `GetAvailabilityMetrics` for the caller of `request`, encoded: the
    /// kept answer when no report, target or party event has followed it.
    pub(crate) async fn availability_metrics_encoded(
        &self,
        request: Request<pb::GetAvailabilityMetricsRequest>,
    ) -> Result<Response<Bytes>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let today = chrono::Utc::now().date_naive();
        let key = (caller.id().to_string(), request.get_ref().encode_to_vec(), today);
        let as_of = {
            let mut views = self.views.lock().await;
            views.catch_up(&self.core).await?;
            views.availability_as_of()
        };
        if let Some(kept) = self.availability_answers.get(as_of, &key) {
            return Ok(Response::new(Bytes::clone(&kept)));
        }
        let m = self.availability(&caller, request.get_ref(), today).await?;
        let out = self.availability_rows.encode(&m);
        // Computed from everything up to `as_of` or later: kept until a
        // report, target or party event follows it.
        self.availability_answers.put(as_of, key, Arc::new(out.clone()));
        Ok(Response::new(out))
    }

    /// What `GetAvailabilityMetrics` computes for `caller`, over the current
    /// reports it may see; `ExportAvailability*` flattens the same answer.
    pub(super) async fn availability(
        &self,
        caller: &Caller,
        r: &pb::GetAvailabilityMetricsRequest,
        today: chrono::NaiveDate,
    ) -> Result<metrics::AvailabilityMetrics, Status> {
        let mut v = Violations::new();
        let q = query(&mut v, r);
        valid(v, Some(()))?;
        let targets = self.core.list_targets(caller, None, None).await?;
        let mut views = self.views.lock().await;
        views.catch_up(&self.core).await?;
        let visible = |r: &_| Coordinator::may_see_report(caller, r);
        metrics::metrics(&views.reports, visible, &targets, &q, today).map_err(|e| {
            let mut v = Violations::new();
            v.add("request", e.to_string());
            Status::from(CoreError::Invalid(v))
        })
    }

    /// `GetDemandSignal` for `caller`: cells released to it under the
    /// disclosure control, and forecasts of the windows it is shown in full.
    pub(super) async fn demand_signal(
        &self,
        caller: &Caller,
        r: &pb::GetDemandSignalRequest,
    ) -> Result<pb::GetDemandSignalResponse, Status> {
        let mut v = Violations::new();
        let basis = match pb::DateBasis::try_from(r.basis) {
            Ok(pb::DateBasis::Submitted) => dm::DateBasis::Submitted,
            Ok(_) => dm::DateBasis::RequiredBy,
            Err(_) => {
                v.add("basis", format!("{} is not a known DateBasis value", r.basis));
                dm::DateBasis::RequiredBy
            }
        };
        let granularity = granularity_in(&mut v, r.granularity);
        let mut query = filter_in(&mut v, &r.filter, granularity);
        query.basis = basis;
        query.breakdown = dm::Breakdown { by_owner_nation: r.by_owner_nation, by_repair_type: r.by_repair_type };
        let measure = match pb::DemandMeasure::try_from(r.forecast_measure) {
            Ok(pb::DemandMeasure::Quantity) => dm::Measure::Quantity,
            Ok(pb::DemandMeasure::LaborHours) => dm::Measure::LaborHours,
            Ok(_) => dm::Measure::Orders,
            Err(_) => {
                v.add("forecast_measure", format!("{} is not a known DemandMeasure value", r.forecast_measure));
                dm::Measure::Orders
            }
        };
        if r.forecast_periods > 120 {
            v.add("forecast_periods", "at most 120");
        }
        let config = forecast_config(&mut v, &self.config.forecast, r.forecast_periods, &r.forecast_params);
        valid(v, Some(()))?;
        let viewer =
            if caller.is_coordinator() { dm::Viewer::Coordinator } else { dm::Viewer::Party(caller.id().as_str()) };
        let control = self.disclosure();

        let mut views = self.views.lock().await;
        views.catch_up(&self.core).await?;
        let view = &views.demand;
        let cells = dm::released_cells(&view.cube, viewer, &query, &control).map_err(not_permitted)?;
        let mut forecasts = Vec::new();
        if r.forecast_periods > 0 {
            // Every selected series with demand in its history, even none in the window (a zero forecast).
            for w in dm::forecast_windows(&view.cube, &query).map_err(invalid)?.into_iter().take(MAX_FORECASTS) {
                // A party gets a forecast only of a window it is shown in full:
                // a forecast is a new combination of cell values and could reveal a withheld one.
                if let dm::Viewer::Party(asker) = viewer {
                    let release = dm::series_release(&view.cube, &w.key, &control, asker).map_err(invalid)?;
                    if !release.window_fully_served(w.from, w.to) {
                        continue;
                    }
                }
                let f =
                    dm::forecast_cell(&view.cube, &w.key, basis, measure, w.from, w.to, &config).map_err(invalid)?;
                forecasts.push(forecast_out(&f, measure, w.to));
            }
        }
        let out = pb::GetDemandSignalResponse {
            cells: cells.iter().map(cell_out).collect(),
            forecasts,
            k: if matches!(viewer, dm::Viewer::Party(_)) { control.k } else { 1 },
            orders_counted: dm::orders_counted(&view.cube, viewer, &cells),
        };
        Ok(out)
    }

    async fn capacity_comparison(
        &self,
        request: Request<pb::GetCapacityComparisonRequest>,
    ) -> Result<Response<pb::GetCapacityComparisonResponse>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let granularity = granularity_in(&mut v, r.granularity);
        let query = filter_in(&mut v, &r.filter, granularity);
        let unit = match r.unit {
            0 => cosx_domain::CapacityUnit::LaborHours,
            raw => unit_in(&mut v, "unit".into(), raw).unwrap_or(cosx_domain::CapacityUnit::LaborHours),
        };
        let thresholds = dm::BottleneckThresholds { absolute: r.alert_absolute, relative: r.alert_relative };
        if r.forecast_periods > 120 {
            v.add("forecast_periods", "at most 120");
        }
        let config = forecast_config(&mut v, &self.config.forecast, r.forecast_periods, &r.forecast_params);
        valid(v, Some(()))?;
        let core_unit = match unit {
            cosx_domain::CapacityUnit::LaborHours => dm::CapacityUnit::LaborHours,
            cosx_domain::CapacityUnit::InductionSlots => dm::CapacityUnit::InductionSlots,
        };
        let viewer =
            if caller.is_coordinator() { dm::Viewer::Coordinator } else { dm::Viewer::Party(caller.id().as_str()) };
        let control = self.disclosure();
        // A party sees capacity of the offers it may see (its own, and those released to it).
        let offers = self.core.visible_offers(&caller).await?;
        // Less what active disruptions take from the offers' sites (kept in the views).
        let disruptions = {
            let mut views = self.views.lock().await;
            views.catch_up(&self.core).await?;
            views.disruptions()
        };
        let capacity: Vec<dm::CapacityEntry> = capacity_entries(&offers, &disruptions, unit, granularity)
            .into_iter()
            .filter(|c| selected(&query, &c.key, c.period))
            .collect();

        let mut views = self.views.lock().await;
        views.catch_up(&self.core).await?;
        let view = &views.demand;
        let mut demand = dm::actual_demand(&view.cube, &query, core_unit).map_err(invalid)?;
        if r.forecast_periods > 0 {
            for w in dm::forecast_windows(&view.cube, &query).map_err(invalid)?.into_iter().take(MAX_FORECASTS) {
                let f = dm::forecast_cell(&view.cube, &w.key, query.basis, core_unit.measure(), w.from, w.to, &config)
                    .map_err(invalid)?;
                demand.extend(dm::forecast_demand(&f, core_unit).map_err(invalid)?);
            }
        }
        let suppressed: std::collections::HashSet<(dm::CellKey, dm::Period)> = if matches!(viewer, dm::Viewer::Party(_))
        {
            dm::released_cells(&view.cube, viewer, &query, &control)
                .map_err(not_permitted)?
                .into_iter()
                .filter(|c| matches!(c.value, dm::Released::Suppressed))
                .map(|c| (c.key, c.period))
                .collect()
        } else {
            Default::default()
        };
        drop(views);
        let rows = dm::compare(&demand, &capacity, core_unit, thresholds).map_err(invalid)?;
        let rows: Vec<pb::CapacityComparisonRow> = rows
            .iter()
            .map(|row| {
                let hidden = suppressed.contains(&(row.key.clone(), row.period))
                    || (matches!(viewer, dm::Viewer::Party(_)) && row.demand_kind == dm::DemandKind::Forecast);
                let alert = row.alert.as_ref();
                pb::CapacityComparisonRow {
                    key: Some(key_out(&row.key)),
                    period: Some(period_out(row.period)),
                    demand_kind: format!("{:?}", row.demand_kind).to_uppercase(),
                    demand: if hidden { 0.0 } else { row.demand },
                    demand_upper: if hidden { None } else { row.demand_upper },
                    capacity: row.capacity,
                    surge: row.surge,
                    balance: if hidden { 0.0 } else { row.balance },
                    balance_with_surge: if hidden { 0.0 } else { row.balance_with_surge },
                    bottleneck: !hidden && alert.is_some(),
                    shortfall_relative: if hidden { None } else { alert.and_then(|a| a.relative) },
                    covered_by_surge: !hidden && alert.is_some_and(|a| a.covered_by_surge),
                    suppressed: hidden,
                }
            })
            .collect();
        let bottlenecks = rows.iter().filter(|r| r.bottleneck).count() as u32;
        Ok(Response::new(pb::GetCapacityComparisonResponse { rows, bottlenecks }))
    }
}

/// Series forecast per request, at most.
const MAX_FORECASTS: usize = 500;

fn not_permitted(e: dm::DemandError) -> Status {
    match e {
        dm::DemandError::NotPermitted { .. } => Status::permission_denied(e.to_string()),
        other => Status::from(invalid(other)),
    }
}

fn granularity_in(v: &mut Violations, raw: i32) -> dm::Granularity {
    match pb::Granularity::try_from(raw) {
        Ok(pb::Granularity::FiscalQuarter) => dm::Granularity::FiscalQuarter,
        Ok(pb::Granularity::FiscalYear) => dm::Granularity::FiscalYear,
        Ok(_) => dm::Granularity::Month,
        Err(_) => {
            v.add("granularity", format!("{raw} is not a known Granularity value"));
            dm::Granularity::Month
        }
    }
}

fn filter_in(v: &mut Violations, f: &Option<pb::DemandFilter>, granularity: dm::Granularity) -> dm::CellQuery {
    let mut q = dm::CellQuery::all(dm::DateBasis::RequiredBy, granularity, dm::Breakdown::NONE);
    let Some(f) = f else { return q };
    for (i, r) in f.regions.iter().enumerate() {
        if let Some(r) = region_in(v, format!("filter.regions[{i}]"), *r) {
            q.regions.push(r);
        }
    }
    q.tms_or_families = f.tms.clone();
    for (i, l) in f.levels.iter().enumerate() {
        if let Some(l) = level_in(v, format!("filter.levels[{i}]"), *l) {
            q.maintenance_levels.push(match l {
                cosx_domain::MaintenanceLevel::Organizational => dm::MaintenanceLevel::Organizational,
                cosx_domain::MaintenanceLevel::Intermediate => dm::MaintenanceLevel::Intermediate,
                cosx_domain::MaintenanceLevel::Depot => dm::MaintenanceLevel::Depot,
            });
        }
    }
    let date =
        |v: &mut Violations, field: &str, s: &str| v.check(field, cosx_domain::vocab::parse_optional_date(s)).flatten();
    q.from = crate::signals::demand::period_of(date(v, "filter.from_date", &f.from_date), granularity);
    q.to = crate::signals::demand::period_of(date(v, "filter.to_date", &f.to_date), granularity);
    q
}

fn selected(q: &dm::CellQuery, key: &dm::CellKey, period: dm::Period) -> bool {
    (q.regions.is_empty() || q.regions.contains(&key.region))
        && (q.tms_or_families.is_empty() || q.tms_or_families.contains(&key.tms_or_family))
        && (q.maintenance_levels.is_empty() || q.maintenance_levels.contains(&key.maintenance_level))
        && q.from.is_none_or(|f| period >= f)
        && q.to.is_none_or(|t| period <= t)
}

fn key_out(k: &dm::CellKey) -> pb::DemandCellKey {
    let region = pb::Region::from_str_name(&format!("REGION_{}", k.region.as_str())).unwrap_or(pb::Region::Unspecified);
    let level = pb::MaintenanceLevel::from_str_name(&format!("MAINTENANCE_LEVEL_{}", k.maintenance_level.as_str()))
        .unwrap_or(pb::MaintenanceLevel::Unspecified);
    pb::DemandCellKey {
        region: region as i32,
        tms: k.tms_or_family.clone(),
        level: level as i32,
        owner_nation: k.owner_nation.clone().unwrap_or_default(),
        repair_type: k
            .repair_type
            .and_then(|t| pb::RepairType::from_str_name(&format!("REPAIR_TYPE_{}", t.as_str())))
            .map_or(0, |t| t as i32),
    }
}

fn period_out(p: dm::Period) -> pb::DemandPeriod {
    pb::DemandPeriod { label: p.to_string(), start_date: p.start().to_string(), end_date: p.end().to_string() }
}

fn cell_out(c: &dm::ReleasedCell) -> pb::DemandCell {
    let (suppressed, m) = match &c.value {
        dm::Released::Value(m) => (false, Some(m)),
        dm::Released::Suppressed => (true, None),
    };
    pb::DemandCell {
        key: Some(key_out(&c.key)),
        period: Some(period_out(c.period)),
        suppressed,
        orders: m.map_or(0, |m| m.orders),
        quantity: m.map_or(0, |m| m.quantity),
        labor_hours: m.map_or(0.0, |m| m.labor.hours()),
    }
}

fn forecast_out(f: &dm::CellForecast, measure: dm::Measure, last: dm::Period) -> pb::CellForecast {
    let fc = &f.forecast;
    pb::CellForecast {
        key: Some(key_out(&f.key)),
        measure: match measure {
            dm::Measure::Orders => pb::DemandMeasure::Orders,
            dm::Measure::Quantity => pb::DemandMeasure::Quantity,
            dm::Measure::LaborHours => pb::DemandMeasure::LaborHours,
        } as i32,
        pattern: fc.classification.pattern.as_str().to_owned(),
        adi: fc.classification.adi.unwrap_or(0.0),
        cv2: fc.classification.cv2.unwrap_or(0.0),
        method: fc.method.to_string(),
        band: fc.band.describe(),
        points: fc
            .points
            .iter()
            .map(|p| pb::ForecastPoint {
                period: Some(period_out(last.offset(p.step as i64))),
                point: p.point,
                lower: p.lower,
                upper: p.upper,
            })
            .collect(),
        mase: fc.accuracy.as_ref().and_then(|a| a.mase),
        backtest_origins: fc.accuracy.as_ref().map_or(0, |a| a.origins as u32),
    }
}

/// `cosx.v1.Signals` as served: every method as generated, except
/// `GetAvailabilityMetrics`, whose answer goes out already encoded. A
/// kept answer (about 600 kB at 100k reports) is then sent as it was
/// encoded when it was made: no copy of its rows and no encode per call,
/// which a profile showed to be most of such a call. Clients see the same
/// bytes the generated method would send.
#[derive(Clone)]
pub struct SignalsRoutes {
    generated: pb::signals_server::SignalsServer<SignalsService>,
    service: Arc<SignalsService>,
    max_decoding_message_size: usize,
}

impl SignalsRoutes {
    /// The routes of `service`, refusing requests over `max_decoding_message_size` bytes.
    pub fn new(service: Arc<SignalsService>, max_decoding_message_size: usize) -> Self {
        let generated = pb::signals_server::SignalsServer::from_arc(service.clone())
            .max_decoding_message_size(max_decoding_message_size);
        SignalsRoutes { generated, service, max_decoding_message_size }
    }
}

impl tonic::server::NamedService for SignalsRoutes {
    const NAME: &'static str = <pb::signals_server::SignalsServer<SignalsService> as tonic::server::NamedService>::NAME;
}

impl tonic::codegen::Service<http::Request<tonic::body::Body>> for SignalsRoutes {
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<tonic::body::Body>) -> Self::Future {
        if request.uri().path() != "/cosx.v1.Signals/GetAvailabilityMetrics" {
            return Box::pin(tonic::codegen::Service::call(&mut self.generated, request));
        }
        let mut grpc = encoded::server::<pb::GetAvailabilityMetricsRequest>(
            &mut request,
            pb::signals_server::SERVICE_NAME,
            "GetAvailabilityMetrics",
            self.max_decoding_message_size,
        );
        let method = EncodedAvailability(self.service.clone());
        Box::pin(async move { Ok(grpc.unary(method, request).await) })
    }
}

/// `GetAvailabilityMetrics` answering with its encoded form.
struct EncodedAvailability(Arc<SignalsService>);

impl tonic::server::UnaryService<pb::GetAvailabilityMetricsRequest> for EncodedAvailability {
    type Response = Bytes;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Bytes>, Status>> + Send>>;

    fn call(&mut self, request: Request<pb::GetAvailabilityMetricsRequest>) -> Self::Future {
        let service = self.0.clone();
        Box::pin(async move { service.availability_metrics_encoded(request).await })
    }
}
