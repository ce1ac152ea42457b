//! The machine header of every report: CPU model, logical cores, OS, the rustc that built us
//! and, when Python rows ran, the Python and the packages they ran with.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub os: String,
    pub rustc: String,
    /// The interpreter and packages of the Python rows (`Python 3.11.2 · numpy 2.4.6 · ...`),
    /// when any ran: a Python row's time means little without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
}

impl Machine {
    pub fn detect() -> Machine {
        Machine {
            cpu: cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_string()),
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            os: os_name(),
            rustc: env!("MEASURE_RUSTC_VERSION").to_string(),
            python: None,
        }
    }

    /// One line for the table header.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} · {} logical cores · {} · {}",
            self.cpu, self.cores, self.os, self.rustc
        );
        if let Some(python) = &self.python {
            line.push_str(" · ");
            line.push_str(python);
        }
        line
    }
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            matches!(key.trim(), "model name" | "Model" | "cpu model").then(|| value.trim())
        })
        .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn os_name() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        });
    let kernel = kernel_release();
    match (pretty, kernel) {
        (Some(p), Some(k)) => format!("{p}, {} {k}", std::env::consts::OS),
        (Some(p), None) => p,
        (None, Some(k)) => format!("{} {k}", std::env::consts::OS),
        (None, None) => std::env::consts::OS.to_string(),
    }
}

fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn detects_this_machine() {
        let m = super::Machine::detect();
        assert!(m.cores >= 1);
        assert!(m.rustc.starts_with("rustc "), "{}", m.rustc);
        assert!(!m.cpu.is_empty() && !m.os.is_empty());
        assert_eq!(m.python, None, "only a run with Python rows names a Python");
    }

    #[test]
    fn the_python_versions_follow_rustc_in_the_header() {
        let m = super::Machine {
            python: Some("Python 3.11.2 · numpy 2.4.6".into()),
            ..super::Machine::detect()
        };
        assert!(
            m.line()
                .ends_with(&format!("{} · Python 3.11.2 · numpy 2.4.6", m.rustc))
        );
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["python"], "Python 3.11.2 · numpy 2.4.6");
        let without = serde_json::to_value(super::Machine::detect()).unwrap();
        assert!(without.get("python").is_none());
    }
}
