//! The weather: deterministic minute readings for any date, and the statistics a client
//! should compute from them.
//!
//! A day's readings depend on the date only (never on the server's seed or faults), so a
//! test or a client can ask [`day`] or [`expected_stats`] for exactly what the server sends.
//! The model: a diurnal cycle (coolest near 06:30, warmest near 14:30, about 25-33 °C), a
//! per-day level and swing, an afternoon shower on some days, per-station offsets (the city
//! centre warmer, the islands' swing smaller), slow and fast noise, values rounded to 0.1 °C
//! like the real API. And its data-quality problems: about 1% of readings missing (half sent
//! as `null`, half left out of `readings[]`), and on some days a station absent altogether
//! (not in the metadata, no readings).

use crate::date::Date;
use crate::rng::{SplitMix64, hash};
use serde::Serialize;

/// Minutes in a day: one item each.
pub const MINUTES_PER_DAY: usize = 1440;
/// `metadata.reading_type` of the real API.
pub const READING_TYPE: &str = "DBT 1M F";
/// `metadata.reading_unit` of the real API.
pub const READING_UNIT: &str = "deg C";

/// Chance that one reading is sent as `null`.
pub const NULL_RATE: f64 = 0.005;
/// Chance that one reading is left out of its item's `readings[]`.
pub const ABSENT_RATE: f64 = 0.005;
/// Chance that a station is absent for a whole day.
pub const STATION_ABSENT_RATE: f64 = 0.05;

/// A weather station of the data.gov.sg network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Station {
    pub id: &'static str,
    pub name: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    /// Added to the island-wide level, °C.
    pub offset_c: f64,
    /// Multiplies the day's swing (sea air swings less).
    pub swing: f64,
}

const fn station(
    id: &'static str,
    name: &'static str,
    latitude: f64,
    longitude: f64,
    offset_c: f64,
    swing: f64,
) -> Station {
    Station {
        id,
        name,
        latitude,
        longitude,
        offset_c,
        swing,
    }
}

/// The stations, with their real ids, names and locations.
pub const STATIONS: [Station; 16] = [
    station("S109", "Ang Mo Kio Avenue 5", 1.3764, 103.8492, 0.2, 1.0),
    station("S50", "Clementi Road", 1.3337, 103.7768, 0.0, 1.0),
    station("S107", "East Coast Parkway", 1.3135, 103.9625, -0.1, 0.8),
    station("S43", "Kim Chuan Road", 1.3399, 103.8878, 0.3, 1.0),
    station("S44", "Nanyang Avenue", 1.34583, 103.68166, -0.2, 1.05),
    station(
        "S24",
        "Upper Changi Road North",
        1.3678,
        103.9826,
        0.0,
        0.95,
    ),
    station("S116", "West Coast Highway", 1.281, 103.754, 0.1, 0.9),
    station("S104", "Woodlands Avenue 9", 1.44387, 103.78538, -0.3, 1.1),
    station("S100", "Woodlands Road", 1.4172, 103.74855, -0.4, 1.1),
    station("S60", "Sentosa", 1.25, 103.8279, -0.2, 0.75),
    station("S115", "Tuas South Avenue 3", 1.29377, 103.61843, 0.1, 0.9),
    station("S117", "Banyan Road", 1.256, 103.679, 0.3, 0.85),
    station("S106", "Pulau Ubin", 1.4168, 103.9673, -0.2, 0.9),
    station("S111", "Scotts Road", 1.31055, 103.8365, 0.5, 0.95),
    station("S102", "Semakau Landfill", 1.189, 103.768, -0.3, 0.6),
    station(
        "S121",
        "Old Choa Chu Kang Road",
        1.37288,
        103.72244,
        -0.5,
        1.15,
    ),
];

/// One station's reading for one minute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reading {
    /// °C, a multiple of 0.1.
    Value(f64),
    /// Sent as `{"station_id": ..., "value": null}`.
    Null,
    /// Left out of the item's `readings[]`.
    Absent,
}

impl Reading {
    pub fn value(self) -> Option<f64> {
        match self {
            Reading::Value(v) => Some(v),
            Reading::Null | Reading::Absent => None,
        }
    }
}

