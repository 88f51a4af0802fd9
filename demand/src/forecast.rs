//! Forecasts for one cell's series: classify the demand pattern
//! (Syntetos–Boylan–Croston 2005), pick a method made for it, project the
//! next periods with a calibrated prediction interval of each period's
//! demand, and report rolling-origin accuracy (MASE). Every forecast names
//! the method and parameters that produced it. Pure arithmetic over slices:
//! no I/O, no clock, no randomness; it must never optimise parameters
//! beyond what the reference implementation does (MSE-optimal parameters
//! are unreliable on intermittent series).
//!
//! Method mapping (parameters in [`ForecastParams`], settable per request):
//!
//! | pattern (ADI, CV²)            | method                                   |
//! |-------------------------------|------------------------------------------|
//! | no demand at all              | zero                                     |
//! | exactly one demand period    | TSB (its probability decays through zeros; Croston would repeat the lone demand for ever) |
//! | smooth (< 1.32, < 0.49)       | simple exponential smoothing             |
//! | erratic (< 1.32, ≥ 0.49)      | simple exponential smoothing             |
//! | intermittent (≥ 1.32, < 0.49) | Croston with Syntetos–Boylan approximation (SBA) |
//! | lumpy (≥ 1.32, ≥ 0.49)        | TSB (Teunter–Syntetos–Babai 2011)        |
//!
//! Croston (classic), ADIDA and IMAPA are available through
//! [`ForecastConfig::method_override`].
//!
//! # Checking cosx against statsforecast
//! Point forecasts equal Nixtla's statsforecast 2.1.1 (`CrostonClassic`,
//! `CrostonSBA`, `TSB`, `SimpleExponentialSmoothing`, `ADIDA`, `IMAPA`) to
//! 1e-6 with the same parameters (`demand/tests/statsforecast.rs`; the
//! recursions are in [`crate::methods`]). Where cosx differs, and why:
//! - statsforecast's Croston methods fix α = 0.1 and SBA's factor at 0.95;
//!   cosx lets α be set and uses Syntetos & Boylan's factor 1 − α/2, which
//!   is 0.95 at the default α = 0.1. At other α there is no reference.
//! - statsforecast's ADIDA and IMAPA always fit α on [0.1, 0.3]; cosx does
//!   the same by default and can also run them with a fixed α.
//! - statsforecast's SES and TSB have no default parameters; cosx's
//!   defaults (SES α = 0.2, TSB α = β = 0.1) are its own.
//! - The band is cosx's: statsforecast gives these methods conformal
//!   intervals only on request, from a different resampling.
//! - statsforecast has no pattern classification. ADI is the mean of
//!   statsforecast's inter-demand intervals (the first counted from the
//!   start of the series; periods after the last demand are not an
//!   interval) — the average interval between demands Syntetos & Boylan
//!   (2005) classify on. CV² uses the sample variance (n − 1) of the
//!   non-zero sizes, as R's `tsintermittent::idclass` (`sd`) does.
//!
//! # The band
//! A central `band_coverage` (default 80 %) prediction interval of one
//! period's demand, from rolling-origin out-of-sample forecasts: for every
//! origin `o` with a positive forecast `f_o` made from the periods before
//! it, the period's demand `y_o` is expressed as a multiple of that
//! forecast, and the current point times those multiples is the empirical
//! predictive distribution of next period's demand. Zero-demand periods stay
//! exactly zero, so the distribution keeps its mass at zero (Bernoulli
//! occurrence × empirical size, scaled to the current level). When that
//! mass covers the lower tail, the interval is [0, quantile(coverage)]
//! rather than [0, quantile(1 − tail)], which would cover more than asked.
//! The interval is of a period's demand, not of the mean: for a sparse
//! series it can start at 0 and end well above the point, and where demand
//! occurs in fewer than 1 − coverage of periods it is [0, 0]. It does not
//! widen with the step (the methods' forecasts are flat).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cube::{CellKey, CellQuery, DateBasis, DemandCube, Measure};
use crate::error::{DemandError, invalid};
use crate::methods;
use crate::period::Period;

/// Syntetos–Boylan cut-off on the average inter-demand interval.
pub const ADI_CUTOFF: f64 = 1.32;
/// Syntetos–Boylan cut-off on the squared coefficient of variation of
/// non-zero demand sizes.
pub const CV2_CUTOFF: f64 = 0.49;

