//! `book check`: every `{{#include}}` of a chapter names a file that exists (and, with
//! `:anchor`, an anchor that file has); every link or image into `generated/` names a
//! non-empty file; every chapter of SUMMARY.md exists.

use std::path::{Path, PathBuf};

/// One line per broken reference, `chapter: what is wrong`.
pub fn problems(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut chapters = Vec::new();
    collect_markdown(src, &mut chapters);
    chapters.sort();
    if chapters.is_empty() {
        problems.push(format!("{}: no chapters", src.display()));
    }
    for chapter in &chapters {
        let name = chapter
            .strip_prefix(src)
            .unwrap_or(chapter)
            .display()
            .to_string();
        let Ok(text) = std::fs::read_to_string(chapter) else {
            problems.push(format!("{name}: cannot read it"));
            continue;
        };
        let dir = chapter.parent().unwrap_or(src);
        for (line_no, line) in text.lines().enumerate() {
            let at = format!("{name}:{}", line_no + 1);
            for include in includes(line) {
                check_include(dir, &include, &at, &mut problems);
            }
            for target in link_targets(line) {
                let path = dir.join(&target);
                let in_generated = target.starts_with("generated/");
                let is_chapter = name == "SUMMARY.md" && target.ends_with(".md");
                if !(in_generated || is_chapter) {
                    continue;
                }
                match std::fs::metadata(&path) {
                    Ok(m) if m.len() > 0 => {}
                    Ok(_) => problems.push(format!("{at}: {target} is empty")),
                    Err(_) => problems.push(format!("{at}: {target} does not exist")),
                }
            }
        }
    }
    problems
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "generated") {
                collect_markdown(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// An `{{#include path}}`, `{{#include path:anchor}}` or `{{#rustdoc_include ...}}`.
#[derive(Debug, PartialEq)]
struct Include {
    path: String,
    anchor: Option<String>,
}

fn includes(line: &str) -> Vec<Include> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let body = after[..end].trim();
        rest = &after[end + 2..];
        let Some(spec) = body
            .strip_prefix("include ")
            .or_else(|| body.strip_prefix("rustdoc_include "))
        else {
            continue;
        };
        let spec = spec.trim();
        let (path, anchor) = match spec.split_once(':') {
            Some((p, a)) => (p, Some(a)),
            None => (spec, None),
        };
        // `:10:20`, `:10:` and `:10` are line ranges, not anchors.
        let anchor = anchor
            .filter(|a| !a.is_empty() && !a.starts_with(|c: char| c.is_ascii_digit()))
            .map(str::to_string);
        found.push(Include {
            path: path.to_string(),
            anchor,
        });
    }
    found
}

fn check_include(dir: &Path, include: &Include, at: &str, problems: &mut Vec<String>) {
    let path = dir.join(&include.path);
    let Ok(text) = std::fs::read_to_string(&path) else {
        problems.push(format!(
            "{at}: included file {} does not exist",
            include.path
        ));
        return;
    };
    if text.trim().is_empty() {
        problems.push(format!("{at}: included file {} is empty", include.path));
    }
    if let Some(anchor) = &include.anchor {
        let has = |tag: &str| {
            text.lines().any(|l| {
                l.split_once(tag)
                    .is_some_and(|(_, rest)| rest.trim() == anchor)
            })
        };
        if !has("ANCHOR:") || !has("ANCHOR_END:") {
            problems.push(format!("{at}: {} has no anchor `{anchor}`", include.path));
        }
    }
}

/// Targets of markdown links and images, `](target)`, and of `src="target"`.
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("");
        let target = target.split('#').next().unwrap_or("");
        if !target.is_empty() && !target.contains("://") {
            out.push(target.to_string());
        }
        rest = &after[end..];
    }
    let mut rest = line;
    while let Some(i) = rest.find("src=\"") {
        let after = &rest[i + 5..];
        let Some(end) = after.find('"') else { break };
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_includes_and_anchors() {
        let line =
            "{{#include ../../crates/x/src/main.rs:suite}} and {{#include generated/x/output.txt}}";
        assert_eq!(
            includes(line),
            vec![
                Include {
                    path: "../../crates/x/src/main.rs".into(),
                    anchor: Some("suite".into())
                },
                Include {
                    path: "generated/x/output.txt".into(),
                    anchor: None
                },
            ]
        );
        assert_eq!(includes("{{#include a.rs:10:20}}")[0].anchor, None);
        assert_eq!(
            includes("{{#rustdoc_include a.rs:x}}")[0].anchor.as_deref(),
            Some("x")
        );
    }

    #[test]
    fn finds_link_targets() {
        let line = r#"![time](generated/x/time.svg "t") see [the web](https://x.org) <img src="generated/y.svg">"#;
        assert_eq!(
            link_targets(line),
            vec!["generated/x/time.svg", "generated/y.svg"]
        );
    }
}
