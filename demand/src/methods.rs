//! The point-forecast recursions of the intermittent-demand methods, each
//! computed exactly as the open-source reference a planner will check them
//! against computes it: Nixtla's statsforecast 2.1.1
//! (`python/statsforecast/models.py` and `src/ses.cpp`, commit a580cf9).
//! `demand/tests/statsforecast.rs` holds every method to that reference to
//! 1e-6 on series of every pattern (values made by
//! `demand/reference/make_reference.py`).
//!
//! Conventions taken from the reference (each in one function below):
//! - SES: level starts at the first value; the forecast is the level after
//!   the last value (`ses_forecast`).
//! - Inter-demand intervals: the gaps between successive non-zero periods,
//!   the first counted from the start of the series (a demand in period 1
//!   has interval 1); periods after the last demand are not an interval
//!   (`_intervals`).
//! - Croston: SES of the non-zero sizes over SES of the intervals, one α.
//! - TSB: SES of the 0/1 occurrence series, its level starting at the
//!   first period's occurrence, times SES of the non-zero sizes.
//! - ADIDA / IMAPA: sums over non-overlapping blocks aligned to the end of
//!   the series (the oldest `n mod k` periods are dropped), SES with α
//!   chosen on [0.1, 0.3] by golden-section search of the in-sample squared
//!   error, divided by the block length; the block length is the mean
//!   interval rounded half to even (Python's `round`).
//!
//! Pure arithmetic over slices: no I/O, no randomness, and never a choice
//! of method or parameter (that is `forecast`'s job).

/// Simple exponential smoothing forecast of `x` (0 for an empty slice).
pub fn ses(alpha: f64, x: &[f64]) -> f64 {
    let Some((&first, rest)) = x.split_first() else {
        return 0.0;
    };
    if rest.is_empty() {
        return first;
    }
    // Same operation order as statsforecast's ses_forecast:
    // fitted[i] = α·x[i−1] + (1−α)·fitted[i−1], fitted[0] = x[0].
    let complement = 1.0 - alpha;
    let mut fitted = first;
    for &v in &x[..x.len() - 1] {
        fitted = alpha * v + complement * fitted;
    }
    alpha * x[x.len() - 1] + complement * fitted
}

/// Non-zero demand sizes, oldest first.
pub fn demand_sizes(y: &[f64]) -> Vec<f64> {
    y.iter().copied().filter(|&v| v > 0.0).collect()
}

/// Intervals between successive demand periods, the first one counted from
/// the start of the series (a demand in the first period has interval 1).
pub fn demand_intervals(y: &[f64]) -> Vec<f64> {
    let mut previous = 0_usize;
    let mut out = Vec::new();
    for (i, &v) in y.iter().enumerate() {
        if v != 0.0 {
            #[allow(clippy::cast_precision_loss)]
            out.push((i + 1 - previous) as f64);
            previous = i + 1;
        }
    }
    out
}

/// Croston's method: smoothed size over smoothed interval (statsforecast
/// `CrostonClassic`, which fixes α = 0.1). 0 without demand.
pub fn croston(alpha: f64, y: &[f64]) -> f64 {
    let sizes = demand_sizes(y);
    if sizes.is_empty() {
        return 0.0;
    }
    let size = ses(alpha, &sizes);
    let interval = ses(alpha, &demand_intervals(y));
    if interval != 0.0 { size / interval } else { size }
}

/// Teunter–Syntetos–Babai: smoothed probability of demand × smoothed size
/// (statsforecast `TSB(alpha_d, alpha_p)`). 0 without demand.
pub fn tsb(alpha_demand: f64, alpha_probability: f64, y: &[f64]) -> f64 {
    let sizes = demand_sizes(y);
    if sizes.is_empty() {
        return 0.0;
    }
    let occurrence: Vec<f64> = y.iter().map(|&v| if v != 0.0 { 1.0 } else { 0.0 }).collect();
    ses(alpha_probability, &occurrence) * ses(alpha_demand, &sizes)
}

/// In-sample sum of squared one-step SES errors (statsforecast `ses_sse`).
fn ses_sse(alpha: f64, x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let complement = 1.0 - alpha;
    let mut forecast = x[0];
    let mut sse = 0.0;
    for i in 1..x.len() {
        forecast = alpha * x[i - 1] + complement * forecast;
        let err = x[i] - forecast;
        sse += err * err;
    }
    sse
}

/// Lowest bound of the α search ADIDA and IMAPA use.
pub const FITTED_ALPHA_LOWER: f64 = 0.1;
/// Highest bound of the α search ADIDA and IMAPA use.
pub const FITTED_ALPHA_UPPER: f64 = 0.3;

/// The α in [`FITTED_ALPHA_LOWER`, `FITTED_ALPHA_UPPER`] minimising the
/// in-sample squared error, by golden-section search (statsforecast
/// `golden_section_ses`, step for step, so ties resolve alike).
pub fn fitted_alpha(x: &[f64]) -> f64 {
    let gr = (5.0_f64.sqrt() + 1.0) / 2.0;
    let (mut a, mut b) = (FITTED_ALPHA_LOWER, FITTED_ALPHA_UPPER);
    let mut c = b - (b - a) / gr;
    let mut d = a + (b - a) / gr;
    let mut fc = ses_sse(c, x);
    let mut fd = ses_sse(d, x);
    while (b - a).abs() >= 1e-12 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - (b - a) / gr;
            fc = ses_sse(c, x);
        } else if fd < fc {
            a = c;
            c = d;
            fc = fd;
            d = a + (b - a) / gr;
            fd = ses_sse(d, x);
        } else {
            break;
        }
    }
    (b + a) / 2.0
}

