-- Messages written by Haven itself (the after-hours notice): no sender, kind 'notice'.
-- SQLite cannot relax NOT NULL in place, so the table is rebuilt; ids are copied, and the
-- AUTOINCREMENT counter moves with the rename, so no id is ever reused.
CREATE TABLE messages_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    sender_id       INTEGER REFERENCES users (id),
    kind            TEXT    NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'notice')),
    client_id       TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    UNIQUE (sender_id, client_id),
    CHECK ((kind = 'text') = (sender_id IS NOT NULL))
);
INSERT INTO messages_new (id, conversation_id, sender_id, kind, client_id, body, created_at)
    SELECT id, conversation_id, sender_id, 'text', client_id, body, created_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
-- A notice is stored once per conversation and stretch of absence: its client id is made
-- from both (chat/mod.rs), and this index refuses a second.
CREATE UNIQUE INDEX messages_notice_once ON messages (conversation_id, client_id)
    WHERE kind = 'notice';
CREATE TRIGGER messages_set_last_message AFTER INSERT ON messages
BEGIN
    UPDATE conversations SET last_message_id = NEW.id
    WHERE id = NEW.conversation_id AND COALESCE(last_message_id, 0) < NEW.id;
END;
