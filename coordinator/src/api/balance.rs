//! `Signals.GetWorkloadBalance`, `Signals.SetDepotBaseline` and the
//! `cosx.v1.Allocation` service: the 50/50 balance per department and
//! fiscal year, and allocation proposals with their reasons.

use std::collections::HashMap;
use std::sync::Arc;

use cosx_allocation as core;
use cosx_domain::records::{DepotBaseline, WorkProgress};
use cosx_domain::{Action, Caller, PartyId, Violations};
use cosx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert::{department_in, department_out};
use super::{authenticate, request_key, valid};
use crate::config::SignalsConfig;
use crate::coordinator::{Coordinator, CoreError, RequestKey};
use crate::signals::balance::{self as adapt, department, department_back};
use crate::signals::views::LogViews;

fn split_out(s: &core::Split) -> pb::WorkSplit {
    pb::WorkSplit {
        organic_cents: s.organic_cents,
        contract_cents: s.contract_cents,
        organic_hours: s.organic_hours,
        contract_hours: s.contract_hours,
    }
}

fn status_out(s: core::BalanceStatus) -> i32 {
    let status = match s {
        core::BalanceStatus::Ok => pb::BalanceStatus::Ok,
        core::BalanceStatus::Warning => pb::BalanceStatus::Warning,
        core::BalanceStatus::Violation => pb::BalanceStatus::Violation,
    };
    status as i32
}

fn share<K>(key: String, s: &core::ShareRow<K>) -> pb::WorkShare {
    pb::WorkShare {
        key,
        cents: s.cents,
        hours: s.hours,
        share_of_cents: s.share_of_cents,
        share_of_hours: s.share_of_hours,
    }
}

pub(crate) fn core_error(e: core::InputError) -> Status {
    let mut v = Violations::new();
    v.add("request", e.to_string());
    Status::from(CoreError::Invalid(v))
}

/// The 50/50 balance, shares and utilization, from the view kept up to
/// date from the log (coordinators only).
pub(crate) async fn workload_balance(
    core_: &Coordinator,
    views: &tokio::sync::Mutex<LogViews>,
    settings: &SignalsConfig,
    caller: &Caller,
    r: &pb::GetWorkloadBalanceRequest,
) -> Result<pb::GetWorkloadBalanceResponse, Status> {
    if !caller.is_coordinator() {
        return Err(CoreError::PermissionDenied(
            "workload balance and allocation are computed for coordinating offices only".into(),
        )
        .into());
    }
    let mut v = Violations::new();
    let only_department =
        if r.department == 0 { None } else { department_in(&mut v, "department".into(), r.department) };
    let warning_percent = r.warning_percent.unwrap_or(settings.balance_warning_percent);
    if !(0.0..=100.0).contains(&warning_percent) {
        v.add("warning_percent", format!("{warning_percent}: expected 0 to 100"));
    }
    valid(v, Some(()))?;
    let config = core::BalanceConfig {
        warning_threshold_bp: (warning_percent * 100.0).round() as u32,
        partner_government_is_organic: false,
        include_proposed: r.include_proposed,
    };
    let answer = {
        let mut views = views.lock().await;
        views.catch_up(core_).await?;
        views.workload.answer(&views.offers(), &config).map_err(core_error)?
    };
    let departments = answer
        .departments
        .iter()
        .filter(|b| only_department.is_none_or(|d| department(d) == b.department))
        .filter(|b| r.fiscal_year == 0 || b.fiscal_year.0 == r.fiscal_year)
        .map(|b| pb::DepartmentBalance {
            department: department_out(department_back(b.department)),
            fiscal_year: b.fiscal_year.0,
            actual: Some(split_out(&b.actual)),
            estimated: Some(split_out(&b.estimated)),
            proposed: Some(split_out(&b.proposed)),
            baseline: Some(split_out(&b.baseline)),
            projected: Some(split_out(&b.projected)),
            by_funds_year: Some(split_out(&b.by_funds_year)),
            by_work_date: Some(split_out(&b.by_work_date)),
            by_month: b
                .by_month
                .iter()
                .map(|m| pb::MonthlyWork {
                    month: m.month.format("%Y-%m").to_string(),
                    work: Some(split_out(&m.work)),
                    cumulative_contract_share: m.cumulative_contract_share,
                })
                .collect(),
            contract_share: b.contract_share,
            contract_share_hours: b.contract_share_hours,
            status: status_out(b.status),
            hours_status: status_out(b.hours_status),
        })
        .collect();
    let by_nation = answer.by_nation.iter().map(|s| share(s.key.as_str().to_owned(), s)).collect();
    let by_region = answer.by_region.iter().map(|s| share(format!("{:?}", s.key).to_uppercase(), s)).collect();
    let utilization = answer
        .utilization
        .iter()
        .filter(|u| r.provider.is_empty() || u.provider_id == r.provider)
        .map(|u| pb::ProviderUtilization {
            provider: u.provider_id.clone(),
            period_start: u.period_start.to_string(),
            period_end: u.period_end.to_string(),
            unit: match u.unit {
                core::CapacityUnit::LaborHours => pb::CapacityUnit::LaborHours,
                core::CapacityUnit::InductionSlots => pb::CapacityUnit::InductionSlots,
            } as i32,
            offered: u.offered,
            used: u.used,
            utilization: u.utilization,
        })
        .collect();
    Ok(pb::GetWorkloadBalanceResponse { departments, by_nation, by_region, warning_percent, utilization })
}

