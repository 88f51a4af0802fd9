//! Forecasts for one cell's series: classify the demand pattern
//! (Syntetos–Boylan–Croston 2005), pick a method made for it, project the
//! next periods with an uncertainty band, and report rolling-origin accuracy
//! (MASE). Every forecast names the method and parameters that produced it.
//! Pure arithmetic over slices, no I/O.
//!
//! Method mapping (fixed parameters, configurable; no in-sample optimisation
//! because MSE-optimal parameters are unreliable on intermittent series):
//!
//! | pattern (ADI, CV²)            | method                                   |
//! |-------------------------------|------------------------------------------|
//! | no demand at all              | zero                                     |
//! | exactly one non-zero period   | TSB (its probability decays through zeros; Croston would repeat the lone demand for ever) |
//! | smooth (< 1.32, < 0.49)       | simple exponential smoothing             |
//! | erratic (< 1.32, ≥ 0.49)      | simple exponential smoothing             |
//! | intermittent (≥ 1.32, < 0.49) | Croston with Syntetos–Boylan approximation (SBA) |
//! | lumpy (≥ 1.32, ≥ 0.49)        | TSB (Teunter–Syntetos–Babai 2011)        |
//!
//! Band: empirical quantiles (default 10 % / 90 %) of the one-step-ahead
//! in-sample errors, widened for step h by √(1 + (h−1)α²) — the h-step
//! error-variance ratio of simple exponential smoothing (ETS(A,N,N)) —
//! and clamped so that 0 ≤ lower ≤ point ≤ upper.

use serde::{Deserialize, Serialize};

use crate::cube::{CellKey, DateBasis, DemandCube, Measure};
use crate::error::{DemandError, invalid};
use crate::period::Period;

/// Syntetos–Boylan cut-off on the average inter-demand interval.
pub const ADI_CUTOFF: f64 = 1.32;
/// Syntetos–Boylan cut-off on the squared coefficient of variation of
/// non-zero demand sizes.
pub const CV2_CUTOFF: f64 = 0.49;

/// Demand pattern of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DemandPattern {
    /// No non-zero period at all.
    NoDemand,
    /// Exactly one non-zero period: too little to estimate size variation.
    SingleDemand,
    /// ADI < 1.32 and CV² < 0.49.
    Smooth,
    /// ADI < 1.32 and CV² ≥ 0.49.
    Erratic,
    /// ADI ≥ 1.32 and CV² < 0.49.
    Intermittent,
    /// ADI ≥ 1.32 and CV² ≥ 0.49.
    Lumpy,
}

/// The pattern and the statistics it was decided on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The pattern.
    pub pattern: DemandPattern,
    /// Average inter-demand interval: periods / non-zero periods (`None`
    /// without demand).
    pub adi: Option<f64>,
    /// Squared coefficient of variation of the non-zero sizes, population
    /// variance over squared mean (`None` with fewer than two).
    pub cv2: Option<f64>,
    /// Number of periods in the history.
    pub periods: usize,
    /// Number of periods with non-zero demand.
    pub demand_periods: usize,
}

/// Classifies `history` per Syntetos, Boylan & Croston (2005). A value
/// exactly at a cut-off falls on the high side (ADI = 1.32 is intermittent,
/// CV² = 0.49 is erratic/lumpy).
pub fn classify(history: &[f64]) -> Classification {
    let sizes: Vec<f64> = history.iter().copied().filter(|&y| y > 0.0).collect();
    let n = sizes.len();
    #[allow(clippy::cast_precision_loss)]
    let adi = (n > 0).then(|| history.len() as f64 / n as f64);
    let cv2 = (n >= 2).then(|| {
        #[allow(clippy::cast_precision_loss)]
        let nf = n as f64;
        let mean = sizes.iter().sum::<f64>() / nf;
        let var = sizes.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / nf;
        var / (mean * mean)
    });
    let pattern = match (adi, cv2) {
        (None, _) => DemandPattern::NoDemand,
        (Some(_), None) => DemandPattern::SingleDemand,
        (Some(adi), Some(cv2)) => match (adi >= ADI_CUTOFF, cv2 >= CV2_CUTOFF) {
            (false, false) => DemandPattern::Smooth,
            (false, true) => DemandPattern::Erratic,
            (true, false) => DemandPattern::Intermittent,
            (true, true) => DemandPattern::Lumpy,
        },
    };
    Classification { pattern, adi, cv2, periods: history.len(), demand_periods: n }
}

