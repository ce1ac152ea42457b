//! One client function per approach. Each fetches every date (with the retries of
//! [`Policy`]), parses it and computes its statistics, and returns a [`Fetched`]: one
//! [`DayResult`] per date (in date order, whatever order they finished in), so that
//! done + failed = total always, and one [`Span`] per request for the timeline.

use crate::day::DailyStats;
use crate::retry::{AttemptError, Cause, FetchError, Policy, classify, transport};
use airtemp_api::{Date, PATH};
use futures::StreamExt;
use measure::{Failure, Fingerprint, Span, Verify};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use threads::{ThreadPool, as_completed};

/// Where to fetch from and how.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `http://127.0.0.1:PORT`: the API's path is put after it.
    pub base_url: String,
    pub policy: Policy,
    /// Print "worker-N: running DATE" / "done with DATE" on stderr (the thread-pool row).
    pub verbose: bool,
}

impl Setup {
    pub fn new(base_url: impl Into<String>, policy: Policy) -> Setup {
        Setup {
            base_url: base_url.into(),
            policy,
            verbose: false,
        }
    }

    /// The URL of one date.
    pub fn url(&self, date: Date) -> String {
        format!("{}{PATH}?date={date}", self.base_url.trim_end_matches('/'))
    }
}

/// One date's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct DayResult {
    pub date: Date,
    pub result: Result<DailyStats, FetchError>,
    /// Requests made for this date.
    pub attempts: u32,
}

/// What one approach fetched: every date, in date order, and a span per request.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub days: Vec<DayResult>,
    pub spans: Vec<Span>,
    /// Body bytes received (every attempt's).
    pub bytes: u64,
}

impl Fetched {
    pub fn total(&self) -> usize {
        self.days.len()
    }

    pub fn done(&self) -> usize {
        self.days.iter().filter(|d| d.result.is_ok()).count()
    }

    /// Requests made, retries included.
    pub fn requests(&self) -> u64 {
        self.days.iter().map(|d| u64::from(d.attempts)).sum()
    }

    /// One line per failed date: `DATE: cause (kind, attempts)`.
    pub fn failure_lines(&self) -> Vec<String> {
        self.failures()
            .into_iter()
            .map(|f| format!("{}: {}", f.input, f.error))
            .collect()
    }

    /// The statistics of the dates that succeeded, in date order.
    pub fn stats(&self) -> impl Iterator<Item = &DailyStats> {
        self.days.iter().filter_map(|d| d.result.as_ref().ok())
    }
}

impl Verify for Fetched {
    /// Every date in order with its exact statistics (counts, sums as bit patterns, extremes,
    /// per station),
    /// or "failed": any value that differs, a date moved or lost, gives another fingerprint.
    fn fingerprint(&self) -> Fingerprint {
        // The sum as its bit pattern: exact through any JSON reader (the Python rows' too).
        let stats = |s: &airtemp_api::Stats| {
            json!([
                s.count,
                s.missing,
                format!("{:016x}", s.sum.to_bits()),
                s.min,
                s.max
            ])
        };
        Fingerprint(json!(
            self.days
                .iter()
                .map(|d| match &d.result {
                    Ok(day) => json!({
                        "date": d.date.to_string(),
                        "all": stats(&day.all),
                        "stations": day.stations.iter()
                            .map(|(id, s)| json!([id, stats(s)]))
                            .collect::<Vec<_>>(),
                    }),
                    Err(_) => json!({ "date": d.date.to_string(), "failed": true }),
                })
                .collect::<Vec<_>>()
        ))
    }

    fn failures(&self) -> Vec<Failure> {
        self.days
            .iter()
            .filter_map(|d| {
                d.result.as_ref().err().map(|e| Failure {
                    input: d.date.to_string(),
                    error: e.to_string(),
                })
            })
            .collect()
    }
}

