//! SVG figures, drawn with plotters' SVG backend (text stays text, so labels are searchable
//! and scale with the page): the approaches bar chart every example gets, a line chart
//! (speed-up against threads, say) and a timeline of task spans per worker for the pools.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{Kind, Lang, Report};
use crate::units;

/// A named SVG document, written as `NAME.svg` by `--out`.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub svg: String,
}

const RUST: RGBColor = RGBColor(0xce, 0x42, 0x2b);
const RUST_BASE: RGBColor = RGBColor(0x8c, 0x2a, 0x1a);
const PYTHON: RGBColor = RGBColor(0x30, 0x69, 0x98);
const LIMIT: RGBColor = RGBColor(0x88, 0x88, 0x88);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const FONT: &str = "sans-serif";

fn draw(
    width: u32,
    height: u32,
    paint: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| paint(&root))
            .and_then(|_| root.present().map_err(|e| e.to_string()));
        if let Err(e) = result {
            drop(root);
            return error_svg(width, height, &e);
        }
    }
    svg
}

/// A figure that could not be drawn says so instead of vanishing.
fn error_svg(width: u32, height: u32, message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\">\
         <text x=\"10\" y=\"30\" font-family=\"sans-serif\">figure not drawn: {escaped}</text></svg>"
    )
}

/// What a bar stands for, which sets its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Baseline,
    Rust,
    Python,
    Limit,
}

impl Tone {
    pub fn of(kind: Kind, lang: Lang) -> Tone {
        match (kind, lang) {
            (Kind::Limit, _) => Tone::Limit,
            (_, Lang::Python) => Tone::Python,
            (Kind::Baseline, _) => Tone::Baseline,
            (Kind::Approach, Lang::Rust) => Tone::Rust,
        }
    }

    fn color(self) -> RGBColor {
        match self {
            Tone::Baseline => RUST_BASE,
            Tone::Rust => RUST,
            Tone::Python => PYTHON,
            Tone::Limit => LIMIT,
        }
    }
}

/// One bar: a time in seconds, an optional min…max whisker, and text after its value.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub seconds: f64,
    pub spread: Option<(f64, f64)>,
    /// Shown after the time, e.g. the ratio to the baseline: `12.3 ms · 4.5x`.
    pub note: Option<String>,
    pub tone: Tone,
}

/// Horizontal bars of times on a log scale (lower is better), top to bottom as given.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub name: String,
    pub title: String,
    pub x_desc: String,
    pub bars: Vec<Bar>,
}

impl BarChart {
    pub fn draw(&self) -> Figure {
        let bars = &self.bars;
        let height = 90 + 34 * bars.len().max(1) as u32;
        let svg = draw(900, height, |root| {
            let low = |b: &Bar| b.spread.map_or(b.seconds, |s| s.0.min(b.seconds));
            let high = |b: &Bar| b.spread.map_or(b.seconds, |s| s.1.max(b.seconds));
            let lo = bars.iter().map(low).fold(f64::INFINITY, f64::min);
            let hi = bars.iter().map(high).fold(0.0, f64::max);
            if bars.is_empty() || !(lo > 0.0 && hi > 0.0) {
                return Err("no timed rows".into());
            }
            // Decades around the data, with room on the right for the labels.
            let x0 = 10f64.powf((lo.log10() - 0.3).floor());
            let x1 = 10f64.powf(hi.log10() + 1.2);
            let n = bars.len();
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, (FONT, 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(300)
                .build_cartesian_2d((x0..x1).log_scale(), 0f64..n as f64)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(8)
                .x_label_formatter(&|v| units::duration(*v))
                .x_desc(self.x_desc.as_str())
                .label_style((FONT, 13))
                .draw()
                .map_err(|e| e.to_string())?;
            let font = |h| {
                (FONT, 13)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(h, VPos::Center))
            };
            for (i, bar) in bars.iter().enumerate() {
                let y = (n - i) as f64 - 0.5;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y - 0.34), (bar.seconds.max(x0), y + 0.34)],
                        bar.tone.color().filled(),
                    )))
                    .map_err(|e| e.to_string())?;
                if let Some((a, b)) = bar.spread {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(a, y), (b, y)],
                            INK.stroke_width(1),
                        )))
                        .map_err(|e| e.to_string())?;
                }
                let value = match &bar.note {
                    Some(note) => format!("{} · {note}", units::duration(bar.seconds)),
                    None => units::duration(bar.seconds),
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        value,
                        (high(bar) * 1.15, y),
                        font(HPos::Left),
                    )))
                    .map_err(|e| e.to_string())?;
                // The label, right-aligned in the area left of the plot.
                let (px, py) = chart.backend_coord(&(x0, y));
                root.draw(&Text::new(
                    bar.label.clone(),
                    (px - 8, py),
                    font(HPos::Right),
                ))
                .map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        Figure {
            name: self.name.clone(),
            svg,
        }
    }
}