/// Records depot work done outside the exchange.
pub(crate) async fn set_depot_baseline(
    core_: &Coordinator,
    request: Request<pb::SetDepotBaselineRequest>,
) -> Result<Response<pb::DepotBaseline>, Status> {
    let caller = authenticate(core_, &request)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let b = r.baseline.clone().unwrap_or_default();
    let dept = department_in(&mut v, "baseline.department".into(), b.department);
    if !(2000..=2100).contains(&b.fiscal_year) {
        v.add("baseline.fiscal_year", format!("{}: expected a fiscal year such as 2027", b.fiscal_year));
    }
    let w = b.work.unwrap_or_default();
    for (field, cents) in
        [("baseline.work.organic_cents", w.organic_cents), ("baseline.work.contract_cents", w.contract_cents)]
    {
        if cents < 0 {
            v.add(field, "must be >= 0");
        }
    }
    for (field, hours) in
        [("baseline.work.organic_hours", w.organic_hours), ("baseline.work.contract_hours", w.contract_hours)]
    {
        if !(hours.is_finite() && hours >= 0.0) {
            v.add(field, "must be a finite number >= 0");
        }
    }
    let dept = valid(v, dept)?;
    let key = request_key(&r.request_id, &b)?;
    let stored = core_
        .set_baseline(
            &caller,
            DepotBaseline {
                id: String::new(),
                department: dept,
                fiscal_year: b.fiscal_year,
                organic_cents: w.organic_cents,
                contract_cents: w.contract_cents,
                organic_hours: w.organic_hours,
                contract_hours: w.contract_hours,
                version: 0,
            },
            &key,
        )
        .await?;
    Ok(Response::new(pb::DepotBaseline {
        name: format!("depotBaselines/{}", stored.id),
        department: department_out(stored.department),
        fiscal_year: stored.fiscal_year,
        work: Some(pb::WorkSplit {
            organic_cents: stored.organic_cents,
            contract_cents: stored.contract_cents,
            organic_hours: stored.organic_hours,
            contract_hours: stored.contract_hours,
        }),
        version: stored.version,
    }))
}

