//! What the coordinator makes of the records: adapters from stored domain
//! records to the pure cores (`cosx-availability`, `cosx-demand` and
//! `cosx-allocation`) and the queries over them. The adapters do no I/O:
//! the coordinator gathers the records a caller may see and hands them here.
//! `views` keeps the demand cube, the workload balance, the orders open for
//! allocation, the quotes that may price them and the alert state
//! up to date from the event log (reading it through the coordinator), and
//! `alerts` runs the task that raises bottleneck and 50/50 alerts on the feed.

pub mod alerts;
pub mod availability;
pub mod balance;
pub mod demand;
pub mod open_orders;
pub mod open_quotes;
pub mod order_counts;
pub mod views;
pub mod workload;

/// Below this many slots a view keeps its spare room: shrinking would save
/// little and churn.
const ROOM_KEPT: usize = 4096;

/// Gives back a map's spare room once it holds under an eighth of what it
/// has room for (keeping room to double), so a view's memory follows what
/// it keeps now, not the most it ever kept: a million orders cancelled
/// leave the open-order and count views a tenth of their peak. A shrink
/// builds the smaller table beside the old one, so it waits until the new
/// one is at most a quarter of the old: the process never holds more for
/// it than it did before. Amortized: a shrink to twice the length is paid
/// for by three quarters as many removals.
pub(crate) fn fit_map<K: Eq + std::hash::Hash, V>(map: &mut std::collections::HashMap<K, V>) {
    if map.capacity() > ROOM_KEPT && map.len() * 8 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

/// [`fit_map`] for a vector (shrunk in place, so from a quarter).
pub(crate) fn fit_vec<T>(items: &mut Vec<T>) {
    if items.capacity() > ROOM_KEPT && items.len() * 4 < items.capacity() {
        items.shrink_to(items.len() * 2);
    }
}
