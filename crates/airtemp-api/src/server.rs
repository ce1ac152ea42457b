//! The HTTP server: axum on tokio, 127.0.0.1 only, started in-process ([`Server::start`],
//! [`Server::start_blocking`]) or by the binary.

use crate::date::Date;
use crate::faults::{Config, Fault};
use crate::model;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::State;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The API's one route.
pub const PATH: &str = "/v1/environment/air-temperature";
/// Request header: force a fault on this request (`reset`, `html`, ...), or `none`.
pub const FAULT_HEADER: &str = "x-airtemp-fault";
/// Request header: the client's attempt number for this date, instead of the server's count.
pub const ATTEMPT_HEADER: &str = "x-airtemp-attempt";
/// Response header: the fault the server injected, if any (for logs and tests).
pub const INJECTED_HEADER: &str = "x-airtemp-injected";

/// How long a shutdown waits for requests in flight before it drops them.
const GRACE: Duration = Duration::from_secs(5);
/// Days kept serialised; a cache miss costs one day's generation (a few ms).
const CACHE_DAYS: usize = 128;

/// A running server. Dropping it stops it (in-flight requests finish in the background);
/// [`Server::shutdown`] stops it and waits.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<io::Result<()>>>,
    shared: Arc<Shared>,
}

/// What the server has done so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Requests answered (any path, any status).
    pub requests: u64,
    /// Faults injected, per kind, in [`Fault::ALL`] order.
    pub faults: Vec<(Fault, u64)>,
}

struct Shared {
    config: Config,
    stop: watch::Receiver<bool>,
    attempts: Mutex<HashMap<Date, u32>>,
    cache: Mutex<HashMap<Date, Bytes>>,
    requests: AtomicU64,
    faults: [AtomicU64; Fault::ALL.len()],
}