/// A plan for a response: each assignment with the version of the order it
/// was made from, each order it could not place with its reason in words.
pub(crate) fn plan_out(
    plan: &core::AllocationPlan,
    version: &dyn Fn(&str) -> i64,
    open: usize,
    offer_count: usize,
) -> pb::AllocationPlan {
    pb::AllocationPlan {
        assignments: plan
            .assignments
            .iter()
            .map(|a| {
                let e = &a.explanation;
                let quote =
                    e.quote.as_ref().map(|q| (adapt::quote_name(&q.quote_id), q.price_cents, q.turnaround_days));
                let reason = adapt::placement_reason(
                    e.distance_km,
                    e.total_cost_cents,
                    e.eligible_offers,
                    quote.as_ref().map(|(n, p, d)| (n.as_str(), *p, *d)),
                );
                pb::AllocationAssignment {
                    repair_order: format!("repairOrders/{}", a.order_id),
                    order_version: version(&a.order_id),
                    capacity_offer: format!("capacityOffers/{}", a.offer_id),
                    provider: a.provider_id.clone(),
                    units: a.units,
                    distance_km: e.distance_km,
                    transit_days: e.transit_days,
                    retrograde_cost_cents: e.retrograde_cost_cents,
                    repair_cost_cents: e.repair_cost_cents,
                    total_cost_cents: e.total_cost_cents,
                    eligible_offers: e.eligible_offers,
                    cheaper_offer_was_full: e.cheaper_offer_was_full,
                    contract_work_department: e
                        .contract_work_for
                        .map_or(0, |(d, _)| department_out(department_back(d))),
                    contract_work_fiscal_year: e.contract_work_for.map_or(0, |(_, fy)| fy.0),
                    disruption: String::new(),
                    quote: quote.map(|(n, _, _)| n).unwrap_or_default(),
                    quoted_turnaround_days: e.quote.as_ref().map_or(0, |q| q.turnaround_days),
                    serviceable_by: e.quote.as_ref().map(|q| q.serviceable_by.to_string()).unwrap_or_default(),
                    reason,
                }
            })
            .collect(),
        unplaced: plan
            .unplaced
            .iter()
            .map(|u| {
                let (reason, detail) = adapt::reason_detail(&u.reason);
                let blocked_by = match &u.reason {
                    core::UnplacedReason::NoEligibleProvider { blocked_by } => {
                        blocked_by.iter().map(|b| b.code().to_owned()).collect()
                    }
                    _ => Vec::new(),
                };
                pb::UnplacedOrder { repair_order: format!("repairOrders/{}", u.order_id), reason, detail, blocked_by }
            })
            .collect(),
        served_priority_weight: plan.served_priority_weight,
        total_cost_cents: plan.total_cost_cents,
        open_orders: open as u32,
        offers: offer_count as u32,
    }
}

/// The Allocation service: plans over the views kept from the log.
pub struct AllocationService {
    core: Arc<Coordinator>,
    views: Arc<tokio::sync::Mutex<LogViews>>,
}

impl AllocationService {
    /// Serves allocation over `core` and the views shared with the signals.
    pub fn new(core: Arc<Coordinator>, views: Arc<tokio::sync::Mutex<LogViews>>) -> Self {
        AllocationService { core, views }
    }
}

/// What allocation works from, taken from the views at the log's end (and
/// copied out, so that the solver runs without holding them): the open
/// orders with their versions, the active offers, the registry, and one
/// work record per department sum with the baselines (the 50/50 balance's
/// inputs). Coordinators only.
struct Inputs {
    open: Vec<core::OpenOrder>,
    /// The quotes usable on the plan's date for the open orders.
    quotes: Vec<core::OrderQuote>,
    versions: Vec<i64>,
    offers: Vec<cosx_domain::records::CapacityOffer>,
    parties: HashMap<PartyId, cosx_domain::Party>,
    work: Vec<core::WorkRecord>,
    baselines: Vec<core::BaselineWork>,
}

