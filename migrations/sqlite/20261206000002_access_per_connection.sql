-- A live connection is recorded once, without a conversation: it receives every
-- conversation of its user. One row per conversation per connection made a psychiatrist's
-- reconnects write hundreds of rows each (issue 25). Earlier per-conversation rows stay as
-- they were. SQLite cannot drop NOT NULL in place: the table is copied, every row kept, and
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
    action          TEXT    NOT NULL CHECK (action IN ('page', 'history', 'socket', 'export')),
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
