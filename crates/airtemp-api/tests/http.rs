//! The server as a client on the other end of a real TCP connection sees it: the payload's
//! shape, size and statistics, determinism, bad requests, and every fault.
//!
//! The client here is a few lines of HTTP/1.1 over `std::net::TcpStream` (`Connection:
//! close`, read to the end), on purpose: a full client library would retry, decompress or
//! hide a reset, and what we want to see is exactly the bytes and the errors on the wire.

use airtemp_api::{
    ATTEMPT_HEADER, BlockingServer, Config, Date, FAULT_HEADER, Fault, INJECTED_HEADER, PATH,
    Server, Stats, model,
};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One response as it came off the socket.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// How reading ended: `Ok` at a clean end of stream, else the error (a reset, a timeout).
    ended: io::Result<()>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<usize> {
        self.header("content-length")?.parse().ok()
    }

    fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// `GET target` with extra headers; the head must arrive within `timeout`.
fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)], timeout: Duration) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();

    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let ended = loop {
        match stream.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Reply {
            status: 0,
            headers: Vec::new(),
            body: raw,
            ended,
        };
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
        ended,
    }
}

fn day_url(date: &str) -> String {
    format!("{PATH}?date={date}")
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

const SECOND: Duration = Duration::from_secs(10);

fn instant() -> BlockingServer {
    Server::start_blocking(Config::instant()).unwrap()
}

/// Per-station statistics recomputed from the JSON a client received, the way a client of
/// the real API has to: stations from `metadata`, readings by `station_id`, `null` and absent
/// readings counted as missing. Also the number of items (minutes).
fn stats_from_json(v: &Value) -> (Vec<(String, Stats)>, usize) {
    let mut per: Vec<(String, Stats)> = v["metadata"]["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), Stats::default()))
        .collect();
    let items = v["items"].as_array().unwrap();
    for item in items {
        let readings = item["readings"].as_array().unwrap();
        for (id, stats) in per.iter_mut() {
            let reading = readings
                .iter()
                .find(|r| r["station_id"].as_str() == Some(id.as_str()));
            stats.add(reading.and_then(|r| r["value"].as_f64()));
        }
    }
    (per, items.len())
}

#[test]
fn a_day_has_the_real_apis_shape_size_and_the_models_statistics() {
    let server = instant();
    let day = date("2020-03-20");
    let reply = get(server.addr(), &day_url("2020-03-20"), &[], SECOND);
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.ended.as_ref().unwrap();
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.content_length(), Some(reply.body.len()));
    assert_eq!(reply.header(INJECTED_HEADER), None);
    // Exactly what the model serialises: ~800 KB, as a day of the real API is.
    assert_eq!(reply.body, model::day(day).to_json());
    assert!(
        (700_000..1_000_000).contains(&reply.body.len()),
        "{} bytes",
        reply.body.len()
    );

    let v = reply.json().unwrap();
    assert_eq!(v["api_info"]["status"], "healthy");
    assert_eq!(v["metadata"]["reading_type"], "DBT 1M F");
    assert_eq!(v["metadata"]["reading_unit"], "deg C");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1440);
    assert_eq!(items[0]["timestamp"], "2020-03-20T00:00:00+08:00");
    assert_eq!(items[785]["timestamp"], "2020-03-20T13:05:00+08:00");
    assert_eq!(items[1439]["timestamp"], "2020-03-20T23:59:00+08:00");

    // The statistics a client computes from the bytes equal the model's expectation.
    let expected = model::expected_stats(day);
    let (per, minutes) = stats_from_json(&v);
    assert_eq!(minutes, 1440);
    assert_eq!(per.len(), expected.stations.len());
    let mut some_missing = 0;
    for ((id, got), e) in per.iter().zip(&expected.stations) {
        assert_eq!(id, e.station_id);
        assert_eq!(got.count, e.stats.count, "{id}");
        assert_eq!(got.missing, e.stats.missing, "{id}");
        assert_eq!(got.count + got.missing, 1440, "{id}");
        // Summed in the same order, from values printed with a round-trip float format.
        assert_eq!(got.sum, e.stats.sum, "{id}");
        assert_eq!((got.min, got.max), (e.stats.min, e.stats.max), "{id}");
        // Singapore: tropical readings.
        let (min, max) = (got.min.unwrap(), got.max.unwrap());
        assert!(min > 15.0 && max < 45.0, "{id}: {min}..{max}");
        some_missing += got.missing;
    }
    // The real API's data-quality problems are there: some null or absent readings.
    assert!(some_missing > 0);
    assert_eq!(expected.all.count + expected.all.missing, 1440 * per.len());
    server.shutdown().unwrap();
}

