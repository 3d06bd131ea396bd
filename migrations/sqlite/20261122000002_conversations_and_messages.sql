-- Conversations have members (two today: a student and a psychiatrist; the model allows
-- groups later) and messages.
CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- The newest message, kept with each insert: orders the sidebar without a scan.
    last_message_id INTEGER
);

CREATE TABLE conversation_members (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    -- Highest message id this member has read (never goes backwards).
    last_read_id    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

-- "My conversations" and catch-up start from the member.
CREATE INDEX conversation_members_by_user ON conversation_members (user_id, conversation_id);

-- At most one one-to-one conversation per student–psychiatrist pair.
CREATE TABLE direct_conversations (
    student_id      INTEGER NOT NULL REFERENCES users (id),
    psychiatrist_id INTEGER NOT NULL REFERENCES users (id),
    conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations (id),
    PRIMARY KEY (student_id, psychiatrist_id)
) WITHOUT ROWID;

-- AUTOINCREMENT: ids are never reused, so "newer than id N" is always meaningful.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    sender_id       INTEGER NOT NULL REFERENCES users (id),
    client_id       TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    UNIQUE (sender_id, client_id)
);

-- History paging and catch-up within a conversation.
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
