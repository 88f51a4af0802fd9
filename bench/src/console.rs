//! The web console's pages (issue 20: "every page renders in under 50 ms
//! p99"), fetched over HTTPS as the coordinating office on the
//! coordinator's own mTLS listener, against a static asset fetched the same
//! way in the same rounds (TLS, HTTP/2 and the console's router, nothing
//! computed).
//!
//! Every page is fetched once untimed, then `reps` rounds each fetch every
//! page once, in the same order, so drift on a shared machine hits every
//! page alike.

use std::time::{Duration, Instant};

use tonic::transport::Channel;

use crate::measure::{self, Latencies};

/// The baseline: the console's stylesheet (a `&'static str`).
pub(crate) const BASELINE: &str = "/console/static/console.css";

/// The console's pages a coordinating office sees (GET), by name.
pub(crate) fn pages(order_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("overview", "/console".into()),
        ("demand", "/console/demand".into()),
        ("demand cell chart", format!("/console/demand/cell?region=REGION_INDOPACOM&tms={}", crate::fixtures::TMS[0])),
        ("capacity gaps", "/console/capacity".into()),
        ("50/50 balance", "/console/balance".into()),
        ("availability", "/console/availability".into()),
        (
            "availability drill (fleet)",
            format!("/console/availability/fleet?owner={}&tms={}", crate::exchange::USAF, crate::fixtures::TMS[0]),
        ),
        ("orders list", "/console/orders".into()),
        ("offers list", "/console/offers".into()),
        ("reports list", "/console/reports".into()),
        ("order page", format!("/console/orders/{order_id}")),
        ("allocation", "/console/allocation".into()),
    ]
}

/// Latencies of each page and of the baseline, in the order of `pages`.
pub(crate) async fn measure(
    channel: Channel,
    pages: &[(&'static str, String)],
    reps: usize,
) -> anyhow::Result<(Latencies, Vec<Latencies>)> {
    let mut paths: Vec<&str> = vec![BASELINE];
    paths.extend(pages.iter().map(|(_, p)| p.as_str()));
    for path in &paths {
        measure::http_get(channel.clone(), path).await.map_err(|e| anyhow::anyhow!("GET {path}: {e}"))?;
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); paths.len()];
    let mut elapsed = vec![Duration::ZERO; paths.len()];
    for _ in 0..reps {
        for (i, path) in paths.iter().enumerate() {
            let t = Instant::now();
            measure::http_get(channel.clone(), path).await.map_err(|e| anyhow::anyhow!("GET {path}: {e}"))?;
            let took = t.elapsed();
            samples[i].push(took);
            elapsed[i] += took;
        }
    }
    let mut all = samples.into_iter().zip(elapsed).map(|(mut samples, elapsed)| {
        samples.sort();
        Latencies { elapsed, samples, errors: 0, first_error: None }
    });
    let baseline = all.next().ok_or_else(|| anyhow::anyhow!("no baseline"))?;
    Ok((baseline, all.collect()))
}