/// A forecasting method with the parameters it ran with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ForecastMethod {
    /// Forecasts zero (no demand observed).
    Zero,
    /// Simple exponential smoothing, level initialised to the first value.
    Ses {
        /// Level smoothing constant.
        alpha: f64,
    },
    /// Croston's method with the Syntetos–Boylan bias correction
    /// `(1 − α/2) · z / p`; one α smooths both size and interval.
    CrostonSba {
        /// Smoothing constant for demand size and inter-demand interval.
        alpha: f64,
    },
    /// Teunter–Syntetos–Babai: size smoothed on demand, probability of
    /// demand smoothed every period; forecast `p · z`.
    Tsb {
        /// Smoothing constant for demand size.
        alpha: f64,
        /// Smoothing constant for demand probability.
        beta: f64,
    },
}

impl ForecastMethod {
    fn alpha(self) -> f64 {
        match self {
            ForecastMethod::Zero => 0.0,
            ForecastMethod::Ses { alpha }
            | ForecastMethod::CrostonSba { alpha }
            | ForecastMethod::Tsb { alpha, .. } => alpha,
        }
    }

    fn check(self) -> Result<(), DemandError> {
        let in_unit = |x: f64| x > 0.0 && x <= 1.0;
        match self {
            ForecastMethod::Zero => Ok(()),
            ForecastMethod::Ses { alpha }
            | ForecastMethod::CrostonSba { alpha }
            | ForecastMethod::Tsb { alpha, .. }
                if !in_unit(alpha) =>
            {
                Err(invalid("forecast_config.alpha", format!("{alpha}: expected 0 < alpha <= 1")))
            }
            ForecastMethod::Tsb { beta, .. } if !in_unit(beta) => {
                Err(invalid("forecast_config.beta", format!("{beta}: expected 0 < beta <= 1")))
            }
            _ => Ok(()),
        }
    }
}

/// How a forecast is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    /// Number of periods to forecast (default 12).
    pub horizon: usize,
    /// α for simple exponential smoothing (default 0.2).
    pub ses_alpha: f64,
    /// α for Croston–SBA (default 0.1).
    pub sba_alpha: f64,
    /// α (size) for TSB (default 0.1).
    pub tsb_alpha: f64,
    /// β (probability) for TSB (default 0.1).
    pub tsb_beta: f64,
    /// Use this method instead of the pattern's mapping.
    pub method_override: Option<ForecastMethod>,
    /// Lower band quantile of one-step errors (default 0.1).
    pub lower_quantile: f64,
    /// Upper band quantile of one-step errors (default 0.9).
    pub upper_quantile: f64,
    /// Number of rolling origins in the backtest (default 12).
    pub backtest_origins: usize,
    /// Shortest training window used in the backtest (default 6).
    pub min_training_periods: usize,
}

impl Default for ForecastConfig {
    fn default() -> ForecastConfig {
        ForecastConfig {
            horizon: 12,
            ses_alpha: 0.2,
            sba_alpha: 0.1,
            tsb_alpha: 0.1,
            tsb_beta: 0.1,
            method_override: None,
            lower_quantile: 0.1,
            upper_quantile: 0.9,
            backtest_origins: 12,
            min_training_periods: 6,
        }
    }
}

impl ForecastConfig {
    /// The method this configuration uses for `pattern`.
    pub fn method_for(&self, pattern: DemandPattern) -> ForecastMethod {
        if let Some(m) = self.method_override {
            return m;
        }
        match pattern {
            DemandPattern::NoDemand => ForecastMethod::Zero,
            DemandPattern::Smooth | DemandPattern::Erratic => ForecastMethod::Ses { alpha: self.ses_alpha },
            DemandPattern::Intermittent => ForecastMethod::CrostonSba { alpha: self.sba_alpha },
            DemandPattern::Lumpy | DemandPattern::SingleDemand => {
                ForecastMethod::Tsb { alpha: self.tsb_alpha, beta: self.tsb_beta }
            }
        }
    }

    fn check(&self) -> Result<(), DemandError> {
        if !(1..=600).contains(&self.horizon) {
            return Err(invalid("forecast_config.horizon", format!("{}: expected 1..=600", self.horizon)));
        }
        let (lo, hi) = (self.lower_quantile, self.upper_quantile);
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
            return Err(invalid(
                "forecast_config.lower_quantile",
                format!("{lo}..{hi}: expected 0 <= lower <= upper <= 1"),
            ));
        }
        for m in [
            ForecastMethod::Ses { alpha: self.ses_alpha },
            ForecastMethod::CrostonSba { alpha: self.sba_alpha },
            ForecastMethod::Tsb { alpha: self.tsb_alpha, beta: self.tsb_beta },
        ] {
            m.check()?;
        }
        if let Some(m) = self.method_override {
            m.check()?;
        }
        Ok(())
    }
}