/// Demand pattern of a series, named as `cosx.v1.CellForecast.pattern`
/// documents (`proto/cosx/v1/signals.proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DemandPattern {
    /// No non-zero period at all.
    NoDemand,
    /// ADI < 1.32 and CV² < 0.49.
    Smooth,
    /// ADI < 1.32 and CV² ≥ 0.49.
    Erratic,
    /// ADI ≥ 1.32 and CV² < 0.49.
    Intermittent,
    /// ADI ≥ 1.32 and CV² ≥ 0.49.
    Lumpy,
}

impl DemandPattern {
    /// The name the API returns: `NO_DEMAND`, `SMOOTH`, `ERRATIC`,
    /// `INTERMITTENT` or `LUMPY`.
    pub fn as_str(self) -> &'static str {
        match self {
            DemandPattern::NoDemand => "NO_DEMAND",
            DemandPattern::Smooth => "SMOOTH",
            DemandPattern::Erratic => "ERRATIC",
            DemandPattern::Intermittent => "INTERMITTENT",
            DemandPattern::Lumpy => "LUMPY",
        }
    }
}

impl fmt::Display for DemandPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pattern and the statistics it was decided on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The pattern.
    pub pattern: DemandPattern,
    /// Average interval between demand periods, the first counted from the
    /// start of the series ([`methods::demand_intervals`]); `None` without
    /// demand.
    pub adi: Option<f64>,
    /// Squared coefficient of variation of the non-zero sizes: sample
    /// variance (n − 1) over squared mean; `None` with fewer than two.
    pub cv2: Option<f64>,
    /// Number of periods in the history.
    pub periods: usize,
    /// Number of periods with non-zero demand.
    pub demand_periods: usize,
}

/// Classifies `history` per Syntetos, Boylan & Croston (2005). A value
/// exactly at a cut-off falls on the high side (ADI = 1.32 is intermittent,
/// CV² = 0.49 is erratic/lumpy). A single demand shows no size variation:
/// its CV² is undefined and it is classed on ADI alone, as CV² below the
/// cut-off.
pub fn classify(history: &[f64]) -> Classification {
    let sizes = methods::demand_sizes(history);
    let intervals = methods::demand_intervals(history);
    let n = sizes.len();
    #[allow(clippy::cast_precision_loss)]
    let adi = (!intervals.is_empty()).then(|| intervals.iter().sum::<f64>() / intervals.len() as f64);
    let cv2 = (n >= 2).then(|| {
        #[allow(clippy::cast_precision_loss)]
        let nf = n as f64;
        let mean = sizes.iter().sum::<f64>() / nf;
        let var = sizes.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / (nf - 1.0);
        var / (mean * mean)
    });
    let pattern = match adi {
        None => DemandPattern::NoDemand,
        Some(adi) => match (adi >= ADI_CUTOFF, cv2.is_some_and(|c| c >= CV2_CUTOFF)) {
            (false, false) => DemandPattern::Smooth,
            (false, true) => DemandPattern::Erratic,
            (true, false) => DemandPattern::Intermittent,
            (true, true) => DemandPattern::Lumpy,
        },
    };
    Classification { pattern, adi, cv2, periods: history.len(), demand_periods: n }
}

/// A forecasting method with the parameters it ran with. Serialised and
/// named ([`ForecastMethod::name`]) in the API's words, e.g. `CROSTON_SBA`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ForecastMethod {
    /// Forecasts zero (no demand observed).
    Zero,
    /// Simple exponential smoothing, level initialised to the first value
    /// (statsforecast `SimpleExponentialSmoothing(alpha)`).
    Ses {
        /// Level smoothing constant.
        alpha: f64,
    },
    /// Croston's method: smoothed size over smoothed interval, one α for
    /// both (statsforecast `CrostonClassic`, α = 0.1).
    CrostonClassic {
        /// Smoothing constant for demand size and inter-demand interval.
        alpha: f64,
    },
    /// Croston's method with the Syntetos–Boylan bias correction
    /// `(1 − α/2) · z / p` (statsforecast `CrostonSBA`, α = 0.1).
    CrostonSba {
        /// Smoothing constant for demand size and inter-demand interval.
        alpha: f64,
    },
    /// Teunter–Syntetos–Babai: size smoothed on demand, probability of
    /// demand smoothed every period from the first; forecast `p · z`
    /// (statsforecast `TSB(alpha_d, alpha_p)`).
    Tsb {
        /// Smoothing constant for demand size (statsforecast `alpha_d`).
        alpha_demand: f64,
        /// Smoothing constant for demand probability (`alpha_p`).
        alpha_probability: f64,
    },
    /// Aggregate–disaggregate (ADIDA): SES of block sums at the mean
    /// interval, spread over the block (statsforecast `ADIDA`).
    Adida {
        /// Fixed α; `None` fits it on [0.1, 0.3] as statsforecast does.
        alpha: Option<f64>,
    },
    /// Multiple aggregation (IMAPA): mean of the block forecasts at every
    /// length up to the mean interval (statsforecast `IMAPA`).
    Imapa {
        /// Fixed α; `None` fits it on [0.1, 0.3] as statsforecast does.
        alpha: Option<f64>,
    },
}

