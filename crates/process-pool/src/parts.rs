//! Several suites in one binary: which of them `--approach` selects, and the one-line error
//! for a name none of them knows. The output of the parts (text as it happens, one JSON
//! document, `--out DIR`) is `measure::Document`.

use measure::cli::slug;
use measure::{Common, Suite};

/// The shared flags for one suite of several: `None` when `--approach` names none of its
/// rows (skip the suite), else the flags with only the names this suite knows.
pub fn select(common: &Common, suite: &Suite) -> Option<Common> {
    if common.approaches.is_empty() {
        return Some(common.clone());
    }
    let known: Vec<String> = suite.names().iter().map(|(n, _, _)| slug(n)).collect();
    let mine: Vec<String> = common
        .approaches
        .iter()
        .filter(|a| known.contains(&slug(a)))
        .cloned()
        .collect();
    if mine.is_empty() {
        return None;
    }
    let mut common = common.clone();
    common.approaches = mine;
    Some(common)
}

/// `--approach` names that no suite knows: one line for exit code 2.
pub fn unknown_approaches(common: &Common, suites: &[&Suite]) -> Option<String> {
    let known: Vec<String> = suites
        .iter()
        .flat_map(|s| s.names())
        .map(|(n, _, _)| slug(&n))
        .collect();
    let unknown: Vec<&String> = common
        .approaches
        .iter()
        .filter(|a| !known.contains(&slug(a)))
        .collect();
    let first = unknown.first()?;
    Some(format!(
        "unknown approach '{first}'; `--list` names them: {}",
        known.join(", ")
    ))
}
