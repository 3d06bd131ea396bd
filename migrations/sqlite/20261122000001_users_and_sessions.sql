-- Accounts. Usernames are stored normalized to lowercase, which makes them
-- case-insensitively unique (docs/decisions.md).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('student', 'psychiatrist')),
    bio           TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_seen_at  TEXT
);

CREATE INDEX users_role ON users (role);

-- tower-sessions' SqliteStore table (same shape the store's own `migrate` creates), kept
-- here so that one migration history owns the whole schema.
CREATE TABLE tower_sessions (
    id          TEXT    PRIMARY KEY NOT NULL,
    data        BLOB    NOT NULL,
    expiry_date INTEGER NOT NULL
);

CREATE INDEX tower_sessions_expiry ON tower_sessions (expiry_date);
