-- The access record: who opened which conversation's content, when, how and from where.
-- Append-only: the triggers refuse every change and deletion, whoever asks (docs/privacy.md).
-- No foreign keys: a record outlives a deleted account or a purged conversation.
CREATE TABLE access_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT    NOT NULL,
    -- NULL: an administrator on the command line.
    user_id         INTEGER,
    conversation_id INTEGER NOT NULL,
    action          TEXT    NOT NULL CHECK (action IN ('page', 'history', 'socket', 'export')),
    -- The client's address as the server attributed it (trusted proxies honoured).
    address         TEXT
);
CREATE INDEX access_log_by_conversation ON access_log (conversation_id, at);
CREATE INDEX access_log_by_user ON access_log (user_id, at);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access record is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access record is append-only');
END;

-- A deleted account: its sign-in name and password are gone, its name reads "Deleted
-- account", and the bodies of its messages are erased (messages.erased).
ALTER TABLE users ADD COLUMN deleted_at TEXT;
ALTER TABLE messages ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;

-- "Mark as unread": the sidebar counts the conversation unread until the member reads it
-- again. Read receipts are untouched (the other member keeps seeing "Seen").
ALTER TABLE conversation_members ADD COLUMN marked_unread INTEGER NOT NULL DEFAULT 0;
