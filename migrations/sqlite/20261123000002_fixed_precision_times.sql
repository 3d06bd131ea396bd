-- Every stored time in one fixed form, RFC 3339 UTC with exactly three fraction digits
-- (what the server's `Timestamp` writes), so that times compare exactly as text. Earlier
-- rows had 0–9 fraction digits.
UPDATE messages SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at);
UPDATE users SET last_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', last_seen_at)
 WHERE last_seen_at IS NOT NULL;
UPDATE conversation_members SET last_read_at = strftime('%Y-%m-%dT%H:%M:%fZ', last_read_at)
 WHERE last_read_at IS NOT NULL;