impl ForecastMethod {
    /// The method's name as the API returns it: `ZERO`, `SES`,
    /// `CROSTON_CLASSIC`, `CROSTON_SBA`, `TSB`, `ADIDA` or `IMAPA`.
    pub fn name(self) -> &'static str {
        match self {
            ForecastMethod::Zero => "ZERO",
            ForecastMethod::Ses { .. } => "SES",
            ForecastMethod::CrostonClassic { .. } => "CROSTON_CLASSIC",
            ForecastMethod::CrostonSba { .. } => "CROSTON_SBA",
            ForecastMethod::Tsb { .. } => "TSB",
            ForecastMethod::Adida { .. } => "ADIDA",
            ForecastMethod::Imapa { .. } => "IMAPA",
        }
    }

    /// The forecast of every future period from `history`.
    pub fn point(self, history: &[f64]) -> f64 {
        match self {
            ForecastMethod::Zero => 0.0,
            ForecastMethod::Ses { alpha } => methods::ses(alpha, history),
            ForecastMethod::CrostonClassic { alpha } => methods::croston(alpha, history),
            ForecastMethod::CrostonSba { alpha } => (1.0 - alpha / 2.0) * methods::croston(alpha, history),
            ForecastMethod::Tsb { alpha_demand, alpha_probability } => {
                methods::tsb(alpha_demand, alpha_probability, history)
            }
            ForecastMethod::Adida { alpha } => methods::adida(alpha, history),
            ForecastMethod::Imapa { alpha } => methods::imapa(alpha, history),
        }
    }

    fn check(self) -> Result<(), DemandError> {
        let unit = |field: &'static str, x: f64| check_unit(field, x);
        match self {
            ForecastMethod::Zero => Ok(()),
            ForecastMethod::Ses { alpha } => unit("method_override.alpha", alpha),
            ForecastMethod::CrostonClassic { alpha } | ForecastMethod::CrostonSba { alpha } => {
                unit("method_override.alpha", alpha)
            }
            ForecastMethod::Tsb { alpha_demand, alpha_probability } => {
                unit("method_override.alpha_demand", alpha_demand)?;
                unit("method_override.alpha_probability", alpha_probability)
            }
            ForecastMethod::Adida { alpha } | ForecastMethod::Imapa { alpha } => {
                alpha.map_or(Ok(()), |a| unit("method_override.alpha", a))
            }
        }
    }
}

/// `SES alpha=0.2`, `TSB alpha_demand=0.1 alpha_probability=0.1`,
/// `ADIDA alpha=fitted[0.1,0.3]`: the method and its parameters in words.
impl fmt::Display for ForecastMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match *self {
            ForecastMethod::Zero => f.write_str(name),
            ForecastMethod::Ses { alpha }
            | ForecastMethod::CrostonClassic { alpha }
            | ForecastMethod::CrostonSba { alpha } => write!(f, "{name} alpha={alpha}"),
            ForecastMethod::Tsb { alpha_demand, alpha_probability } => {
                write!(f, "{name} alpha_demand={alpha_demand} alpha_probability={alpha_probability}")
            }
            ForecastMethod::Adida { alpha } | ForecastMethod::Imapa { alpha } => match alpha {
                Some(a) => write!(f, "{name} alpha={a}"),
                None => {
                    write!(f, "{name} alpha=fitted[{},{}]", methods::FITTED_ALPHA_LOWER, methods::FITTED_ALPHA_UPPER)
                }
            },
        }
    }
}

fn check_unit(field: &'static str, x: f64) -> Result<(), DemandError> {
    if x > 0.0 && x <= 1.0 { Ok(()) } else { Err(invalid(field, format!("{x}: expected 0 < value <= 1"))) }
}

