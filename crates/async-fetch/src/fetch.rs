//! The `fetch` part: N days from the API by every approach in the same run, each verified
//! against the sequential client's result (and that one against the model, when the server
//! is ours), with requests/s, the limit of one request, a timeline per approach, the daily
//! statistics as CSV and a chart, and lesson lines drawn from the run's numbers.

use crate::clients::{self, Fetched, Setup};
use airtemp_api::{Date, model};
use measure::{
    Common, Document, Figure, Kind, LineChart, PythonScript, Report, Series, Suite, Timeline,
    Workload,
};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

/// What the part needs from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dates: Vec<Date>,
    pub setup: Setup,
    /// Threads of the pool, and the k of `buffer_unordered` and of the semaphore.
    pub concurrency: usize,
    /// The server's latency per request, when the server is ours (for the preface).
    pub latency_ms: Option<u64>,
    /// Whether the server is ours and serves whole days: then the model is the reference.
    pub model_is_reference: bool,
    pub common: Common,
}

/// The rows' names.
pub mod names {
    pub const SEQUENTIAL: &str = "sequential, blocking";
    pub const JOIN_ALL: &str = "join_all, all in flight";
    pub const LIMIT: &str = "one request: latency + transfer";
    pub fn pool(k: usize) -> String {
        format!("thread pool, submit + as_completed ({k} workers)")
    }
    pub fn buffered(k: usize) -> String {
        format!("buffer_unordered({k})")
    }
    pub fn semaphore(k: usize) -> String {
        format!("spawned tasks + semaphore({k})")
    }
}

/// The Python rows (scripts/python/async_fetch.py): requests, ThreadPoolExecutor, aiohttp.
pub const PYTHON_ROWS: [&str; 3] = ["requests", "ThreadPoolExecutor", "asyncio + aiohttp"];

/// The last run of each row, kept for its timeline and (the baseline's) the CSV.
type Kept = RefCell<BTreeMap<String, Fetched>>;

// ANCHOR: suite
/// The suite, on `runtime` for the async rows. `reset` runs before each run of a row (the
/// in-process server forgets its attempt counts, so every run meets the same faults).
pub fn suite<'a>(
    s: &'a Settings,
    runtime: &'a tokio::runtime::Runtime,
    reset: &'a (dyn Fn() + 'a),
    kept: &'a Kept,
) -> Suite<'a> {
    let days = s.dates.len() as u64;
    let k = s.concurrency;
    let workload = Workload::new(
        format!("{days} days of readings: fetch, parse, daily statistics"),
        days,
        "requests",
    )
    .param("days", days)
    .param("concurrency", k as u64);
    let mut suite = Suite::new("async-fetch fetch", workload, &s.common);
    let keep = move |name: &str, f: Fetched| {
        kept.borrow_mut().insert(name.to_string(), f.clone());
        f
    };
    let (setup, dates) = (&s.setup, &s.dates);
    suite.baseline(names::SEQUENTIAL, move || {
        reset();
        keep(names::SEQUENTIAL, clients::sequential(setup, dates))
    });
    let pool = names::pool(k);
    suite.approach(&pool.clone(), move || {
        reset();
        keep(&pool, clients::thread_pool(setup, dates, k))
    });
    suite.approach(names::JOIN_ALL, move || {
        reset();
        keep(
            names::JOIN_ALL,
            runtime.block_on(clients::join_all(setup, dates)),
        )
    });
    let buffered = names::buffered(k);
    suite.approach(&buffered.clone(), move || {
        reset();
        keep(
            &buffered,
            runtime.block_on(clients::buffer_unordered(setup, dates, k)),
        )
    });
    let semaphore = names::semaphore(k);
    suite.approach(&semaphore.clone(), move || {
        reset();
        keep(
            &semaphore,
            runtime.block_on(clients::semaphore(setup, dates, k)),
        )
    });
    // ANCHOR: limit
    let last = dates.last().copied();
    let client = clients::async_client(&setup.policy).ok();
    suite.limit(names::LIMIT, move || {
        reset();
        match (&client, last) {
            (Some(c), Some(d)) => runtime.block_on(clients::one_request(c, &setup.url(d))),
            _ => Err("no client".to_string()),
        }
    });
    suite.note("one date's request, its body read, not parsed: nothing can take less");
    // ANCHOR_END: limit
    if let Some(last) = dates.last() {
        suite.python(
            PythonScript::new("async_fetch.py", &PYTHON_ROWS)
                .arg("--base-url")
                .arg(setup.base_url.clone())
                .arg("--end")
                .arg(last.to_string())
                .arg("--days")
                .arg(days.to_string())
                .arg("--workers")
                .arg(k.to_string()),
        );
    }
    suite
}
// ANCHOR_END: suite

