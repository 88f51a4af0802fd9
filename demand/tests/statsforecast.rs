//! cosx's forecasts against the open-source reference a planner checks them
//! with: Nixtla's statsforecast (issue 18 §5). The reference values in
//! `tests/reference/statsforecast.json` were made by statsforecast itself,
//! by `demand/reference/make_reference.py` (rerun:
//! `pip install statsforecast==2.1.1 && python3 demand/reference/make_reference.py`).
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;

use cosx_demand::{DemandPattern, ForecastMethod, classify};
use serde_json::Value;

const TOLERANCE: f64 = 1e-6;

fn reference() -> Value {
    serde_json::from_str(include_str!("reference/statsforecast.json")).unwrap()
}

fn series(case: &Value) -> Vec<f64> {
    case["y"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

fn method(m: &Value) -> ForecastMethod {
    let p = &m["params"];
    let f = |k: &str| p[k].as_f64().unwrap();
    match m["method"].as_str().unwrap() {
        "CROSTON_CLASSIC" => ForecastMethod::CrostonClassic { alpha: f("alpha") },
        "CROSTON_SBA" => ForecastMethod::CrostonSba { alpha: f("alpha") },
        "SES" => ForecastMethod::Ses { alpha: f("alpha") },
        "TSB" => ForecastMethod::Tsb { alpha_demand: f("alpha_demand"), alpha_probability: f("alpha_probability") },
        "ADIDA" => ForecastMethod::Adida { alpha: None },
        "IMAPA" => ForecastMethod::Imapa { alpha: None },
        other => panic!("unknown method {other}"),
    }
}

#[test]
fn every_method_matches_statsforecast_to_1e_6_on_series_of_every_pattern() {
    let doc = reference();
    let mut patterns = BTreeSet::new();
    let mut methods = BTreeSet::new();
    let mut compared = 0;
    for case in doc["cases"].as_array().unwrap() {
        let y = series(case);
        patterns.insert(classify(&y).pattern.as_str());
        for m in case["forecasts"].as_array().unwrap() {
            let method = method(m);
            let expected = m["point"].as_f64().unwrap();
            let got = method.point(&y);
            assert!(
                (got - expected).abs() <= TOLERANCE,
                "{} {method}: cosx {got}, statsforecast {expected}",
                case["name"].as_str().unwrap()
            );
            methods.insert(method.name());
            compared += 1;
        }
    }
    for p in [DemandPattern::Smooth, DemandPattern::Erratic, DemandPattern::Intermittent, DemandPattern::Lumpy] {
        assert!(patterns.contains(p.as_str()), "no reference series is {p}");
    }
    assert_eq!(methods.len(), 6, "{methods:?}");
    assert!(compared >= 4 * 6);
}

#[test]
fn adi_and_cv2_are_the_reference_intervals_mean_and_sample_cv2() {
    for case in reference()["cases"].as_array().unwrap() {
        let c = classify(&series(case));
        let name = case["name"].as_str().unwrap();
        let same = |a: Option<f64>, b: &Value| match (a, b.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            (None, None) => true,
            _ => false,
        };
        assert!(same(c.adi, &case["adi"]), "{name}: ADI {:?} vs {}", c.adi, case["adi"]);
        assert!(same(c.cv2, &case["cv2"]), "{name}: CV² {:?} vs {}", c.cv2, case["cv2"]);
    }
}
