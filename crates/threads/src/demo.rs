//! `submit` + `as_completed`, the way the talk shows them: every task prints which worker runs
//! it when it starts and when it is done, and the results come back in the order the tasks
//! finish, not the order they were submitted.

use crate::cpu::{file_name, thumbnail};
use crate::{ThreadPool, as_completed};
use measure::Document;
use measure::Timeline;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

/// One finished task, in completion order.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub name: String,
    /// The thumbnail's mean grey level, or why there is none.
    pub result: Result<f64, String>,
    /// Seconds since the first submit.
    pub at_s: f64,
}

// ANCHOR: demo
/// Submits one task per image and prints the results as they complete.
pub fn run(pool: &ThreadPool, images: &[PathBuf], out: &Arc<Document>) -> Vec<Done> {
    let start = Instant::now();
    let tasks = images
        .iter()
        .map(|path| {
            let (path, name, out) = (path.clone(), file_name(path), Arc::clone(out));
            pool.submit_named(name.clone(), move || {
                let worker = thread::current().name().unwrap_or("?").to_string();
                out.line(format!("{worker}: running {name}"));
                let result = thumbnail(&path).map(|pixels| mean(&pixels));
                out.line(format!("{worker}: done with {name}"));
                (name, result)
            })
        })
        .collect();

    let mut done = Vec::new();
    for finished in as_completed(tasks) {
        let (name, result) = match finished {
            Ok(pair) => pair,
            Err(e) => (e.label().unwrap_or("?").to_string(), Err(e.to_string())),
        };
        done.push(Done {
            name,
            result,
            at_s: start.elapsed().as_secs_f64(),
        });
    }
    done
}
// ANCHOR_END: demo

fn mean(pixels: &[u8]) -> f64 {
    pixels.iter().map(|&p| p as f64).sum::<f64>() / pixels.len().max(1) as f64
}

/// The part: the live lines, then the results in completion order and a timeline.
/// Returns how many images failed.
pub fn part(workers: usize, images: &[PathBuf], out: &Arc<Document>) -> usize {
    let pool = ThreadPool::with_timeline(workers);
    out.line(format!(
        "{} images submitted to a pool of {workers} workers, in this order: {}",
        images.len(),
        images
            .iter()
            .map(|p| file_name(p))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.line("");
    let done = run(&pool, images, out);
    out.line("");
    out.line("as_completed, in the order they finished:");
    let mut failed = 0;
    for (i, d) in done.iter().enumerate() {
        let what = match &d.result {
            Ok(m) => format!("64×64 thumbnail, mean grey {m:.1}"),
            Err(e) => {
                failed += 1;
                format!("failed: {e}")
            }
        };
        out.line(format!("{:>3}. {:<28} {what}", i + 1, d.name));
    }
    let submitted: Vec<String> = images.iter().map(|p| file_name(p)).collect();
    let moved = done
        .iter()
        .enumerate()
        .filter(|(i, d)| submitted.get(*i) != Some(&d.name))
        .count();
    out.line("");
    out.line(format!(
        "{moved} of {} finished in another place than they were submitted: as_completed hands \
         each result over as soon as it exists.",
        done.len()
    ));
    out.record("as_completed", record(workers, &submitted, &done));
    out.figure(
        Timeline {
            name: "as-completed-timeline".into(),
            title: format!(
                "submit + as_completed: {} thumbnails on {workers} workers",
                done.len()
            ),
            spans: pool.spans(),
        }
        .draw(),
    );
    failed
}

fn record(workers: usize, submitted: &[String], done: &[Done]) -> Value {
    json!({
        "workers": workers,
        "submitted": submitted,
        "completed": done.iter().map(|d| match &d.result {
            Ok(m) => json!({ "name": d.name, "mean_grey": m, "at_s": d.at_s }),
            Err(e) => json!({ "name": d.name, "error": e, "at_s": d.at_s }),
        }).collect::<Vec<_>>(),
    })
}