/// One forecast period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// Steps ahead of the last history period (1 = next period).
    pub step: usize,
    /// Point forecast (mean demand per period).
    pub point: f64,
    /// Lower band, never below zero.
    pub lower: f64,
    /// Upper band.
    pub upper: f64,
}

/// How the band was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandInfo {
    /// Quantile of one-step errors used for the lower band.
    pub lower_quantile: f64,
    /// Quantile of one-step errors used for the upper band.
    pub upper_quantile: f64,
    /// Number of in-sample one-step errors the quantiles came from; with
    /// fewer than two the band collapses onto the point.
    pub residuals: usize,
    /// One-step error at `lower_quantile` (before widening and clamping).
    pub lower_error: f64,
    /// One-step error at `upper_quantile` (before widening and clamping).
    pub upper_error: f64,
}

/// Rolling-origin, one-step-ahead backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Number of forecast origins evaluated.
    pub origins: usize,
    /// Mean absolute error over the origins.
    pub mae: f64,
    /// In-sample MAE of the naive one-step forecast (yₜ₋₁) over the history.
    pub naive_scale: f64,
    /// `mae / naive_scale`; `None` when the scale is zero (constant history),
    /// where MASE is undefined.
    pub mase: Option<f64>,
}

/// A forecast for one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Demand pattern of the history.
    pub classification: Classification,
    /// Method and parameters that produced every number below.
    pub method: ForecastMethod,
    /// One point per future period, `step` 1..=horizon.
    pub points: Vec<ForecastPoint>,
    /// How the band was made.
    pub band: BandInfo,
    /// Backtest accuracy; `None` when the history is too short.
    pub accuracy: Option<Accuracy>,
}

/// Result of running a method over a history.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Forecast for every future period (these methods are flat).
    pub next: f64,
    /// One-step-ahead forecast of each history period, made from the
    /// periods before it (`None` before the method is initialised).
    pub one_step: Vec<Option<f64>>,
}

/// Runs `method` over `history`.
pub fn fit(method: ForecastMethod, history: &[f64]) -> Fit {
    match method {
        ForecastMethod::Zero => Fit { next: 0.0, one_step: vec![Some(0.0); history.len()] },
        ForecastMethod::Ses { alpha } => fit_ses(alpha, history),
        ForecastMethod::CrostonSba { alpha } => fit_sba(alpha, history),
        ForecastMethod::Tsb { alpha, beta } => fit_tsb(alpha, beta, history),
    }
}

fn fit_ses(alpha: f64, y: &[f64]) -> Fit {
    let mut one_step = vec![None; y.len()];
    let Some(&first) = y.first() else {
        return Fit { next: 0.0, one_step };
    };
    let mut level = first;
    for (t, &v) in y.iter().enumerate().skip(1) {
        one_step[t] = Some(level);
        level += alpha * (v - level);
    }
    Fit { next: level, one_step }
}

fn fit_sba(alpha: f64, y: &[f64]) -> Fit {
    let mut one_step = vec![None; y.len()];
    // z: smoothed size; p: smoothed interval; q: periods since last demand.
    let mut state: Option<(f64, f64)> = None;
    let mut q = 0.0;
    let correction = 1.0 - alpha / 2.0;
    for (t, &v) in y.iter().enumerate() {
        if let Some((z, p)) = state {
            one_step[t] = Some(correction * z / p);
        }
        q += 1.0;
        if v > 0.0 {
            state = Some(match state {
                None => (v, q),
                Some((z, p)) => (z + alpha * (v - z), p + alpha * (q - p)),
            });
            q = 0.0;
        }
    }
    Fit { next: state.map_or(0.0, |(z, p)| correction * z / p), one_step }
}

