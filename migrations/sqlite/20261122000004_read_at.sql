-- When a member's read marker last moved forward ("Seen" shows it on hover).
ALTER TABLE conversation_members ADD COLUMN last_read_at TEXT;
