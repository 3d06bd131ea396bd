-- Support groups led by a psychiatrist (issue 27, docs/decisions.md). A group is a
-- conversation with a `groups` row; its current members are `conversation_members` rows as
-- in a one-to-one conversation (so the sidebar, unread counts and catch-up work unchanged),
-- and everyone ever invited has a `group_people` row that outlives their membership: their
-- messages stay in the group under the name they chose.
CREATE TABLE groups (
    conversation_id bigint      PRIMARY KEY REFERENCES conversations (id),
    leader_id       bigint      NOT NULL REFERENCES users (id),
    name            text        NOT NULL,
    description     text        NOT NULL,
    -- Students at most, members and open invitations together.
    member_limit    integer     NOT NULL CHECK (member_limit BETWEEN 2 AND 30),
    -- Students who are members now, kept with each change (the sidebar shows it).
    students        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    closed_at       timestamptz
);
CREATE INDEX groups_by_leader ON groups (leader_id);

CREATE TABLE group_people (
    conversation_id bigint      NOT NULL REFERENCES groups (conversation_id),
    user_id         bigint      NOT NULL REFERENCES users (id),
    -- Random, per group: how students are told apart without an id that links groups.
    handle          text        NOT NULL,
    -- The name a student chose to show in this group; NULL: their display name.
    alias           text,
    -- The shown name, lowercased: unique among the group's members.
    shown_key       text        NOT NULL,
    state           text        NOT NULL
        CHECK (state IN ('invited', 'member', 'declined', 'left', 'removed')),
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id),
    UNIQUE (conversation_id, handle)
);
CREATE INDEX group_people_by_user ON group_people (user_id, state);
CREATE UNIQUE INDEX group_people_shown_once ON group_people (conversation_id, shown_key)
    WHERE state = 'member';

-- A member sees the group's messages after this id (the newest when they joined).
ALTER TABLE conversation_members ADD COLUMN visible_after_id bigint NOT NULL DEFAULT 0;

-- Quiet lines in a group's timeline are Haven's notices (no sender) with what happened and
-- to whom; a message the leader removed keeps its row with the body deleted.
ALTER TABLE messages ADD COLUMN event text CHECK (event IN ('joined', 'left', 'removed', 'closed'));
ALTER TABLE messages ADD COLUMN subject_id bigint;
ALTER TABLE messages ADD COLUMN removed boolean NOT NULL DEFAULT false;

-- The access record notes a leader removing a message ('moderation').
ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check
    CHECK (action IN ('page', 'history', 'socket', 'export', 'moderation'));
