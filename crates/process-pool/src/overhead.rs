//! The overhead table: what one task that does nothing costs through each executor
//! (submit + result), so the reader can tell how much work a task needs to be worth it.

use measure::report::{Kind, Lang, Report};
use measure::{Figure, units};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::hint::black_box;

use crate::ProcessPool;
use crate::demo::NOOP;

// ANCHOR: approaches
/// Python's `[ex.submit(noop, i) for i in range(n)]`, then every result, on the process pool.
pub fn process_pool_submit(pool: &ProcessPool, n: u64) -> Vec<u64> {
    let tasks: Vec<_> = (0..n).map(|i| pool.submit(&NOOP, i)).collect();
    tasks
        .into_iter()
        .map(|t| t.wait().unwrap_or(u64::MAX))
        .collect()
}

/// `ex.map(noop, range(n), chunksize=...)`: `chunksize` tasks per round trip.
pub fn process_pool_map(pool: &ProcessPool, n: u64, chunksize: usize) -> Vec<u64> {
    pool.map(&NOOP, 0..n, chunksize)
        .map(|r| r.unwrap_or(u64::MAX))
        .collect()
}

/// The same on the thread pool: closures, no copies, no pipes.
pub fn thread_pool_submit(pool: &threads::ThreadPool, n: u64) -> Vec<u64> {
    let tasks: Vec<_> = (0..n).map(|i| pool.submit(move || black_box(i))).collect();
    tasks
        .into_iter()
        .map(|t| t.wait().unwrap_or(u64::MAX))
        .collect()
}

/// A new OS thread for every task (at most `workers` alive at once).
pub fn spawn_per_task(n: u64, workers: usize) -> Vec<u64> {
    let mut running = VecDeque::with_capacity(workers);
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        if running.len() == workers.max(1) {
            out.extend(
                running
                    .pop_front()
                    .and_then(|h: std::thread::JoinHandle<u64>| h.join().ok()),
            );
        }
        running.push_back(std::thread::spawn(move || black_box(i)));
    }
    out.extend(running.into_iter().filter_map(|h| h.join().ok()));
    out
}

/// rayon's scope: one heap-allocated job per task on its work-stealing pool.
pub fn rayon_spawn(n: u64) -> Vec<u64> {
    let mut out = vec![0u64; n as usize];
    rayon::scope(|s| {
        for (i, slot) in out.iter_mut().enumerate() {
            s.spawn(move |_| *slot = black_box(i as u64));
        }
    });
    out
}

/// rayon's parallel iterator: splits the range in a few big pieces, not one job per item.
pub fn rayon_par_iter(n: u64) -> Vec<u64> {
    (0..n).into_par_iter().map(black_box).collect()
}
// ANCHOR_END: approaches

/// The limit: calling the no-op in a loop, no executor at all.
pub fn direct(n: u64) -> Vec<u64> {
    (0..n).map(black_box).collect()
}

/// Microseconds per task of a row (its median time per run over `tasks` tasks); `None` for a
/// row that did not run or whose result did not verify.
pub fn micros_per_task(report: &Report, approach: &str) -> Option<f64> {
    let row = report.row(approach).filter(|r| r.verified != Some(false))?;
    Some(row.median_s? / report.workload.items.max(1) as f64 * 1e6)
}

const RUST: RGBColor = RGBColor(0xce, 0x42, 0x2b);
const PYTHON: RGBColor = RGBColor(0x30, 0x69, 0x98);
const LIMIT: RGBColor = RGBColor(0x88, 0x88, 0x88);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const FONT: &str = "sans-serif";

/// `overhead.svg`: microseconds per task for every timed row, log scale, cheapest first.
pub fn chart(report: &Report) -> Figure {
    let mut rows: Vec<(String, f64, RGBColor)> = report
        .results
        .iter()
        .filter_map(|r| {
            let us = micros_per_task(report, &r.approach)?;
            let color = match (r.kind, r.lang) {
                (Kind::Limit, _) => LIMIT,
                (_, Lang::Python) => PYTHON,
                _ => RUST,
            };
            let name = match r.kind {
                Kind::Limit => format!("limit: {}", r.approach),
                _ => r.approach.clone(),
            };
            Some((name, us, color))
        })
        .collect();
    rows.sort_by(|a, b| a.1.total_cmp(&b.1));
    let n = rows.len().max(1);
    let (width, height) = (900u32, 90 + 34 * n as u32);
    let mut svg = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root, &rows).and_then(|_| root.present().map_err(|e| e.to_string()))
    };
    if let Err(e) = drawn {
        svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"60\"><text x=\"10\" \
             y=\"30\" font-family=\"sans-serif\">figure not drawn: {}</text></svg>",
            e.replace('&', "&amp;").replace('<', "&lt;")
        );
    }
    Figure {
        name: "overhead".into(),
        svg,
    }
}

fn draw(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    rows: &[(String, f64, RGBColor)],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let lo = rows.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let hi = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    if rows.is_empty() || !(lo > 0.0 && hi > 0.0) {
        return Err("no timed rows".into());
    }
    let x0 = 10f64.powf((lo.log10() - 0.3).floor());
    let x1 = 10f64.powf(hi.log10() + 1.0);
    let n = rows.len();
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Cost of one no-op task, submit + result (log scale), lower is better",
            (FONT, 18),
        )
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
        .x_label_formatter(&|v| units::duration(*v / 1e6))
        .x_desc("time per task")
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (name, us, color)) in rows.iter().enumerate() {
        let y = (n - i) as f64 - 0.5;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, y - 0.34), (*us, y + 0.34)],
                color.filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                units::duration(us / 1e6),
                (us * 1.15, y),
                (FONT, 13)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(|e| e.to_string())?;
        let (px, py) = chart.backend_coord(&(x0, y));
        root.draw(&Text::new(
            name.clone(),
            (px - 8, py),
            (FONT, 13)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}
