//! What can go wrong, on purpose: the fault kinds, their rates, per-date overrides, and the
//! seeded decision for one request.
//!
//! A request's fault and delay depend on (seed, date, attempt) only, where the attempt is
//! the server's count of requests for that date (or the client's `X-Airtemp-Attempt`). So a
//! run repeats exactly, and a retry of a failed date draws again and can succeed.

use crate::date::Date;
use crate::rng::{SplitMix64, hash};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One kind of failure, as a client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `503 Service Unavailable` with a JSON error body.
    Unavailable,
    /// `429 Too Many Requests` with `Retry-After: N` (seconds).
    TooManyRequests,
    /// `404 Not Found` with a JSON error body: no data for that date.
    NotFound,
    /// `200` with the full `Content-Length`, then the connection closes part-way through the body.
    Reset,
    /// `200` whose (complete, correctly framed) body is the JSON cut short.
    Truncated,
    /// `200` whose body is the whole day with a syntax error in the middle.
    Malformed,
    /// `200` with `Content-Type: text/html`: a Wi-Fi captive portal's login page.
    Html,
    /// No response for the configured stall time (longer than a client's timeout), then the day.
    Stall,
}

impl Fault {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [Fault; 8] = [
        Fault::Unavailable,
        Fault::TooManyRequests,
        Fault::NotFound,
        Fault::Reset,
        Fault::Truncated,
        Fault::Malformed,
        Fault::Html,
        Fault::Stall,
    ];

    /// The name used in flags and in the `X-Airtemp-Fault` header.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Unavailable => "503",
            Fault::TooManyRequests => "429",
            Fault::NotFound => "404",
            Fault::Reset => "reset",
            Fault::Truncated => "truncated",
            Fault::Malformed => "malformed",
            Fault::Html => "html",
            Fault::Stall => "stall",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Fault, String> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("unknown fault {text:?} (one of {})", names.join(", "))
            })
    }
}

/// `KIND=RATE`, e.g. `503=0.05`: the share of requests that get that fault.
pub fn parse_rate(text: &str) -> Result<(Fault, f64), String> {
    let (kind, rate) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not KIND=RATE (e.g. 503=0.05)"))?;
    let fault: Fault = kind.trim().parse()?;
    let rate: f64 = rate
        .trim()
        .parse()
        .map_err(|_| format!("rate {rate:?} of {fault} is not a number"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("rate {rate} of {fault} is not between 0 and 1"));
    }
    Ok((fault, rate))
}

/// `DATE=KIND`, e.g. `2020-03-01=html`: every request for that date gets that fault.
pub fn parse_fault_on(text: &str) -> Result<(Date, Fault), String> {
    let (date, kind) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not DATE=KIND (e.g. 2020-03-01=html)"))?;
    let date: Date = date.trim().parse().map_err(|e| format!("{e}"))?;
    Ok((date, kind.trim().parse()?))
}

/// A fault forced on one date, for its first `attempts` requests (`None`: all of them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Override {
    pub date: Date,
    pub fault: Fault,
    pub attempts: Option<u32>,
}

/// The server's conditions: how long it takes, how it fails, what it serves.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Added before every response.
    pub latency: Duration,
    /// Up to this much more, uniform, seeded per request.
    pub jitter: Duration,
    /// Seeds the faults and the jitter (the readings depend on the date only).
    pub seed: u64,
    /// The share of requests that get each fault; together at most 1.
    pub rates: Vec<(Fault, f64)>,
    /// Faults forced on given dates (checked before the rates).
    pub overrides: Vec<Override>,
    /// The `Retry-After` of a 429, seconds.
    pub retry_after_s: u64,
    /// How long a stalled response waits before it answers.
    pub stall: Duration,
    /// One item a day instead of 1,440: the latency-bound case.
    pub small: bool,
}

impl Default for Config {
    /// 50 ms latency, no jitter, no faults, seed 0, `Retry-After: 1`, 30 s stalls, full days,
    /// an ephemeral port.
    fn default() -> Config {
        Config {
            port: 0,
            latency: Duration::from_millis(50),
            jitter: Duration::ZERO,
            seed: 0,
            rates: Vec::new(),
            overrides: Vec::new(),
            retry_after_s: 1,
            stall: Duration::from_secs(30),
            small: false,
        }
    }
}

impl Config {
    /// The default conditions without latency: what most tests want.
    pub fn instant() -> Config {
        Config {
            latency: Duration::ZERO,
            ..Config::default()
        }
    }

    /// Every request for `date` gets `fault`.
    pub fn fault_on(mut self, date: Date, fault: Fault) -> Config {
        self.overrides.push(Override {
            date,
            fault,
            attempts: None,
        });
        self
    }

    /// The first `attempts` requests for `date` get `fault`; later ones are served normally
    /// (unless a rate says otherwise): a fault that a retry gets past.
    pub fn fault_first(mut self, date: Date, fault: Fault, attempts: u32) -> Config {
        self.overrides.push(Override {
            date,
            fault,
            attempts: Some(attempts),
        });
        self
    }

