//! One day of the API's answer as typed structs, and the day's statistics.
//!
//! `GET /v1/environment/air-temperature?date=D` answers with `metadata.stations[]` and one
//! item per minute, each with the readings of the stations that reported (`value` may be
//! `null`, and a station may be left out of an item). A missing reading is either: it is
//! counted in `missing` and left out of mean/min/max.

use airtemp_api::{Date, Stats};
use serde::Deserialize;

// ANCHOR: payload
/// The parts of the v1 answer a client needs.
#[derive(Debug, Deserialize)]
pub struct Payload {
    pub metadata: Metadata,
    pub items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub stations: Vec<StationMeta>,
    pub reading_unit: String,
}

#[derive(Debug, Deserialize)]
pub struct StationMeta {
    pub id: String,
    pub name: String,
}

/// One minute: its timestamp and the readings sent for it.
#[derive(Debug, Deserialize)]
pub struct Item {
    pub timestamp: String,
    pub readings: Vec<ReadingJson>,
}

#[derive(Debug, Deserialize)]
pub struct ReadingJson {
    pub station_id: String,
    pub value: Option<f64>,
}
// ANCHOR_END: payload

/// A day's statistics as a client computes them: per station of `metadata.stations` (in
/// that order) and over all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyStats {
    pub date: Date,
    pub stations: Vec<(String, Stats)>,
    pub all: Stats,
}

impl DailyStats {
    /// Whether these are exactly the model's statistics (same stations, same counts, same
    /// sums bit for bit: both add each station's readings in minute order).
    pub fn equals_model(&self, expected: &airtemp_api::DayStats) -> bool {
        self.date == expected.date
            && self.all == expected.all
            && self.stations.len() == expected.stations.len()
            && self
                .stations
                .iter()
                .zip(&expected.stations)
                .all(|((id, s), e)| id == e.station_id && *s == e.stats)
    }
}

// ANCHOR: stats
/// Parses one day's body and computes its statistics. A reading for a station that the
/// metadata does not list, or a second reading of a station in one minute, is an error.
pub fn parse_day(date: Date, body: &[u8]) -> Result<DailyStats, serde_json::Error> {
    let payload: Payload = serde_json::from_slice(body)?;
    stats_of(date, &payload).map_err(serde::de::Error::custom)
}

/// The statistics of a parsed day.
pub fn stats_of(date: Date, payload: &Payload) -> Result<DailyStats, String> {
    let ids: Vec<&str> = payload
        .metadata
        .stations
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    let mut stats = vec![Stats::default(); ids.len()];
    let mut seen = vec![false; ids.len()];
    for item in &payload.items {
        seen.fill(false);
        for r in &item.readings {
            let Some(i) = ids.iter().position(|id| *id == r.station_id) else {
                return Err(format!(
                    "{}: a reading for station {:?}, which the metadata does not list",
                    item.timestamp, r.station_id
                ));
            };
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!(
                    "{}: two readings for station {}",
                    item.timestamp, r.station_id
                ));
            }
            stats[i].add(r.value);
        }
        for (s, _) in stats.iter_mut().zip(&seen).filter(|(_, seen)| !**seen) {
            s.add(None); // left out of this minute: missing
        }
    }
    let mut all = Stats::default();
    for s in &stats {
        merge(&mut all, s);
    }
    Ok(DailyStats {
        date,
        stations: ids.iter().map(|id| id.to_string()).zip(stats).collect(),
        all,
    })
}
// ANCHOR_END: stats

/// Adds `other`'s readings to `into` (station by station, as the model does).
pub fn merge(into: &mut Stats, other: &Stats) {
    into.count += other.count;
    into.missing += other.missing;
    into.sum += other.sum;
    if let Some(m) = other.min {
        into.min = Some(into.min.map_or(m, |x| x.min(m)));
    }
    if let Some(m) = other.max {
        into.max = Some(into.max.map_or(m, |x| x.max(m)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airtemp_api::model;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn a_parsed_day_has_the_models_statistics() {
        for d in ["2020-03-20", "2020-01-01", "2019-12-31", "2020-02-29"] {
            let day = model::day(date(d));
            let stats = parse_day(day.date, &day.to_json()).unwrap();
            let expected = model::expected_stats(day.date);
            assert!(stats.equals_model(&expected), "{d}");
            assert!(expected.all.missing > 0, "the model leaves readings out");
        }
    }

    #[test]
    fn the_comparison_with_the_model_can_fail() {
        let d = date("2020-03-20");
        let mut stats = parse_day(d, &model::day(d).to_json()).unwrap();
        let expected = model::expected_stats(d);
        stats.stations[0].1.missing += 1;
        assert!(!stats.equals_model(&expected));
        let mut other = parse_day(d, &model::day(d).to_json()).unwrap();
        other.all.sum += 0.1;
        assert!(!other.equals_model(&expected));
        let next = model::expected_stats(date("2020-03-21"));
        let fresh = parse_day(d, &model::day(d).to_json()).unwrap();
        assert!(!fresh.equals_model(&next));
    }

    #[test]
    fn absent_and_null_readings_are_missing() {
        let body = br#"{"metadata":{"stations":[{"id":"A","name":"a"},{"id":"B","name":"b"}],
            "reading_unit":"deg C"},"items":[
            {"timestamp":"t0","readings":[{"station_id":"A","value":30.0},{"station_id":"B","value":null}]},
            {"timestamp":"t1","readings":[{"station_id":"B","value":26.0}]}]}"#;
        let s = parse_day(date("2020-03-20"), body).unwrap();
        assert_eq!((s.stations[0].1.count, s.stations[0].1.missing), (1, 1));
        assert_eq!((s.stations[1].1.count, s.stations[1].1.missing), (1, 1));
        assert_eq!((s.all.count, s.all.missing), (2, 2));
        assert_eq!(
            (s.all.min, s.all.max, s.all.mean()),
            (Some(26.0), Some(30.0), Some(28.0))
        );
    }

    #[test]
    fn unknown_or_repeated_stations_are_errors() {
        let unknown = br#"{"metadata":{"stations":[{"id":"A","name":"a"}],"reading_unit":"deg C"},
            "items":[{"timestamp":"t0","readings":[{"station_id":"Z","value":1.0}]}]}"#;
        let e = parse_day(date("2020-03-20"), unknown).unwrap_err();
        assert!(e.to_string().contains("\"Z\""), "{e}");
        let twice = br#"{"metadata":{"stations":[{"id":"A","name":"a"}],"reading_unit":"deg C"},
            "items":[{"timestamp":"t0","readings":[{"station_id":"A","value":1.0},{"station_id":"A","value":2.0}]}]}"#;
        assert!(parse_day(date("2020-03-20"), twice).is_err());
    }
}
