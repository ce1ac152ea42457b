//! The CPU's data caches (from Linux's sysfs), to say where an array of a given size lives.

use measure::units;

/// One data (or unified) cache level of CPU 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub level: u8,
    pub bytes: u64,
}

/// The data caches of CPU 0, smallest first (empty where sysfs does not say).
pub fn levels() -> Vec<Level> {
    let mut found = Vec::new();
    for index in 0..8 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
        let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).ok();
        let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size"))
        else {
            continue;
        };
        if kind.trim() == "Instruction" {
            continue;
        }
        if let (Ok(level), Some(bytes)) = (level.trim().parse(), parse_size(size.trim())) {
            found.push(Level { level, bytes });
        }
    }
    found.sort_by_key(|l| l.level);
    found
}

/// `48K`, `1024K`, `32M` → bytes.
fn parse_size(s: &str) -> Option<u64> {
    let (digits, scale) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 1 << 10),
        'M' => (&s[..s.len() - 1], 1 << 20),
        'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok().map(|d| d * scale)
}

/// `1 MiB`, `48 KiB`.
pub fn binary(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{} B", units::count(bytes))
    }
}

/// Where `bytes` of arrays live: `fits in L2 (1 MiB)`, `beyond L3 (32 MiB): main memory`.
pub fn fit(bytes: u64, levels: &[Level]) -> String {
    match levels.iter().find(|l| bytes <= l.bytes) {
        Some(l) => format!("fits in L{} ({})", l.level, binary(l.bytes)),
        None => match levels.last() {
            Some(l) => format!("beyond L{} ({}): main memory", l.level, binary(l.bytes)),
            None => "cache sizes unknown".into(),
        },
    }
}

/// A byte count in decimal units: `40 MB`, `128 KB`.
pub fn decimal(bytes: u64) -> String {
    let (v, prefix) = units::si(bytes as f64);
    format!("{} {prefix}B", units::sig3(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_fits() {
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("junk"), None);
        let levels = [
            Level {
                level: 1,
                bytes: 48 << 10,
            },
            Level {
                level: 2,
                bytes: 1 << 20,
            },
            Level {
                level: 3,
                bytes: 32 << 20,
            },
        ];
        assert_eq!(fit(128 << 10, &levels), "fits in L2 (1 MiB)");
        assert_eq!(fit(40_000_000, &levels), "beyond L3 (32 MiB): main memory");
        assert_eq!(fit(1, &[]), "cache sizes unknown");
        assert_eq!(decimal(40_000_000), "40.0 MB");
        assert_eq!(binary(48 << 10), "48 KiB");
    }
}
