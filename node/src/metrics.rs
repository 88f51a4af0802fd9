//! The node's status as Prometheus text metrics, on a plain-HTTP listener
//! of its own (`metrics_listen`; keep it on loopback or a management
//! network: it shows counts and times, never records or keys).

use std::sync::Arc;

use tokio::net::TcpListener;

use super::api::{Node, status};

/// The metrics page for the node's current status.
pub async fn render(node: &Node) -> Result<String, tonic::Status> {
    let s = status(node).await?;
    let last_sync = s.last_sync_time.as_ref().map_or(0.0, |t| t.seconds as f64 + f64::from(t.nanos) / 1e9);
    let gauges: [(&str, &str, &str, f64); 9] = [
        ("cosx_node_queued_writes", "gauge", "Writes accepted and not yet at the coordinator.", s.queued_writes as f64),
        (
            "cosx_node_oldest_queued_age_seconds",
            "gauge",
            "Age of the oldest queued write (0 when none).",
            s.oldest_queued_age_seconds,
        ),
        ("cosx_node_rejected_writes_total", "counter", "Writes the coordinator refused.", s.rejected_writes as f64),
        ("cosx_node_delivered_writes_total", "counter", "Writes the coordinator has.", s.delivered_writes as f64),
        ("cosx_node_synced_sequence", "gauge", "Coordinator log sequence the replica holds.", s.synced_sequence as f64),
        ("cosx_node_upstream_head", "gauge", "Coordinator log head as last seen.", s.upstream_head as f64),
        (
            "cosx_node_feed_lag_events",
            "gauge",
            "Events the replica is behind the coordinator.",
            s.feed_lag_events as f64,
        ),
        (
            "cosx_node_upstream_connected",
            "gauge",
            "1 if the last call to the coordinator succeeded.",
            if s.upstream_connected { 1.0 } else { 0.0 },
        ),
        ("cosx_node_last_sync_timestamp_seconds", "gauge", "When the feed last answered (Unix time).", last_sync),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in gauges {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    }
    Ok(out)
}

/// Serves `GET /metrics` on `listener` until the task is dropped: the
/// node's status and what its listener counts.
pub async fn serve(listener: TcpListener, node: Arc<Node>) {
    cosx_edge::metrics::serve_with(listener, move || {
        let node = node.clone();
        async move {
            let mut page = render(&node).await.map_err(|e| e.message().to_owned())?;
            page.push_str(&cosx_edge::metrics::render_edge());
            Ok(page)
        }
    })
    .await;
}