// ANCHOR: run_state
/// What the requests of one run share: the clock of its timeline, the spans, the bytes, and
/// the breaker: once one date has used all its attempts without reaching the server, the
/// dates after it are not tried (each fails at once, "server unreachable"), so a run against
/// a server that is down ends in about one date's retries, not one per date.
struct Run {
    setup: Setup,
    start: Instant,
    spans: Mutex<Vec<Span>>,
    bytes: AtomicU64,
    unreachable: Mutex<Option<String>>,
}
// ANCHOR_END: run_state

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Run {
    fn new(setup: &Setup) -> Run {
        Run {
            setup: setup.clone(),
            start: Instant::now(),
            spans: Mutex::new(Vec::new()),
            bytes: AtomicU64::new(0),
            unreachable: Mutex::new(None),
        }
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn span(&self, worker: &str, date: Date, attempt: u32, start_s: f64, ok: bool) {
        let mut label = date.to_string();
        if attempt > 1 {
            label.push_str(&format!(" #{attempt}"));
        }
        if !ok {
            label.push_str(" ✗");
        }
        lock(&self.spans).push(Span {
            worker: worker.to_string(),
            label,
            start_s,
            end_s: self.now(),
        });
    }

    /// `Err` when the breaker is open: this date is not tried (again).
    fn check(&self, date: Date, tried: u32) -> Result<(), DayResult> {
        match &*lock(&self.unreachable) {
            None => Ok(()),
            Some(why) => Err(DayResult {
                date,
                result: Err(FetchError {
                    cause: Cause::Unreachable,
                    message: format!("server unreachable ({why})"),
                    attempts: tried,
                }),
                attempts: tried,
            }),
        }
    }

    /// After failed attempt `attempt`: how long to wait before the next, or the date's
    /// failure when there is no next.
    fn next(&self, date: Date, attempt: u32, e: AttemptError) -> Result<Duration, DayResult> {
        let policy = &self.setup.policy;
        let mut message = e.message.clone();
        let wait = policy.delay(date, attempt, e.retry_after);
        let again = e.cause.retryable() && attempt < policy.attempts;
        let too_long = e.retry_after.is_some_and(|w| w > policy.max_retry_after);
        if again && !too_long {
            return Ok(wait);
        }
        if again && too_long {
            message.push_str(&format!(
                ", Retry-After {} s is longer than the {} s a date may wait",
                wait.as_secs(),
                policy.max_retry_after.as_secs()
            ));
        }
        if e.cause == Cause::Connect {
            let mut open = lock(&self.unreachable);
            open.get_or_insert_with(|| format!("{date}: {}", e.message));
        }
        Err(DayResult {
            date,
            result: Err(FetchError {
                cause: e.cause,
                message,
                attempts: attempt,
            }),
            attempts: attempt,
        })
    }

    fn finish(self: Arc<Run>, mut days: Vec<DayResult>, lanes: bool) -> Fetched {
        days.sort_by_key(|d| d.date);
        let mut spans = std::mem::take(&mut *lock(&self.spans));
        if lanes {
            pack_lanes(&mut spans);
        }
        Fetched {
            days,
            spans,
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

/// Async requests have no worker: each span goes on the first lane that is free when it
/// starts ("in flight 1", "in flight 2"...), so the lanes show how many were in flight.
fn pack_lanes(spans: &mut [Span]) {
    spans.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut ends: Vec<f64> = Vec::new();
    for s in spans.iter_mut() {
        let lane = match ends.iter().position(|&end| end <= s.start_s) {
            Some(i) => i,
            None => {
                ends.push(0.0);
                ends.len() - 1
            }
        };
        ends[lane] = s.end_s;
        s.worker = format!("in flight {}", lane + 1);
    }
}

fn header(
    headers: &reqwest::header::HeaderMap,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

// ANCHOR: blocking
/// A blocking client with the policy's timeout (the whole request: connect, head, body), and
/// no proxy from the environment (the server is on 127.0.0.1).
pub fn blocking_client(policy: &Policy) -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .timeout(policy.timeout)
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// One request, blocking: the day's statistics, or why not.
fn get_blocking(
    run: &Run,
    client: &reqwest::blocking::Client,
    date: Date,
) -> Result<DailyStats, AttemptError> {
    use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
    let response = client
        .get(run.setup.url(date))
        .send()
        .map_err(|e| transport(&e))?;
    let status = response.status().as_u16();
    let content_type = header(response.headers(), CONTENT_TYPE);
    let retry_after = header(response.headers(), RETRY_AFTER);
    let body = response.bytes().map_err(|e| transport(&e))?;
    run.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    classify(
        date,
        status,
        content_type.as_deref(),
        retry_after.as_deref(),
        &body,
    )
}

/// One date with retries, blocking (sleeping between attempts).
fn fetch_blocking(
    run: &Run,
    client: &reqwest::blocking::Client,
    date: Date,
    worker: &str,
) -> DayResult {
    let mut attempt = 0;
    loop {
        if let Err(not_tried) = run.check(date, attempt) {
            return not_tried;
        }
        attempt += 1;
        let start = run.now();
        let answer = get_blocking(run, client, date);
        run.span(worker, date, attempt, start, answer.is_ok());
        match answer {
            Ok(stats) => {
                return DayResult {
                    date,
                    result: Ok(stats),
                    attempts: attempt,
                };
            }
            Err(e) => match run.next(date, attempt, e) {
                Ok(wait) => std::thread::sleep(wait),
                Err(failed) => return failed,
            },
        }
    }
}
// ANCHOR_END: blocking

/// Every date failed with the same cause (the client could not be built, the pool not started).
fn all_failed(dates: &[Date], message: &str) -> Fetched {
    Fetched {
        days: dates
            .iter()
            .map(|&date| DayResult {
                date,
                result: Err(FetchError {
                    cause: Cause::Other,
                    message: message.to_string(),
                    attempts: 0,
                }),
                attempts: 0,
            })
            .collect(),
        ..Fetched::default()
    }
}

// ANCHOR: sequential
/// The list comprehension: one date after another, each waiting for its answer.
pub fn sequential(setup: &Setup, dates: &[Date]) -> Fetched {
    let client = match blocking_client(&setup.policy) {
        Ok(c) => c,
        Err(e) => return all_failed(dates, &e),
    };
    let run = Arc::new(Run::new(setup));
    let days = dates
        .iter()
        .map(|&date| fetch_blocking(&run, &client, date, "main"))
        .collect();
    run.finish(days, false)
}
// ANCHOR_END: sequential

// ANCHOR: thread_pool
/// The talk's version: `submit` one task per date to a pool of `workers` threads, then take
/// the results `as_completed`, in the order they finish.
pub fn thread_pool(setup: &Setup, dates: &[Date], workers: usize) -> Fetched {
    let client = match blocking_client(&setup.policy) {
        Ok(c) => c,
        Err(e) => return all_failed(dates, &e),
    };
    let pool = match ThreadPool::try_new(workers) {
        Ok(p) => p,
        Err(e) => return all_failed(dates, &format!("cannot start {workers} threads: {e}")),
    };
    let run = Arc::new(Run::new(setup));
    let tasks = dates
        .iter()
        .map(|&date| {
            let (run, client) = (Arc::clone(&run), client.clone());
            pool.submit_named(date.to_string(), move || {
                let me = std::thread::current();
                let worker = me.name().unwrap_or("worker");
                if run.setup.verbose {
                    eprintln!("{worker}: running {date}");
                }
                let day = fetch_blocking(&run, &client, date, worker);
                if run.setup.verbose {
                    eprintln!("{worker}: done with {date}");
                }
                day
            })
        })
        .collect();
    let mut days = Vec::with_capacity(dates.len());
    for (finished, &date) in as_completed(tasks).zip(dates) {
        days.push(finished.unwrap_or_else(|e| DayResult {
            // A task that panicked: its label is its date.
            date: e.label().and_then(|l| l.parse().ok()).unwrap_or(date),
            result: Err(FetchError {
                cause: Cause::Other,
                message: format!("the task failed: {e}"),
                attempts: 0,
            }),
            attempts: 0,
        }));
    }
    drop(pool);
    run.finish(days, false)
}
// ANCHOR_END: thread_pool

/// An async client with the policy's timeout and no proxy.
pub fn async_client(policy: &Policy) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(policy.timeout)
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

// ANCHOR: async_fetch
async fn get_async(
    run: &Run,
    client: &reqwest::Client,
    date: Date,
) -> Result<DailyStats, AttemptError> {
    use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
    let response = client
        .get(run.setup.url(date))
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let status = response.status().as_u16();
    let content_type = header(response.headers(), CONTENT_TYPE);
    let retry_after = header(response.headers(), RETRY_AFTER);
    let body = response.bytes().await.map_err(|e| transport(&e))?;
    run.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    classify(
        date,
        status,
        content_type.as_deref(),
        retry_after.as_deref(),
        &body,
    )
}

/// One date with retries: the same loop as the blocking one, but a wait is a timer, so the
/// thread serves the other requests meanwhile.
async fn fetch_async(run: &Run, client: &reqwest::Client, date: Date) -> DayResult {
    let mut attempt = 0;
    loop {
        if let Err(not_tried) = run.check(date, attempt) {
            return not_tried;
        }
        attempt += 1;
        let start = run.now();
        let answer = get_async(run, client, date).await;
        run.span("", date, attempt, start, answer.is_ok());
        match answer {
            Ok(stats) => {
                return DayResult {
                    date,
                    result: Ok(stats),
                    attempts: attempt,
                };
            }
            Err(e) => match run.next(date, attempt, e) {
                Ok(wait) => tokio::time::sleep(wait).await,
                Err(failed) => return failed,
            },
        }
    }
}
// ANCHOR_END: async_fetch

// ANCHOR: join_all
/// Every date in flight at once: one future per date, all polled by `join_all` in one task.
pub async fn join_all(setup: &Setup, dates: &[Date]) -> Fetched {
    let client = match async_client(&setup.policy) {
        Ok(c) => c,
        Err(e) => return all_failed(dates, &e),
    };
    let run = Arc::new(Run::new(setup));
    let days =
        futures::future::join_all(dates.iter().map(|&d| fetch_async(&run, &client, d))).await;
    run.finish(days, true)
}
// ANCHOR_END: join_all

// ANCHOR: buffer_unordered
/// At most `k` in flight: a stream of futures, `buffer_unordered(k)` keeps k of them going.
pub async fn buffer_unordered(setup: &Setup, dates: &[Date], k: usize) -> Fetched {
    let client = match async_client(&setup.policy) {
        Ok(c) => c,
        Err(e) => return all_failed(dates, &e),
    };
    let run = Arc::new(Run::new(setup));
    let days = futures::stream::iter(dates.iter().map(|&d| fetch_async(&run, &client, d)))
        .buffer_unordered(k.max(1))
        .collect::<Vec<_>>()
        .await;
    run.finish(days, true)
}
// ANCHOR_END: buffer_unordered

// ANCHOR: semaphore
/// One spawned task per date (on every worker thread of the runtime), at most `k` of them
/// past the semaphore at a time.
pub async fn semaphore(setup: &Setup, dates: &[Date], k: usize) -> Fetched {
    let client = match async_client(&setup.policy) {
        Ok(c) => c,
        Err(e) => return all_failed(dates, &e),
    };
    let run = Arc::new(Run::new(setup));
    let permits = Arc::new(tokio::sync::Semaphore::new(k.max(1)));
    let handles: Vec<_> = dates
        .iter()
        .map(|&date| {
            let (run, client, permits) = (Arc::clone(&run), client.clone(), Arc::clone(&permits));
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                fetch_async(&run, &client, date).await
            })
        })
        .collect();
    let mut days = Vec::with_capacity(dates.len());
    for (handle, &date) in handles.into_iter().zip(dates) {
        days.push(handle.await.unwrap_or_else(|e| DayResult {
            date,
            result: Err(FetchError {
                cause: Cause::Other,
                message: format!("the task failed: {e}"),
                attempts: 0,
            }),
            attempts: 0,
        }));
    }
    run.finish(days, true)
}
// ANCHOR_END: semaphore

/// The limit: one request for one date, its whole body read, nothing parsed. Its time is
/// one round trip's latency plus one day's transfer: no way of fetching the dates can take
/// less than that. Returns the bytes received.
pub async fn one_request(client: &reqwest::Client, url: &str) -> Result<usize, String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| transport(&e).message)?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| transport(&e).message)?;
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    Ok(body.len())
}