#[test]
fn the_same_date_gives_the_same_bytes_on_any_server_and_dates_differ() {
    let a = instant();
    let b = Server::start_blocking(Config {
        seed: 99,
        ..Config::instant()
    })
    .unwrap();
    let first = get(a.addr(), &day_url("2021-07-04"), &[], SECOND);
    let again = get(a.addr(), &day_url("2021-07-04"), &[], SECOND);
    let other_server = get(b.addr(), &day_url("2021-07-04"), &[], SECOND);
    let next_day = get(a.addr(), &day_url("2021-07-05"), &[], SECOND);
    assert_eq!(first.status, 200);
    assert_eq!(first.body, again.body);
    assert_eq!(
        first.body, other_server.body,
        "readings depend on the date only"
    );
    assert_ne!(first.body, next_day.body);
    assert_eq!(a.counts().requests, 3);
}

#[test]
fn bad_requests_get_400_and_unknown_paths_404_with_a_json_message() {
    let server = instant();
    let cases = [
        (PATH.to_string(), 400, "date"),
        (format!("{PATH}?date=2020-13-01"), 400, ""),
        (format!("{PATH}?date=2020-02-30"), 400, ""),
        (format!("{PATH}?date=yesterday"), 400, ""),
        ("/v1/environment/rainfall".to_string(), 404, "rainfall"),
        ("/".to_string(), 404, ""),
    ];
    for (target, status, mentions) in cases {
        let reply = get(server.addr(), &target, &[], SECOND);
        assert_eq!(reply.status, status, "{target}: {reply:?}");
        let v = reply.json().unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(v["code"], status, "{target}");
        let message = v["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && message.contains(mentions),
            "{target}: {message}"
        );
    }
    let reply = get(
        server.addr(),
        &day_url("2020-03-20"),
        &[(FAULT_HEADER, "gremlins")],
        SECOND,
    );
    assert_eq!(reply.status, 400);
    assert!(String::from_utf8_lossy(&reply.body).contains("gremlins"));
}

/// Every fault, forced by the request header, as the client sees it.
#[test]
fn each_fault_looks_on_the_wire_as_it_does_in_the_wild() {
    let server = Server::start_blocking(Config {
        retry_after_s: 7,
        stall: Duration::from_secs(60),
        ..Config::instant()
    })
    .unwrap();
    let full = model::day(date("2020-03-20")).to_json();
    let forced = |fault: &str, timeout: Duration| {
        get(
            server.addr(),
            &day_url("2020-03-20"),
            &[(FAULT_HEADER, fault)],
            timeout,
        )
    };

    let r = forced("503", SECOND);
    assert_eq!(r.status, 503);
    assert_eq!(r.header(INJECTED_HEADER), Some("503"));
    assert_eq!(r.json().unwrap()["code"], 503);

    let r = forced("429", SECOND);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));

    let r = forced("404", SECOND);
    assert_eq!(r.status, 404);
    assert!(
        r.json().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("2020-03-20")
    );

    // A reset: the head promises the whole day, the connection ends part-way through it.
    let r = forced("reset", SECOND);
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(full.len()));
    assert!(
        !r.body.is_empty() && r.body.len() < full.len(),
        "{} bytes",
        r.body.len()
    );
    assert_eq!(
        &full[..r.body.len()],
        &r.body[..],
        "a prefix of the real day"
    );
    assert!(r.json().is_err());

    // Truncated: a complete, well-framed response whose JSON is cut short.
    let r = forced("truncated", SECOND);
    assert_eq!(r.status, 200);
    r.ended.as_ref().unwrap();
    assert_eq!(r.content_length(), Some(r.body.len()));
    assert!(r.body.len() < full.len());
    assert_eq!(&full[..r.body.len()], &r.body[..]);
    assert!(r.json().unwrap_err().is_eof());

    // Malformed: the full length, valid UTF-8, a syntax error in the middle.
    let r = forced("malformed", SECOND);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), full.len() - 1);
    assert!(r.json().unwrap_err().is_syntax());

    // A captive portal: 200, but HTML.
    let r = forced("html", SECOND);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.json().is_err());
    assert!(
        String::from_utf8_lossy(&r.body)
            .to_lowercase()
            .contains("<html")
    );

    // A stall: nothing arrives; only the client's own timeout ends the wait.
    let r = forced("stall", Duration::from_millis(300));
    assert_eq!(r.status, 0, "no head within the timeout");
    assert!(r.body.is_empty());
    let kind = r.ended.as_ref().unwrap_err().kind();
    assert!(
        matches!(kind, io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
        "{kind:?}"
    );

    let r = forced("none", SECOND);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, full);

    let counts = server.counts();
    for (fault, n) in &counts.faults {
        assert_eq!(*n, 1, "{fault} injected once: {counts:?}");
    }
    // Shutting down does not wait out the 60-second stall.
    server.shutdown().unwrap();
}