/// Smoothing parameters of every method: the `[signals]` configuration
/// and, per request, the caller's overrides. Defaults are statsforecast's
/// where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForecastParams {
    /// α of simple exponential smoothing (default 0.2; statsforecast has
    /// no default).
    pub ses_alpha: f64,
    /// α of both Croston methods, for size and interval (default 0.1,
    /// statsforecast's fixed value).
    pub croston_alpha: f64,
    /// TSB α for demand size (default 0.1; statsforecast has no default).
    pub tsb_alpha_demand: f64,
    /// TSB β for the probability of demand (default 0.1).
    pub tsb_alpha_probability: f64,
    /// Fixed α of ADIDA and IMAPA; `None` (default) fits it on [0.1, 0.3]
    /// as statsforecast does.
    pub aggregation_alpha: Option<f64>,
}

impl Default for ForecastParams {
    fn default() -> ForecastParams {
        ForecastParams {
            ses_alpha: 0.2,
            croston_alpha: 0.1,
            tsb_alpha_demand: 0.1,
            tsb_alpha_probability: 0.1,
            aggregation_alpha: None,
        }
    }
}

impl ForecastParams {
    /// Every parameter must lie in (0, 1]; the error names the field, e.g.
    /// `forecast_params.tsb_alpha_probability`.
    pub fn check(&self) -> Result<(), DemandError> {
        check_unit("forecast_params.ses_alpha", self.ses_alpha)?;
        check_unit("forecast_params.croston_alpha", self.croston_alpha)?;
        check_unit("forecast_params.tsb_alpha_demand", self.tsb_alpha_demand)?;
        check_unit("forecast_params.tsb_alpha_probability", self.tsb_alpha_probability)?;
        self.aggregation_alpha.map_or(Ok(()), |a| check_unit("forecast_params.aggregation_alpha", a))
    }
}

/// How a forecast is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    /// Number of periods to forecast (default 12).
    pub horizon: usize,
    /// Smoothing parameters of the methods.
    pub params: ForecastParams,
    /// Use this method instead of the pattern's mapping.
    pub method_override: Option<ForecastMethod>,
    /// Share of a period's demand the band should cover (default 0.8).
    pub band_coverage: f64,
    /// Number of rolling origins in the backtest (default 12).
    pub backtest_origins: usize,
    /// Shortest training window used in the backtest and the band
    /// (default 6).
    pub min_training_periods: usize,
}

impl Default for ForecastConfig {
    fn default() -> ForecastConfig {
        ForecastConfig {
            horizon: 12,
            params: ForecastParams::default(),
            method_override: None,
            band_coverage: 0.8,
            backtest_origins: 12,
            min_training_periods: 6,
        }
    }
}

impl ForecastConfig {
    /// The method this configuration uses for a series classified as
    /// `classification`.
    pub fn method_for(&self, classification: &Classification) -> ForecastMethod {
        if let Some(m) = self.method_override {
            return m;
        }
        let p = &self.params;
        let tsb = ForecastMethod::Tsb { alpha_demand: p.tsb_alpha_demand, alpha_probability: p.tsb_alpha_probability };
        if classification.demand_periods == 1 {
            return tsb;
        }
        match classification.pattern {
            DemandPattern::NoDemand => ForecastMethod::Zero,
            DemandPattern::Smooth | DemandPattern::Erratic => ForecastMethod::Ses { alpha: p.ses_alpha },
            DemandPattern::Intermittent => ForecastMethod::CrostonSba { alpha: p.croston_alpha },
            DemandPattern::Lumpy => tsb,
        }
    }

    fn check(&self) -> Result<(), DemandError> {
        if !(1..=600).contains(&self.horizon) {
            return Err(invalid("forecast_config.horizon", format!("{}: expected 1..=600", self.horizon)));
        }
        let c = self.band_coverage;
        if !(c > 0.0 && c < 1.0) {
            return Err(invalid("forecast_config.band_coverage", format!("{c}: expected 0 < coverage < 1")));
        }
        self.params.check()?;
        self.method_override.map_or(Ok(()), ForecastMethod::check)
    }
}

/// One forecast period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// Steps ahead of the last history period (1 = next period).
    pub step: usize,
    /// Point forecast (mean demand per period).
    pub point: f64,
    /// Lower end of the prediction interval of the period's demand, ≥ 0.
    pub lower: f64,
    /// Upper end; it need not be above the point (see the module docs).
    pub upper: f64,
}