/// One day as the server sends it: the stations present that day and, per station, one
/// reading per minute (`readings[s][m]` is station `stations[s]` at minute `m`).
#[derive(Clone, Debug, PartialEq)]
pub struct Day {
    pub date: Date,
    pub stations: Vec<&'static Station>,
    pub readings: Vec<Vec<Reading>>,
}

/// Mean, min, max and count of the readings of a station (or of all stations) on a day,
/// and how many of its readings were missing (`null` or absent).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    pub count: usize,
    pub missing: usize,
    pub sum: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Stats {
    /// Counts one reading (`None`: missing).
    pub fn add(&mut self, value: Option<f64>) {
        match value {
            Some(v) => {
                self.count += 1;
                self.sum += v;
                self.min = Some(self.min.map_or(v, |m| m.min(v)));
                self.max = Some(self.max.map_or(v, |m| m.max(v)));
            }
            None => self.missing += 1,
        }
    }

    /// The mean of the readings, `None` when there were none.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    fn merge(&mut self, other: &Stats) {
        self.count += other.count;
        self.missing += other.missing;
        self.sum += other.sum;
        for (mine, theirs, pick) in [
            (&mut self.min, other.min, f64::min as fn(f64, f64) -> f64),
            (&mut self.max, other.max, f64::max),
        ] {
            if let Some(t) = theirs {
                *mine = Some(mine.map_or(t, |m| pick(m, t)));
            }
        }
    }
}

/// The statistics of one station on one day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StationStats {
    pub station_id: &'static str,
    pub stats: Stats,
}

/// A day's statistics: per station present (in [`STATIONS`] order) and over all of them.
#[derive(Clone, Debug, PartialEq)]
pub struct DayStats {
    pub date: Date,
    pub stations: Vec<StationStats>,
    pub all: Stats,
}

/// The day's readings, one item per minute.
pub fn day(date: Date) -> Day {
    generate(date, MINUTES_PER_DAY)
}

/// The day as `--small` serves it: only its first item (00:00).
pub fn small_day(date: Date) -> Day {
    generate(date, 1)
}

/// The statistics of [`day`]`(date)`: what a client that fetched the whole day should find.
pub fn expected_stats(date: Date) -> DayStats {
    day(date).stats()
}

impl Day {
    /// Per-station and all-station statistics of the readings sent.
    pub fn stats(&self) -> DayStats {
        let stations: Vec<StationStats> = self
            .stations
            .iter()
            .zip(&self.readings)
            .map(|(station, readings)| {
                let mut stats = Stats::default();
                readings.iter().for_each(|r| stats.add(r.value()));
                StationStats {
                    station_id: station.id,
                    stats,
                }
            })
            .collect();
        let mut all = Stats::default();
        stations.iter().for_each(|s| all.merge(&s.stats));
        DayStats {
            date: self.date,
            stations,
            all,
        }
    }

    /// Minutes (items) in this day: 1,440, or 1 for a small day.
    pub fn minutes(&self) -> usize {
        self.readings.first().map_or(0, Vec::len)
    }

    /// The day in the data.gov.sg v1 shape, compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let stations = self
            .stations
            .iter()
            .map(|s| StationJson {
                id: s.id,
                device_id: s.id,
                name: s.name,
                location: Location {
                    latitude: s.latitude,
                    longitude: s.longitude,
                },
            })
            .collect();
        let items = (0..self.minutes())
            .map(|minute| ItemJson {
                timestamp: timestamp(self.date, minute),
                readings: self
                    .stations
                    .iter()
                    .zip(&self.readings)
                    .filter_map(|(station, readings)| match readings[minute] {
                        Reading::Absent => None,
                        r => Some(ReadingJson {
                            station_id: station.id,
                            value: r.value(),
                        }),
                    })
                    .collect(),
            })
            .collect();
        let payload = Payload {
            metadata: Metadata {
                stations,
                reading_type: READING_TYPE,
                reading_unit: READING_UNIT,
            },
            items,
            api_info: ApiInfo { status: "healthy" },
        };
        // Serialising plain structs of strings and numbers into a Vec cannot fail.
        serde_json::to_vec(&payload).unwrap_or_default()
    }
}

