-- Support groups led by a psychiatrist (issue 27, docs/decisions.md). A group is a
-- conversation with a `groups` row; its current members are `conversation_members` rows as
-- in a one-to-one conversation (so the sidebar, unread counts and catch-up work unchanged),
-- and everyone ever invited has a `group_people` row that outlives their membership: their
-- messages stay in the group under the name they chose.
CREATE TABLE groups (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
    leader_id       INTEGER NOT NULL REFERENCES users (id),
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    -- Students at most, members and open invitations together.
    member_limit    INTEGER NOT NULL CHECK (member_limit BETWEEN 2 AND 30),
    -- Students who are members now, kept with each change (the sidebar shows it).
    students        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    closed_at       TEXT
);
CREATE INDEX groups_by_leader ON groups (leader_id);

CREATE TABLE group_people (
    conversation_id INTEGER NOT NULL REFERENCES groups (conversation_id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    -- Random, per group: how students are told apart without an id that links groups.
    handle          TEXT    NOT NULL,
    -- The name a student chose to show in this group; NULL: their display name.
    alias           TEXT,
    -- The shown name, lowercased: unique among the group's members.
    shown_key       TEXT    NOT NULL,
    state           TEXT    NOT NULL
        CHECK (state IN ('invited', 'member', 'declined', 'left', 'removed')),
    changed_at      TEXT    NOT NULL,
    PRIMARY KEY (conversation_id, user_id),
    UNIQUE (conversation_id, handle)
) WITHOUT ROWID;
CREATE INDEX group_people_by_user ON group_people (user_id, state);
CREATE UNIQUE INDEX group_people_shown_once ON group_people (conversation_id, shown_key)
    WHERE state = 'member';

-- A member sees the group's messages after this id (the newest when they joined).
ALTER TABLE conversation_members ADD COLUMN visible_after_id INTEGER NOT NULL DEFAULT 0;

-- Quiet lines in a group's timeline are Haven's notices (no sender) with what happened and
-- to whom; a message the leader removed keeps its row with the body deleted.
ALTER TABLE messages ADD COLUMN event TEXT CHECK (event IN ('joined', 'left', 'removed', 'closed'));
ALTER TABLE messages ADD COLUMN subject_id INTEGER;
ALTER TABLE messages ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;

-- The access record notes a leader removing a message ('moderation'). SQLite cannot change
-- a CHECK in place: the table is copied as in the previous migration, every row kept, and
-- the append-only triggers come back with it.
DROP TRIGGER access_log_no_update;
DROP TRIGGER access_log_no_delete;

CREATE TABLE access_log_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT    NOT NULL,
    -- NULL: an administrator on the command line.
    user_id         INTEGER,
    -- NULL: a live connection, an access to every conversation of the user.
    conversation_id INTEGER,
    action          TEXT    NOT NULL
        CHECK (action IN ('page', 'history', 'socket', 'export', 'moderation')),
    -- The client's address as the server attributed it (trusted proxies honoured).
    address         TEXT,
    CHECK (conversation_id IS NOT NULL OR action = 'socket')
);
INSERT INTO access_log_new (id, at, user_id, conversation_id, action, address)
    SELECT id, at, user_id, conversation_id, action, address FROM access_log;
DROP TABLE access_log;
ALTER TABLE access_log_new RENAME TO access_log;

CREATE INDEX access_log_by_conversation ON access_log (conversation_id, at);
CREATE INDEX access_log_by_user ON access_log (user_id, at);
CREATE INDEX access_log_connections ON access_log (user_id, at) WHERE conversation_id IS NULL;
CREATE INDEX access_log_by_time ON access_log (at);

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access record is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access record is append-only');
END;