/// How the band was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandInfo {
    /// Share of a period's demand the interval is meant to cover.
    pub coverage: f64,
    /// Quantile level of the predictive distribution at the lower end
    /// (0 when zero demand fills the lower tail).
    pub lower_level: f64,
    /// Quantile level at the upper end.
    pub upper_level: f64,
    /// Rolling origins the predictive distribution was built from; with
    /// fewer than two the band collapses onto the point.
    pub origins: usize,
    /// Share of those origins whose period had no demand.
    pub zero_share: f64,
}

impl BandInfo {
    /// The band in words, for the API's `CellForecast.band`.
    pub fn describe(&self) -> String {
        if self.origins < 2 {
            return format!("no band: {} rolling-origin forecast(s), at least 2 needed", self.origins);
        }
        format!(
            "{:.0}% interval of one period's demand: quantiles {}..{} of the point times demand over \
             its one-step forecast at {} rolling origins ({:.0}% of them without demand)",
            self.coverage * 100.0,
            self.lower_level,
            self.upper_level,
            self.origins,
            self.zero_share * 100.0
        )
    }
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
    /// Forecast of each history period made from the periods before it
    /// (`None` for the first, which has nothing before it).
    pub one_step: Vec<Option<f64>>,
}

/// Runs `method` over `history`: the forecast, and the rolling-origin
/// one-step forecast of every period from the periods before it.
pub fn fit(method: ForecastMethod, history: &[f64]) -> Fit {
    let one_step = (0..history.len()).map(|o| (o > 0).then(|| method.point(&history[..o]))).collect();
    Fit { next: method.point(history), one_step }
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

/// The first origin of the band's rolling forecasts: the configured
/// training window, shortened on a short history so at least two remain.
fn first_band_origin(periods: usize, min_training: usize) -> usize {
    if periods >= min_training + 2 { min_training.max(1) } else { 1 }
}

/// The prediction interval of one period's demand around `point` (module
/// docs, "The band").
fn band(method: ForecastMethod, history: &[f64], point: f64, config: &ForecastConfig) -> (f64, f64, BandInfo) {
    let first = first_band_origin(history.len(), config.min_training_periods);
    let mut predictive: Vec<f64> = (first..history.len())
        .filter_map(|o| {
            let f = method.point(&history[..o]);
            (f > 0.0).then(|| point * history[o] / f)
        })
        .collect();
    predictive.sort_by(f64::total_cmp);
    let m = predictive.len();
    let tail = (1.0 - config.band_coverage) / 2.0;
    #[allow(clippy::cast_precision_loss)]
    let zero_share = if m == 0 { 0.0 } else { predictive.iter().filter(|&&v| v == 0.0).count() as f64 / m as f64 };
    let mut info =
        BandInfo { coverage: config.band_coverage, lower_level: tail, upper_level: 1.0 - tail, origins: m, zero_share };
    if m < 2 {
        return (point, point, info);
    }
    let lower = quantile(&predictive, tail);
    if lower > 0.0 {
        return (lower, quantile(&predictive, 1.0 - tail), info);
    }
    // Zero demand fills the lower tail: [0, q(coverage)] covers `coverage`.
    info.lower_level = 0.0;
    info.upper_level = config.band_coverage;
    (0.0, quantile(&predictive, config.band_coverage), info)
}

/// Classifies `history`, forecasts `config.horizon` periods with the mapped
/// method, attaches the band and the backtest.
pub fn forecast(history: &[f64], config: &ForecastConfig) -> Result<Forecast, DemandError> {
    config.check()?;
    check_history(history)?;
    let classification = classify(history);
    let method = config.method_for(&classification);
    let point = method.point(history);
    let (lower, upper, band) = band(method, history, point, config);
    let points = (1..=config.horizon).map(|step| ForecastPoint { step, point, lower, upper }).collect();
    Ok(Forecast { accuracy: backtest(method, history, config), classification, method, points, band })
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
    let errors: Vec<f64> = (first..history.len()).map(|o| (history[o] - method.point(&history[..o])).abs()).collect();
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

/// One series a forecast request covers and the history window to fit it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastWindow {
    /// The series.
    pub key: CellKey,
    /// First history period.
    pub from: Period,
    /// Last history period; the forecast starts after it.
    pub to: Period,
}

/// The series `query` asks forecasts of, sorted by key: every key it
/// selects that has demand anywhere in the cube — not only keys with a
/// non-empty cell in the window, because a series with demand in its
/// history but none in the window is a series with a zero forecast, not a
/// missing one. The window is `query.from..=query.to`; an open start is the
/// key's first period with demand, an open end the cube's last period with
/// any demand, so a series that has gone quiet ends in its zeros (and TSB
/// sees them) instead of at its own last demand.
pub fn forecast_windows(cube: &DemandCube, query: &CellQuery) -> Result<Vec<ForecastWindow>, DemandError> {
    query.check()?;
    let granularity = query.granularity;
    let keys: Vec<CellKey> = cube.keys(query.breakdown).into_iter().filter(|k| query.selects_key(k)).collect();
    let mut extents = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some((first, last)) = cube.extent(&key) {
            extents.push((key, first.coarsen(granularity)?, last.coarsen(granularity)?));
        }
    }
    let cube_last = cube.keys(query.breakdown).iter().filter_map(|k| cube.extent(k)).map(|(_, last)| last).max();
    let Some(cube_last) = cube_last else { return Ok(Vec::new()) };
    let cube_last = cube_last.coarsen(granularity)?;
    Ok(extents
        .into_iter()
        .filter_map(|(key, first, _)| {
            let from = query.from.unwrap_or(first);
            let to = query.to.unwrap_or(cube_last.max(from));
            (from <= to).then_some(ForecastWindow { key, from, to })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;
    use crate::cube::Breakdown;
    use crate::order::{DemandOrder, MaintenanceLevel, Region, RepairType};
    use crate::period::Granularity;

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
    fn adi_is_the_mean_interval_between_demands_not_periods_over_demands() {
        // Syntetos & Boylan (2005): ADI is the average interval between
        // demands. 25 demands of 5, eight of them after one empty period,
        // then eight trailing zeros: intervals sum to 33 → ADI 33/25 = 1.32
        // (periods ÷ demand periods would say 41/25).
        let mut y = Vec::new();
        for i in 0..25 {
            if i < 8 {
                y.push(0.0);
            }
            y.push(5.0);
        }
        y.extend([0.0; 8]);
        let c = classify(&y);
        assert_eq!(c.adi, Some(1.32));
        assert_eq!(c.cv2, Some(0.0));
        assert_eq!(c.pattern, DemandPattern::Intermittent);
        // One empty period fewer: 32/25 < 1.32.
        y.remove(0);
        assert_eq!(classify(&y).pattern, DemandPattern::Smooth);
    }

    #[test]
    fn cv2_uses_the_sample_variance_and_its_cutoff_falls_on_the_high_side() {
        // Sizes 3, 10, 17: mean 10, sample variance (49+0+49)/2 = 49 → 0.49.
        let c = classify(&[3.0, 10.0, 17.0]);
        assert_eq!(c.cv2, Some(0.49));
        assert_eq!(c.adi, Some(1.0));
        assert_eq!(c.pattern, DemandPattern::Erratic);
        assert_eq!(classify(&[3.01, 10.0, 16.99]).pattern, DemandPattern::Smooth);
        // The same sizes every other period: ADI 2.
        assert_eq!(classify(&[0.0, 3.0, 0.0, 10.0, 0.0, 17.0]).pattern, DemandPattern::Lumpy);
        assert_eq!(classify(&[0.0, 3.01, 0.0, 10.0, 0.0, 16.99]).pattern, DemandPattern::Intermittent);
    }

    #[test]
    fn pattern_names_are_the_ones_the_proto_documents() {
        // proto/cosx/v1/signals.proto, CellForecast.pattern:
        // "SMOOTH, ERRATIC, INTERMITTENT, LUMPY or NO_DEMAND".
        let names: Vec<&str> = [
            DemandPattern::Smooth,
            DemandPattern::Erratic,
            DemandPattern::Intermittent,
            DemandPattern::Lumpy,
            DemandPattern::NoDemand,
        ]
        .iter()
        .map(|p| p.as_str())
        .collect();
        assert_eq!(names, ["SMOOTH", "ERRATIC", "INTERMITTENT", "LUMPY", "NO_DEMAND"]);
        // CellForecast.method: e.g. "CROSTON_SBA alpha=0.1".
        assert_eq!(ForecastMethod::CrostonSba { alpha: 0.1 }.to_string(), "CROSTON_SBA alpha=0.1");
        assert_eq!(
            ForecastMethod::Tsb { alpha_demand: 0.1, alpha_probability: 0.2 }.to_string(),
            "TSB alpha_demand=0.1 alpha_probability=0.2"
        );
        // The serialised names are the API's too.
        for p in [DemandPattern::NoDemand, DemandPattern::Lumpy] {
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        for m in [ForecastMethod::CrostonClassic { alpha: 0.1 }, ForecastMethod::Imapa { alpha: None }] {
            assert_eq!(serde_json::to_value(m).unwrap()["method"], m.name());
        }
    }

    #[test]
    fn every_pattern_maps_to_its_method() {
        let cfg = ForecastConfig::default();
        let m = |y: &[f64]| cfg.method_for(&classify(y));
        assert_eq!(m(&[0.0; 4]), ForecastMethod::Zero);
        assert!(matches!(m(&[3.0, 3.0, 3.0]), ForecastMethod::Ses { alpha } if alpha == 0.2));
        assert!(matches!(m(&[3.0, 10.0, 17.0]), ForecastMethod::Ses { .. }));
        assert!(matches!(m(&[0.0, 3.0, 0.0, 3.0]), ForecastMethod::CrostonSba { alpha } if alpha == 0.1));
        assert!(matches!(m(&[0.0, 3.0, 0.0, 10.0, 0.0, 17.0]), ForecastMethod::Tsb { .. }));
        // A lone demand is classed on ADI but forecast by TSB.
        let lone = [0.0, 0.0, 4.0, 0.0];
        assert_eq!(classify(&lone).pattern, DemandPattern::Intermittent);
        assert!(matches!(m(&lone), ForecastMethod::Tsb { .. }));
    }

    #[test]
    fn croston_sba_is_the_classic_forecast_times_one_minus_half_alpha() {
        // Sizes 3, 5 → 4; intervals 2, 3 → 2.5 (α = 0.5); SBA (1 − 0.25)·1.6.
        let y = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0];
        assert!(close(ForecastMethod::CrostonClassic { alpha: 0.5 }.point(&y), 1.6));
        assert!(close(ForecastMethod::CrostonSba { alpha: 0.5 }.point(&y), 1.2));
        let f = fit(ForecastMethod::CrostonSba { alpha: 0.5 }, &y);
        assert_eq!(f.one_step[0], None);
        // From [0, 3]: 0.75 · 3 / 2.
        assert!(close(f.one_step[2].unwrap(), 1.125));
    }

    #[test]
    fn tsb_starts_its_probability_at_the_first_period_as_statsforecast_does() {
        // Occurrence 0,1,0,0,1,0 with β = 0.2 from p = 0 (the first period
        // had no demand): p = 0.24192; size 4 → 0.96768. The old start at
        // 1 / (first interval) gave 1.4592, 51 % more.
        let y = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0];
        let f = forecast(
            &y,
            &ForecastConfig {
                method_override: Some(ForecastMethod::Tsb { alpha_demand: 0.5, alpha_probability: 0.2 }),
                ..ForecastConfig::default()
            },
        )
        .unwrap();
        assert!(close(f.points[0].point, 0.967_68));
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
        assert!(matches!(f.method, ForecastMethod::Tsb { .. }));
        // p = 0.9^23 after 23 zero periods.
        assert!(close(f.points[0].point, 4.0 * 0.9_f64.powi(23)));
        // No demand since: the calibrated band of a period's demand is [0, 0].
        assert_eq!((f.points[0].lower, f.points[0].upper), (0.0, 0.0));
    }

    #[test]
    fn an_intermittent_band_starts_at_zero_and_a_lumpy_one_reaches_its_demand_months() {
        // Issue 18 §5: "39 [39-489]" cannot be an 80 % interval of a month
        // whose demand is zero two months in three.
        let y = spaced(36, 3, &[2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 2.0, 3.0, 1.0, 2.0, 2.0]);
        let f = forecast(&y, &ForecastConfig::default()).unwrap();
        assert_eq!(f.classification.pattern, DemandPattern::Intermittent);
        assert_eq!(f.points[0].lower, 0.0);
        assert!(f.points[0].upper > f.points[0].point);
        // Lumpy: every fourth month 100, now and then 1000; the point is a
        // fraction of every demand month.
        let y = spaced(48, 4, &[100.0, 100.0, 1000.0, 100.0, 100.0, 100.0, 100.0, 1000.0, 100.0, 100.0, 100.0, 100.0]);
        let f = forecast(&y, &ForecastConfig::default()).unwrap();
        assert_eq!(f.classification.pattern, DemandPattern::Lumpy);
        let p = f.points[0];
        assert_eq!(p.lower, 0.0);
        assert!(p.point < 100.0 && p.upper > p.point, "{p:?}");
        assert_eq!((f.band.lower_level, f.band.upper_level), (0.0, 0.8));
    }

    #[test]
    fn a_smooth_band_brackets_the_point() {
        let y: Vec<f64> = (0..36).map(|i| 20.0 + f64::from(i % 5) - 2.0).collect();
        let f = forecast(&y, &ForecastConfig::default()).unwrap();
        let p = f.points[0];
        assert!(0.0 < p.lower && p.lower < p.point && p.point < p.upper, "{p:?}");
        assert!(close(f.band.lower_level, 0.1) && close(f.band.upper_level, 0.9));
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
        let field = |cfg: ForecastConfig| match forecast(&[1.0], &cfg) {
            Err(DemandError::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let with = |params: ForecastParams| ForecastConfig { params, ..ForecastConfig::default() };
        let d = ForecastParams::default();
        assert_eq!(field(with(ForecastParams { ses_alpha: 0.0, ..d })), "forecast_params.ses_alpha");
        assert_eq!(field(with(ForecastParams { croston_alpha: 1.5, ..d })), "forecast_params.croston_alpha");
        assert_eq!(field(with(ForecastParams { tsb_alpha_demand: -0.1, ..d })), "forecast_params.tsb_alpha_demand");
        assert_eq!(
            field(with(ForecastParams { tsb_alpha_probability: f64::NAN, ..d })),
            "forecast_params.tsb_alpha_probability"
        );
        assert_eq!(
            field(with(ForecastParams { aggregation_alpha: Some(0.0), ..d })),
            "forecast_params.aggregation_alpha"
        );
        assert_eq!(
            field(ForecastConfig { band_coverage: 1.0, ..ForecastConfig::default() }),
            "forecast_config.band_coverage"
        );
        // α = 1 is allowed (SES becomes the naive forecast).
        assert!(forecast(&[1.0], &with(ForecastParams { ses_alpha: 1.0, ..d })).is_ok());
        assert!(matches!(
            forecast(&[-1.0], &ForecastConfig::default()),
            Err(DemandError::InvalidField { field: "history", .. })
        ));
    }

    fn order(id: &str, tms: &str, y: i32, m: u32) -> DemandOrder {
        let d = chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        DemandOrder {
            order_id: id.into(),
            region: Region::Eucom,
            tms_or_family: tms.into(),
            maintenance_level: MaintenanceLevel::Depot,
            repair_type: RepairType::RepairAndReturn,
            owner_nation: "NLD".into(),
            originator: "P1".into(),
            submitted: d,
            required_by: d,
            quantity: 1,
            estimated_labor_hours: 10.0,
            cancelled: false,
        }
    }

    #[test]
    fn a_series_with_demand_before_the_window_gets_a_zero_forecast_not_none() {
        // F-16 had demand in 2025 only; the window is 2026. Issue 18 §5: a
        // cell with demand in the history but none in the window is a cell
        // with a zero forecast, not a missing cell.
        let cube = DemandCube::from_orders(&[
            order("a", "F-16", 2025, 3),
            order("b", "F-16", 2025, 5),
            order("c", "F-35A", 2026, 2),
        ])
        .unwrap();
        let mut q = CellQuery::all(DateBasis::RequiredBy, Granularity::Month, Breakdown::NONE);
        q.from = Some(Period::month(2026, 1).unwrap());
        q.to = Some(Period::month(2026, 6).unwrap());
        let windows = forecast_windows(&cube, &q).unwrap();
        assert_eq!(windows.len(), 2);
        let f16 = windows.iter().find(|w| w.key.tms_or_family == "F-16").unwrap();
        let f = forecast_cell(&cube, &f16.key, q.basis, Measure::Orders, f16.from, f16.to, &ForecastConfig::default())
            .unwrap();
        assert_eq!(f.forecast.method, ForecastMethod::Zero);
        assert!(f.forecast.points.iter().all(|p| p.point == 0.0));
        // An open window ends at the cube's last period (2026-02), so F-16's
        // history runs on through its empty months after May 2025.
        let open = forecast_windows(&cube, &CellQuery::all(DateBasis::RequiredBy, Granularity::Month, Breakdown::NONE))
            .unwrap();
        let f16 = open.iter().find(|w| w.key.tms_or_family == "F-16").unwrap();
        assert_eq!((f16.from, f16.to), (Period::month(2025, 3).unwrap(), Period::month(2026, 2).unwrap()));
    }
}