/// A runtime for the async clients: `threads` worker threads, timers and I/O.
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("client")
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_count_what_was_in_flight() {
        let span = |a: f64, b: f64| Span {
            worker: String::new(),
            label: String::new(),
            start_s: a,
            end_s: b,
        };
        let mut spans = vec![
            span(0.0, 1.0),
            span(0.5, 1.5),
            span(1.0, 2.0),
            span(0.6, 0.9),
        ];
        pack_lanes(&mut spans);
        let lanes: Vec<&str> = spans.iter().map(|s| s.worker.as_str()).collect();
        assert_eq!(
            lanes,
            ["in flight 1", "in flight 2", "in flight 3", "in flight 1"]
        );
    }

    #[test]
    fn a_lost_or_changed_date_changes_the_fingerprint() {
        let d: Date = "2020-03-20".parse().unwrap();
        let day = airtemp_api::model::day(d);
        let stats = crate::parse_day(d, &day.to_json()).unwrap();
        let ok = Fetched {
            days: vec![DayResult {
                date: d,
                result: Ok(stats.clone()),
                attempts: 1,
            }],
            ..Fetched::default()
        };
        let mut changed = ok.clone();
        if let Ok(s) = &mut changed.days[0].result {
            s.stations[3].1.max = s.stations[3].1.max.map(|m| m + 0.1);
        }
        assert_ne!(ok.fingerprint(), changed.fingerprint());
        let mut lost = ok.clone();
        lost.days[0].result = Err(FetchError {
            cause: Cause::Client,
            message: "HTTP 404".into(),
            attempts: 1,
        });
        assert_ne!(ok.fingerprint(), lost.fingerprint());
        assert_eq!(lost.failures()[0].input, "2020-03-20");
        assert_eq!(
            lost.failure_lines(),
            ["2020-03-20: HTTP 404 (permanent, 1 attempt)"]
        );
        assert!(ok.failures().is_empty());
    }
}
