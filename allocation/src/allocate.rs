//! The allocation heuristic: proposes which capacity offer takes which open
//! order, honouring every hard constraint (capability, capacity per period,
//! required-by, `organic_only`, export control, third-country approvals, the
//! 50/50 limit) and explaining each choice and each order left unplaced.
//!
//! Algorithm (lexicographic by priority, then cost):
//! 1. Orders with the same eligibility signature
//!    ([`crate::eligibility::Signature`]) share one list of capable and
//!    eligible offers, computed once with [`crate::eligibility`]'s rules.
//! 2. Priority bands are processed from 1 to 15. Inside a band, orders go by
//!    required-by date (earliest first); each is placed whole on the cheapest
//!    offer (retrograde + repair cost, plus a Lagrangian price on contract
//!    dollars, see 5.) that has room in its usable periods and keeps the
//!    department's contract share within 50 %. Capacity is taken from the
//!    latest usable period backward, keeping early periods for orders due sooner.
//! 3. An order refused only by the 50/50 limit waits in a queue of its
//!    department and FY; whenever organic work of that department and FY is
//!    placed, the new room goes to the waiting orders first, in priority order,
//!    before any lower-priority contract work can take it.
//! 4. Repair: an order of the band still unplaced tries to free room on an
//!    eligible offer by moving one already placed order (of any band, which
//!    stays placed) to another offer with room. Bounded by a work budget.
//! 5. When a 50/50 cap left an order without a place, the run is repeated with
//!    a price per contract cent for the binding department/FYs, rising on a
//!    geometric grid until the result gets worse, and the plan serving the
//!    most priority (lexicographically), then costing least, is kept.
//!
//! A final pass retries every unplaced order (organic work placed late may
//! have opened 50/50 room).
//! 6. Proof (`allocate/exact.rs`): the problem splits into independent parts (no shared
//!    offer, no shared department/FY limit); each part small enough is searched
//!    exhaustively by branch and bound, from the heuristic's placement, for the
//!    most items per band (highest band first), then the least cost, and its
//!    placement is replaced when a better one exists. The plan's
//!    [`Optimality`] counts the orders proven optimal and those left heuristic.
//!
//! Each remaining unplaced order is then classified by the first reason that
//! is true of the final plan. Never performs I/O.

mod exact;

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::{Department, FiscalYear, MaintenanceLevel, Nation, ProviderKind, RepairType};
use crate::eligibility::{Signature, ineligibilities};
use crate::error::{InputError, invalid};
use crate::model::{
    AllocationConfig, AllocationPlan, Assignment, CapacityOffer, Explanation, FundsBalance, FundsUse, Ineligibility,
    OpenOrder, Optimality, OrderQuote, PeriodUse, QuoteUse, Unplaced, UnplacedReason,
};

const EPS: f64 = 1e-9;
/// Lagrangian prices tried (extra cost per contract cent) when a cap binds.
const PRICE_GRID: [f64; 6] = [0.05, 0.2, 1.0, 5.0, 25.0, 1.0e4];
/// Work budget (fit checks) of the repair step per run.
const REPAIR_BUDGET: u64 = 4_000_000;
/// Offers examined for one unplaced order in the repair step.
const REPAIR_OFFERS: usize = 16;
/// Placed orders examined per offer in the repair step.
const REPAIR_VICTIMS: usize = 32;

/// Proposes an allocation of `orders` to `offers`.
///
/// `balances` gives the projected organic and contract dollars per department
/// and FY before this plan (entries for the same key are summed; a missing
/// key starts at zero, so any contract work there needs organic work first).
pub fn allocate(
    orders: &[OpenOrder],
    offers: &[CapacityOffer],
    balances: &[FundsBalance],
    config: &AllocationConfig,
) -> Result<AllocationPlan, InputError> {
    allocate_quoted(orders, offers, balances, &[], config)
}

