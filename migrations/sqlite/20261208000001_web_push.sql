-- Web Push (issue 28, docs/decisions.md "Between visits"). The service's VAPID key pair:
-- one row, made on first start unless configured; every node signs with the same key.
CREATE TABLE push_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    -- The P-256 private scalar, base64url without padding.
    private_key TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);

-- One row per device that asked for notifications, tied to the session it was asked in:
-- signing out, the session's end or the account's deletion removes it.
CREATE TABLE push_subscriptions (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id      TEXT    NOT NULL,
    -- The session's absolute end (sign-in time + lifetime): no push after it.
    session_ends_at TEXT    NOT NULL,
    endpoint        TEXT    NOT NULL UNIQUE,
    p256dh          TEXT    NOT NULL,
    auth            TEXT    NOT NULL,
    -- What a push on this device says: 'private' (no name) or 'names'.
    words           TEXT    NOT NULL CHECK (words IN ('private', 'names')),
    -- A psychiatrist's choice: pushes outside their office hours too.
    after_hours     INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    last_success_at TEXT
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session_id);

-- At most one push per conversation until its reader reads: the newest message a push was
-- sent for. A push is due again once `last_read_id` reaches it.
ALTER TABLE conversation_members ADD COLUMN pushed_through_id INTEGER NOT NULL DEFAULT 0;
