-- Keep conversations.last_message_id current inside the INSERT itself: a batch of messages
-- is then stored by one atomic statement (no separate UPDATE, no explicit transaction).
CREATE TRIGGER messages_set_last_message AFTER INSERT ON messages
BEGIN
    UPDATE conversations SET last_message_id = NEW.id
    WHERE id = NEW.conversation_id AND COALESCE(last_message_id, 0) < NEW.id;
END;