/// One row's numbers, as the lessons read them.
#[derive(Debug, Clone, PartialEq)]
pub struct RowTime {
    pub name: String,
    pub kind: Kind,
    pub median_s: f64,
    pub verified: bool,
}

/// The rows that have a time, from a report.
pub fn row_times(report: &Report) -> Vec<RowTime> {
    report
        .results
        .iter()
        .filter_map(|r| {
            Some(RowTime {
                name: r.approach.clone(),
                kind: r.kind,
                median_s: r.median_s?,
                verified: r.verified != Some(false) && r.failures.is_empty(),
            })
        })
        .collect()
}

fn ms(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

// ANCHOR: lessons
/// The lines under the table, from the run's numbers: whether overlapping the requests paid
/// and how much, how far the best row is from the limit, threads against async tasks.
pub fn lessons(rows: &[RowTime], days: usize, pool: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(base) = rows.iter().find(|r| r.kind == Kind::Baseline) else {
        return lines;
    };
    let n = days.max(1) as f64;
    let best = rows
        .iter()
        .filter(|r| r.kind == Kind::Approach && r.verified)
        .min_by(|a, b| a.median_s.total_cmp(&b.median_s));
    let Some(best) = best else {
        lines.push("No approach other than the baseline has a verified time in this run.".into());
        return lines;
    };
    let speedup = base.median_s / best.median_s.max(1e-12);
    if speedup >= 1.5 {
        lines.push(format!(
            "Overlapping the requests paid: {} took {} for {days} days, {speedup:.1}x faster than \
             one after another ({}, {} a day).",
            best.name,
            ms(best.median_s),
            ms(base.median_s),
            ms(base.median_s / n)
        ));
    } else {
        lines.push(format!(
            "Overlapping the requests hardly paid in this run: the best, {}, took {} against {} \
             one after another ({speedup:.2}x); the requests were not waiting much.",
            best.name,
            ms(best.median_s),
            ms(base.median_s)
        ));
    }
    if let Some(limit) = rows.iter().find(|r| r.kind == Kind::Limit) {
        let times = best.median_s / limit.median_s.max(1e-12);
        let per_day = (best.median_s - limit.median_s).max(0.0) / n;
        if times <= 1.5 {
            lines.push(format!(
                "{} took {times:.1}x one request's {}: all {days} days cost about as long as \
                 the slowest single one.",
                best.name,
                ms(limit.median_s)
            ));
        } else {
            lines.push(format!(
                "{} took {times:.1}x one request's {}: beyond the one wait, each day cost about \
                 {} more (transfer, parsing and statistics on the client's cores).",
                best.name,
                ms(limit.median_s),
                ms(per_day)
            ));
        }
    }
    let threads = rows.iter().find(|r| r.name == pool && r.verified);
    let tasks = rows
        .iter()
        .filter(|r| r.kind == Kind::Approach && r.verified && r.name != pool)
        .min_by(|a, b| a.median_s.total_cmp(&b.median_s));
    if let (Some(t), Some(a)) = (threads, tasks) {
        let ratio = t.median_s / a.median_s.max(1e-12);
        lines.push(if ratio > 1.1 {
            format!(
                "Async tasks beat threads here: {} took {}, the {} {} ({ratio:.1}x longer).",
                a.name,
                ms(a.median_s),
                t.name,
                ms(t.median_s)
            )
        } else if ratio < 1.0 / 1.1 {
            format!(
                "Threads beat async tasks here: the {} took {}, the best async row, {}, {} \
                 ({:.1}x longer).",
                t.name,
                ms(t.median_s),
                a.name,
                ms(a.median_s),
                1.0 / ratio
            )
        } else {
            format!(
                "Threads and async tasks came out even ({} against {}, within 10%): at this \
                 many requests, a waiting thread costs no more than a waiting task.",
                ms(t.median_s),
                ms(a.median_s)
            )
        });
    }
    lines
}
// ANCHOR_END: lessons

/// The daily statistics as CSV: one line per (date, station) and one per date for all
/// stations (`station` = `all`); missing readings are counted, not averaged.
pub fn write_csv(path: &Path, fetched: &Fetched) -> Result<(), String> {
    let mut w = csv::Writer::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let err = |e: csv::Error| format!("{}: {e}", path.display());
    w.write_record(["date", "station", "count", "missing", "mean", "min", "max"])
        .map_err(err)?;
    let f = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
    for day in fetched.stats() {
        let date = day.date.to_string();
        let all = std::iter::once(("all", &day.all));
        for (id, s) in all.chain(day.stations.iter().map(|(id, s)| (id.as_str(), s))) {
            w.write_record([
                date.as_str(),
                id,
                &s.count.to_string(),
                &s.missing.to_string(),
                &f(s.mean()),
                &f(s.min),
                &f(s.max),
            ])
            .map_err(err)?;
        }
    }
    w.flush().map_err(|e| format!("{}: {e}", path.display()))
}

/// The all-station daily mean, min and max over the dates.
pub fn daily_chart(fetched: &Fetched) -> Figure {
    let first = fetched.days.first().map(|d| d.date);
    let x = |d: Date| {
        first.map_or(0.0, |f| {
            (d.days_since_epoch() - f.days_since_epoch()) as f64
        })
    };
    let series = |name: &str, pick: fn(&airtemp_api::Stats) -> Option<f64>| Series {
        name: name.to_string(),
        points: fetched
            .stats()
            .filter_map(|d| pick(&d.all).map(|v| (x(d.date), v)))
            .collect(),
    };
    LineChart {
        name: "daily-temperature".into(),
        title: format!(
            "All stations, per day from {}",
            first.map(|d| d.to_string()).unwrap_or_default()
        ),
        x_desc: "day".into(),
        y_desc: "°C".into(),
        series: vec![
            series("max", |s| s.max),
            series("mean", |s| s.mean()),
            series("min", |s| s.min),
        ],
    }
    .draw()
}

/// How many fetched days equal the model's statistics, of how many fetched.
pub fn model_check(fetched: &Fetched) -> (usize, usize) {
    let matching = fetched
        .stats()
        .filter(|d| d.equals_model(&model::expected_stats(d.date)))
        .count();
    (matching, fetched.done())
}

/// The whole part, printed through `out`. `Err` is a usage error (exit 2).
pub fn run(
    s: &Settings,
    runtime: &tokio::runtime::Runtime,
    reset: &dyn Fn(),
    out: &Document,
) -> Result<(), String> {
    let kept = Kept::default();
    let suite = suite(s, runtime, &reset, &kept);
    let days = s.dates.len();
    let (first, last) = match (s.dates.first(), s.dates.last()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => return Err("no dates to fetch".into()),
    };
    out.part("fetch", "Case 1: fetching days of air temperature");
    out.line(format!(
        "{days} days ({first} to {last}) from {}{}; every row fetches, parses and summarises \
         all of them, and is checked against the sequential result.",
        s.setup.base_url,
        s.latency_ms
            .map(|l| format!(" (our server, {l} ms latency per request)"))
            .unwrap_or_default()
    ));
    let pool = names::pool(s.concurrency);
    let pool_name = pool.clone();
    let mut suite = suite;
    suite.conclude(move |report| lessons(&row_times(report), days, &pool_name));
    let outcome = suite.run().map_err(|e| e.0)?;
    out.report(outcome.report);
    out.figures("fetch", outcome.figures);
    let kept = kept.into_inner();
    if let Some(base) = kept.get(names::SEQUENTIAL) {
        if s.model_is_reference {
            let (matching, fetched) = model_check(base);
            out.line(format!(
                "The sequential result equals the model's statistics for {matching} of the \
                 {fetched} days it fetched."
            ));
            if matching != fetched {
                out.fail();
            }
        }
        if let Some(dir) = &s.common.out {
            let path = dir.join("daily-stats.csv");
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            write_csv(&path, base)?;
            out.line(format!(
                "Daily statistics of {} days written to {}.",
                base.done(),
                path.display()
            ));
        }
        out.figure(daily_chart(base));
    }
    for (name, f) in &kept {
        if f.spans.is_empty() {
            continue;
        }
        out.figure(
            Timeline {
                name: format!("timeline-{}", measure::cli::slug(name)),
                title: format!("{name}: {} requests for {} days", f.requests(), f.total()),
                spans: f.spans.clone(),
            }
            .draw(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, kind: Kind, median_s: f64) -> RowTime {
        RowTime {
            name: name.into(),
            kind,
            median_s,
            verified: true,
        }
    }

    const POOL: &str = "pool";

    #[test]
    fn the_usual_story_quotes_its_numbers() {
        let rows = [
            row("seq", Kind::Baseline, 6.0),
            row(POOL, Kind::Approach, 0.8),
            row("join", Kind::Approach, 0.2),
            row("limit", Kind::Limit, 0.06),
        ];
        let l = lessons(&rows, 100, POOL);
        assert!(
            l[0].starts_with("Overlapping the requests paid: join took 200.0 ms"),
            "{l:?}"
        );
        assert!(
            l[0].contains("30.0x") && l[0].contains("60.0 ms a day"),
            "{l:?}"
        );
        assert!(
            l[1].contains("3.3x one request's 60.0 ms") && l[1].contains("1.4 ms more"),
            "{l:?}"
        );
        assert!(l[2].starts_with("Async tasks beat threads here"), "{l:?}");
    }

    #[test]
    fn contradicting_numbers_change_the_lines() {
        // Overlap did not help, the best row is near the limit, threads won.
        let rows = [
            row("seq", Kind::Baseline, 0.10),
            row(POOL, Kind::Approach, 0.08),
            row("join", Kind::Approach, 0.12),
            row("limit", Kind::Limit, 0.06),
        ];
        let l = lessons(&rows, 10, POOL);
        assert!(
            l[0].starts_with("Overlapping the requests hardly paid"),
            "{l:?}"
        );
        assert!(
            l[1].contains("1.3x one request") && l[1].contains("slowest single one"),
            "{l:?}"
        );
        assert!(l[2].starts_with("Threads beat async tasks here"), "{l:?}");
        let even = [
            row("seq", Kind::Baseline, 1.0),
            row(POOL, Kind::Approach, 0.10),
            row("join", Kind::Approach, 0.105),
        ];
        let l = lessons(&even, 10, POOL);
        assert!(
            l[1].starts_with("Threads and async tasks came out even"),
            "{l:?}"
        );
    }

    #[test]
    fn unverified_rows_teach_nothing() {
        let mut join = row("join", Kind::Approach, 0.01);
        join.verified = false;
        let rows = [row("seq", Kind::Baseline, 1.0), join];
        assert_eq!(
            lessons(&rows, 10, POOL),
            ["No approach other than the baseline has a verified time in this run."]
        );
    }
}
