//! Inline SVG charts with axes, ticks and labels: the frame every chart
//! shares ([`Frame`]) and a line chart of series over periods. Each chart is
//! drawn from figures the page already holds and always has a table of the
//! same figures beside it. Must never: compute a figure, only place it.

use maud::{Markup, html};

/// The plot area of a chart: size, margins and the value at the top of the y axis.
pub(crate) struct Frame {
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) left: f64,
    pub(crate) right: f64,
    pub(crate) top_pad: f64,
    pub(crate) bottom: f64,
    /// The value the top of the y axis stands for.
    pub(crate) top: f64,
    /// Number of periods along the x axis.
    pub(crate) periods: usize,
}

impl Frame {
    /// A 720 × 260 frame for `periods` periods up to a y of `top` (rounded up to a nice number).
    pub(crate) fn new(periods: usize, top: f64) -> Frame {
        Frame {
            width: 720.0,
            height: 260.0,
            left: 56.0,
            right: 12.0,
            top_pad: 14.0,
            bottom: 44.0,
            top: nice(top),
            periods: periods.max(1),
        }
    }

    /// The width of one period's slot.
    pub(crate) fn step(&self) -> f64 {
        (self.width - self.left - self.right) / self.periods as f64
    }

    /// The x of the left edge of period `i`.
    pub(crate) fn x(&self, i: usize) -> f64 {
        self.left + self.step() * i as f64
    }

    /// The y of value `v`.
    pub(crate) fn y(&self, v: f64) -> f64 {
        let base = self.height - self.bottom;
        base - (v.max(0.0) / self.top) * (base - self.top_pad)
    }

    /// The axes: y ticks with labels (formatted by `tick`), x labels, and axis titles.
    pub(crate) fn axes(&self, labels: &[String], x_title: &str, y_title: &str, tick: &dyn Fn(f64) -> String) -> Markup {
        let base = self.height - self.bottom;
        let ticks: Vec<f64> = (0..=4).map(|i| self.top * i as f64 / 4.0).collect();
        // At most about twelve x labels, so they never overlap.
        let every = labels.len().div_ceil(12).max(1);
        html! {
            g.axes {
                @for t in &ticks {
                    line.grid x1=(f(self.left)) x2=(f(self.width - self.right)) y1=(f(self.y(*t))) y2=(f(self.y(*t))) {}
                    text.tick x=(f(self.left - 6.0)) y=(f(self.y(*t) + 4.0)) text-anchor="end" { (tick(*t)) }
                }
                line.axis x1=(f(self.left)) x2=(f(self.left)) y1=(f(self.top_pad)) y2=(f(base)) {}
                line.axis x1=(f(self.left)) x2=(f(self.width - self.right)) y1=(f(base)) y2=(f(base)) {}
                @for (i, l) in labels.iter().enumerate() {
                    @if i % every == 0 {
                        text.tick x=(f(self.x(i) + self.step() / 2.0)) y=(f(base + 16.0)) text-anchor="middle" { (l) }
                    }
                }
                text.title x=(f(self.left + (self.width - self.left - self.right) / 2.0)) y=(f(self.height - 6.0)) text-anchor="middle" { (x_title) }
                text.title x="12" y=(f(self.top_pad + (base - self.top_pad) / 2.0)) text-anchor="middle"
                    transform=(format!("rotate(-90 12 {})", f(self.top_pad + (base - self.top_pad) / 2.0))) { (y_title) }
            }
        }
    }
}

/// One decimal, as SVG coordinates are written.
pub(crate) fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten at or above `v` (1 for nothing).
pub(crate) fn nice(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|c| *c >= v * 0.999_999).unwrap_or(10.0 * magnitude)
}

/// A named series: one value (or none) per period, drawn as a line with dots.
pub(crate) struct Series<'a> {
    pub(crate) name: &'a str,
    pub(crate) class: &'a str,
    pub(crate) values: Vec<Option<f64>>,
}

/// A horizontal reference line (a target, a limit) with its label.
pub(crate) struct Rule<'a> {
    pub(crate) name: String,
    pub(crate) class: &'a str,
    pub(crate) value: f64,
}

