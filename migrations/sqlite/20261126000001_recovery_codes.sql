-- A student's one-time recovery code (argon2 hash), shown at registration: Haven keeps no
-- e-mail address to send a reset link to. NULL: none (psychiatrists, accounts from the CLI;
-- a student can make one in Settings).
ALTER TABLE users ADD COLUMN recovery_hash TEXT;
