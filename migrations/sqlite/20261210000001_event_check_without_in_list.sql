-- The writer paid ≈ 33k instructions per stored message for one CHECK (issue 29,
-- docs/benchmarks.md): SQLite codes `x IN (list)` of more than two constants as an
-- ephemeral table built again for every row it checks, so `messages.event IN ('joined',
-- 'left', 'removed', 'closed')` created, filled and dropped a b-tree per INSERT. The same
-- rule written as comparisons is checked in place. NULL passes both forms alike (a text
-- message has no event) and every stored row satisfies both.
--
-- SQLite cannot alter a CHECK: this is its documented way to change one without rewriting
-- the table (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
-- Schema Changes"): edit the stored CREATE TABLE text, then make every connection read the
-- schema again. Nothing on disk changes, so it takes no time on a large history.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (event IN (''joined'', ''left'', ''removed'', ''closed''))',
    'CHECK (event = ''joined'' OR event = ''left'' OR event = ''removed'' OR event = ''closed'')')
WHERE type = 'table' AND name = 'messages';

-- RESET: off again, and this connection parses the schema anew. A schema change bumps the
-- schema cookie, so every other open connection does too before its next statement.
PRAGMA writable_schema = RESET;
CREATE TABLE schema_reload (x INTEGER);
DROP TABLE schema_reload;
