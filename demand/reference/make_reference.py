"""Reference forecasts for demand/tests/statsforecast.rs, made by Nixtla's
statsforecast itself (PyPI, not a re-implementation).

Rerun (writes demand/tests/reference/statsforecast.json):

    pip install statsforecast==2.1.1
    python3 demand/reference/make_reference.py

The series are drawn from a seeded numpy generator so every run writes the
same file; the test reads the series from the file, so changing them here
and rerunning is all it takes. ADI and CV2 are computed here as the cosx
classification documents them (mean of statsforecast's `_intervals`, sample
variance of the non-zero sizes) so the test can check `classify` too.
"""

import json
import pathlib

import numpy as np
import statsforecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    CrostonClassic,
    CrostonSBA,
    SimpleExponentialSmoothing,
)
from statsforecast.models import _intervals

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "reference" / "statsforecast.json"


def series(rng, n, p_demand, size_mean, size_cv):
    """n periods, demand with probability p_demand, gamma sizes."""
    shape = 1.0 / size_cv**2
    sizes = rng.gamma(shape, size_mean / shape, n)
    occurs = rng.random(n) < p_demand
    return np.round(np.where(occurs, sizes, 0.0), 2)


def make_series():
    rng = np.random.default_rng(20261202)
    out = []
    # (pattern the parameters aim at, probability of demand, size CV)
    for aim, p, cv in [
        ("SMOOTH", 1.0, 0.3),
        ("SMOOTH", 0.95, 0.4),
        ("ERRATIC", 1.0, 1.2),
        ("ERRATIC", 0.9, 1.0),
        ("INTERMITTENT", 0.35, 0.3),
        ("INTERMITTENT", 0.2, 0.4),
        ("LUMPY", 0.3, 1.3),
        ("LUMPY", 0.15, 1.0),
    ]:
        for n in (24, 37, 60):
            y = series(rng, n, p, 20.0, cv)
            if not (y > 0).any():
                y[n // 2] = 5.0
            out.append({"name": f"{aim.lower()}-{n}-p{p}", "aim": aim, "y": y.tolist()})
    # Edge cases: a lone demand (first period and later), leading zeros.
    lone = np.zeros(24)
    lone[0] = 4.0
    out.append({"name": "lone-first", "aim": None, "y": lone.tolist()})
    lone = np.zeros(24)
    lone[9] = 4.0
    out.append({"name": "lone-late", "aim": None, "y": lone.tolist()})
    out.append({"name": "leading-zeros", "aim": None, "y": [0, 0, 0, 0, 0, 3, 0, 7, 0, 0, 2, 0, 5, 0, 0, 0, 4, 1.0]})
    return out


MODELS = [
    ("CROSTON_CLASSIC", {"alpha": 0.1}, lambda: CrostonClassic()),
    ("CROSTON_SBA", {"alpha": 0.1}, lambda: CrostonSBA()),
    ("SES", {"alpha": 0.2}, lambda: SimpleExponentialSmoothing(alpha=0.2)),
    ("SES", {"alpha": 0.5}, lambda: SimpleExponentialSmoothing(alpha=0.5)),
    ("TSB", {"alpha_demand": 0.1, "alpha_probability": 0.1}, lambda: TSB(alpha_d=0.1, alpha_p=0.1)),
    ("TSB", {"alpha_demand": 0.3, "alpha_probability": 0.2}, lambda: TSB(alpha_d=0.3, alpha_p=0.2)),
    ("ADIDA", {}, lambda: ADIDA()),
    ("IMAPA", {}, lambda: IMAPA()),
]


def classification(y):
    y = np.asarray(y, dtype=float)
    sizes = y[y > 0]
    adi = float(_intervals(y).mean()) if sizes.size else None
    cv2 = float(np.var(sizes, ddof=1) / np.mean(sizes) ** 2) if sizes.size >= 2 else None
    return adi, cv2


def main():
    cases = []
    for s in make_series():
        y = np.asarray(s["y"], dtype=float)
        adi, cv2 = classification(y)
        forecasts = []
        for method, params, make in MODELS:
            mean = make().forecast(y=y, h=1)["mean"]
            forecasts.append({"method": method, "params": params, "point": float(mean[0])})
        cases.append({**s, "adi": adi, "cv2": cv2, "forecasts": forecasts})
    doc = {
        "made_by": "demand/reference/make_reference.py",
        "statsforecast": statsforecast.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} series x {len(MODELS)} models to {OUT}")


if __name__ == "__main__":
    main()