impl Server {
    /// Binds 127.0.0.1 (`config.port`, 0 for a free port) and serves on the current tokio
    /// runtime. Fails when the config is invalid or the port cannot be bound.
    pub async fn start(config: Config) -> io::Result<Server> {
        config
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            stop: stopped.clone(),
            attempts: Mutex::default(),
            cache: Mutex::default(),
            requests: AtomicU64::new(0),
            faults: Default::default(),
        });
        let app = Router::new()
            .route(PATH, get(air_temperature))
            .fallback(not_found)
            .with_state(shared.clone());
        // Small responses go out at once rather than waiting on Nagle's algorithm.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop_signal(stopped))
                .await
        });
        Ok(Server {
            addr,
            stop,
            task: Some(task),
            shared,
        })
    }

    /// Starts the server on a runtime of its own (its own threads), for sync code.
    pub fn start_blocking(config: Config) -> io::Result<BlockingServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("airtemp-api")
            .enable_all()
            .build()?;
        let server = runtime.block_on(Server::start(config))?;
        Ok(BlockingServer {
            server: Some(server),
            runtime: Some(runtime),
        })
    }

    /// The address it listens on (127.0.0.1 and the bound port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base URL a client puts [`PATH`] after.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The config it serves with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Requests answered and faults injected so far.
    pub fn counts(&self) -> Counts {
        Counts {
            requests: self.shared.requests.load(Ordering::Relaxed),
            faults: Fault::ALL
                .iter()
                .zip(&self.shared.faults)
                .map(|(f, n)| (*f, n.load(Ordering::Relaxed)))
                .collect(),
        }
    }

    /// Forgets how many times each date was asked for: the next run of a client meets the
    /// same faults as the first one did.
    pub fn reset_attempts(&self) {
        lock(&self.shared.attempts).clear();
    }

    /// Stops accepting, lets requests in flight finish (stalls end at once), and waits for
    /// that, at most a few seconds.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.stop.send_replace(true);
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(GRACE, task).await {
            Ok(Ok(served)) => served,
            Ok(Err(join)) => Err(io::Error::other(join)),
            Err(_) => Ok(()), // Gave up waiting; the connections end with the runtime.
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// A [`Server`] on its own runtime, for sync code (tests, blocking clients). Dropping it
/// stops the server and its runtime.
pub struct BlockingServer {
    server: Option<Server>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BlockingServer {
    pub fn addr(&self) -> SocketAddr {
        self.server().addr()
    }

    pub fn url(&self) -> String {
        self.server().url()
    }

    pub fn counts(&self) -> Counts {
        self.server().counts()
    }

    pub fn reset_attempts(&self) {
        self.server().reset_attempts()
    }

    /// Stops the server and waits for it (see [`Server::shutdown`]).
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop()
    }

    fn server(&self) -> &Server {
        // Both are `Some` until `stop`, which only `shutdown(self)` and `drop` call.
        self.server
            .as_ref()
            .unwrap_or_else(|| unreachable!("server used after shutdown"))
    }

    fn stop(&mut self) -> io::Result<()> {
        let (Some(server), Some(runtime)) = (self.server.take(), self.runtime.take()) else {
            return Ok(());
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Inside async code we cannot block: stop without waiting.
            drop(server);
            runtime.shutdown_background();
            return Ok(());
        }
        let result = runtime.block_on(server.shutdown());
        runtime.shutdown_timeout(Duration::from_secs(1));
        result
    }
}

impl Drop for BlockingServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

async fn stop_signal(mut stopped: watch::Receiver<bool>) {
    // Also ends when the sender is gone (the Server was dropped).
    let _ = stopped.wait_for(|&stop| stop).await;
}

/// Sleeps `duration`, or less when the server is stopping.
async fn pause(shared: &Shared, duration: Duration) {
    if !duration.is_zero() {
        let _ = tokio::time::timeout(duration, stop_signal(shared.stop.clone())).await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn air_temperature(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let config = &shared.config;
    let date = match query_date(uri.query()) {
        Ok(date) => date,
        Err(message) => {
            pause(&shared, config.latency).await;
            return error(StatusCode::BAD_REQUEST, &message);
        }
    };
    let forced = match headers.get(FAULT_HEADER).map(|v| v.to_str().unwrap_or("")) {
        None => None,
        Some("none") => Some(None),
        Some(name) => match name.parse::<Fault>() {
            Ok(fault) => Some(Some(fault)),
            Err(message) => {
                pause(&shared, config.latency).await;
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("{FAULT_HEADER}: {message}"),
                );
            }
        },
    };
    let attempt = headers
        .get(ATTEMPT_HEADER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u32>().ok())
        .unwrap_or_else(|| {
            let mut attempts = lock(&shared.attempts);
            let n = attempts.entry(date).or_insert(0);
            *n = n.saturating_add(1);
            *n
        });
    let mut decision = config.decide(date, attempt);
    if let Some(fault) = forced {
        decision.fault = fault;
    }
    pause(&shared, decision.delay).await;
    let Some(fault) = decision.fault else {
        return json(StatusCode::OK, day_json(&shared, date));
    };
    if let Some(i) = Fault::ALL.iter().position(|f| *f == fault) {
        shared.faults[i].fetch_add(1, Ordering::Relaxed);
    }
    let mut response = match fault {
        Fault::Unavailable => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "service unavailable, try again later",
        ),
        Fault::TooManyRequests => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests, slow down",
            );
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(config.retry_after_s));
            r
        }
        Fault::NotFound => error(StatusCode::NOT_FOUND, &format!("no data for {date}")),
        // ANCHOR: reset
        Fault::Reset => {
            let body = day_json(&shared, date);
            let full = body.len();
            let sent = body.slice(..cut_at(full, decision.cut));
            let mut r = Response::new(Body::new(ResetBody {
                prefix: Some(sent),
                paused: false,
            }));
            r.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(full));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        // ANCHOR_END: reset
        Fault::Truncated => {
            let body = day_json(&shared, date);
            let end = cut_at(body.len(), decision.cut);
            json(StatusCode::OK, body.slice(..end))
        }
        Fault::Malformed => json(StatusCode::OK, malformed(&day_json(&shared, date))),
        Fault::Html => {
            let mut r = Response::new(Body::from(CAPTIVE_PORTAL));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Fault::Stall => {
            pause(&shared, config.stall).await;
            json(StatusCode::OK, day_json(&shared, date))
        }
    };
    response
        .headers_mut()
        .insert(INJECTED_HEADER, HeaderValue::from_static(fault.name()));
    response
}