    /// `rate` of all requests get `fault` (replacing an earlier rate for that fault).
    pub fn fault_rate(mut self, fault: Fault, rate: f64) -> Config {
        self.rates.retain(|(f, _)| *f != fault);
        self.rates.push((fault, rate));
        self
    }

    /// The rates are each within 0..=1 and sum to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        if let Some((fault, rate)) = self.rates.iter().find(|(_, r)| !(0.0..=1.0).contains(r)) {
            return Err(format!("rate {rate} of {fault} is not between 0 and 1"));
        }
        let total: f64 = self.rates.iter().map(|(_, r)| r).sum();
        if total > 1.0 + 1e-9 {
            return Err(format!("the fault rates add up to {total}, more than 1"));
        }
        Ok(())
    }

    // ANCHOR: decide
    /// What happens to request number `attempt` (1-based) for `date`.
    pub fn decide(&self, date: Date, attempt: u32) -> Decision {
        let mut rng = SplitMix64::new(hash(&[
            self.seed,
            date.days_since_epoch() as u64,
            u64::from(attempt),
        ]));
        let draw = rng.unit();
        let jitter = self.jitter.mul_f64(rng.unit());
        let cut = rng.range(0.1, 0.9);
        let forced = self
            .overrides
            .iter()
            .find(|o| o.date == date && o.attempts.is_none_or(|n| attempt <= n))
            .map(|o| o.fault);
        let fault = forced.or_else(|| {
            let mut below = 0.0;
            self.rates.iter().find_map(|&(fault, rate)| {
                below += rate;
                (draw < below).then_some(fault)
            })
        });
        Decision {
            fault,
            delay: self.latency + jitter,
            cut,
        }
    }
    // ANCHOR_END: decide
}

/// The server's plan for one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub fault: Option<Fault>,
    /// Latency plus this request's jitter.
    pub delay: Duration,
    /// Where a reset or truncated body ends, as a share of the full body (0.1-0.9).
    pub cut: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn names_round_trip_and_rates_parse() {
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(fault));
        }
        assert!(
            "teapot"
                .parse::<Fault>()
                .unwrap_err()
                .contains("one of 503, 429")
        );
        assert_eq!(parse_rate("503=0.05"), Ok((Fault::Unavailable, 0.05)));
        assert!(parse_rate("503").is_err());
        assert!(parse_rate("503=lots").is_err());
        assert!(parse_rate("503=1.5").is_err());
        assert_eq!(
            parse_fault_on("2020-03-01=html"),
            Ok((date("2020-03-01"), Fault::Html))
        );
        assert!(parse_fault_on("2020-02-30=html").is_err());
    }

    #[test]
    fn rates_must_add_up_to_at_most_one() {
        let ok = Config::default()
            .fault_rate(Fault::Reset, 0.5)
            .fault_rate(Fault::Html, 0.5);
        assert_eq!(ok.validate(), Ok(()));
        let bad = ok.clone().fault_rate(Fault::Stall, 0.1);
        assert!(bad.validate().unwrap_err().contains("more than 1"));
        assert_eq!(
            ok.fault_rate(Fault::Reset, 0.2).rates.len(),
            2,
            "a rate replaces its kind's"
        );
    }

    #[test]
    fn decisions_repeat_and_follow_the_rates() {
        let config = Config {
            jitter: Duration::from_millis(20),
            seed: 9,
            ..Config::default()
        }
        .fault_rate(Fault::Unavailable, 0.1)
        .fault_rate(Fault::TooManyRequests, 0.1);
        let d = date("2020-03-20");
        assert_eq!(config.decide(d, 1), config.decide(d, 1));
        let decisions: Vec<Decision> = (1..=10_000).map(|a| config.decide(d, a)).collect();
        let count = |f| decisions.iter().filter(|x| x.fault == Some(f)).count();
        assert!((800..1200).contains(&count(Fault::Unavailable)));
        assert!((800..1200).contains(&count(Fault::TooManyRequests)));
        assert!(decisions.iter().all(|x| {
            (Duration::from_millis(50)..=Duration::from_millis(70)).contains(&x.delay)
        }));
        let other_seed = Config {
            seed: 10,
            ..config.clone()
        };
        let differ = (1..=100)
            .filter(|&a| other_seed.decide(d, a) != config.decide(d, a))
            .count();
        assert!(differ > 90);
    }

    #[test]
    fn overrides_win_and_can_end() {
        let d = date("2020-03-20");
        let config = Config::default()
            .fault_first(d, Fault::Reset, 2)
            .fault_on(date("2020-03-21"), Fault::Html);
        let faults: Vec<_> = (1..=4).map(|a| config.decide(d, a).fault).collect();
        assert_eq!(faults, [Some(Fault::Reset), Some(Fault::Reset), None, None]);
        assert_eq!(
            config.decide(date("2020-03-21"), 99).fault,
            Some(Fault::Html)
        );
        assert_eq!(config.decide(date("2020-03-22"), 1).fault, None);
    }
}
