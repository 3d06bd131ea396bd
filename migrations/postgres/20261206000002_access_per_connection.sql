-- A live connection is recorded once, without a conversation: it receives every
-- conversation of its user. One row per conversation per connection made a psychiatrist's
-- reconnects write hundreds of rows each (issue 25). Earlier per-conversation rows stay.
ALTER TABLE access_log ALTER COLUMN conversation_id DROP NOT NULL;
ALTER TABLE access_log ADD CONSTRAINT access_log_connection
    CHECK (conversation_id IS NOT NULL OR action = 'socket');
CREATE INDEX access_log_connections ON access_log (user_id, at) WHERE conversation_id IS NULL;
CREATE INDEX access_log_by_time ON access_log (at);
