//! GB/s against array size: where each sum-of-squares kernel runs out of cache.
//!
//! The same kernels as the tables, on arrays from 16 KiB to 128 MiB. Each point repeats the
//! kernel over its array until it has read at least 32 MiB, and takes the median of the
//! runs. Drawn with a log-scale size axis and the CPU's cache sizes marked.

use std::hint::black_box;
use std::time::Instant;

use measure::Figure;
use measure::progress::Progress;
use plotters::prelude::*;
use serde_json::{Value, json};

use crate::cache::{Level, binary, decimal};
use crate::data::{MUL_X, f32_values};
use crate::lessons::rows;
use crate::simd;

/// One kernel's GB/s at each size.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: &'static str,
    pub gbps: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct Sweep {
    pub sizes: Vec<u64>,
    pub series: Vec<Series>,
    pub levels: Vec<Level>,
}

type Kernel = fn(&[f32]) -> f32;

/// The kernels of the sweep: `(name, kernel)`.
fn kernels() -> [(&'static str, Kernel); 4] {
    [
        (rows::SCALAR, simd::sum_squares_scalar),
        (rows::LANES, simd::sum_squares_lanes),
        (rows::SIMD, simd::sum_squares_simd),
        ("limit: read the same bytes", |xs| {
            simd::read_bytes(xs) as f32
        }),
    ]
}

/// Measure every kernel at every size (2^4 .. 2^17 KiB), `runs` timed runs each.
pub fn run(runs: u32, progress: bool, levels: Vec<Level>) -> Sweep {
    let sizes: Vec<u64> = (4..=17).map(|k| (1u64 << k) << 10).collect();
    let largest = sizes.last().copied().unwrap_or(0) as usize / 4;
    let data = f32_values(largest, MUL_X);
    let bar = Progress::bar(progress, sizes.len() as u64, "GB/s against size");
    let mut series: Vec<Series> = kernels()
        .iter()
        .map(|(name, _)| Series {
            name,
            gbps: Vec::new(),
        })
        .collect();
    for &bytes in &sizes {
        let xs = &data[..bytes as usize / 4];
        let reps = (32u64 << 20).div_ceil(bytes);
        for (s, (_, kernel)) in series.iter_mut().zip(kernels()) {
            let mut times: Vec<f64> = (0..=runs)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..reps {
                        black_box(kernel(black_box(xs)));
                    }
                    start.elapsed().as_secs_f64()
                })
                .skip(1) // the warm-up run
                .collect();
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            s.gbps.push((bytes * reps) as f64 / median / 1e9);
        }
        bar.inc();
    }
    bar.finish();
    Sweep {
        sizes,
        series,
        levels,
    }
}

impl Sweep {
    /// A plain table: one row per size, one column per kernel.
    pub fn table(&self) -> String {
        let mut out =
            String::from("sum of squares: GB/s against array size (median of the runs)\n\n");
        let mut header = format!("{:>9}", "size");
        for s in &self.series {
            header.push_str(&format!("  {:>22}", short(s.name)));
        }
        out.push_str(&header);
        out.push('\n');
        out.push_str(&"─".repeat(header.chars().count()));
        out.push('\n');
        for (i, &bytes) in self.sizes.iter().enumerate() {
            out.push_str(&format!("{:>9}", binary(bytes)));
            for s in &self.series {
                out.push_str(&format!("  {:>17.1} GB/s", s.gbps[i]));
            }
            out.push('\n');
        }
        let caches: Vec<String> = self
            .levels
            .iter()
            .map(|l| format!("L{} {}", l.level, binary(l.bytes)))
            .collect();
        if !caches.is_empty() {
            out.push_str(&format!(
                "\ndata caches of one core: {}\n",
                caches.join(", ")
            ));
        }
        out
    }

    pub fn json(&self) -> Value {
        json!({
            "sizes_bytes": self.sizes,
            "series": self.series.iter().map(|s| json!({ "approach": s.name, "gb_per_s": s.gbps })).collect::<Vec<_>>(),
        })
    }

    /// Lines per kernel over a log-scale size axis, the caches marked as vertical lines.
    pub fn figure(&self) -> Figure {
        let mut svg = String::new();
        let drawn = self.draw(&mut svg);
        if let Err(e) = drawn {
            svg = format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"820\" height=\"60\"><text x=\"10\" y=\"30\">figure not drawn: {}</text></svg>",
                e.replace('&', "&amp;").replace('<', "&lt;")
            );
        }
        Figure {
            name: "sweep".into(),
            svg,
        }
    }

    fn draw(&self, svg: &mut String) -> Result<(), String> {
        const FONT: &str = "sans-serif";
        let colors = [
            RGBColor(0x8c, 0x2a, 0x1a),
            RGBColor(0xe0, 0x8a, 0x3a),
            RGBColor(0xce, 0x42, 0x2b),
            RGBColor(0x88, 0x88, 0x88),
        ];
        let x0 = *self.sizes.first().ok_or("no sizes")? as f64;
        let x1 = *self.sizes.last().ok_or("no sizes")? as f64;
        let top = self
            .series
            .iter()
            .flat_map(|s| s.gbps.iter().copied())
            .fold(0.0, f64::max)
            * 1.55; // headroom for the legend
        let root = SVGBackend::with_string(svg, (820, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "sum of squares of f32: GB/s against array size (higher is better)",
                (FONT, 18),
            )
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d((x0..x1).log_scale(), 0.0..top.max(1.0))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("array size (log scale)")
            .y_desc("GB/s")
            .x_label_formatter(&|v| decimal(v.round() as u64))
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        for l in self
            .levels
            .iter()
            .filter(|l| (x0..=x1).contains(&(l.bytes as f64)))
        {
            let x = l.bytes as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, 0.0), (x, top)],
                    RGBColor(0xbb, 0xbb, 0xbb).stroke_width(1),
                )))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("L{} {}", l.level, binary(l.bytes)),
                    (x * 1.06, top * 0.72),
                    (FONT, 12).into_font().color(&RGBColor(0x66, 0x66, 0x66)),
                )))
                .map_err(|e| e.to_string())?;
        }
        for (s, color) in self.series.iter().zip(colors.iter().cycle()) {
            let color = *color;
            let points: Vec<(f64, f64)> = self
                .sizes
                .iter()
                .map(|&b| b as f64)
                .zip(s.gbps.iter().copied())
                .collect();
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(s.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .border_style(RGBColor(0x22, 0x22, 0x22))
            .background_style(WHITE.mix(0.9))
            .label_font((FONT, 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
        Ok(())
    }
}

fn short(name: &str) -> &str {
    match name {
        rows::SCALAR => "scalar, in order",
        rows::LANES => "16 accumulators",
        rows::SIMD => "explicit SIMD",
        "limit: read the same bytes" => "limit: read",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_figure_name_every_kernel() {
        let sweep = Sweep {
            sizes: vec![16 << 10, 32 << 10],
            series: kernels()
                .iter()
                .map(|(name, _)| Series {
                    name,
                    gbps: vec![10.0, 20.0],
                })
                .collect(),
            levels: vec![Level {
                level: 2,
                bytes: 24 << 10,
            }],
        };
        let table = sweep.table();
        assert!(
            table.contains("16 KiB") && table.contains("20.0 GB/s"),
            "{table}"
        );
        let svg = sweep.figure().svg;
        assert!(
            svg.contains("explicit SIMD") && svg.contains("L2 24 KiB"),
            "{svg}"
        );
    }
}