/// Median time per approach on a log scale (whiskers: min to max), each bar labelled with
/// its time and its ratio to the baseline. Skipped rows are left out; limits are grey.
pub fn approaches_chart(report: &Report) -> Figure {
    let bars = report
        .results
        .iter()
        .filter_map(|r| {
            Some(Bar {
                label: r.display_name(),
                seconds: r.median_s?,
                spread: r.min_s.zip(r.max_s),
                note: r.speedup_vs_baseline.map(units::ratio),
                tone: Tone::of(r.kind, r.lang),
            })
        })
        .collect();
    BarChart {
        name: "time".into(),
        title: format!(
            "{}: median time per run (log scale), lower is better",
            report.example
        ),
        x_desc: "seconds per run".into(),
        bars,
    }
    .draw()
}

/// One line of a [`LineChart`].
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Lines over a numeric x axis, e.g. speed-up against the number of threads.
#[derive(Debug, Clone)]
pub struct LineChart {
    pub name: String,
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub series: Vec<Series>,
}

impl LineChart {
    pub fn draw(&self) -> Figure {
        let palette = [RUST, PYTHON, LIMIT, RUST_BASE, RGBColor(0x3a, 0x8a, 0x3a)];
        let svg = draw(720, 420, |root| {
            let pts = self.series.iter().flat_map(|s| s.points.iter());
            let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
            for &(x, y) in pts {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
            if !(x0.is_finite() && x1.is_finite()) {
                return Err("no points".into());
            }
            if x1 <= x0 {
                x1 = x0 + 1.0;
            }
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, (FONT, 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(x0..x1, 0.0..(y1 * 1.15).max(1.0))
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc(self.x_desc.as_str())
                .y_desc(self.y_desc.as_str())
                .label_style((FONT, 13))
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, s) in self.series.iter().enumerate() {
                let color = palette[i % palette.len()];
                chart
                    .draw_series(LineSeries::new(
                        s.points.iter().copied(),
                        color.stroke_width(2),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .configure_series_labels()
                .border_style(INK)
                .background_style(WHITE.mix(0.9))
                .label_font((FONT, 13))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(|e| e.to_string())?;
            Ok(())
        });
        Figure {
            name: self.name.clone(),
            svg,
        }
    }
}

/// One task's span on one worker, in seconds since the start of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub worker: String,
    pub label: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// A Gantt chart of task spans per worker: where each worker was busy, and when it waited.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub name: String,
    pub title: String,
    pub spans: Vec<Span>,
}

impl Timeline {
    pub fn draw(&self) -> Figure {
        let mut workers: Vec<&str> = Vec::new();
        for s in &self.spans {
            if !workers.contains(&s.worker.as_str()) {
                workers.push(&s.worker);
            }
        }
        let height = 90 + 34 * workers.len().max(1) as u32;
        let svg = draw(900, height, |root| {
            let end = self.spans.iter().map(|s| s.end_s).fold(0.0, f64::max);
            if workers.is_empty() || end <= 0.0 {
                return Err("no spans".into());
            }
            let n = workers.len();
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, (FONT, 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(120)
                .build_cartesian_2d(0.0..end * 1.02, 0f64..n as f64)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_label_formatter(&|v| units::duration(*v))
                .x_desc("time since start")
                .label_style((FONT, 13))
                .draw()
                .map_err(|e| e.to_string())?;
            for (w, worker) in workers.iter().enumerate() {
                let y = (n - w) as f64 - 0.5;
                let (px, py) = chart.backend_coord(&(0.0, y));
                root.draw(&Text::new(
                    worker.to_string(),
                    (px - 8, py),
                    (FONT, 13)
                        .into_font()
                        .color(&INK)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(|e| e.to_string())?;
                for (k, s) in self
                    .spans
                    .iter()
                    .filter(|s| s.worker == *worker)
                    .enumerate()
                {
                    let color = if k % 2 == 0 { RUST } else { RUST_BASE };
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(s.start_s, y - 0.36), (s.end_s, y + 0.36)],
                            color.filled(),
                        )))
                        .map_err(|e| e.to_string())?;
                    // Label the span when it is wide enough to hold it.
                    let (a, _) = chart.backend_coord(&(s.start_s, y));
                    let (b, _) = chart.backend_coord(&(s.end_s, y));
                    if (b - a) as usize > 8 * s.label.chars().count() {
                        chart
                            .draw_series(std::iter::once(Text::new(
                                s.label.clone(),
                                ((s.start_s + s.end_s) / 2.0, y),
                                (FONT, 12)
                                    .into_font()
                                    .color(&WHITE)
                                    .pos(Pos::new(HPos::Center, VPos::Center)),
                            )))
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
            Ok(())
        });
        Figure {
            name: self.name.clone(),
            svg,
        }
    }
}