async fn inputs(
    core_: &Coordinator,
    views: &tokio::sync::Mutex<LogViews>,
    caller: &cosx_domain::Caller,
    as_of: chrono::NaiveDate,
) -> Result<Inputs, Status> {
    if !caller.is_coordinator() {
        return Err(CoreError::PermissionDenied(
            "workload balance and allocation are computed for coordinating offices only".into(),
        )
        .into());
    }
    let mut views = views.lock().await;
    views.catch_up(core_).await?;
    let (open, versions): (Vec<core::OpenOrder>, Vec<i64>) = views.open_orders.listed().unzip();
    let ids: std::collections::HashSet<&str> = open.iter().map(|o| o.id.as_str()).collect();
    let quotes = views.open_quotes.usable(as_of, |id| ids.contains(id));
    Ok(Inputs {
        open,
        quotes,
        versions,
        offers: views.offers_listed(),
        parties: views.workload.parties().clone(),
        work: views.workload.department_work(),
        baselines: views.workload.baselines(),
    })
}

/// Whether an assignment to commit names the quote the plan priced it
/// with, and that quote is still usable with the same terms: a quote
/// accepted, closed, revised or expired since, or one the assignment
/// names that never priced this order with this provider, is refused.
fn quoted_as_planned(a: &pb::AllocationAssignment, usable: Option<&core::OrderQuote>) -> Result<(), String> {
    if a.quote.is_empty() {
        return Ok(());
    }
    match usable {
        Some(q)
            if adapt::quote_name(&q.quote_id) == a.quote
                && q.price_cents == a.repair_cost_cents
                && q.turnaround_days == a.quoted_turnaround_days =>
        {
            Ok(())
        }
        Some(_) => Err(format!("{} was revised since the plan was made; propose again", a.quote)),
        None => Err(format!(
            "{} is not a usable quote for {} by {} (accepted, closed, interim or expired); propose again",
            a.quote, a.repair_order, a.provider
        )),
    }
}

/// Balances count proposed work too, so that plans committed one after
/// another cannot add up past 50 %.
fn balance_config() -> core::BalanceConfig {
    core::BalanceConfig { include_proposed: true, ..core::BalanceConfig::default() }
}

/// Plans over what the coordinator holds now.
async fn plan(
    core_: &Coordinator,
    views: &tokio::sync::Mutex<LogViews>,
    caller: &cosx_domain::Caller,
    as_of: chrono::NaiveDate,
) -> Result<(core::AllocationPlan, HashMap<String, i64>, usize, usize), Status> {
    let inputs = inputs(core_, views, caller, as_of).await?;
    let balances = core::department_balances(&inputs.work, &inputs.baselines, &balance_config()).map_err(core_error)?;
    let funds: Vec<core::FundsBalance> = balances.iter().map(core::FundsBalance::from).collect();
    let offers = adapt::offers(&inputs.offers, &inputs.parties, as_of);
    let config = core_.allocation_config(as_of);
    let (open, offer_count) = (inputs.open.len(), offers.len());
    // The solver runs for seconds at a hundred thousand orders: off the
    // async workers, which serve every other call meanwhile.
    let (plan, orders) = tokio::task::spawn_blocking(move || {
        let plan = core::allocate_quoted(&inputs.open, &offers, &funds, &inputs.quotes, &config);
        (plan, inputs.open)
    })
    .await
    .map_err(|e| Status::internal(format!("allocation stopped: {e}")))?;
    let plan = plan.map_err(core_error)?;
    let versions = orders.into_iter().map(|o| o.id).zip(inputs.versions).collect();
    Ok((plan, versions, open, offer_count))
}

#[tonic::async_trait]
impl pb::allocation_server::Allocation for AllocationService {
    async fn propose(
        &self,
        request: Request<pb::ProposeAllocationRequest>,
    ) -> Result<Response<pb::AllocationPlan>, Status> {
        let caller = authenticate(&self.core, &request)?;
        let mut v = Violations::new();
        let as_of = v.check("as_of", cosx_domain::vocab::parse_optional_date(&request.get_ref().as_of)).flatten();
        valid(v, Some(()))?;
        let as_of = as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
        let (plan, versions, open, offer_count) = plan(&self.core, &self.views, &caller, as_of).await?;
        let version = |id: &str| versions.get(id).copied().unwrap_or(0);
        Ok(Response::new(plan_out(&plan, &version, open, offer_count)))
    }