#[test]
fn configured_faults_follow_the_date_the_attempt_and_the_seed() {
    let bad = date("2020-03-01");
    let flaky = date("2020-03-02");
    let server = Server::start_blocking(Config::instant().fault_on(bad, Fault::Html).fault_first(
        flaky,
        Fault::Unavailable,
        2,
    ))
    .unwrap();
    for _ in 0..2 {
        let r = get(server.addr(), &day_url("2020-03-01"), &[], SECOND);
        assert_eq!(r.header(INJECTED_HEADER), Some("html"));
    }
    let statuses: Vec<u16> = (0..3)
        .map(|_| get(server.addr(), &day_url("2020-03-02"), &[], SECOND).status)
        .collect();
    assert_eq!(statuses, [503, 503, 200], "a retry gets past the first two");
    // The client may say which attempt this is instead.
    let r = get(
        server.addr(),
        &day_url("2020-03-02"),
        &[(ATTEMPT_HEADER, "1")],
        SECOND,
    );
    assert_eq!(r.status, 503);
    server.reset_attempts();
    assert_eq!(
        get(server.addr(), &day_url("2020-03-02"), &[], SECOND).status,
        503
    );

    // Rates: the same seed injects the same faults on the same requests; about the rate.
    let outcomes = |seed: u64| {
        let server = Server::start_blocking(
            Config {
                seed,
                ..Config::instant()
            }
            .fault_rate(Fault::NotFound, 0.3),
        )
        .unwrap();
        let mut day = date("2019-01-01");
        let mut seen = Vec::new();
        for _ in 0..60 {
            let r = get(server.addr(), &day_url(&day.to_string()), &[], SECOND);
            seen.push(r.status);
            day = day.add_days(1).unwrap();
        }
        seen
    };
    let first = outcomes(5);
    assert_eq!(first, outcomes(5));
    assert_ne!(first, outcomes(6));
    let missing = first.iter().filter(|&&s| s == 404).count();
    assert!((6..=32).contains(&missing), "{missing} of 60 at rate 0.3");
    assert!(first.iter().all(|&s| s == 200 || s == 404));
}

#[test]
fn small_days_have_one_item() {
    let server = Server::start_blocking(Config {
        small: true,
        ..Config::instant()
    })
    .unwrap();
    let r = get(server.addr(), &day_url("2020-03-20"), &[], SECOND);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, model::small_day(date("2020-03-20")).to_json());
    let v = r.json().unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert!(r.body.len() < 5_000, "{} bytes", r.body.len());
}

#[test]
fn latency_is_added_to_every_response() {
    // Not a speed target: only that the configured wait really happens (a lower bound).
    let server = Server::start_blocking(Config {
        latency: Duration::from_millis(120),
        ..Config::instant()
    })
    .unwrap();
    let start = std::time::Instant::now();
    let r = get(server.addr(), &day_url("2020-03-20"), &[], SECOND);
    assert_eq!(r.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(120));
}
