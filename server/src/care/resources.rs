//! The crisis resources the service configures: a TOML file read and checked at start, so
//! that a typo is found by the operator, not by a student at 2 a.m.

use std::path::{Path, PathBuf};

use app::protocol::CrisisResource;
use serde::Deserialize;

/// At most this many resources: the full list must stay readable on a phone.
const MAX_RESOURCES: usize = 20;

/// The file's shape: `[[resource]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "resource", default)]
    resources: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(default)]
    description: String,
    phone: Option<String>,
    text: Option<String>,
    link: Option<String>,
    hours: String,
    #[serde(default)]
    urgent: bool,
}

/// Why the crisis resources file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResourcesError {
    #[error("cannot read the crisis resources file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the crisis resources file {path} is not valid TOML of the expected shape")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("the crisis resources file {path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

/// Reads and checks the file at `path`.
pub fn load(path: &Path) -> Result<Vec<CrisisResource>, ResourcesError> {
    let text = std::fs::read_to_string(path).map_err(|source| ResourcesError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text).map_err(|e| match e {
        Problem::Toml(source) => ResourcesError::Parse {
            path: path.to_owned(),
            source,
        },
        Problem::Invalid(problem) => ResourcesError::Invalid {
            path: path.to_owned(),
            problem,
        },
    })
}

/// What stands in when the service configured nothing: emergency services only. The
/// server warns at start; `docs/operating.md` says how to configure the real list.
pub fn fallback() -> Vec<CrisisResource> {
    vec![CrisisResource {
        name: "Emergency services".into(),
        description: "If you or someone else is in danger right now.".into(),
        phone: Some("112".into()),
        text: None,
        link: None,
        hours: "24/7 (112 works across Europe; 911 in North America, 999 in the UK)".into(),
        urgent: true,
    }]
}

enum Problem {
    Toml(toml::de::Error),
    Invalid(String),
}

fn parse(text: &str) -> Result<Vec<CrisisResource>, Problem> {
    let file: File = toml::from_str(text).map_err(Problem::Toml)?;
    if file.resources.is_empty() {
        return Err(Problem::Invalid("no [[resource]] is listed".into()));
    }
    if file.resources.len() > MAX_RESOURCES {
        return Err(Problem::Invalid(format!(
            "{} resources listed; at most {MAX_RESOURCES}",
            file.resources.len()
        )));
    }
    if !file.resources.iter().any(|r| r.urgent) {
        return Err(Problem::Invalid(
            "no resource has `urgent = true`: the notice on every screen needs at least one".into(),
        ));
    }
    file.resources
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let name = entry.name.trim().to_owned();
            check(&entry, &name).map_err(|problem| {
                Problem::Invalid(format!("resource {} ({name:?}): {problem}", i + 1))
            })?;
            Ok(CrisisResource {
                name,
                description: entry.description.trim().to_owned(),
                phone: trimmed(entry.phone),
                text: trimmed(entry.text),
                link: trimmed(entry.link),
                hours: entry.hours.trim().to_owned(),
                urgent: entry.urgent,
            })
        })
        .collect()
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// One entry's rules: a name, hours, and at least one way to reach it, each well formed.
fn check(entry: &Entry, name: &str) -> Result<(), String> {
    let within = |field: &str, value: &str, max: usize| {
        if value.chars().count() > max {
            Err(format!("`{field}` is longer than {max} characters"))
        } else if value.chars().any(char::is_control) {
            Err(format!("`{field}` contains control characters"))
        } else {
            Ok(())
        }
    };
    if name.is_empty() {
        return Err("`name` is empty".into());
    }
    within("name", name, 80)?;
    within("description", &entry.description, 300)?;
    if entry.hours.trim().is_empty() {
        return Err("`hours` is empty (say \"24/7\" if it always answers)".into());
    }
    within("hours", &entry.hours, 100)?;
    let phone = entry
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let text = entry
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let link = entry
        .link
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    if phone.is_none() && text.is_none() && link.is_none() {
        return Err("give at least one of `phone`, `text`, `link`".into());
    }
    if let Some(phone) = phone {
        within("phone", phone, 32)?;
        let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
        if !phone.chars().all(allowed) || !phone.chars().any(|c| c.is_ascii_digit()) {
            return Err(format!(
                "`phone` {phone:?} is not a phone number (digits, spaces, + - ( ) .)"
            ));
        }
    }
    if let Some(text) = text {
        within("text", text, 120)?;
    }
    if let Some(link) = link {
        within("link", link, 300)?;
        let url =
            url::Url::parse(link).map_err(|e| format!("`link` {link:?} is not a URL ({e})"))?;
        if url.scheme() != "https" {
            return Err(format!("`link` {link:?} must be an https:// address"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(Problem::Toml(e)) => format!("toml: {e}"),
            Err(Problem::Invalid(p)) => p,
        }
    }

    #[test]
    fn the_documented_example_is_valid() {
        let text = include_str!("../../../docs/crisis-resources.example.toml");
        let resources = parse(text).unwrap_or_else(|_| panic!("example refused"));
        assert!(resources.iter().any(|r| r.urgent));
        assert!(resources.iter().all(|r| !r.hours.is_empty()));
    }

    #[test]
    fn a_resource_needs_a_way_to_reach_it() {
        let p = problem("[[resource]]\nname = \"Line\"\nhours = \"24/7\"\nurgent = true\n");
        assert!(p.contains("at least one of"), "{p}");
    }

    #[test]
    fn links_must_be_https() {
        for link in ["javascript:alert(1)", "http://example.org", "//example.org"] {
            let p = problem(&format!(
                "[[resource]]\nname = \"Line\"\nhours = \"24/7\"\nurgent = true\nlink = \"{link}\"\n"
            ));
            assert!(p.contains("link"), "{link}: {p}");
        }
    }

    #[test]
    fn phones_are_digits() {
        let p = problem(
            "[[resource]]\nname = \"Line\"\nhours = \"24/7\"\nurgent = true\nphone = \"call us\"\n",
        );
        assert!(p.contains("phone"), "{p}");
    }

    #[test]
    fn one_resource_must_be_urgent_and_typos_are_refused() {
        let p = problem("[[resource]]\nname = \"Line\"\nhours = \"24/7\"\nphone = \"112\"\n");
        assert!(p.contains("urgent"), "{p}");
        let p = problem(
            "[[resource]]\nname = \"Line\"\nhours = \"24/7\"\nphone = \"112\"\nurgnet = true\n",
        );
        assert!(p.starts_with("toml:"), "{p}");
    }

    #[test]
    fn the_fallback_names_emergency_services() {
        let fallback = fallback();
        assert!(fallback[0].urgent && fallback[0].tel_href().is_some());
    }
}
