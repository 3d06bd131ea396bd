-- What pages and sockets show about history, kept by the database as each message is
-- stored (the trigger below), so that nothing a person opens reads history to answer:
-- cost follows the page, not the years behind it. The same columns and rules as SQLite's
-- migration of the same name (docs/decisions.md, issue 25).

ALTER TABLE conversations ADD COLUMN last_text_id bigint;

ALTER TABLE conversation_members
    ADD COLUMN last_message_id  bigint      NOT NULL DEFAULT 0,
    ADD COLUMN unread_count     integer     NOT NULL DEFAULT 0,
    ADD COLUMN awaiting_since   timestamptz,
    ADD COLUMN unanswered_since timestamptz,
    ADD COLUMN first_written_at timestamptz;

DROP INDEX conversation_members_by_user;
CREATE INDEX conversation_members_by_activity
    ON conversation_members (user_id, last_message_id, conversation_id);
CREATE INDEX conversation_members_by_waiting
    ON conversation_members (user_id, awaiting_since, conversation_id)
    WHERE awaiting_since IS NOT NULL;

-- Foreign keys from a psychiatrist's conversations are checked by index when an account
-- changes; the retention job starts from the few deleted accounts.
CREATE INDEX direct_conversations_by_psychiatrist ON direct_conversations (psychiatrist_id);
CREATE INDEX users_deleted ON users (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE reply_waits (
    psychiatrist_id bigint  NOT NULL,
    day             date    NOT NULL,
    hours           integer NOT NULL,
    replies         integer NOT NULL,
    PRIMARY KEY (psychiatrist_id, day, hours)
);

-- Message ids in commit order across nodes: each writer transaction takes its batch's ids
-- from this one row, whose lock it holds until it commits, so a smaller id can never
-- become visible after a larger one and catch-up needs no overlap (docs/protocol.md).
CREATE TABLE message_ids (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_id  bigint  NOT NULL
);
INSERT INTO message_ids (last_id) SELECT COALESCE(MAX(id), 0) FROM messages;
-- No other way to an id: an insert without one fails rather than commit out of order.
ALTER TABLE messages ALTER COLUMN id DROP IDENTITY;
-- Catch-up no longer looks back by the database's clock.
DROP INDEX messages_by_conversation_stored;

-- The history so far.
UPDATE conversations c SET last_text_id =
    (SELECT MAX(id) FROM messages m WHERE m.conversation_id = c.id AND m.sender_id IS NOT NULL);

UPDATE conversation_members cm SET
    last_message_id = COALESCE(
        (SELECT last_message_id FROM conversations c WHERE c.id = cm.conversation_id), 0),
    unread_count = (SELECT COUNT(*) FROM messages u
        WHERE u.conversation_id = cm.conversation_id
          AND u.id > cm.last_read_id AND u.sender_id <> cm.user_id),
    first_written_at = (SELECT MIN(created_at) FROM messages w
        WHERE w.conversation_id = cm.conversation_id AND w.sender_id = cm.user_id),
    unanswered_since = (SELECT MIN(w.created_at) FROM messages w
        WHERE w.conversation_id = cm.conversation_id
          AND w.sender_id IS NOT NULL AND w.sender_id <> cm.user_id
          AND w.id > COALESCE((SELECT MAX(r.id) FROM messages r
              WHERE r.conversation_id = cm.conversation_id AND r.sender_id = cm.user_id), 0)),
    awaiting_since = (SELECT MIN(w.created_at) FROM messages w
        WHERE w.conversation_id = cm.conversation_id
          AND w.sender_id IS NOT NULL AND w.sender_id <> cm.user_id
          AND w.id > GREATEST(cm.handled_through_id, COALESCE((SELECT MAX(r.id) FROM messages r
              WHERE r.conversation_id = cm.conversation_id AND r.sender_id = cm.user_id), 0)));

CREATE FUNCTION reply_wait_hours(replied timestamptz, waiting_since timestamptz)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT GREATEST(1, CEIL(EXTRACT(EPOCH FROM (replied - waiting_since)) / 3600))::integer
$$;

-- Each psychiatrist message closes a stretch: the student's messages since the previous
-- one. Numbering the stretches with a running count (one pass, not a search per message)
-- pairs each reply with the first message of the stretch it answers.
INSERT INTO reply_waits (psychiatrist_id, day, hours, replies)
WITH numbered AS (
    SELECT m.id, m.conversation_id, m.created_at, d.psychiatrist_id,
        m.sender_id = d.psychiatrist_id AS mine,
        COUNT(*) FILTER (WHERE m.sender_id = d.psychiatrist_id) OVER (
            PARTITION BY m.conversation_id ORDER BY m.id ROWS UNBOUNDED PRECEDING) AS replies
    FROM messages m
    JOIN direct_conversations d ON d.conversation_id = m.conversation_id
    WHERE m.sender_id IS NOT NULL
),
stretches AS (
    SELECT conversation_id, replies AS stretch, MIN(id) AS first_id
    FROM numbered WHERE NOT mine GROUP BY conversation_id, replies
)
SELECT r.psychiatrist_id, (r.created_at AT TIME ZONE 'UTC')::date,
       reply_wait_hours(r.created_at, f.created_at), COUNT(*)
FROM numbered r
JOIN stretches s ON s.conversation_id = r.conversation_id AND s.stretch = r.replies - 1
JOIN messages f ON f.id = s.first_id
WHERE r.mine
GROUP BY 1, 2, 3;

CREATE FUNCTION messages_keep_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversation_members SET last_message_id = GREATEST(last_message_id, NEW.id)
    WHERE conversation_id = NEW.conversation_id;
    IF NEW.sender_id IS NULL THEN
        RETURN NULL; -- Haven's notices change nothing else.
    END IF;

    UPDATE conversations SET last_text_id = NEW.id
    WHERE id = NEW.conversation_id AND COALESCE(last_text_id, 0) < NEW.id;

    -- A psychiatrist's message answers the student's wait, if one was open.
    INSERT INTO reply_waits (psychiatrist_id, day, hours, replies)
    SELECT d.psychiatrist_id, (NEW.created_at AT TIME ZONE 'UTC')::date,
           reply_wait_hours(NEW.created_at, me.unanswered_since), 1
    FROM direct_conversations d
    JOIN conversation_members me
      ON me.conversation_id = d.conversation_id AND me.user_id = d.psychiatrist_id
    WHERE d.conversation_id = NEW.conversation_id AND d.psychiatrist_id = NEW.sender_id
      AND me.unanswered_since IS NOT NULL
    ON CONFLICT (psychiatrist_id, day, hours) DO UPDATE SET replies = reply_waits.replies + 1;

    -- The writer's waits end, the others' begin (if not already) and count one more unread.
    UPDATE conversation_members SET
        awaiting_since = CASE WHEN user_id = NEW.sender_id THEN NULL
                              ELSE COALESCE(awaiting_since, NEW.created_at) END,
        unanswered_since = CASE WHEN user_id = NEW.sender_id THEN NULL
                                ELSE COALESCE(unanswered_since, NEW.created_at) END,
        unread_count = unread_count + CASE WHEN user_id = NEW.sender_id THEN 0 ELSE 1 END,
        first_written_at = CASE WHEN user_id = NEW.sender_id
                                THEN COALESCE(first_written_at, NEW.created_at)
                                ELSE first_written_at END
    WHERE conversation_id = NEW.conversation_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_keep_aggregates AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_keep_aggregates();