/// `2020-03-20T13:05:00+08:00`: Singapore time, like the real API.
pub fn timestamp(date: Date, minute: usize) -> String {
    format!("{date}T{:02}:{:02}:00+08:00", minute / 60, minute % 60)
}

#[derive(Serialize)]
struct Payload<'a> {
    metadata: Metadata<'a>,
    items: Vec<ItemJson<'a>>,
    api_info: ApiInfo,
}

#[derive(Serialize)]
struct Metadata<'a> {
    stations: Vec<StationJson<'a>>,
    reading_type: &'a str,
    reading_unit: &'a str,
}

#[derive(Serialize)]
struct StationJson<'a> {
    id: &'a str,
    device_id: &'a str,
    name: &'a str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Serialize)]
struct ItemJson<'a> {
    timestamp: String,
    readings: Vec<ReadingJson<'a>>,
}

#[derive(Serialize)]
struct ReadingJson<'a> {
    station_id: &'a str,
    value: Option<f64>,
}

#[derive(Serialize)]
struct ApiInfo {
    status: &'static str,
}

/// -1 at 06:30, +1 at 14:30: eight hours of warming, sixteen of cooling.
fn diurnal(minute: usize) -> f64 {
    const COOLEST: f64 = 6.5;
    const WARMEST: f64 = 14.5;
    let hour = minute as f64 / 60.0;
    if (COOLEST..=WARMEST).contains(&hour) {
        -(std::f64::consts::PI * (hour - COOLEST) / (WARMEST - COOLEST)).cos()
    } else {
        let since = (hour - WARMEST).rem_euclid(24.0);
        (std::f64::consts::PI * since / (24.0 - (WARMEST - COOLEST))).cos()
    }
}