/// A line chart of `series` over `labels`, with `rules` across it and a legend.
pub(crate) fn lines(
    aria: &str,
    labels: &[String],
    series: &[Series<'_>],
    rules: &[Rule<'_>],
    (x_title, y_title): (&str, &str),
    top: f64,
    tick: &dyn Fn(f64) -> String,
) -> Markup {
    let frame = Frame::new(labels.len(), top);
    let mid = |i: usize| frame.x(i) + frame.step() / 2.0;
    html! {
        svg.chart viewBox=(format!("0 0 {} {}", frame.width, frame.height)) role="img" aria-label=(aria) {
            (frame.axes(labels, x_title, y_title, tick))
            @for r in rules {
                line class=(format!("rule {}", r.class)) x1=(f(frame.left)) x2=(f(frame.width - frame.right)) y1=(f(frame.y(r.value))) y2=(f(frame.y(r.value))) {}
                text class=(format!("rule-label {}", r.class)) x=(f(frame.width - frame.right - 4.0)) y=(f(frame.y(r.value) - 4.0)) text-anchor="end" { (r.name) }
            }
            @for s in series {
                polyline class=(format!("series {}", s.class)) points=(
                    s.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{},{}", f(mid(i)), f(frame.y(v))))).collect::<Vec<_>>().join(" ")
                ) {}
                @for (i, v) in s.values.iter().enumerate() {
                    @if let Some(v) = v {
                        circle class=(format!("dot {}", s.class)) cx=(f(mid(i))) cy=(f(frame.y(*v))) r="3" {
                            title { (s.name) " " (labels.get(i).map_or("", String::as_str)) ": " (tick(*v)) }
                        }
                    }
                }
            }
        }
        p.legend {
            @for s in series { span class=(format!("key {}", s.class)) { (s.name) } " " }
            @for r in rules { span class=(format!("key {}", r.class)) { (r.name) } " " }
        }
    }
}

/// A bar chart: one bar per label (none where the value is absent), each
/// with its own class, with `rules` across it.
pub(crate) fn bars(
    aria: &str,
    labels: &[String],
    values: &[(Option<f64>, &str)],
    rules: &[Rule<'_>],
    (x_title, y_title): (&str, &str),
    top: f64,
    tick: &dyn Fn(f64) -> String,
) -> Markup {
    let frame = Frame::new(labels.len(), top);
    let step = frame.step();
    let base = frame.height - frame.bottom;
    html! {
        svg.chart viewBox=(format!("0 0 {} {}", frame.width, frame.height)) role="img" aria-label=(aria) {
            (frame.axes(labels, x_title, y_title, tick))
            @for (i, (v, class)) in values.iter().enumerate() {
                @if let Some(v) = v {
                    rect class=(format!("bar {class}")) x=(f(frame.x(i) + step * 0.15)) y=(f(frame.y(*v))) width=(f(step * 0.7)) height=(f(base - frame.y(*v))) {
                        title { (labels.get(i).map_or("", String::as_str)) ": " (tick(*v)) }
                    }
                }
            }
            @for r in rules {
                line class=(format!("rule {}", r.class)) x1=(f(frame.left)) x2=(f(frame.width - frame.right)) y1=(f(frame.y(r.value))) y2=(f(frame.y(r.value))) {}
                text class=(format!("rule-label {}", r.class)) x=(f(frame.width - frame.right - 4.0)) y=(f(frame.y(r.value) - 4.0)) text-anchor="end" { (r.name) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_rounds_up_to_one_two_two_and_a_half_or_five() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(0.83), 1.0);
        assert_eq!(nice(1.2), 2.0);
        assert_eq!(nice(2.2), 2.5);
        assert_eq!(nice(420.0), 500.0);
        assert_eq!(nice(5000.0), 5000.0);
        assert_eq!(nice(f64::NAN), 1.0);
    }

    #[test]
    fn values_map_into_the_plot_area_and_zero_sits_on_the_x_axis() {
        let frame = Frame::new(6, 100.0);
        assert_eq!(frame.y(0.0), frame.height - frame.bottom);
        assert_eq!(frame.y(100.0), frame.top_pad);
        assert!(frame.x(6) <= frame.width - frame.right + 1e-9);
    }
}
