-- One trigger per stored message instead of two, and one UPDATE per table instead of two
-- (issue 29, docs/benchmarks.md): the writer pays per statement a trigger runs, for every
-- message. Same effects as messages_set_last_message and messages_keep_aggregates together:
-- - conversations: last_message_id (every message) and last_text_id (a person's), newest only;
-- - reply_waits: a psychiatrist's message answers the student's open wait (read before the
--   members' row below clears it);
-- - conversation_members: last_message_id for everyone; for a person's message, the writer's
--   waits end, the others' begin and count one more unread. Haven's notices change only
--   last_message_id.
DROP TRIGGER messages_set_last_message;
DROP TRIGGER messages_keep_aggregates;

CREATE TRIGGER messages_keep_aggregates AFTER INSERT ON messages
BEGIN
    UPDATE conversations SET
        last_message_id = MAX(COALESCE(last_message_id, 0), NEW.id),
        last_text_id = CASE WHEN NEW.sender_id IS NOT NULL AND COALESCE(last_text_id, 0) < NEW.id
                            THEN NEW.id ELSE last_text_id END
    WHERE id = NEW.conversation_id;

    INSERT INTO reply_waits (psychiatrist_id, day, hours, replies)
    SELECT d.psychiatrist_id, substr(NEW.created_at, 1, 10),
        MAX(1, (CAST(round((julianday(NEW.created_at) - julianday(me.unanswered_since)) * 86400000) AS INTEGER)
                + 3599999) / 3600000),
        1
    FROM direct_conversations d
    JOIN conversation_members me
      ON me.conversation_id = d.conversation_id AND me.user_id = d.psychiatrist_id
    WHERE d.conversation_id = NEW.conversation_id AND d.psychiatrist_id = NEW.sender_id
      AND me.unanswered_since IS NOT NULL
    ON CONFLICT (psychiatrist_id, day, hours) DO UPDATE SET replies = replies + 1;

    UPDATE conversation_members SET
        last_message_id = MAX(last_message_id, NEW.id),
        awaiting_since = CASE WHEN NEW.sender_id IS NULL THEN awaiting_since
                              WHEN user_id = NEW.sender_id THEN NULL
                              ELSE COALESCE(awaiting_since, NEW.created_at) END,
        unanswered_since = CASE WHEN NEW.sender_id IS NULL THEN unanswered_since
                                WHEN user_id = NEW.sender_id THEN NULL
                                ELSE COALESCE(unanswered_since, NEW.created_at) END,
        unread_count = unread_count + (NEW.sender_id IS NOT NULL AND user_id != NEW.sender_id),
        first_written_at = CASE WHEN user_id = NEW.sender_id
                                THEN COALESCE(first_written_at, NEW.created_at)
                                ELSE first_written_at END
    WHERE conversation_id = NEW.conversation_id;
END;
