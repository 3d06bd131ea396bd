-- Triage: a psychiatrist may mark a conversation handled without replying; it stops
-- "awaiting reply" until the student writes again (newer than this id).
ALTER TABLE conversation_members ADD COLUMN handled_through_id INTEGER NOT NULL DEFAULT 0;
