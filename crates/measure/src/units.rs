//! Human units: durations scaled to ns/µs/ms/s and counts with SI prefixes.

/// A duration in seconds, scaled to ns, µs, ms or s with three significant digits.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "-".into();
    }
    let (value, unit) = if seconds >= 1.0 {
        (seconds, "s")
    } else if seconds >= 1e-3 {
        (seconds * 1e3, "ms")
    } else if seconds >= 1e-6 {
        (seconds * 1e6, "µs")
    } else {
        (seconds * 1e9, "ns")
    };
    format!("{} {unit}", sig3(value))
}

/// A rate with an SI prefix: `284 M numbers/s`.
pub fn rate(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    let (scaled, prefix) = si(value);
    // "12.3 GB/s" but "284 M numbers/s": a prefix glues only to a unit symbol.
    let glue = if unit.starts_with(|c: char| c.is_ascii_uppercase()) || prefix.is_empty() {
        ""
    } else {
        " "
    };
    format!("{} {prefix}{glue}{unit}", sig3(scaled))
}

/// `value` scaled into [1, 1000) with its SI prefix (k, M, G, T); small values stay as they are.
pub fn si(value: f64) -> (f64, &'static str) {
    const PREFIXES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, prefix) in PREFIXES {
        if value.abs() >= scale {
            return (value / scale, prefix);
        }
    }
    (value, "")
}

/// A ratio to the baseline: `12.3x`, `0.081x`.
pub fn ratio(value: f64) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    format!("{}x", sig3(value))
}

/// An integer with thousands separators: `10,000,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Three significant digits without a useless exponent: 1.23, 12.3, 123, 1234.
pub fn sig3(value: f64) -> String {
    let a = value.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{value:.0}")
    } else if a >= 10.0 {
        format!("{value:.1}")
    } else if a >= 1.0 {
        format!("{value:.2}")
    } else if a >= 0.1 {
        format!("{value:.3}")
    } else {
        // Small ratios: keep three significant digits.
        let decimals = (-a.log10().floor()) as usize + 2;
        format!("{value:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(2.5), "2.50 s");
        assert_eq!(duration(0.0123), "12.3 ms");
        assert_eq!(duration(0.000_456), "456 µs");
        assert_eq!(duration(7.1e-8), "71.0 ns");
        assert_eq!(duration(f64::NAN), "-");
    }

    #[test]
    fn rates_and_ratios() {
        assert_eq!(rate(284_000_000.0, "numbers/s"), "284 M numbers/s");
        assert_eq!(rate(950.0, "images/s"), "950 images/s");
        assert_eq!(rate(12.3e9, "B/s"), "12.3 GB/s");
        assert_eq!(ratio(12.34), "12.3x");
        assert_eq!(ratio(0.0812), "0.0812x");
        assert_eq!(count(10_000_000), "10,000,000");
        assert_eq!(count(999), "999");
    }
}