fn fit_tsb(alpha: f64, beta: f64, y: &[f64]) -> Fit {
    let mut one_step = vec![None; y.len()];
    // z: smoothed size; p: smoothed probability of demand.
    let mut state: Option<(f64, f64)> = None;
    for (t, &v) in y.iter().enumerate() {
        state = match state {
            None if v > 0.0 => {
                #[allow(clippy::cast_precision_loss)]
                let first_interval = (t + 1) as f64;
                Some((v, 1.0 / first_interval))
            }
            None => None,
            Some((z, p)) => {
                one_step[t] = Some(p * z);
                if v > 0.0 { Some((z + alpha * (v - z), p + beta * (1.0 - p))) } else { Some((z, p - beta * p)) }
            }
        };
    }
    Fit { next: state.map_or(0.0, |(z, p)| p * z), one_step }
}

/// Quantile with linear interpolation between order statistics (Hyndman &
/// Fan type 7) of a sorted, non-empty slice.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.len() == 1 {
        return sorted[0];
    }
    #[allow(clippy::cast_precision_loss)]
    let h = (sorted.len() - 1) as f64 * q;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    #[allow(clippy::cast_precision_loss)]
    let frac = h - lo as f64;
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

fn check_history(history: &[f64]) -> Result<(), DemandError> {
    if let Some(bad) = history.iter().find(|y| !y.is_finite() || **y < 0.0) {
        return Err(invalid("history", format!("{bad}: demand must be finite and >= 0")));
    }
    Ok(())
}

/// Classifies `history`, forecasts `config.horizon` periods with the mapped
/// method, attaches the band and the backtest.
pub fn forecast(history: &[f64], config: &ForecastConfig) -> Result<Forecast, DemandError> {
    config.check()?;
    check_history(history)?;
    let classification = classify(history);
    let method = config.method_for(classification.pattern);
    let fitted = fit(method, history);

    let mut errors: Vec<f64> = history.iter().zip(&fitted.one_step).filter_map(|(y, f)| f.map(|f| y - f)).collect();
    errors.sort_by(f64::total_cmp);
    let (lower_error, upper_error) = if errors.len() >= 2 {
        (quantile(&errors, config.lower_quantile), quantile(&errors, config.upper_quantile))
    } else {
        (0.0, 0.0)
    };
    let alpha = method.alpha();
    let point = fitted.next;
    let points = (1..=config.horizon)
        .map(|step| {
            #[allow(clippy::cast_precision_loss)]
            let widen = (1.0 + (step as f64 - 1.0) * alpha * alpha).sqrt();
            ForecastPoint {
                step,
                point,
                lower: (point + widen * lower_error).clamp(0.0, point),
                upper: (point + widen * upper_error).max(point),
            }
        })
        .collect();

    Ok(Forecast {
        accuracy: backtest(method, history, config),
        classification,
        method,
        points,
        band: BandInfo {
            lower_quantile: config.lower_quantile,
            upper_quantile: config.upper_quantile,
            residuals: errors.len(),
            lower_error,
            upper_error,
        },
    })
}

/// Rolling-origin backtest of `method`: for each of the last
/// `config.backtest_origins` periods that have at least
/// `config.min_training_periods` before them, fit on what came before and
/// forecast it one step ahead. MASE divides the MAE by the in-sample MAE of
/// the naive forecast over the whole history.
pub fn backtest(method: ForecastMethod, history: &[f64], config: &ForecastConfig) -> Option<Accuracy> {
    let first = config.min_training_periods.max(1).max(history.len().saturating_sub(config.backtest_origins));
    if first >= history.len() {
        return None;
    }
    let errors: Vec<f64> =
        (first..history.len()).map(|o| (history[o] - fit(method, &history[..o]).next).abs()).collect();
    #[allow(clippy::cast_precision_loss)]
    let mae = errors.iter().sum::<f64>() / errors.len() as f64;
    let diffs: Vec<f64> = history.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    #[allow(clippy::cast_precision_loss)]
    let naive_scale = if diffs.is_empty() { 0.0 } else { diffs.iter().sum::<f64>() / diffs.len() as f64 };
    Some(Accuracy { origins: errors.len(), mae, naive_scale, mase: (naive_scale > 0.0).then(|| mae / naive_scale) })
}

/// A forecast tied to a cube cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellForecast {
    /// The series' key.
    pub key: CellKey,
    /// Date basis of the history.
    pub basis: DateBasis,
    /// Which measure is forecast.
    pub measure: Measure,
    /// First history period used.
    pub history_from: Period,
    /// Last history period used; step 1 is the period after it.
    pub history_to: Period,
    /// The forecast.
    pub forecast: Forecast,
}

