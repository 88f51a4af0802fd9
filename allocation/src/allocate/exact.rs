//! Proof of optimality for the heuristic's plan, part by part: the problem is
//! split into independent parts (orders that share no eligible offer and no
//! department/FY 50/50 limit cannot affect one another), and each part small
//! enough is searched exhaustively by branch and bound for the band
//! objective — within each priority band, highest first, the most items
//! served; then the least total (retrograde + repair) cost. The heuristic's
//! placement is the starting incumbent, so the search only ever replaces it
//! with a strictly better plan, and a part whose search runs out of budget
//! keeps the best plan found and is reported as not proven.
//!
//! Why a search and not a flow: an order is placed whole with one offer,
//! taking its hours (or slots) from that offer's usable periods, so choosing
//! orders for an offer is a knapsack — exact in general only by enumeration.
//! A min-cost flow is exact only when every order needs the same units on
//! every offer it can use (for instance one-item orders on slot offers)
//! and no 50/50 limit binds; the search is exact in every case it finishes.
//!
//! It never relaxes a hard constraint: every placement goes through the same
//! `fits`/`apply` capacity path as the heuristic, and a leaf is accepted only
//! when every 50/50 limit holds. Never performs I/O.

use std::cmp::Ordering;

use super::{Placement, Prepared, State};
use crate::model::Optimality;

/// Parts with more orders than this are left to the heuristic.
const MAX_PART_ORDERS: usize = 64;
/// Search nodes one part may use before it is reported as not proven.
const PART_NODE_BUDGET: u64 = 400_000;
/// Search nodes for all parts of one allocation (keeps large runs bounded).
const TOTAL_NODE_BUDGET: u64 = 4_000_000;
/// Cost below which two plans serving the same items count as equal, cents.
const COST_TIE: f64 = 1e-6;

/// Served items per band (index 0 = priority 1), then total cost.
type Score = ([u64; 15], f64);

/// `Greater` when `a` serves more (lexicographically from the highest band)
/// or serves the same at a lower cost.
fn compare(a: &Score, b: &Score) -> Ordering {
    a.0.cmp(&b.0).then_with(|| {
        if a.1 + COST_TIE < b.1 {
            Ordering::Greater
        } else if b.1 + COST_TIE < a.1 {
            Ordering::Less
        } else {
            Ordering::Equal
        }
    })
}

/// One part's search: orders in branching order and what each may use.
struct Part {
    /// Orders, highest band first, then more items first, then required-by.
    orders: Vec<usize>,
    /// Per position: offers that could hold the order even empty, cheapest first, with true cost.
    candidates: Vec<Vec<(usize, f64)>>,
    /// Per position `t` and local fund key: organic cents orders at `t..` could still add.
    organic_potential: Vec<Vec<i64>>,
    /// Local fund keys of the part (global index).
    keys: Vec<usize>,
}

struct Search {
    nodes: u64,
    budget: u64,
    exhausted: bool,
    served: [u64; 15],
    cost: f64,
    /// Offer chosen per position (None = left unplaced).
    chosen: Vec<Option<usize>>,
    best: Score,
    /// Best complete choice found by the search, if it beat the incumbent.
    best_chosen: Option<Vec<Option<usize>>>,
}

