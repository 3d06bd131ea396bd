-- What students are told about when a psychiatrist answers (docs/operating.md).

-- Weekly office hours, in the service's time zone (HAVEN_TIME_ZONE).
CREATE TABLE office_hours (
    psychiatrist_id INTEGER NOT NULL REFERENCES users (id),
    weekday         INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),        -- 0 = Monday
    start_minute    INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439), -- after midnight
    end_minute      INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1440 AND end_minute > start_minute),
    PRIMARY KEY (psychiatrist_id, weekday, start_minute)
) WITHOUT ROWID;

-- A leave: away from `away_since` until local midnight starting `away_back_on`
-- (YYYY-MM-DD), with a short note for students. All NULL when not away.
ALTER TABLE users ADD COLUMN away_since TEXT;
ALTER TABLE users ADD COLUMN away_back_on TEXT;
ALTER TABLE users ADD COLUMN away_note TEXT NOT NULL DEFAULT '';
-- 0: no new students may start a conversation (existing ones continue).
ALTER TABLE users ADD COLUMN accepting_new INTEGER NOT NULL DEFAULT 1;