/// [`allocate()`] with providers' quotes: an order placed with a provider
/// that quoted on it costs the quoted price for its repair (instead of the
/// offer's rate × units) in every comparison, the proof included, and its
/// assignment says which quote priced it and when the item is serviceable
/// by the quoted turnaround. Retrograde cost, capacity, timing and
/// eligibility are judged as for any placement.
pub fn allocate_quoted(
    orders: &[OpenOrder],
    offers: &[CapacityOffer],
    balances: &[FundsBalance],
    quotes: &[OrderQuote],
    config: &AllocationConfig,
) -> Result<AllocationPlan, InputError> {
    validate(orders, offers, balances, config)?;
    validate_quotes(quotes)?;
    let mut prep = Prepared::new(orders, offers, balances, config);
    prep.take_quotes(quotes);
    let base = prep.run(&vec![0.0; prep.fund_keys.len()]);
    let mut best = base.state;
    if base.binding.iter().any(|b| *b) {
        let mut best_score = prep.score(&best);
        // Prices rise geometrically; stop at the first price that does worse
        // than the one before it (the served priority is unimodal in practice).
        let mut previous = best_score;
        for price in PRICE_GRID {
            let lambda: Vec<f64> = base.binding.iter().map(|b| if *b { price } else { 0.0 }).collect();
            let run = prep.run(&lambda);
            let s = prep.score(&run.state);
            let better = |a: &([u64; 15], f64), b: &([u64; 15], f64)| a.0 > b.0 || (a.0 == b.0 && a.1 < b.1);
            if better(&s, &best_score) {
                best = run.state;
                best_score = s;
            }
            if better(&previous, &s) || !run.binding.iter().any(|b| *b) {
                break;
            }
            previous = s;
        }
    }
    let optimality = prep.prove(&mut best);
    Ok(prep.plan(&best, optimality))
}

