//! The band is a calibrated 80 % prediction interval of a period's demand
//! (issue 18 §5): on simulated intermittent and lumpy series (Bernoulli
//! occurrence × gamma-distributed sizes), the band forecast from each
//! history covers 75–85 % of the held-out periods that follow it.
#![allow(clippy::unwrap_used, missing_docs)]

use cosx_demand::{DemandPattern, ForecastConfig, forecast};

/// splitmix64: a small deterministic generator, so the test is the same on
/// every run and machine.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1).
    fn uniform(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        u
    }

    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Gamma(shape ≥ 1, scale) by Marsaglia–Tsang.
    fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        if shape < 1.0 {
            let u = self.uniform().max(f64::MIN_POSITIVE);
            return self.gamma(shape + 1.0, scale) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v * scale;
            }
        }
    }

    /// One period: demand with probability `p`, size gamma with mean 20.
    fn period(&mut self, p: f64, size_cv: f64) -> f64 {
        let shape = 1.0 / (size_cv * size_cv);
        if self.uniform() < p { self.gamma(shape, 20.0 / shape) } else { 0.0 }
    }
}

/// Share of held-out periods inside the band, over `series` simulated
/// series of `history` periods followed by `held_out` periods.
fn coverage(seed: u64, series: usize, p: f64, size_cv: f64, expect: DemandPattern) -> f64 {
    let (history, held_out) = (48, 12);
    let mut rng = SplitMix64(seed);
    let config = ForecastConfig { horizon: held_out, ..ForecastConfig::default() };
    let (mut inside, mut total, mut of_pattern) = (0_usize, 0_usize, 0_usize);
    for _ in 0..series {
        let y: Vec<f64> = (0..history + held_out).map(|_| rng.period(p, size_cv)).collect();
        let f = forecast(&y[..history], &config).unwrap();
        of_pattern += usize::from(f.classification.pattern == expect);
        for (point, &actual) in f.points.iter().zip(&y[history..]) {
            inside += usize::from(point.lower <= actual && actual <= point.upper);
            total += 1;
        }
    }
    assert!(of_pattern * 10 >= series * 8, "only {of_pattern} of {series} series were {expect}");
    #[allow(clippy::cast_precision_loss)]
    let share = inside as f64 / total as f64;
    share
}

#[test]
fn an_80_percent_band_covers_75_to_85_percent_of_held_out_intermittent_demand() {
    for (p, seed) in [(0.3, 1), (0.5, 2), (0.2, 3)] {
        let c = coverage(seed, 400, p, 0.4, DemandPattern::Intermittent);
        assert!((0.75..=0.85).contains(&c), "p = {p}: coverage {c}");
    }
}

#[test]
fn an_80_percent_band_covers_75_to_85_percent_of_held_out_lumpy_demand() {
    for (p, seed) in [(0.3, 4), (0.5, 5)] {
        let c = coverage(seed, 400, p, 1.2, DemandPattern::Lumpy);
        assert!((0.75..=0.85).contains(&c), "p = {p}: coverage {c}");
    }
}
