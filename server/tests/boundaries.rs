//! The architecture's boundaries, read from the source (as `query_plans.rs` reads the SQL):
//! the domain (`chat/`, `auth/`, `care/`) knows its ports, not what implements them; each
//! driver stays in its adapter; socket events are named by their types and error codes by
//! the one enum, never spelled as text where they are used.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// Every line of the Rust files under `dir` (relative to the workspace) that contains one
/// of `needles`, as `file:line: text`, outside comments.
fn lines_with(dir: &str, needles: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join(dir), &mut files);
    let mut found = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for (n, line) in source.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if needles.iter().any(|needle| code.contains(needle)) {
                let name = file.strip_prefix(&root).unwrap_or(&file).display();
                found.push(format!("{name}:{}: {}", n + 1, code));
            }
        }
    }
    found
}

#[test]
fn the_domain_imports_no_adapter() {
    for domain in ["server/src/chat", "server/src/auth", "server/src/care"] {
        let found = lines_with(
            domain,
            &["crate::cluster", "fred::", "socketioxide", "redis"],
        );
        assert!(
            found.is_empty(),
            "{domain} reaches past its ports:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn each_driver_stays_in_its_adapter() {
    // Each driver, and the only folders that may name it (the router assembly mounts the
    // Socket.IO layer; the fan-out adapter reads fred's subscriber).
    let adapters: [(&str, &[&str]); 3] = [
        ("fred::", &["server/src/cluster/", "server/src/realtime/"]),
        ("socketioxide", &["server/src/realtime/", "server/src/web/"]),
        ("sqlx::", &["server/src/store/"]),
    ];
    for (driver, allowed) in adapters {
        let outside: Vec<String> = lines_with("server/src", &[driver])
            .into_iter()
            .filter(|line| !allowed.iter().any(|prefix| line.starts_with(prefix)))
            .collect();
        assert!(
            outside.is_empty(),
            "{driver} outside {allowed:?}:\n{}",
            outside.join("\n")
        );
    }
}

#[test]
fn socket_events_and_error_codes_are_never_spelled_where_they_are_used() {
    // Event names live on their types (`app/src/protocol/events.rs`) and codes on
    // `ErrorCode` (`app/src/error.rs`); everywhere else names them by type. (`presence`
    // and `typing` are also ordinary words here: a server function, a CSS class.)
    let event_names = [
        "\"message:send\"",
        "\"message:new\"",
        "\"conversation:open\"",
        "\"conversation:read\"",
        "\"conversation:marked\"",
        "\"presence:snapshot\"",
        "\"sync:reload\"",
        "\"sync:reconnect\"",
    ];
    let codes = [
        "\"conversation_not_found\"",
        "\"rate_limited\"",
        "\"invalid_payload\"",
        "\"invalid_body\"",
        "\"unauthenticated\"",
        "\"forbidden\"",
        "\"internal\"",
    ];
    let mut found = Vec::new();
    for dir in ["app/src", "frontend/src", "server/src"] {
        found.extend(
            lines_with(dir, &event_names)
                .into_iter()
                .chain(lines_with(dir, &codes))
                .filter(|line| {
                    !line.starts_with("app/src/protocol/events.rs")
                        && !line.starts_with("app/src/error.rs")
                        // Unit tests spell the wire on purpose.
                        && !line.contains("json!(")
                }),
        );
    }
    assert!(found.is_empty(), "spelled out:\n{}", found.join("\n"));
}