    async fn commit(
        &self,
        request: Request<pb::CommitAllocationRequest>,
    ) -> Result<Response<pb::CommitAllocationResponse>, Status> {
        let caller = authenticate(&self.core, &request)?;
        if !caller.is_coordinator() {
            return Err(CoreError::PermissionDenied("only a COORDINATOR party may commit an allocation".into()).into());
        }
        let r = request.into_inner();
        let mut v = Violations::new();
        let mut steps = Vec::new();
        for (i, a) in r.assignments.iter().enumerate() {
            let id = super::convert::resource_id(
                &mut v,
                &format!("assignments[{i}].repair_order"),
                &a.repair_order,
                "repairOrders",
            );
            let provider = v.check(&format!("assignments[{i}].provider"), PartyId::parse(&a.provider));
            // A re-plan's assignment moves an order stranded by this disruption.
            let disruption = if a.disruption.is_empty() {
                Some(None)
            } else {
                super::convert::resource_id(
                    &mut v,
                    &format!("assignments[{i}].disruption"),
                    &a.disruption,
                    "disruptions",
                )
                .map(Some)
            };
            if let (Some(id), Some(provider), Some(disruption)) = (id, provider, disruption) {
                steps.push((a.repair_order.clone(), id, a.order_version, provider, a.clone(), disruption));
            }
        }
        valid(v, Some(()))?;
        // The statute is a hard limit: refuse the whole commit if, with this
        // contract work added to everything projected and proposed, a
        // department and fiscal year would pass 50 % because of it. One
        // already over (cost overruns, say) that the plan does not push
        // further does not block work for the others.
        let today = chrono::Utc::now().date_naive();
        let inputs = inputs(&self.core, &self.views, &caller, today).await?;
        // Every assignment is re-checked against the rules Propose applies
        // (capability, export licences, third-country and prime approvals,
        // organic-only, own orders): an edited plan proposes nothing the
        // solver could not have.
        let open: HashMap<&str, &core::OpenOrder> = inputs.open.iter().map(|o| (o.id.as_str(), o)).collect();
        let quotes: HashMap<(&str, &str), &core::OrderQuote> =
            inputs.quotes.iter().map(|q| ((q.order_id.as_str(), q.provider_id.as_str()), q)).collect();
        let allocation = self.core.allocation_config(today);
        let offers = adapt::offers(&inputs.offers, &inputs.parties, today);
        let mut ineligible = HashMap::new();
        // A move off a disrupted site is judged by the disruption's rule
        // and the same eligibility as any proposal (`check_disrupted_move`).
        let mut moves = std::collections::HashSet::new();
        for (name, id, _, provider, _, disruption) in &steps {
            if let Some(d) = disruption {
                match self.core.check_disrupted_move(&caller, d, id, provider).await {
                    Ok(_) => {
                        moves.insert(id.clone());
                    }
                    Err(e) => {
                        ineligible.insert(name.clone(), Status::from(e).message().to_owned());
                    }
                }
            }
        }
        steps.retain(|(name, id, _, provider, a, disruption)| {
            if disruption.is_some() {
                return moves.contains(id);
            }
            let verdict = match open.get(id.as_str()) {
                Some(order) => core::provider_eligibility(order, &offers, provider.as_str(), &allocation)
                    .map_err(|reason| {
                        let (_, detail) = adapt::reason_detail(&reason);
                        format!("{provider} may not be proposed {name}: {detail}")
                    })
                    .and_then(|()| quoted_as_planned(a, quotes.get(&(id.as_str(), provider.as_str())).copied())),
                None => Err(format!("{name} is not open for allocation")),
            };
            match verdict {
                Ok(()) => true,
                Err(why) => {
                    ineligible.insert(name.clone(), why);
                    false
                }
            }
        });
        let config = balance_config();
        let mut work = inputs.work;
        let before = core::department_balances(&work, &inputs.baselines, &config).map_err(core_error)?;
        // The work each proposal would add, from the order as stored (only
        // the orders of this commit are read).
        for (_, id, _, provider, _, _) in &steps {
            let o = match self.core.get_order(&caller, id).await {
                Ok(o) => o,
                Err(CoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            if moves.contains(id) {
                // The moved work leaves the disrupted provider's count.
                work.retain(|w| &w.order_id != id);
            } else if !o.state.is_open() {
                continue;
            }
            let mut proposed = o;
            proposed.state = cosx_domain::RepairOrderState::Proposed;
            proposed.provider = Some(provider.clone());
            work.extend(adapt::work_records(&[proposed], &inputs.offers, &inputs.parties));
        }
        let after = core::department_balances(&work, &inputs.baselines, &config).map_err(core_error)?;
        let pushed_over = |b: &&core::DepartmentBalance| {
            b.status == core::BalanceStatus::Violation
                && !before.iter().any(|a| {
                    (a.department, a.fiscal_year) == (b.department, b.fiscal_year)
                        && a.contract_share.unwrap_or(0.0) >= b.contract_share.unwrap_or(0.0)
                })
        };
        if let Some(b) = after.iter().find(pushed_over) {
            return Err(Status::failed_precondition(format!(
                "committing would put {:?} FY{} at {:.1} % contract work, over the 50 % limit of 10 U.S.C. 2466",
                b.department,
                b.fiscal_year.0,
                b.contract_share.unwrap_or(0.0) * 100.0
            )));
        }
        let mut results: Vec<pb::CommitResult> = r
            .assignments
            .iter()
            .filter_map(|a| {
                let error = ineligible.remove(&a.repair_order)?;
                Some(pb::CommitResult { repair_order: a.repair_order.clone(), proposed: false, error })
            })
            .collect();
        for (name, id, version, provider, a, disruption) in steps {
            // The quote was checked above to be the one the plan priced with.
            let quoted =
                (!a.quote.is_empty()).then_some((a.quote.as_str(), a.repair_cost_cents, a.quoted_turnaround_days));
            let reason = format!(
                "allocation: {}",
                adapt::placement_reason(a.distance_km, a.total_cost_cents, a.eligible_offers, quoted)
            );
            let outcome = match disruption {
                Some(d) => {
                    let reason = format!("re-plan of disruptions/{d}: moved off the disrupted site; {reason}");
                    self.core.move_disrupted_order(&caller, &d, &id, version, &provider, reason).await
                }
                None if !a.quote.is_empty() => {
                    // Priced with a quote: the order's estimate becomes the quoted price.
                    let quote = a.quote.strip_prefix("repairOrders/").unwrap_or(&a.quote);
                    self.core.propose_at_quote(&caller, &id, version, provider, quote, reason).await
                }
                None => {
                    self.core
                        .transition_order(
                            &caller,
                            &id,
                            version,
                            Action::Propose(provider),
                            Some(reason),
                            WorkProgress::default(),
                            &RequestKey::default(),
                        )
                        .await
                }
            };
            results.push(match outcome {
                Ok(_) => pb::CommitResult { repair_order: name, proposed: true, error: String::new() },
                Err(e) => pb::CommitResult {
                    repair_order: name,
                    proposed: false,
                    error: Status::from(e).message().to_owned(),
                },
            });
        }
        let position: HashMap<&str, usize> =
            r.assignments.iter().enumerate().map(|(i, a)| (a.repair_order.as_str(), i)).collect();
        results.sort_by_key(|res| position.get(res.repair_order.as_str()).copied());
        Ok(Response::new(pb::CommitAllocationResponse { results }))
    }
}