async fn not_found(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    pause(&shared, shared.config.latency).await;
    error(
        StatusCode::NOT_FOUND,
        &format!("no such path: {}", uri.path()),
    )
}

/// The `date` of a query string, validated.
fn query_date(query: Option<&str>) -> Result<Date, String> {
    let value = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("date="))
        .ok_or("missing query parameter date=YYYY-MM-DD")?;
    value.parse::<Date>().map_err(|e| e.to_string())
}

/// The day's JSON (or its first item with `--small`), from the cache when it is there.
fn day_json(shared: &Shared, date: Date) -> Bytes {
    if let Some(bytes) = lock(&shared.cache).get(&date) {
        return bytes.clone();
    }
    let day = if shared.config.small {
        model::small_day(date)
    } else {
        model::day(date)
    };
    let bytes = Bytes::from(day.to_json());
    let mut cache = lock(&shared.cache);
    if cache.len() >= CACHE_DAYS {
        cache.clear();
    }
    cache.insert(date, bytes.clone());
    bytes
}

fn cut_at(len: usize, share: f64) -> usize {
    ((len as f64 * share) as usize).clamp(1, len.saturating_sub(1))
}

/// The day with one `"value":` missing its colon, near the middle: invalid JSON for every
/// parser (unlike `NaN`, which Python's `json` accepts).
fn malformed(body: &Bytes) -> Bytes {
    const KEY: &[u8] = b"\"value\":";
    let start = body.len() / 2;
    let found = body[start..]
        .windows(KEY.len())
        .position(|w| w == KEY)
        .map(|i| start + i + KEY.len() - 1);
    let mut bytes = body.to_vec();
    match found {
        Some(colon) => {
            bytes.remove(colon);
        }
        None => bytes.insert(start, b'}'),
    }
    Bytes::from(bytes)
}

fn json(status: StatusCode, body: Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `{"code": 400, "message": "..."}`.
fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "code": status.as_u16(), "message": message });
    json(status, Bytes::from(body.to_string()))
}

/// A body that sends its prefix, pauses once (so the prefix is flushed), then fails: hyper
/// closes the connection before the promised `Content-Length`.
struct ResetBody {
    prefix: Option<Bytes>,
    paused: bool,
}

impl HttpBody for ResetBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        if let Some(prefix) = self.prefix.take() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(prefix))));
        }
        if !self.paused {
            self.paused = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "airtemp-api: injected reset",
        ))))
    }
}

const CAPTIVE_PORTAL: &str = "<!DOCTYPE html>\n<html><head><title>Wireless@SG - Log in</title></head>\n\
<body><h1>Welcome to Wireless@SG</h1><p>Please log in to continue to the Internet.</p>\n\
<form method=\"post\" action=\"/login\"><input name=\"user\"><input name=\"password\" type=\"password\">\
<button>Log in</button></form></body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_dates() {
        assert_eq!(
            query_date(Some("date=2020-03-20")),
            Ok("2020-03-20".parse().unwrap())
        );
        assert_eq!(
            query_date(Some("x=1&date=2020-02-29")),
            Ok("2020-02-29".parse().unwrap())
        );
        assert!(query_date(None).unwrap_err().contains("missing"));
        assert!(query_date(Some("day=2020-03-20")).is_err());
        assert!(
            query_date(Some("date=2020-02-30"))
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            query_date(Some("date=bad"))
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
    }

    #[test]
    fn malformed_is_invalid_json_of_about_the_same_size() {
        let day = Bytes::from(model::day("2020-03-20".parse().unwrap()).to_json());
        assert!(serde_json::from_slice::<serde_json::Value>(&day).is_ok());
        let bad = malformed(&day);
        assert_eq!(bad.len(), day.len() - 1);
        assert!(serde_json::from_slice::<serde_json::Value>(&bad).is_err());
        assert_eq!(cut_at(100, 0.5), 50);
        assert_eq!(cut_at(100, 0.0), 1);
        assert_eq!(cut_at(100, 1.0), 99);
    }
}