impl Prepared<'_> {
    /// Searches every small part of the problem and replaces its placement
    /// in `st` when a better one exists; reports which orders are proven.
    pub(super) fn prove(&self, st: &mut State) -> Optimality {
        let mut optimality = Optimality::default();
        let mut total = TOTAL_NODE_BUDGET;
        for part in self.parts() {
            let n = part.len() as u32;
            if part.len() > MAX_PART_ORDERS || total == 0 {
                optimality.heuristic_orders += n;
                continue;
            }
            let (proven, used) = self.search_part(st, part, PART_NODE_BUDGET.min(total));
            total = total.saturating_sub(used);
            if proven {
                optimality.proven_orders += n;
            } else {
                optimality.heuristic_orders += n;
            }
        }
        optimality
    }

    /// Independent parts: orders joined through their eligibility group's
    /// offers and through their department/FY 50/50 key (union-find).
    fn parts(&self) -> Vec<Vec<usize>> {
        let (n, m, g) = (self.orders.len(), self.offers.len(), self.groups.len());
        let mut parent: Vec<usize> = (0..n + m + g + self.fund_keys.len()).collect();
        fn root(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let join = |parent: &mut Vec<usize>, a: usize, b: usize| {
            let (ra, rb) = (root(parent, a), root(parent, b));
            if ra != rb {
                parent[ra] = rb;
            }
        };
        for (gi, group) in self.groups.iter().enumerate() {
            for &f in &group.eligible {
                join(&mut parent, n + m + gi, n + f as usize);
            }
        }
        for o in 0..n {
            join(&mut parent, o, n + m + self.order_group[o] as usize);
            if let Some(k) = self.order_fund[o] {
                join(&mut parent, o, n + m + g + k as usize);
            }
        }
        let mut index = std::collections::HashMap::new();
        let mut parts: Vec<Vec<usize>> = Vec::new();
        for o in 0..n {
            let r = root(&mut parent, o);
            let p = *index.entry(r).or_insert_with(|| {
                parts.push(Vec::new());
                parts.len() - 1
            });
            parts[p].push(o);
        }
        parts
    }

    /// Branch and bound over one part. Returns (proven optimal, nodes used).
    fn search_part(&self, st: &mut State, mut orders: Vec<usize>, budget: u64) -> (bool, u64) {
        orders.sort_by_key(|&o| {
            let order = &self.orders[o];
            (order.priority.value(), std::cmp::Reverse(order.quantity), order.required_by, o)
        });
        // The incumbent: the heuristic's placement of this part, taken out of the state.
        let mut incumbent: Vec<(usize, Placement)> = Vec::new();
        let mut start: Score = ([0; 15], 0.0);
        for &o in &orders {
            if let Some(p) = self.remove(st, o) {
                let (_, r, c) = self.true_cost(o, p.offer as usize);
                start.0[self.band(o)] += u64::from(self.orders[o].quantity);
                start.1 += r + c;
                incumbent.push((o, p));
            }
        }
        let part = self.part(orders);
        let mut search = Search {
            nodes: 0,
            budget,
            exhausted: false,
            served: [0; 15],
            cost: 0.0,
            chosen: vec![None; part.orders.len()],
            best: start,
            best_chosen: None,
        };
        self.branch(st, &part, &mut search, 0);
        match search.best_chosen {
            Some(chosen) => {
                // Re-applied in search order, the placements fill periods exactly as in the search.
                for (t, f) in chosen.iter().enumerate() {
                    if let Some(f) = *f {
                        self.apply(st, part.orders[t], f);
                    }
                }
            }
            None => {
                for (o, p) in incumbent {
                    self.restore(st, o, p);
                }
            }
        }
        (!search.exhausted, search.nodes)
    }

    fn band(&self, o: usize) -> usize {
        usize::from(self.orders[o].priority.value()) - 1
    }

    fn part(&self, orders: Vec<usize>) -> Part {
        let mut keys: Vec<usize> = orders.iter().filter_map(|&o| self.order_fund[o].map(|k| k as usize)).collect();
        keys.sort_unstable();
        keys.dedup();
        let candidates: Vec<Vec<(usize, f64)>> = orders
            .iter()
            .map(|&o| {
                let mut c: Vec<(usize, f64)> = self.groups[self.order_group[o] as usize]
                    .eligible
                    .iter()
                    .map(|&f| f as usize)
                    .filter(|&f| self.full_window(o, f) + super::EPS >= self.units(o, f))
                    .map(|f| {
                        let (_, r, c) = self.true_cost(o, f);
                        (f, r + c)
                    })
                    .collect();
                c.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                c
            })
            .collect();
        let mut organic_potential = vec![vec![0i64; keys.len()]; orders.len() + 1];
        for t in (0..orders.len()).rev() {
            organic_potential[t] = organic_potential[t + 1].clone();
            let o = orders[t];
            if let Some(k) = self.order_fund[o]
                && candidates[t].iter().any(|&(f, _)| !self.rt[f].contract)
                && let Ok(local) = keys.binary_search(&(k as usize))
            {
                organic_potential[t][local] += self.orders[o].estimated_cost_cents;
            }
        }
        Part { orders, candidates, organic_potential, keys }
    }

    /// Whether the 50/50 limits of the part can still all hold once the
    /// orders from position `t` on add whatever organic work they can.
    fn funds_reachable(&self, st: &State, part: &Part, t: usize) -> bool {
        part.keys.iter().enumerate().all(|(local, &k)| {
            let (ao, ac) = st.added[k];
            let (bo, bc) = self.fund_base[k];
            ac == 0
                || i128::from(bc) + i128::from(ac)
                    <= i128::from(bo) + i128::from(ao) + i128::from(part.organic_potential[t][local])
        })
    }

    fn branch(&self, st: &mut State, part: &Part, s: &mut Search, t: usize) {
        s.nodes += 1;
        if s.nodes > s.budget {
            s.exhausted = true;
            return;
        }
        if t == part.orders.len() {
            let here = (s.served, s.cost);
            if part.keys.iter().all(|&k| self.fund_ok(st, k, 0, 0)) && compare(&here, &s.best) == Ordering::Greater {
                s.best = here;
                s.best_chosen = Some(s.chosen.clone());
            }
            return;
        }
        // Bound: every later order that still fits somewhere is served at its cheapest fitting offer.
        let mut bound = (s.served, s.cost);
        for u in t..part.orders.len() {
            let o = part.orders[u];
            if let Some(&(_, c)) = part.candidates[u].iter().find(|&&(f, _)| self.fits(st, o, f)) {
                bound.0[self.band(o)] += u64::from(self.orders[o].quantity);
                bound.1 += c;
            }
        }
        if compare(&bound, &s.best) != Ordering::Greater {
            return;
        }
        let o = part.orders[t];
        for &(f, c) in &part.candidates[t] {
            if !self.fits(st, o, f) {
                continue;
            }
            self.apply(st, o, f);
            if self.funds_reachable(st, part, t + 1) {
                s.served[self.band(o)] += u64::from(self.orders[o].quantity);
                s.cost += c;
                s.chosen[t] = Some(f);
                self.branch(st, part, s, t + 1);
                s.chosen[t] = None;
                s.cost -= c;
                s.served[self.band(o)] -= u64::from(self.orders[o].quantity);
            }
            self.remove(st, o);
            if s.exhausted {
                return;
            }
        }
        self.branch(st, part, s, t + 1);
    }
}