fn validate(
    orders: &[OpenOrder],
    offers: &[CapacityOffer],
    balances: &[FundsBalance],
    config: &AllocationConfig,
) -> Result<(), InputError> {
    if config.retrograde_cents_per_km_per_item < 0 {
        return Err(invalid("config.retrograde_cents_per_km_per_item", "must not be negative"));
    }
    if !(config.transit_km_per_day.is_finite() && config.transit_km_per_day > 0.0) {
        return Err(invalid("config.transit_km_per_day", "must be finite and > 0"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, o) in orders.iter().enumerate() {
        if !seen.insert(o.id.as_str()) {
            return Err(InputError::DuplicateId { field: format!("orders[{i}].id"), id: o.id.clone() });
        }
        if o.quantity == 0 {
            return Err(invalid(format!("orders[{i}].quantity"), "must be at least 1"));
        }
        if !(o.estimated_hours.is_finite() && o.estimated_hours >= 0.0) {
            return Err(invalid(
                format!("orders[{i}].estimated_hours"),
                format!("must be finite and >= 0, got {}", o.estimated_hours),
            ));
        }
        if o.estimated_cost_cents < 0 {
            return Err(invalid(format!("orders[{i}].estimated_cost_cents"), "must not be negative"));
        }
        o.location.check(&format!("orders[{i}].location"))?;
    }
    seen.clear();
    for (i, f) in offers.iter().enumerate() {
        if !seen.insert(f.id.as_str()) {
            return Err(InputError::DuplicateId { field: format!("offers[{i}].id"), id: f.id.clone() });
        }
        if f.provider_kind == ProviderKind::Organic && f.provider_nation != Nation::usa() {
            return Err(invalid(
                format!("offers[{i}].provider_nation"),
                format!("an ORGANIC provider is a US government depot, got nation {}", f.provider_nation),
            ));
        }
        if f.rate_cents_per_unit < 0 {
            return Err(invalid(format!("offers[{i}].rate_cents_per_unit"), "must not be negative"));
        }
        f.site.check(&format!("offers[{i}].site"))?;
        for (j, p) in f.periods.iter().enumerate() {
            if p.end < p.start {
                return Err(invalid(
                    format!("offers[{i}].periods[{j}].end"),
                    format!("{} is before start {}", p.end, p.start),
                ));
            }
            if !(p.capacity.is_finite() && p.capacity >= 0.0) {
                return Err(invalid(
                    format!("offers[{i}].periods[{j}].capacity"),
                    format!("must be finite and >= 0, got {}", p.capacity),
                ));
            }
        }
    }
    for (i, b) in balances.iter().enumerate() {
        if b.organic_cents < 0 || b.contract_cents < 0 {
            return Err(invalid(format!("balances[{i}]"), "cents must not be negative"));
        }
    }
    Ok(())
}

fn validate_quotes(quotes: &[OrderQuote]) -> Result<(), InputError> {
    let mut seen = std::collections::HashSet::new();
    for (i, q) in quotes.iter().enumerate() {
        if q.price_cents < 0 {
            return Err(invalid(format!("quotes[{i}].price_cents"), "must not be negative"));
        }
        if !seen.insert((q.order_id.as_str(), q.provider_id.as_str())) {
            return Err(InputError::DuplicateId {
                field: format!("quotes[{i}]"),
                id: format!("{} by {}", q.order_id, q.provider_id),
            });
        }
    }
    Ok(())
}

struct Group {
    capable: usize,
    eligible: Vec<u32>,
    blocked: Vec<Ineligibility>,
}

struct OfferRt {
    /// Period indices sorted by start date.
    sorted: Vec<usize>,
    earliest: NaiveDate,
    contract: bool,
}

struct Prepared<'a> {
    orders: &'a [OpenOrder],
    offers: &'a [CapacityOffer],
    config: &'a AllocationConfig,
    rt: Vec<OfferRt>,
    groups: Vec<Group>,
    order_group: Vec<u32>,
    fund_keys: Vec<(Department, FiscalYear)>,
    fund_base: Vec<(i64, i64)>,
    order_fund: Vec<Option<u32>>,
    /// Orders by priority band, each band sorted by required-by.
    bands: Vec<Vec<u32>>,
    /// The quotes of each quoted order (by index), with their providers.
    quotes: HashMap<u32, Vec<&'a OrderQuote>>,
}

#[derive(Clone)]
struct Placement {
    offer: u32,
    uses: Vec<(usize, f64)>,
}

#[derive(Clone)]
struct State {
    remaining: Vec<Vec<f64>>,
    total_remaining: Vec<f64>,
    placed: Vec<Option<Placement>>,
    on_offer: Vec<Vec<u32>>,
    /// (organic, contract) cents added per fund key.
    added: Vec<(i64, i64)>,
}

struct RunResult {
    state: State,
    /// Fund keys where a placement was refused by the cap.
    binding: Vec<bool>,
}

impl<'a> Prepared<'a> {
    fn new(
        orders: &'a [OpenOrder],
        offers: &'a [CapacityOffer],
        balances: &[FundsBalance],
        config: &'a AllocationConfig,
    ) -> Self {
        let rt = offers
            .iter()
            .map(|f| {
                let mut sorted: Vec<usize> = (0..f.periods.len()).collect();
                sorted.sort_by_key(|&j| (f.periods[j].start, f.periods[j].end));
                OfferRt {
                    sorted,
                    earliest: f.earliest_start(config.as_of),
                    contract: f.provider_kind.counts_as_contract(config.partner_government_is_organic),
                }
            })
            .collect();

        let mut capable_index: HashMap<(&str, MaintenanceLevel, RepairType), Vec<u32>> = HashMap::new();
        for (fi, f) in offers.iter().enumerate() {
            for c in &f.capabilities {
                for rtp in &c.repair_types {
                    let list = capable_index.entry((c.tms.as_str(), c.level, *rtp)).or_default();
                    if list.last() != Some(&(fi as u32)) {
                        list.push(fi as u32);
                    }
                }
            }
        }

        let mut group_ids: HashMap<Signature<'a>, u32> = HashMap::new();
        let mut groups = Vec::new();
        let mut order_group = Vec::with_capacity(orders.len());
        let mut fund_ids: HashMap<(Department, FiscalYear), u32> = HashMap::new();
        let mut fund_keys = Vec::new();
        let mut order_fund = Vec::with_capacity(orders.len());
        for o in orders {
            let g = *group_ids.entry(Signature::of(o)).or_insert_with(|| {
                let capable = capable_index.get(&(o.tms.as_str(), o.level, o.repair_type));
                let mut eligible = Vec::new();
                let mut blocked = Vec::new();
                for &fi in capable.into_iter().flatten() {
                    let why = ineligibilities(o, &offers[fi as usize], config);
                    if why.is_empty() {
                        eligible.push(fi);
                    } else {
                        blocked.extend(why);
                    }
                }
                blocked.sort();
                blocked.dedup();
                groups.push(Group { capable: capable.map_or(0, Vec::len), eligible, blocked });
                (groups.len() - 1) as u32
            });
            order_group.push(g);
            order_fund.push(o.counts_toward_5050().map(|k| {
                *fund_ids.entry(k).or_insert_with(|| {
                    fund_keys.push(k);
                    (fund_keys.len() - 1) as u32
                })
            }));
        }
        let mut fund_base = vec![(0i64, 0i64); fund_keys.len()];
        for b in balances {
            if let Some(&k) = fund_ids.get(&(b.department, b.fiscal_year)) {
                fund_base[k as usize].0 += b.organic_cents;
                fund_base[k as usize].1 += b.contract_cents;
            }
        }
        let mut bands: Vec<Vec<u32>> = vec![Vec::new(); 15];
        for (i, o) in orders.iter().enumerate() {
            bands[usize::from(o.priority.value()) - 1].push(i as u32);
        }
        for band in &mut bands {
            band.sort_by_key(|&i| (orders[i as usize].required_by, i));
        }
        Prepared {
            orders,
            offers,
            config,
            rt,
            groups,
            order_group,
            fund_keys,
            fund_base,
            order_fund,
            bands,
            quotes: HashMap::new(),
        }
    }

    /// Keeps the quotes for orders of this run, by order.
    fn take_quotes(&mut self, quotes: &'a [OrderQuote]) {
        if quotes.is_empty() {
            return;
        }
        let index: HashMap<&str, u32> =
            self.orders.iter().enumerate().map(|(i, o)| (o.id.as_str(), i as u32)).collect();
        for q in quotes {
            if let Some(&o) = index.get(q.order_id.as_str()) {
                self.quotes.entry(o).or_default().push(q);
            }
        }
    }

    /// The quote of offer `f`'s provider for order `o`, if it quoted.
    fn quote(&self, o: usize, f: usize) -> Option<&'a OrderQuote> {
        if self.quotes.is_empty() {
            return None;
        }
        let provider = self.offers[f].provider_id.as_str();
        self.quotes.get(&(o as u32))?.iter().copied().find(|q| q.provider_id == provider)
    }

    /// Usable period indices of offer `f` for an order due `required_by`, by start date.
    fn window(&self, f: usize, required_by: NaiveDate) -> impl DoubleEndedIterator<Item = usize> + '_ {
        let rt = &self.rt[f];
        let periods = &self.offers[f].periods;
        let hi = if rt.earliest <= required_by {
            rt.sorted.partition_point(|&j| periods[j].start <= required_by)
        } else {
            0
        };
        rt.sorted[..hi].iter().copied().filter(move |&j| periods[j].end >= rt.earliest)
    }

    fn units(&self, o: usize, f: usize) -> f64 {
        self.orders[o].units_in(self.offers[f].unit)
    }

    fn room(&self, st: &State, o: usize, f: usize) -> f64 {
        self.window(f, self.orders[o].required_by).map(|j| st.remaining[f][j]).sum()
    }

    fn fits(&self, st: &State, o: usize, f: usize) -> bool {
        let need = self.units(o, f);
        if st.total_remaining[f] + EPS < need {
            return false;
        }
        self.room(st, o, f) + EPS >= need
    }

    /// Whether the plan's additions for fund key `k`, changed by the deltas,
    /// keep the department within 50 %: no contract work added, or projected
    /// contract <= projected organic.
    fn fund_ok(&self, st: &State, k: usize, d_organic: i64, d_contract: i64) -> bool {
        let (ao, ac) = st.added[k];
        let (bo, bc) = self.fund_base[k];
        let c = ac + d_contract;
        c == 0 || i128::from(bc) + i128::from(c) <= i128::from(bo) + i128::from(ao + d_organic)
    }

    fn fund_delta(&self, o: usize, f: usize) -> Option<(usize, i64, i64)> {
        self.order_fund[o].map(|k| {
            let cents = self.orders[o].estimated_cost_cents;
            if self.rt[f].contract { (k as usize, 0, cents) } else { (k as usize, cents, 0) }
        })
    }

    fn placement_fund_ok(&self, st: &State, o: usize, f: usize) -> bool {
        match self.fund_delta(o, f) {
            Some((k, d_o, d_c)) => self.fund_ok(st, k, d_o, d_c),
            None => true,
        }
    }

    fn true_cost(&self, o: usize, f: usize) -> (f64, f64, f64) {
        let order = &self.orders[o];
        let offer = &self.offers[f];
        let dist = order.location.distance_km(&offer.site);
        let retro = dist * self.config.retrograde_cents_per_km_per_item as f64 * f64::from(order.quantity);
        let repair = match self.quote(o, f) {
            Some(q) => q.price_cents as f64,
            None => offer.rate_cents_per_unit as f64 * self.units(o, f),
        };
        (dist, retro, repair)
    }

    fn priced_cost(&self, o: usize, f: usize, lambda: &[f64]) -> f64 {
        let (_, retro, repair) = self.true_cost(o, f);
        let mut c = retro + repair;
        if self.rt[f].contract
            && let Some(k) = self.order_fund[o]
        {
            c += lambda[k as usize] * self.orders[o].estimated_cost_cents as f64;
        }
        c
    }

    fn apply(&self, st: &mut State, o: usize, f: usize) {
        let mut need = self.units(o, f);
        let window: Vec<usize> = self.window(f, self.orders[o].required_by).collect();
        let mut uses = Vec::new();
        for &j in window.iter().rev() {
            if need <= EPS {
                break;
            }
            let take = st.remaining[f][j].min(need);
            if take > 0.0 {
                st.remaining[f][j] -= take;
                need -= take;
                uses.push((j, take));
            }
        }
        self.commit(st, o, f, uses);
    }

    fn commit(&self, st: &mut State, o: usize, f: usize, uses: Vec<(usize, f64)>) {
        // Period remainders were already reduced by the caller.
        let total: f64 = uses.iter().map(|u| u.1).sum();
        st.total_remaining[f] -= total;
        if let Some((k, d_o, d_c)) = self.fund_delta(o, f) {
            st.added[k].0 += d_o;
            st.added[k].1 += d_c;
        }
        st.on_offer[f].push(o as u32);
        st.placed[o] = Some(Placement { offer: f as u32, uses });
    }

    fn remove(&self, st: &mut State, o: usize) -> Option<Placement> {
        let p = st.placed[o].take()?;
        let f = p.offer as usize;
        for &(j, u) in &p.uses {
            st.remaining[f][j] += u;
            st.total_remaining[f] += u;
        }
        if let Some((k, d_o, d_c)) = self.fund_delta(o, f) {
            st.added[k].0 -= d_o;
            st.added[k].1 -= d_c;
        }
        if let Some(pos) = st.on_offer[f].iter().position(|&x| x as usize == o) {
            st.on_offer[f].swap_remove(pos);
        }
        Some(p)
    }

    fn restore(&self, st: &mut State, o: usize, p: Placement) {
        let f = p.offer as usize;
        for &(j, u) in &p.uses {
            st.remaining[f][j] -= u;
        }
        self.commit(st, o, f, p.uses);
    }

    /// Cheapest offer with room and 50/50 headroom. The flag says whether an
    /// offer with room was refused only because of the 50/50 limit.
    fn best_offer(&self, st: &State, o: usize, lambda: &[f64], skip: Option<usize>) -> (Option<usize>, bool) {
        let mut best: Option<(f64, usize)> = None;
        let mut refused = false;
        for &f in &self.groups[self.order_group[o] as usize].eligible {
            let f = f as usize;
            if Some(f) == skip || st.total_remaining[f] + EPS < self.units(o, f) {
                continue;
            }
            let c = self.priced_cost(o, f, lambda);
            if best.is_some_and(|(bc, _)| c >= bc) {
                continue;
            }
            if !self.fits(st, o, f) {
                continue;
            }
            if !self.placement_fund_ok(st, o, f) {
                refused = true;
                continue;
            }
            best = Some((c, f));
        }
        (best.map(|b| b.1), refused && best.is_none())
    }

    /// Contract cents key `k` can still take.
    fn headroom(&self, st: &State, k: usize) -> i64 {
        let (ao, ac) = st.added[k];
        let (bo, bc) = self.fund_base[k];
        bo + ao - bc - ac
    }

    /// Places `o` on `f`; organic work raises its department's 50/50 room,
    /// which goes first to orders that were waiting for it, in priority order.
    fn place(&self, st: &mut State, o: usize, f: usize, lambda: &[f64], pending: &mut [Vec<u32>]) {
        self.apply(st, o, f);
        if !self.rt[f].contract
            && let Some(k) = self.order_fund[o]
        {
            self.drain(st, k as usize, lambda, pending);
        }
    }

    fn drain(&self, st: &mut State, k: usize, lambda: &[f64], pending: &mut [Vec<u32>]) {
        let mut i = 0;
        while i < pending[k].len() {
            let o = pending[k][i] as usize;
            if st.placed[o].is_some() {
                pending[k].remove(i);
                continue;
            }
            if self.orders[o].estimated_cost_cents > self.headroom(st, k) {
                i += 1;
                continue;
            }
            // With enough room the cap cannot refuse: either it goes now or
            // capacity is gone and it stops waiting.
            pending[k].remove(i);
            if let (Some(f), _) = self.best_offer(st, o, lambda, None) {
                self.apply(st, o, f);
                if !self.rt[f].contract {
                    i = 0;
                }
            }
        }
    }

    fn run(&self, lambda: &[f64]) -> RunResult {
        let mut st = State {
            remaining: self.offers.iter().map(|f| f.periods.iter().map(|p| p.capacity).collect()).collect(),
            total_remaining: self.offers.iter().map(|f| f.periods.iter().map(|p| p.capacity).sum()).collect(),
            placed: vec![None; self.orders.len()],
            on_offer: vec![Vec::new(); self.offers.len()],
            added: vec![(0, 0); self.fund_keys.len()],
        };
        let mut binding = vec![false; self.fund_keys.len()];
        let mut pending: Vec<Vec<u32>> = vec![Vec::new(); self.fund_keys.len()];
        let mut budget = REPAIR_BUDGET;
        for band in &self.bands {
            let mut missed = Vec::new();
            for &o in band {
                let o = o as usize;
                match self.best_offer(&st, o, lambda, None) {
                    (Some(f), _) => self.place(&mut st, o, f, lambda, &mut pending),
                    (None, refused) => {
                        if refused && let Some(k) = self.order_fund[o] {
                            binding[k as usize] = true;
                            pending[k as usize].push(o as u32);
                        }
                        missed.push(o);
                    }
                }
            }
            for o in missed {
                if budget == 0 {
                    break;
                }
                if st.placed[o].is_none() && self.repair(&mut st, o, lambda, &mut budget) {
                    for k in 0..self.fund_keys.len() {
                        self.drain(&mut st, k, lambda, &mut pending);
                    }
                }
            }
        }
        // Final retry: room freed by repairs or late organic work.
        for band in &self.bands {
            for &o in band {
                let o = o as usize;
                if st.placed[o].is_none()
                    && let (Some(f), _) = self.best_offer(&st, o, lambda, None)
                {
                    self.apply(&mut st, o, f);
                }
            }
        }
        RunResult { state: st, binding }
    }

    /// Tries to place `o` by moving one placed order off an eligible offer.
    fn repair(&self, st: &mut State, o: usize, lambda: &[f64], budget: &mut u64) -> bool {
        let order = &self.orders[o];
        let mut targets: Vec<(f64, usize)> = self.groups[self.order_group[o] as usize]
            .eligible
            .iter()
            .map(|&f| f as usize)
            .filter(|&f| {
                let cap: f64 = self.window(f, order.required_by).map(|j| self.offers[f].periods[j].capacity).sum();
                cap + EPS >= self.units(o, f)
            })
            .map(|f| (self.priced_cost(o, f, lambda), f))
            .collect();
        targets.sort_by(|a, b| a.0.total_cmp(&b.0));
        for &(_, f) in targets.iter().take(REPAIR_OFFERS) {
            let victims: Vec<u32> = st.on_offer[f].iter().copied().take(REPAIR_VICTIMS).collect();
            for q in victims {
                let q = q as usize;
                if *budget == 0 {
                    return false;
                }
                *budget = budget.saturating_sub(1 + self.groups[self.order_group[q] as usize].eligible.len() as u64);
                let Some(old) = self.remove(st, q) else {
                    continue;
                };
                if self.fits(st, o, f) {
                    // `o` goes first so that its organic dollars count when `q` moves.
                    self.apply(st, o, f);
                    if let (Some(g), _) = self.best_offer(st, q, lambda, Some(f)) {
                        self.apply(st, q, g);
                        if self.funds_valid(st) {
                            return true;
                        }
                        self.remove(st, q);
                    }
                    self.remove(st, o);
                }
                self.restore(st, q, old);
            }
        }
        false
    }

    fn funds_valid(&self, st: &State) -> bool {
        (0..self.fund_keys.len()).all(|k| self.fund_ok(st, k, 0, 0))
    }

    /// (served quantity per priority, highest first; true total cost).
    fn score(&self, st: &State) -> ([u64; 15], f64) {
        let mut served = [0u64; 15];
        let mut cost = 0.0;
        for (o, p) in st.placed.iter().enumerate() {
            if let Some(p) = p {
                served[usize::from(self.orders[o].priority.value()) - 1] += u64::from(self.orders[o].quantity);
                let (_, r, c) = self.true_cost(o, p.offer as usize);
                cost += r + c;
            }
        }
        (served, cost)
    }

    fn plan(&self, st: &State, optimality: Optimality) -> AllocationPlan {
        let mut assignments = Vec::new();
        let mut unplaced = Vec::new();
        let mut served_priority_weight = 0;
        let mut total_cost_cents = 0;
        for band in &self.bands {
            for &o in band {
                let o = o as usize;
                match &st.placed[o] {
                    Some(p) => {
                        let a = self.assignment(o, p);
                        served_priority_weight += self.orders[o].priority_weight();
                        total_cost_cents += a.explanation.total_cost_cents;
                        assignments.push(a);
                    }
                    None => unplaced.push(Unplaced { order_id: self.orders[o].id.clone(), reason: self.reason(st, o) }),
                }
            }
        }
        let funds = self
            .fund_keys
            .iter()
            .zip(&self.fund_base)
            .zip(&st.added)
            .map(|((&(department, fiscal_year), &(bo, bc)), &(ao, ac))| FundsUse {
                department,
                fiscal_year,
                organic_before_cents: bo,
                contract_before_cents: bc,
                organic_added_cents: ao,
                contract_added_cents: ac,
            })
            .collect();
        AllocationPlan { assignments, unplaced, funds, served_priority_weight, total_cost_cents, optimality }
    }

    fn full_window(&self, o: usize, f: usize) -> f64 {
        self.window(f, self.orders[o].required_by).map(|j| self.offers[f].periods[j].capacity).sum()
    }

    fn assignment(&self, o: usize, p: &Placement) -> Assignment {
        let f = p.offer as usize;
        let offer = &self.offers[f];
        let (dist, retro, repair) = self.true_cost(o, f);
        let my_cost = retro + repair;
        let mut eligible_offers = 0;
        let mut cheaper_offer_was_full = false;
        for &g in &self.groups[self.order_group[o] as usize].eligible {
            let g = g as usize;
            if self.full_window(o, g) + EPS >= self.units(o, g) {
                eligible_offers += 1;
                let (_, r, c) = self.true_cost(o, g);
                if g != f && r + c < my_cost {
                    cheaper_offer_was_full = true;
                }
            }
        }
        Assignment {
            order_id: self.orders[o].id.clone(),
            offer_id: offer.id.clone(),
            provider_id: offer.provider_id.clone(),
            units: p.uses.iter().map(|u| u.1).sum(),
            periods: p
                .uses
                .iter()
                .map(|&(j, units)| PeriodUse {
                    period_index: j,
                    start: offer.periods[j].start,
                    end: offer.periods[j].end,
                    units,
                })
                .collect(),
            explanation: Explanation {
                distance_km: dist,
                transit_days: (dist / self.config.transit_km_per_day).ceil() as u32,
                retrograde_cost_cents: retro.round() as i64,
                repair_cost_cents: repair.round() as i64,
                total_cost_cents: retro.round() as i64 + repair.round() as i64,
                eligible_offers,
                cheaper_offer_was_full,
                contract_work_for: if self.rt[f].contract { self.orders[o].counts_toward_5050() } else { None },
                quote: self.quote(o, f).map(|q| {
                    let first = p.uses.iter().map(|&(j, _)| offer.periods[j].start).min();
                    let induction = first.map_or(self.rt[f].earliest, |d| d.max(self.rt[f].earliest));
                    QuoteUse {
                        quote_id: q.quote_id.clone(),
                        price_cents: q.price_cents,
                        turnaround_days: q.turnaround_days,
                        induction,
                        serviceable_by: induction + chrono::Duration::days(i64::from(q.turnaround_days)),
                    }
                }),
            },
        }
    }

    fn reason(&self, st: &State, o: usize) -> UnplacedReason {
        let order = &self.orders[o];
        let group = &self.groups[self.order_group[o] as usize];
        if group.capable == 0 {
            return UnplacedReason::NoCapableProvider;
        }
        if group.eligible.is_empty() {
            return UnplacedReason::NoEligibleProvider { blocked_by: group.blocked.clone() };
        }
        let in_time: Vec<usize> = group
            .eligible
            .iter()
            .map(|&f| f as usize)
            .filter(|&f| self.window(f, order.required_by).next().is_some())
            .collect();
        if in_time.is_empty() {
            let earliest_start = group
                .eligible
                .iter()
                .filter_map(|&f| {
                    let f = f as usize;
                    let e = self.rt[f].earliest;
                    self.offers[f].periods.iter().filter(|p| p.end >= e).map(|p| p.start.max(e)).min()
                })
                .min();
            return UnplacedReason::PastRequiredBy { required_by: order.required_by, earliest_start };
        }
        let holdable: Vec<usize> =
            in_time.iter().copied().filter(|&f| self.full_window(o, f) + EPS >= self.units(o, f)).collect();
        if holdable.is_empty() {
            let (mut units_needed, mut largest_window, mut best_ratio) = (0.0, 0.0, -1.0);
            for &f in &in_time {
                let (need, w) = (self.units(o, f), self.full_window(o, f));
                let ratio = if need > 0.0 { w / need } else { f64::INFINITY };
                if ratio > best_ratio {
                    (units_needed, largest_window, best_ratio) = (need, w, ratio);
                }
            }
            return UnplacedReason::LargerThanAnyOffer { units_needed, largest_window };
        }
        if holdable.iter().any(|&f| self.fits(st, o, f))
            && let Some((department, fiscal_year)) = order.counts_toward_5050()
        {
            return UnplacedReason::BlockedBy5050 { department, fiscal_year };
        }
        UnplacedReason::CapacityExhausted { eligible_offers: holdable.len() as u32 }
    }
}
