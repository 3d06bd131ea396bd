-- A reconnecting student's presence snapshot asks which psychiatrists went offline since a
-- moment; without this it would scan every psychiatrist on every connect.
CREATE INDEX users_by_role_last_seen ON users (role, last_seen_at);