fn generate(date: Date, minutes: usize) -> Day {
    // Stream 0 of the date: the island-wide weather and which stations are absent.
    let day_seed = hash(&[0xA1F7, date.days_since_epoch() as u64]);
    let mut weather = SplitMix64::new(day_seed);
    let level = 28.6 + weather.range(-0.6, 0.6);
    let swing = 3.2 + weather.range(-0.4, 0.4);
    // Some afternoons a shower cools the island by a couple of degrees, then it recovers.
    let shower = (weather.unit() < 0.3).then(|| {
        let start = weather.range(13.0 * 60.0, 17.0 * 60.0);
        let depth = weather.range(1.0, 2.5);
        (start, depth)
    });
    let mut absent_today = 0;
    let present: Vec<(usize, &'static Station)> = STATIONS
        .iter()
        .enumerate()
        .filter(|_| {
            let absent = weather.unit() < STATION_ABSENT_RATE && absent_today < 3;
            absent_today += usize::from(absent);
            !absent
        })
        .collect();

    let readings = present
        .iter()
        .map(|&(index, station)| {
            let mut rng = SplitMix64::new(hash(&[day_seed, index as u64 + 1]));
            let mut drift = rng.normal() * 0.3;
            (0..MINUTES_PER_DAY.min(minutes))
                .map(|minute| {
                    drift = 0.995 * drift + 0.02 * rng.normal();
                    let cooling = shower.map_or(0.0, |(start, depth)| {
                        let since = minute as f64 - start;
                        if since < 0.0 {
                            0.0
                        } else {
                            depth * (since / 20.0).min(1.0) * (-since / 90.0).exp()
                        }
                    });
                    let celsius =
                        level + station.offset_c + swing * station.swing * diurnal(minute)
                            - cooling
                            + drift
                            + 0.08 * rng.normal();
                    let u = rng.unit();
                    if u < NULL_RATE {
                        Reading::Null
                    } else if u < NULL_RATE + ABSENT_RATE {
                        Reading::Absent
                    } else {
                        Reading::Value((celsius * 10.0).round() / 10.0)
                    }
                })
                .collect()
        })
        .collect();
    Day {
        date,
        stations: present.into_iter().map(|(_, s)| s).collect(),
        readings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn diurnal_cycle_is_coolest_at_dawn_warmest_mid_afternoon() {
        assert!((diurnal(6 * 60 + 30) + 1.0).abs() < 1e-12);
        assert!((diurnal(14 * 60 + 30) - 1.0).abs() < 1e-12);
        let coolest = (0..MINUTES_PER_DAY).min_by(|&a, &b| diurnal(a).total_cmp(&diurnal(b)));
        let warmest = (0..MINUTES_PER_DAY).max_by(|&a, &b| diurnal(a).total_cmp(&diurnal(b)));
        assert_eq!((coolest, warmest), (Some(390), Some(870)));
    }

    #[test]
    fn a_day_is_deterministic_and_dates_differ() {
        assert_eq!(day(date("2020-03-20")), day(date("2020-03-20")));
        assert_ne!(
            day(date("2020-03-20")).readings,
            day(date("2020-03-19")).readings
        );
        let small = small_day(date("2020-03-20"));
        assert_eq!(small.minutes(), 1);
        assert_eq!(small.readings[0][0], day(date("2020-03-20")).readings[0][0]);
    }

    #[test]
    fn values_are_plausible_and_rounded_to_a_tenth() {
        for d in Date::days_ending(date("2020-03-20"), 60) {
            let day = day(d);
            for v in day.readings.iter().flatten().filter_map(|r| r.value()) {
                assert!((20.0..=36.0).contains(&v), "{d}: {v}");
                assert!(((v * 10.0).round() - v * 10.0).abs() < 1e-9, "{v}");
            }
            // Dawn is cooler than late morning at every station.
            for readings in &day.readings {
                let mean = |r: std::ops::Range<usize>| {
                    let v: Vec<f64> = r.filter_map(|m| readings[m].value()).collect();
                    v.iter().sum::<f64>() / v.len() as f64
                };
                assert!(mean(360..420) + 1.0 < mean(660..720), "{d}"); // 11:00, before any shower
            }
        }
    }

    #[test]
    fn about_one_percent_missing_and_some_stations_absent_some_days() {
        let days: Vec<Day> = Date::days_ending(date("2020-03-20"), 100)
            .into_iter()
            .map(day)
            .collect();
        let (mut total, mut null, mut absent) = (0, 0, 0);
        for d in &days {
            for r in d.readings.iter().flatten() {
                total += 1;
                null += usize::from(*r == Reading::Null);
                absent += usize::from(*r == Reading::Absent);
            }
        }
        let missing = (null + absent) as f64 / total as f64;
        assert!((0.007..0.013).contains(&missing), "{missing}");
        assert!(null > 0 && absent > 0);
        let short_days = days
            .iter()
            .filter(|d| d.stations.len() < STATIONS.len())
            .count();
        assert!(
            (10..90).contains(&short_days),
            "{short_days} days miss a station"
        );
        assert!(days.iter().all(|d| d.stations.len() >= STATIONS.len() - 3));
    }

    #[test]
    fn stats_count_what_the_day_holds() {
        let d = day(date("2020-02-29"));
        let stats = d.stats();
        assert_eq!(stats.stations.len(), d.stations.len());
        let readings = d.stations.len() * MINUTES_PER_DAY;
        assert_eq!(stats.all.count + stats.all.missing, readings);
        let first = &d.readings[0];
        let values: Vec<f64> = first.iter().filter_map(|r| r.value()).collect();
        let s = stats.stations[0].stats;
        assert_eq!(s.count, values.len());
        assert_eq!(s.missing, MINUTES_PER_DAY - values.len());
        assert_eq!(s.max, values.iter().copied().reduce(f64::max));
        assert_eq!(s.min, values.iter().copied().reduce(f64::min));
        assert!(
            (s.mean().unwrap() - values.iter().sum::<f64>() / values.len() as f64).abs() < 1e-9
        );
        let all_max = stats
            .stations
            .iter()
            .filter_map(|s| s.stats.max)
            .reduce(f64::max);
        assert_eq!(stats.all.max, all_max);
        assert_eq!(Stats::default().mean(), None);
    }

    #[test]
    fn json_size_is_that_of_the_real_api() {
        let bytes = day(date("2020-03-20")).to_json().len();
        assert!((700_000..1_000_000).contains(&bytes), "{bytes}");
    }
}