impl CellForecast {
    /// The period `point.step` refers to.
    pub fn period_of(&self, point: &ForecastPoint) -> Period {
        #[allow(clippy::cast_possible_wrap)]
        self.history_to.offset(point.step as i64)
    }
}

/// Forecasts `measure` of `key` from its history `from..=to` in the cube.
pub fn forecast_cell(
    cube: &DemandCube,
    key: &CellKey,
    basis: DateBasis,
    measure: Measure,
    from: Period,
    to: Period,
    config: &ForecastConfig,
) -> Result<CellForecast, DemandError> {
    let history: Vec<f64> = cube.series(key, basis, from, to)?.iter().map(|(_, m)| m.get(measure)).collect();
    Ok(CellForecast {
        key: key.clone(),
        basis,
        measure,
        history_from: from,
        history_to: to,
        forecast: forecast(&history, config)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// A series of `len` periods with `sizes` placed every `every` periods.
    fn spaced(len: usize, every: usize, sizes: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; len];
        for (i, s) in sizes.iter().enumerate() {
            y[i * every] = *s;
        }
        y
    }

    #[test]
    fn adi_exactly_at_the_cutoff_is_intermittent_and_just_below_is_smooth() {
        // 33 periods, 25 of them with demand of 5: ADI = 33/25 = 1.32.
        let mut y = vec![5.0; 25];
        y.extend(vec![0.0; 8]);
        let c = classify(&y);
        assert_eq!(c.adi, Some(1.32));
        assert_eq!(c.cv2, Some(0.0));
        assert_eq!(c.pattern, DemandPattern::Intermittent);
        // One more demand period: 33/26 < 1.32.
        y[25] = 5.0;
        assert_eq!(classify(&y).pattern, DemandPattern::Smooth);
    }

    #[test]
    fn cv2_exactly_at_the_cutoff_is_erratic_and_just_below_is_smooth() {
        // Sizes 3 and 17: mean 10, population variance 49, CV² = 0.49.
        let c = classify(&[3.0, 17.0]);
        assert_eq!(c.cv2, Some(0.49));
        assert_eq!(c.adi, Some(1.0));
        assert_eq!(c.pattern, DemandPattern::Erratic);
        // 3.01 and 16.99: variance 48.8601, CV² < 0.49.
        assert_eq!(classify(&[3.01, 16.99]).pattern, DemandPattern::Smooth);
        // Same sizes spread out: ADI 2.
        assert_eq!(classify(&[3.0, 0.0, 17.0, 0.0]).pattern, DemandPattern::Lumpy);
        assert_eq!(classify(&[3.01, 0.0, 16.99, 0.0]).pattern, DemandPattern::Intermittent);
    }

    #[test]
    fn every_pattern_maps_to_its_method() {
        let cfg = ForecastConfig::default();
        assert_eq!(cfg.method_for(DemandPattern::NoDemand), ForecastMethod::Zero);
        assert!(matches!(cfg.method_for(DemandPattern::Smooth), ForecastMethod::Ses { .. }));
        assert!(matches!(cfg.method_for(DemandPattern::Erratic), ForecastMethod::Ses { .. }));
        assert!(matches!(cfg.method_for(DemandPattern::Intermittent), ForecastMethod::CrostonSba { .. }));
        assert!(matches!(cfg.method_for(DemandPattern::Lumpy), ForecastMethod::Tsb { .. }));
        assert!(matches!(cfg.method_for(DemandPattern::SingleDemand), ForecastMethod::Tsb { .. }));
    }

    #[test]
    fn ses_matches_hand_computation() {
        // l0 = 2; l1 = 0.5·4 + 0.5·2 = 3; l2 = 0.5·6 + 0.5·3 = 4.5.
        let f = fit(ForecastMethod::Ses { alpha: 0.5 }, &[2.0, 4.0, 6.0]);
        assert_eq!(f.next, 4.5);
        assert_eq!(f.one_step, vec![None, Some(2.0), Some(3.0)]);
    }

    #[test]
    fn croston_sba_matches_hand_computation() {
        // Demands 3 at t=1 (interval 2) and 5 at t=4 (interval 3).
        // Init z=3, p=2; update z = 3 + 0.5·2 = 4, p = 2 + 0.5·1 = 2.5.
        // SBA: (1 − 0.25)·4/2.5 = 1.2.
        let y = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0];
        let f = fit(ForecastMethod::CrostonSba { alpha: 0.5 }, &y);
        assert!(close(f.next, 1.2));
        // Before the second demand the forecast is 0.75·3/2 = 1.125.
        assert_eq!(f.one_step[0..2], [None, None]);
        assert!(close(f.one_step[2].unwrap(), 1.125));
        assert!(close(f.one_step[4].unwrap(), 1.125));
        assert!(close(f.one_step[5].unwrap(), 1.2));
    }

    #[test]
    fn tsb_matches_hand_computation() {
        // Init at t=1: z=3, p=1/2. t=2: p=0.4. t=3: p=0.32.
        // t=4 (5): p = 0.32 + 0.2·0.68 = 0.456, z = 4. t=5: p = 0.3648.
        // Forecast p·z = 1.4592.
        let y = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0];
        let f = fit(ForecastMethod::Tsb { alpha: 0.5, beta: 0.2 }, &y);
        assert!(close(f.next, 1.4592));
        assert!(close(f.one_step[2].unwrap(), 1.5));
        assert!(close(f.one_step[4].unwrap(), 0.96));
        assert!(close(f.one_step[5].unwrap(), 1.824));
    }

    #[test]
    fn a_series_of_all_zeros_forecasts_zero_with_a_zero_band() {
        let f = forecast(&[0.0; 24], &ForecastConfig::default()).unwrap();
        assert_eq!(f.classification.pattern, DemandPattern::NoDemand);
        assert_eq!(f.method, ForecastMethod::Zero);
        assert_eq!(f.points.len(), 12);
        assert!(f.points.iter().all(|p| p.point == 0.0 && p.upper == 0.0));
        let acc = f.accuracy.unwrap();
        assert_eq!(acc.naive_scale, 0.0);
        assert_eq!(acc.mase, None);
        assert!(forecast(&[], &ForecastConfig::default()).unwrap().points[0].point == 0.0);
    }

    #[test]
    fn a_single_old_demand_decays_instead_of_repeating() {
        let mut y = vec![0.0; 24];
        y[0] = 4.0;
        let f = forecast(&y, &ForecastConfig::default()).unwrap();
        assert_eq!(f.classification.pattern, DemandPattern::SingleDemand);
        assert!(matches!(f.method, ForecastMethod::Tsb { .. }));
        // p = 0.9^23 after 23 zero periods.
        assert!(close(f.points[0].point, 4.0 * 0.9_f64.powi(23)));
    }

    #[test]
    fn band_is_ordered_clamped_at_zero_and_widens_with_horizon() {
        let y = spaced(36, 3, &[2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 2.0, 3.0, 1.0, 2.0, 2.0]);
        let f = forecast(&y, &ForecastConfig::default()).unwrap();
        assert_eq!(f.classification.pattern, DemandPattern::Intermittent);
        assert!(matches!(f.method, ForecastMethod::CrostonSba { alpha } if alpha == 0.1));
        assert!(f.band.residuals >= 2);
        for p in &f.points {
            assert!(0.0 <= p.lower && p.lower <= p.point && p.point <= p.upper);
        }
        // Errors below the point exceed it here, so the lower band is clamped.
        assert_eq!(f.points[0].lower, 0.0);
        assert!(f.points[11].upper > f.points[0].upper);
    }

    #[test]
    fn mase_is_mae_over_naive_in_sample_mae() {
        // Constant 2 then 4: naive diffs are 0 except one jump of 2.
        let y = [2.0, 2.0, 2.0, 2.0, 4.0];
        let cfg = ForecastConfig { backtest_origins: 2, min_training_periods: 1, ..ForecastConfig::default() };
        let acc = backtest(ForecastMethod::Ses { alpha: 0.5 }, &y, &cfg).unwrap();
        // Origins 3 and 4: forecasts 2 and 2; errors 0 and 2; MAE 1.
        assert_eq!(acc.origins, 2);
        assert_eq!(acc.mae, 1.0);
        assert_eq!(acc.naive_scale, 0.5);
        assert_eq!(acc.mase, Some(2.0));
        // Too short to backtest.
        assert_eq!(backtest(ForecastMethod::Zero, &[1.0], &ForecastConfig::default()), None);
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let cfg = ForecastConfig { sba_alpha: 0.0, ..ForecastConfig::default() };
        assert!(matches!(
            forecast(&[1.0], &cfg),
            Err(DemandError::InvalidField { field: "forecast_config.alpha", .. })
        ));
        assert!(matches!(
            forecast(&[-1.0], &ForecastConfig::default()),
            Err(DemandError::InvalidField { field: "history", .. })
        ));
    }
}
