-- What pages and sockets show about history, kept by the database as each message is
-- stored (the trigger below), so that nothing a person opens reads history to answer:
-- cost follows the page, not the years behind it (docs/decisions.md, issue 25).

-- The newest message a person wrote (the sidebar's preview skips Haven's notices).
ALTER TABLE conversations ADD COLUMN last_text_id INTEGER;

-- Per member: the conversation's newest message (the sidebar's order, walked by an index
-- per user), the messages of others after their read marker, since when the other member
-- has waited for them (their first message since this member wrote or marked it handled;
-- "unanswered" ignores "handled": reply times count from it), and their own first message.
ALTER TABLE conversation_members ADD COLUMN last_message_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversation_members ADD COLUMN unread_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversation_members ADD COLUMN awaiting_since TEXT;
ALTER TABLE conversation_members ADD COLUMN unanswered_since TEXT;
ALTER TABLE conversation_members ADD COLUMN first_written_at TEXT;

DROP INDEX conversation_members_by_user;
CREATE INDEX conversation_members_by_activity
    ON conversation_members (user_id, last_message_id, conversation_id);
CREATE INDEX conversation_members_by_waiting
    ON conversation_members (user_id, awaiting_since, conversation_id)
    WHERE awaiting_since IS NOT NULL;

-- How long psychiatrists took to answer: per reply day (UTC), how many replies took each
-- whole number of hours (rounded up, at least 1). "Usually replies within" is the median
-- of the last 30 days' rows: at most 30 × a few dozen rows per psychiatrist, whatever the
-- history.
-- Foreign keys from a psychiatrist's conversations are checked by index when an account
-- changes; the retention job starts from the few deleted accounts.
CREATE INDEX direct_conversations_by_psychiatrist ON direct_conversations (psychiatrist_id);
CREATE INDEX users_deleted ON users (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE reply_waits (
    psychiatrist_id INTEGER NOT NULL,
    day             TEXT    NOT NULL,
    hours           INTEGER NOT NULL,
    replies         INTEGER NOT NULL,
    PRIMARY KEY (psychiatrist_id, day, hours)
) WITHOUT ROWID;

-- The history so far.
UPDATE conversations SET last_text_id =
    (SELECT MAX(id) FROM messages m WHERE m.conversation_id = conversations.id AND m.sender_id IS NOT NULL);

UPDATE conversation_members SET
    last_message_id = COALESCE(
        (SELECT last_message_id FROM conversations c WHERE c.id = conversation_members.conversation_id), 0),
    unread_count = (SELECT COUNT(*) FROM messages u
        WHERE u.conversation_id = conversation_members.conversation_id
          AND u.id > conversation_members.last_read_id AND u.sender_id != conversation_members.user_id),
    first_written_at = (SELECT MIN(created_at) FROM messages w
        WHERE w.conversation_id = conversation_members.conversation_id
          AND w.sender_id = conversation_members.user_id);

UPDATE conversation_members SET
    unanswered_since = (SELECT MIN(w.created_at) FROM messages w
        WHERE w.conversation_id = conversation_members.conversation_id
          AND w.sender_id IS NOT NULL AND w.sender_id != conversation_members.user_id
          AND w.id > COALESCE((SELECT MAX(r.id) FROM messages r
              WHERE r.conversation_id = conversation_members.conversation_id
                AND r.sender_id = conversation_members.user_id), 0));

UPDATE conversation_members SET
    awaiting_since = (SELECT MIN(w.created_at) FROM messages w
        WHERE w.conversation_id = conversation_members.conversation_id
          AND w.sender_id IS NOT NULL AND w.sender_id != conversation_members.user_id
          AND w.id > MAX(conversation_members.handled_through_id, COALESCE((SELECT MAX(r.id) FROM messages r
              WHERE r.conversation_id = conversation_members.conversation_id
                AND r.sender_id = conversation_members.user_id), 0)));

-- Each psychiatrist message closes a stretch: the student's messages since the previous
-- one. Numbering the stretches with a running count (one pass, not a search per message)
-- pairs each reply with the first message of the stretch it answers.
INSERT INTO reply_waits (psychiatrist_id, day, hours, replies)
WITH numbered AS (
    SELECT m.id, m.conversation_id, m.created_at, d.psychiatrist_id,
        m.sender_id = d.psychiatrist_id AS mine,
        SUM(m.sender_id = d.psychiatrist_id) OVER (
            PARTITION BY m.conversation_id ORDER BY m.id ROWS UNBOUNDED PRECEDING) AS replies
    FROM messages m
    JOIN direct_conversations d ON d.conversation_id = m.conversation_id
    WHERE m.sender_id IS NOT NULL
),
stretches AS (
    SELECT conversation_id, replies AS stretch, MIN(id) AS first_id
    FROM numbered WHERE NOT mine GROUP BY conversation_id, replies
)
SELECT r.psychiatrist_id, substr(r.created_at, 1, 10),
    MAX(1, (CAST(round((julianday(r.created_at) - julianday(f.created_at)) * 86400000) AS INTEGER)
            + 3599999) / 3600000) AS hours,
    COUNT(*)
FROM numbered r
JOIN stretches s ON s.conversation_id = r.conversation_id AND s.stretch = r.replies - 1
JOIN messages f ON f.id = s.first_id
WHERE r.mine
GROUP BY 1, 2, 3;

CREATE TRIGGER messages_keep_aggregates AFTER INSERT ON messages
BEGIN
    UPDATE conversation_members SET last_message_id = MAX(last_message_id, NEW.id)
    WHERE conversation_id = NEW.conversation_id;

    UPDATE conversations SET last_text_id = NEW.id
    WHERE id = NEW.conversation_id AND NEW.sender_id IS NOT NULL
      AND COALESCE(last_text_id, 0) < NEW.id;

    -- A psychiatrist's message answers the student's wait, if one was open.
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

    -- A person's message: the writer's waits end, the others' begin (if not already) and
    -- count one more unread. Haven's notices change none of these.
    UPDATE conversation_members SET
        awaiting_since = CASE WHEN user_id = NEW.sender_id THEN NULL
                              ELSE COALESCE(awaiting_since, NEW.created_at) END,
        unanswered_since = CASE WHEN user_id = NEW.sender_id THEN NULL
                                ELSE COALESCE(unanswered_since, NEW.created_at) END,
        unread_count = unread_count + (user_id != NEW.sender_id),
        first_written_at = CASE WHEN user_id = NEW.sender_id
                                THEN COALESCE(first_written_at, NEW.created_at)
                                ELSE first_written_at END
    WHERE conversation_id = NEW.conversation_id AND NEW.sender_id IS NOT NULL;
END;