/// SES forecast of the sums of `y` over blocks of `block` periods aligned
/// to the end of the series (statsforecast `chunk_forecast`). With `alpha`
/// `None` the α is fitted ([`fitted_alpha`]).
fn block_forecast(y: &[f64], block: usize, alpha: Option<f64>) -> f64 {
    let lost = y.len() % block;
    let sums: Vec<f64> = y[lost..].chunks_exact(block).map(|c| c.iter().sum()).collect();
    match sums.as_slice() {
        [] => y.last().copied().unwrap_or(0.0),
        [only] => *only,
        _ => ses(alpha.unwrap_or_else(|| fitted_alpha(&sums)), &sums),
    }
}

/// Block length of the aggregation methods: the mean inter-demand interval
/// rounded half to even, as Python's `round` does; `None` without demand.
fn aggregation_level(y: &[f64]) -> Option<usize> {
    let intervals = demand_intervals(y);
    if intervals.is_empty() {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let mean = intervals.iter().sum::<f64>() / intervals.len() as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((mean.round_ties_even() as usize).max(1))
}

/// ADIDA (Nikolopoulos et al. 2011): forecast the block sums at the mean
/// interval, spread evenly over the block (statsforecast `ADIDA`).
pub fn adida(alpha: Option<f64>, y: &[f64]) -> f64 {
    let Some(level) = aggregation_level(y) else {
        return 0.0;
    };
    #[allow(clippy::cast_precision_loss)]
    let per_period = block_forecast(y, level, alpha) / level as f64;
    per_period
}

/// IMAPA: the mean of the ADIDA-style forecasts at every block length from
/// 1 to the mean interval (statsforecast `IMAPA`).
pub fn imapa(alpha: Option<f64>, y: &[f64]) -> f64 {
    let Some(max_level) = aggregation_level(y) else {
        return 0.0;
    };
    #[allow(clippy::cast_precision_loss)]
    let total: f64 = (1..=max_level).map(|k| block_forecast(y, k, alpha) / k as f64).sum();
    #[allow(clippy::cast_precision_loss)]
    let mean = total / max_level as f64;
    mean
}

#[cfg(test)]
mod tests {
    #![allow(clippy::float_cmp)]
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn intervals_count_the_first_demand_from_the_start_and_ignore_trailing_zeros() {
        // Demands in periods 2, 5 and 6 of 9: intervals 2, 3, 1.
        assert_eq!(demand_intervals(&[0.0, 4.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0]), vec![2.0, 3.0, 1.0]);
        assert!(demand_intervals(&[0.0, 0.0]).is_empty());
    }

    #[test]
    fn ses_starts_at_the_first_value() {
        // l = 2; l = 0.5·4 + 0.5·2 = 3; l = 0.5·6 + 0.5·3 = 4.5.
        assert_eq!(ses(0.5, &[2.0, 4.0, 6.0]), 4.5);
        assert_eq!(ses(0.5, &[7.0]), 7.0);
        assert_eq!(ses(0.5, &[]), 0.0);
    }

    #[test]
    fn croston_smooths_sizes_and_intervals_alike() {
        // Sizes 3, 5 → 4; intervals 2, 3 → 2.5; 4 / 2.5 = 1.6.
        assert!(close(croston(0.5, &[0.0, 3.0, 0.0, 0.0, 5.0, 0.0]), 1.6));
    }

    #[test]
    fn tsb_probability_starts_at_the_first_period_occurrence() {
        // Occurrence 0,1,0,0,1,0 with β = 0.2: p = 0, 0.2, 0.16, 0.128,
        // 0.3024, 0.24192; sizes 3, 5 with α = 0.5 → 4; 0.24192 · 4.
        assert!(close(tsb(0.5, 0.2, &[0.0, 3.0, 0.0, 0.0, 5.0, 0.0]), 0.967_68));
    }

    #[test]
    fn aggregation_level_rounds_half_to_even_as_python_does() {
        // Intervals 2, 3 → mean 2.5 → 2 (not 3); intervals 3, 4 → 3.5 → 4.
        assert_eq!(aggregation_level(&[0.0, 1.0, 0.0, 0.0, 1.0]), Some(2));
        assert_eq!(aggregation_level(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]), Some(4));
    }

    #[test]
    fn adida_drops_the_oldest_incomplete_block() {
        // Level 2 on 5 periods: period 1 dropped, blocks (3,0) (0,5) with
        // sums 3, 5. SSE is flat on [0.1, 0.3] for two points, so the
        // search stops at once on α = 0.2: 0.2·5 + 0.8·3 = 3.4, / 2.
        let y = [0.0, 3.0, 0.0, 0.0, 5.0];
        assert_eq!(aggregation_level(&y), Some(2));
        assert!(close(adida(None, &y), (0.2 * 5.0 + 0.8 * 3.0) / 2.0));
    }
}
