//! Conversations and messages: the domain behind the socket events and the chat pages.
//! Every operation checks membership here, on the server; every change is published as a
//! [`ChatEvent`] through the [`Publisher`] port after it is committed, whichever transport
//! (socket or plain form) asked for it.

pub mod admission;
pub mod backend;
mod error;
pub mod events;
pub mod export;
mod groups;
mod members;
pub mod presence;
mod roster;
mod wire;

use std::net::IpAddr;
use std::sync::Arc;

use app::backend::ConversationPage;
use app::protocol::{
    AccessEntry, AccessKind, AccountSettings, AvailabilityForm, AvailabilitySettings, ClientId,
    ConversationId, ConversationList, ConversationMarked, Mark, Message, MessageId, Person,
    PresenceSnapshot, PresenceUpdate, ReadUpdate, Role, SidebarCursor, StudentFacts, Timestamp,
    TypingUpdate, UserId, MAX_BODY_CHARS,
};

pub use error::ChatError;
pub use events::{
    Audience, ChatEvent, Connection, Publisher, Reader, SharedPublisher, Split, Unread,
};

use crate::care::Care;
use crate::coordination::{Limit, SharedCoordinator};
use crate::store::writer::MessageWriter;
use crate::store::{access, conversations, messages, users, Db, StoreError};
use admission::Admission;
use members::{Members, Room};
use presence::Presence;
use roster::{Roster, Viewer};

/// How many messages a reconnect replays at most; past that the client reloads over HTTP.
pub const REPLAY_LIMIT: u32 = 1000;
/// Messages per history page.
pub const PAGE_SIZE: u32 = 50;
/// Conversations per sidebar page (a psychiatrist may have hundreds).
pub const SIDEBAR_PAGE: u32 = 50;
/// How many accesses by others the settings page lists, newest first.
pub const ACCESS_SHOWN: u32 = 100;

/// A message as a client asks to send it (already decoded from the wire).
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub conversation_id: ConversationId,
    pub client_id: ClientId,
    pub body: String,
}

/// Leave to store one more message, given by [`Chat::admit`] only while the server keeps
/// up: [`Chat::send`] takes one, so no path can store a message without asking.
#[derive(Debug)]
pub struct Admitted(());

/// What a reconnecting client gets.
#[derive(Debug)]
pub enum Replay {
    Messages(Vec<Message>),
    /// The gap is larger than [`REPLAY_LIMIT`]: reload over HTTP instead.
    TooLarge,
}

/// The chat service, shared by all sockets and requests.
pub struct Chat {
    db: Db,
    writer: MessageWriter,
    publisher: SharedPublisher,
    /// Presence and the per-user limits, on one node or across several.
    coordinator: SharedCoordinator,
    members: Members,
    presence: Arc<Presence>,
    care: Arc<Care>,
    /// Which closed stretch each conversation last had its notice for.
    notices: NoticesPosted,
    /// Whether the server is too far behind to take a message now.
    admission: Arc<Admission>,
}

/// The stretch (its start, in ms) for which each conversation last got its after-hours
/// notice: saves a write per message; the database's unique index is the real guard.
#[derive(Default)]
struct NoticesPosted(std::sync::Mutex<std::collections::HashMap<ConversationId, i64>>);

impl NoticesPosted {
    fn already(&self, conversation: ConversationId, stretch: i64) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&conversation)
            == Some(&stretch)
    }

    fn posted(&self, conversation: ConversationId, stretch: i64) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(conversation, stretch);
    }
}

/// Checks and normalizes a body: line breaks as `\n`, trimmed, 1..=4000 characters, no
/// control character but line feed and tab. Refused here, before the message reaches the
/// writer, whose batch it would share with other senders' messages.
pub fn clean_body(raw: &str) -> Result<String, ChatError> {
    let body = app::validation::normalize_line_breaks(raw);
    let body = body.trim();
    if body.is_empty() {
        return Err(ChatError::EmptyBody);
    }
    // Cheap bound first: 4000 chars are at most 16000 bytes.
    if body.len() > 4 * MAX_BODY_CHARS || body.chars().count() > MAX_BODY_CHARS {
        return Err(ChatError::BodyTooLong);
    }
    if let Some(refused) = app::validation::refused_in_text(body) {
        return Err(ChatError::InvalidBody(refused));
    }
    Ok(body.to_owned())
}

/// Parses a client id: a UUID, kept in its canonical lowercase hyphenated form.
pub fn parse_client_id(raw: &str) -> Result<ClientId, ChatError> {
    uuid::Uuid::parse_str(raw)
        .map(|u| ClientId(u.hyphenated().to_string()))
        .map_err(|_| ChatError::InvalidClientId)
}

impl Chat {
    /// The service over `db`, publishing through `publisher`, counting presence and
    /// limits through `coordinator`. Fails if the message writer cannot start.
    pub fn new(
        db: Db,
        publisher: SharedPublisher,
        coordinator: SharedCoordinator,
        care: Arc<Care>,
    ) -> Result<Self, StoreError> {
        let presence = Arc::new(Presence::new(
            db.clone(),
            publisher.clone(),
            coordinator.clone(),
        ));
        presence.start();
        Ok(Self {
            care,
            notices: NoticesPosted::default(),
            admission: Arc::default(),
            writer: MessageWriter::spawn(&db)?,
            presence,
            members: Members::new(db.clone()),
            db,
            publisher,
            coordinator,
        })
    }

    /// Opens the one-to-one conversation of `user` and `peer`. Only a student starts one,
    /// with a psychiatrist; a psychiatrist only finds one a student already started. The
    /// refusals do not tell whether an id belongs to anyone: a student asking for a
    /// non-psychiatrist hears "no such user", a psychiatrist asking for a student who never
    /// wrote to them hears the same "not found" whether that student exists or not. Both
    /// may now see each other's status, and are told it.
    pub async fn open(
        &self,
        user: UserId,
        role: Role,
        peer: UserId,
    ) -> Result<(ConversationId, Person), ChatError> {
        let id = match role {
            Role::Student => {
                let psychiatrist = users::find_by_id(&self.db, peer)
                    .await?
                    .filter(|p| p.role == Role::Psychiatrist)
                    .ok_or(ChatError::UserNotFound)?;
                match conversations::find_direct(&self.db, user, psychiatrist.id).await? {
                    Some(existing) => existing,
                    None => {
                        if !self.care.stored(psychiatrist.id).await?.accepting_new {
                            return Err(ChatError::NotAcceptingNew);
                        }
                        conversations::open_direct(&self.db, user, psychiatrist.id).await?
                    }
                }
            }
            Role::Psychiatrist => conversations::find_direct(&self.db, peer, user)
                .await?
                .ok_or(ChatError::ConversationNotFound)?,
        };
        let room = self.members.room(user, id).await?;
        let peer = self.peer(user, id, &room).await?;
        self.presence.introduce(user, peer.id).await;
        Ok((id, peer))
    }

    /// Whether one more message may be taken now, or `busy` ([`admission`]). Asked first,
    /// before the message is even decoded: under load a refusal must cost almost nothing,
    /// or refusing becomes the work that keeps the server behind.
    pub fn admit(&self) -> Result<Admitted, ChatError> {
        match self.admission.refusal(&self.writer) {
            Some(retry_after) => Err(ChatError::Busy { retry_after }),
            None => Ok(Admitted(())),
        }
    }

    /// Checks and stores a message taken under `_admitted`; returns once it is committed,
    /// after publishing it to every member (a repeat of an already stored
    /// `(sender, clientId)` answers the stored message and publishes nothing).
    pub async fn send(
        &self,
        _admitted: Admitted,
        sender: UserId,
        request: SendRequest,
    ) -> Result<Message, ChatError> {
        let body = clean_body(&request.body)?;
        let room = self.members.room(sender, request.conversation_id).await?;
        if let Room::Group(roster) = &room {
            if roster.closed() {
                return Err(ChatError::GroupClosed);
            }
        }
        if !self.coordinator.take(Limit::Send, sender).await {
            return Err(ChatError::RateLimited);
        }
        let new = messages::NewMessage {
            conversation_id: request.conversation_id,
            sender_id: Some(sender),
            client_id: request.client_id,
            body,
            created_at: Timestamp::now(),
            line: None,
        };
        let inserted = self.writer.insert(new).await?;
        let members = match room {
            Room::Direct(members) => members,
            Room::Group(roster) => {
                return self
                    .sent_to_group(&roster, sender, request.conversation_id, inserted)
                    .await
            }
        };
        match inserted {
            messages::Inserted::New(row) => {
                self.care.wrote(sender);
                let message = wire::message(row);
                self.publisher
                    .publish(ChatEvent::MessageStored {
                        message: message.clone(),
                        to: Audience::Users(members.clone()),
                    })
                    .await;
                // The message is stored and delivered whatever happens to what follows.
                let peer = members.iter().copied().find(|m| *m != sender);
                let closed = match peer {
                    Some(peer) => self
                        .care
                        .closed(peer, message.created_at)
                        .await
                        .unwrap_or_else(|err| {
                            ChatError::from(err).log("availability", sender);
                            None
                        }),
                    None => None,
                };
                if let Some(peer) = peer {
                    let reader = Reader {
                        user: peer,
                        after_hours: closed.is_some(),
                    };
                    self.remind(&message, sender, None, vec![reader]).await;
                }
                if let Some(closed) = closed {
                    if let Err(err) = self.post_notice(closed, &members, &message).await {
                        err.log("after-hours notice", sender);
                    }
                }
                Ok(message)
            }
            messages::Inserted::Existing(row) if row.conversation_id == request.conversation_id => {
                Ok(wire::message(row))
            }
            messages::Inserted::Existing(_) => Err(ChatError::ClientIdReused),
        }
    }

    /// A group message was stored (or found stored): published to the members, answered
    /// as the sender sees it. No after-hours notice: the group's page shows the leader's
    /// availability, and a group is not where a student waits for a one-to-one answer.
    async fn sent_to_group(
        &self,
        roster: &Roster,
        sender: UserId,
        conversation: ConversationId,
        inserted: messages::Inserted,
    ) -> Result<Message, ChatError> {
        let viewer = roster.viewer(sender);
        match inserted {
            messages::Inserted::New(row) => {
                self.publish_group_message(roster, row.clone()).await;
                self.remind_group(roster, sender, &row).await;
                Ok(roster.message(row, viewer))
            }
            messages::Inserted::Existing(row) if row.conversation_id == conversation => {
                Ok(roster.message(row, viewer))
            }
            messages::Inserted::Existing(_) => Err(ChatError::ClientIdReused),
        }
    }

    /// Publishes a reminder of a person's new message for `readers` (the members who did
    /// not write it); a transport decides whether and how to remind each (Web Push).
    async fn remind(
        &self,
        message: &Message,
        sender: UserId,
        group: Option<String>,
        readers: Vec<Reader>,
    ) {
        if readers.is_empty() {
            return;
        }
        self.publisher
            .publish(ChatEvent::Unread(Unread {
                conversation_id: message.conversation_id,
                message_id: message.id,
                sender,
                group,
                readers,
            }))
            .await;
    }

    /// A reminder of a member's group message for the other members; the leader's marks
    /// whether they are outside their office hours now.
    async fn remind_group(&self, roster: &Roster, sender: UserId, row: &messages::MessageRow) {
        let leader = roster.leader();
        let leader_closed = if leader == sender {
            false
        } else {
            self.care
                .closed(leader, row.created_at)
                .await
                .map(|closed| closed.is_some())
                .unwrap_or_else(|err| {
                    ChatError::from(err).log("availability", sender);
                    false
                })
        };
        let readers = roster
            .members()
            .iter()
            .filter(|user| **user != sender)
            .map(|&user| Reader {
                user,
                after_hours: user == leader && leader_closed,
            })
            .collect();
        self.publisher
            .publish(ChatEvent::Unread(Unread {
                conversation_id: row.conversation_id,
                message_id: row.id,
                sender,
                group: Some(roster.group.name.clone()),
                readers,
            }))
            .await;
    }

    /// When a student writes while their psychiatrist is away or outside office hours
    /// (`closed`): stores and delivers Haven's notice (when they are next available, where
    /// to turn meanwhile), once per conversation and closed stretch. Its client id is made
    /// from both, so a race or a restart cannot store it twice.
    async fn post_notice(
        &self,
        closed: crate::care::Closed,
        members: &Arc<[UserId]>,
        message: &Message,
    ) -> Result<(), ChatError> {
        let stretch = closed.since.map_or(0, Timestamp::as_millis);
        let conversation = message.conversation_id;
        if self.notices.already(conversation, stretch) {
            return Ok(());
        }
        let key = uuid::Uuid::from_u64_pair(conversation.0 as u64, stretch as u64);
        let notice = messages::NewMessage {
            conversation_id: conversation,
            sender_id: None,
            client_id: ClientId(key.hyphenated().to_string()),
            body: closed.notice,
            created_at: Timestamp::now(),
            line: None,
        };
        let inserted = self.writer.insert(notice).await?;
        self.notices.posted(conversation, stretch);
        if let messages::Inserted::New(row) = inserted {
            self.publisher
                .publish(ChatEvent::MessageStored {
                    message: wire::message(row),
                    to: Audience::Users(members.clone()),
                })
                .await;
        }
        Ok(())
    }

    /// Everything newer than `after` in the user's conversations, for a reconnecting client.
    pub async fn replay(&self, user: UserId, after: MessageId) -> Result<Replay, ChatError> {
        let found = messages::after_for_user(&self.db, user, after, REPLAY_LIMIT + 1).await?;
        if found.len() > REPLAY_LIMIT as usize {
            return Ok(Replay::TooLarge);
        }
        let mut shown = Shown::new(self, user);
        let mut messages = Vec::with_capacity(found.len());
        for row in found {
            messages.extend(shown.message(row).await?);
        }
        Ok(Replay::Messages(messages))
    }

    /// A page of the user's conversations: most recent first, or (triage) those awaiting
    /// the user's reply longest first and then the rest most recent first; `after` is the
    /// previous page's `more`. For a psychiatrist, with how long each student has waited.
    pub async fn conversations(
        &self,
        user: UserId,
        role: Role,
        longest_waiting: bool,
        after: Option<&str>,
    ) -> Result<ConversationList, ChatError> {
        let after = after
            .map(|text| text.parse::<SidebarCursor>())
            .transpose()
            .map_err(|()| ChatError::InvalidPayload("`after` is not a page Haven gave"))?;
        // One more than a page, to know whether another follows.
        let want = SIDEBAR_PAGE + 1;
        let mut rows = match (longest_waiting, after) {
            (true, None) => self.waiting_first(user, None, want).await?,
            (true, Some(SidebarCursor::Waiting { since, id })) => {
                self.waiting_first(user, Some((since, id)), want).await?
            }
            // Past those waiting (triage) or anywhere in the most-recent order.
            (_, Some(SidebarCursor::Recent { activity, id })) => {
                let after = Some((activity, id));
                conversations::recent_page(&self.db, user, after, longest_waiting, want).await?
            }
            (false, None) => conversations::recent_page(&self.db, user, None, false, want).await?,
            (false, Some(SidebarCursor::Waiting { .. })) => {
                return Err(ChatError::InvalidPayload(
                    "`after` is not a page Haven gave",
                ))
            }
        };
        let more = if rows.len() > SIDEBAR_PAGE as usize {
            rows.truncate(SIDEBAR_PAGE as usize);
            rows.last().map(|last| {
                match last.awaiting_since {
                    Some(since) if longest_waiting => SidebarCursor::Waiting { since, id: last.id },
                    _ => SidebarCursor::Recent {
                        activity: last.activity,
                        id: last.id,
                    },
                }
                .to_string()
            })
        } else {
            None
        };
        let mut conversations = Vec::with_capacity(rows.len());
        for row in rows {
            let group = match row.group {
                Some(_) => Some(self.roster(row.id).await?),
                None => None,
            };
            let last = row.last_message.clone();
            let mut summary = wire::summary(row);
            if role == Role::Student {
                summary.awaiting_since = None;
            }
            if let Some(roster) = group {
                let viewer = roster.viewer(user);
                summary.last_message = last.map(|m| roster.message(m, viewer));
                summary.group = Some(roster.group_for(user));
            }
            conversations.push(summary);
        }
        let invitations = match (role, after) {
            (Role::Student, None) => self.invitations(user).await?,
            _ => Vec::new(),
        };
        Ok(ConversationList {
            conversations,
            invitations,
            more,
        })
    }

    /// Conversations awaiting the user's reply, longest first, after `after`; when they run
    /// out before `want`, the rest by most recent activity.
    async fn waiting_first(
        &self,
        user: UserId,
        after: Option<(Timestamp, ConversationId)>,
        want: u32,
    ) -> Result<Vec<conversations::ConversationRow>, ChatError> {
        let mut rows = conversations::waiting_page(&self.db, user, after, want).await?;
        if rows.len() < want as usize {
            let rest = want - rows.len() as u32;
            rows.extend(conversations::recent_page(&self.db, user, None, true, rest).await?);
        }
        Ok(rows)
    }

    /// A psychiatrist marks a conversation handled without replying: it stops awaiting
    /// their reply until the student writes again.
    pub async fn mark_handled(
        &self,
        user: UserId,
        role: Role,
        conversation: ConversationId,
    ) -> Result<(), ChatError> {
        if role != Role::Psychiatrist {
            return Err(ChatError::NotPsychiatrist);
        }
        self.members.of_if_member(user, conversation).await?;
        conversations::mark_handled(&self.db, conversation, user).await?;
        self.tell_own_tabs(user, conversation, Mark::Handled).await;
        Ok(())
    }

    /// A member marks a conversation unread, to come back to it: their sidebar counts it
    /// unread until they open it again; the other member's "Seen" stays.
    pub async fn mark_unread(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), ChatError> {
        self.members.of_if_member(user, conversation).await?;
        conversations::mark_unread(&self.db, conversation, user).await?;
        self.tell_own_tabs(user, conversation, Mark::Unread).await;
        Ok(())
    }

    /// Tells every tab of `user` what they marked a conversation as.
    async fn tell_own_tabs(&self, user: UserId, conversation: ConversationId, mark: Mark) {
        self.publisher
            .publish(ChatEvent::Marked {
                update: ConversationMarked {
                    conversation_id: conversation,
                    mark,
                },
                to: Audience::Users(Arc::from([user])),
            })
            .await;
    }

    /// A page of a conversation the user is a member of: history (older than `before`, or
    /// the newest), the other member, and how far they have read. Recorded in the access
    /// record (a page, or earlier messages) before anything is read.
    pub async fn conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
        before: Option<MessageId>,
        address: Option<IpAddr>,
    ) -> Result<ConversationPage, ChatError> {
        let room = self.members.room(user, conversation).await?;
        let peer = self.peer(user, conversation, &room).await?;
        let kind = match before {
            None => AccessKind::Page,
            Some(_) => AccessKind::History,
        };
        access::record(
            &self.db,
            user,
            conversation,
            kind,
            address,
            Timestamp::now(),
        )
        .await?;
        let since = conversations::visible_after(&self.db, conversation, user).await?;
        let rows = messages::page(&self.db, conversation, before, since, PAGE_SIZE).await?;
        let (messages, group, (peer_last_read_id, peer_read_at)) = match room {
            Room::Direct(_) => (
                rows.into_iter().map(wire::message).collect(),
                None,
                conversations::read_marker(&self.db, conversation, peer.id).await?,
            ),
            Room::Group(roster) => {
                let viewer = roster.viewer(user);
                let view = app::protocol::GroupView {
                    group: roster.group_for(user),
                    members: roster.members_for(user),
                };
                let messages = rows
                    .into_iter()
                    .map(|r| roster.message(r, viewer))
                    .collect();
                (messages, Some(view), (MessageId(0), None))
            }
        };
        Ok(ConversationPage {
            peer,
            group,
            messages,
            peer_last_read_id,
            peer_read_at,
            unsent: None,
        })
    }

    /// A live connection of `user` opens: it will receive every one of their conversations
    /// (new messages and catch-up), so it is recorded in the access record first, once for
    /// all of them.
    pub async fn opened_live(
        &self,
        user: UserId,
        address: Option<IpAddr>,
    ) -> Result<(), ChatError> {
        access::record_connection(&self.db, user, address, Timestamp::now()).await?;
        Ok(())
    }

    /// The settings page: for a student, the newest accesses by anyone else to their
    /// conversations. A psychiatrist is not shown when students open theirs: that would
    /// tell them each student's comings and goings, more than "Seen" does.
    pub async fn account_settings(
        &self,
        user: UserId,
        role: Role,
    ) -> Result<AccountSettings, ChatError> {
        if role != Role::Student {
            return Ok(AccountSettings {
                role,
                access: Vec::new(),
            });
        }
        let rows = access::by_others_to_member(&self.db, user, ACCESS_SHOWN).await?;
        let access = rows
            .into_iter()
            .map(|row| AccessEntry {
                at: row.at,
                who: row.user_id.and(row.display_name),
                role: row.role,
                kind: row.kind,
            })
            .collect();
        Ok(AccountSettings { role, access })
    }

    /// Everything a student wrote and received, for their download; each conversation is
    /// recorded in the access record as exported.
    pub async fn export(
        &self,
        user: UserId,
        role: Role,
        address: Option<IpAddr>,
    ) -> Result<export::Export, ChatError> {
        if role != Role::Student {
            return Err(ChatError::NotStudent);
        }
        let account = users::find_by_id(&self.db, user)
            .await?
            .filter(|r| !r.deleted)
            .ok_or(ChatError::UserNotFound)?;
        let now = Timestamp::now();
        let mut conversations = Vec::new();
        // A student's conversations: one per psychiatrist they wrote to, a handful.
        for row in conversations::recent_page(&self.db, user, None, false, u32::MAX).await? {
            access::record(&self.db, user, row.id, AccessKind::Export, address, now).await?;
            let rows = messages::all_in(&self.db, row.id, row.visible_after).await?;
            let peer = wire::person(row.peer);
            conversations.push(match row.group {
                None => export::Conversation::new(
                    user,
                    row.id,
                    peer,
                    rows.into_iter().map(wire::message).collect(),
                ),
                Some(_) => {
                    let roster = self.roster(row.id).await?;
                    let messages = rows
                        .into_iter()
                        .map(|r| roster.message(r, Viewer::Student))
                        .collect();
                    export::Conversation::group(roster.group_for(user), peer, messages)
                }
            });
        }
        Ok(export::Export {
            exported_at: now,
            account: export::Account {
                username: account.username,
                display_name: account.display_name,
            },
            conversations,
        })
    }

    /// Relays a typing signal to the other members (never back to the typist).
    pub async fn typing(
        &self,
        user: UserId,
        conversation: ConversationId,
        typing: bool,
    ) -> Result<(), ChatError> {
        let room = self.members.room(user, conversation).await?;
        if !self.coordinator.take(Limit::Typing, user).await {
            return Err(ChatError::RateLimited);
        }
        let members = match room {
            Room::Direct(members) => members,
            Room::Group(roster) => {
                if roster.closed() {
                    return Err(ChatError::GroupClosed);
                }
                for (viewer, to) in groups::audiences(&roster, Some(user)) {
                    let author = roster.author(user, viewer);
                    let update = TypingUpdate {
                        conversation_id: conversation,
                        user_id: author.as_ref().and_then(|a| a.user_id),
                        author,
                        typing,
                    };
                    self.publisher
                        .publish(ChatEvent::Typing { update, to })
                        .await;
                }
                return Ok(());
            }
        };
        let others: Arc<[UserId]> = members.iter().copied().filter(|m| *m != user).collect();
        if !others.is_empty() {
            let update = TypingUpdate {
                conversation_id: conversation,
                user_id: Some(user),
                author: None,
                typing,
            };
            self.publisher
                .publish(ChatEvent::Typing {
                    update,
                    to: Audience::Users(others),
                })
                .await;
        }
        Ok(())
    }

    /// Moves the user's read marker forward and tells the members (and the reader's other
    /// connections, not `from`); answers the marker now stored (never lower than before).
    pub async fn mark_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        read: MessageId,
        from: Option<Connection>,
    ) -> Result<MessageId, ChatError> {
        let room = self.members.room(user, conversation).await?;
        let (marker, read_at) =
            conversations::mark_read(&self.db, conversation, user, read, Timestamp::now())
                .await?
                .ok_or(ChatError::UnknownMessage)?;
        let audiences = match &room {
            Room::Direct(members) => vec![(None, Audience::Users(members.clone()))],
            Room::Group(roster) => groups::audiences(roster, None)
                .into_iter()
                .map(|(viewer, to)| (Some((roster, viewer)), to))
                .collect(),
        };
        for (group, to) in audiences {
            let (user_id, author) = match group {
                None => (Some(user), None),
                Some((roster, viewer)) => {
                    let author = roster.author(user, viewer);
                    (author.as_ref().and_then(|a| a.user_id), author)
                }
            };
            let update = ReadUpdate {
                conversation_id: conversation,
                user_id,
                author,
                last_read_id: marker,
                read_at,
            };
            self.publisher
                .publish(ChatEvent::Read {
                    update,
                    to,
                    except: from.clone(),
                })
                .await;
        }
        Ok(marker)
    }

    /// The other member of a one-to-one conversation the user is in (`room`); in a group,
    /// its leader.
    async fn peer(
        &self,
        user: UserId,
        conversation: ConversationId,
        room: &Room,
    ) -> Result<Person, ChatError> {
        let peer = match room {
            Room::Group(roster) => roster.leader(),
            Room::Direct(members) => members
                .iter()
                .find(|m| **m != user)
                .copied()
                .ok_or(ChatError::ConversationNotFound)?,
        };
        let record = users::find_by_id(&self.db, peer)
            .await?
            .ok_or(ChatError::UserNotFound)?;
        // A student's peer is a psychiatrist and the other way round.
        let (availability, student) = match record.role {
            Role::Psychiatrist => (
                Some(self.care.availability(record.id, Timestamp::now()).await?),
                None,
            ),
            Role::Student => {
                let (writing_since, count) =
                    conversations::student_facts(&self.db, conversation, record.id).await?;
                let facts = StudentFacts {
                    writing_since,
                    conversations: count,
                    deleted: record.deleted,
                };
                (None, Some(facts))
            }
        };
        Ok(Person {
            id: record.id,
            display_name: record.display_name,
            role: record.role,
            bio: record.bio,
            availability,
            student,
        })
    }

    /// The psychiatrists a student can write to.
    pub async fn directory(&self) -> Result<Vec<Person>, ChatError> {
        let rows = users::psychiatrists(&self.db).await?;
        let now = Timestamp::now();
        let mut people = Vec::with_capacity(rows.len());
        for row in rows {
            let availability = self.care.availability(row.id, now).await?;
            let mut person = wire::person(row);
            person.availability = Some(availability);
            people.push(person);
        }
        Ok(people)
    }

    /// A psychiatrist's availability settings, and what students see of them now.
    pub async fn availability_settings(
        &self,
        user: UserId,
        role: Role,
    ) -> Result<AvailabilitySettings, ChatError> {
        if role != Role::Psychiatrist {
            return Err(ChatError::NotPsychiatrist);
        }
        Ok(AvailabilitySettings {
            form: crate::care::form::form_of(&self.care.stored(user).await?),
            availability: self.care.availability(user, Timestamp::now()).await?,
        })
    }

    /// Replaces a psychiatrist's availability settings, after checking them.
    pub async fn save_availability(
        &self,
        user: UserId,
        role: Role,
        form: &AvailabilityForm,
    ) -> Result<(), ChatError> {
        if role != Role::Psychiatrist {
            return Err(ChatError::NotPsychiatrist);
        }
        let settings = crate::care::form::parse(form, self.care.today())
            .map_err(ChatError::InvalidSettings)?;
        self.care
            .save(
                user,
                &settings.hours,
                settings.back_on,
                &settings.note,
                settings.accepting_new,
            )
            .await?;
        Ok(())
    }

    /// A connection of `user` opened: they may count as online now.
    pub async fn connected(&self, user: UserId, role: Role) {
        self.presence.connected(user, role).await;
    }

    /// A connection of `user` closed.
    pub fn disconnected(&self, user: UserId, role: Role) {
        self.presence.disconnected(user, role);
    }

    /// What a fresh connection of `user` learns about presence (see
    /// [`Presence::snapshot`]).
    pub async fn presence_snapshot(
        &self,
        user: UserId,
        role: Role,
        since: Option<Timestamp>,
    ) -> Result<PresenceSnapshot, ChatError> {
        self.presence.snapshot(user, role, since).await
    }

    /// The status of everyone `user` may see (for the first frame of a page).
    pub async fn presence(
        &self,
        user: UserId,
        role: Role,
    ) -> Result<Vec<PresenceUpdate>, ChatError> {
        self.presence.statuses(user, role).await
    }

    /// The admission rule's gauges (the server feeds the runtime's delay).
    pub fn admission(&self) -> Arc<Admission> {
        self.admission.clone()
    }

    /// How far behind the server is (the runtime's delay or the writer's, the larger).
    pub fn behind(&self) -> std::time::Duration {
        self.admission.behind(&self.writer)
    }

    /// The share of sends refused now because the runtime never rests (0 to 1).
    pub fn shedding(&self) -> f64 {
        self.admission.shedding()
    }

    /// Messages waiting for the writer now.
    pub fn writer_queue_depth(&self) -> usize {
        self.writer.queue_depth()
    }

    /// Whether messages can still be stored (the writer is running).
    pub fn writer_alive(&self) -> bool {
        self.writer.is_alive()
    }

    /// A moment in plain words in the service's time zone (pages that run no script).
    pub fn time_in_words(&self, at: Timestamp) -> String {
        self.care.in_words(at)
    }

    /// At shutdown, after the connections closed: stores everyone's `last_seen` and waits
    /// until every accepted message is committed.
    pub async fn shut_down(&self) {
        self.presence.shut_down().await;
        self.writer.drain().await;
    }
}

/// Stored messages of any of a user's conversations as that user may see them: a group's
/// through its roster, read once per group.
struct Shown<'a> {
    chat: &'a Chat,
    user: UserId,
    /// Per conversation: not the user's (`None`), one-to-one, or a group.
    rooms: std::collections::HashMap<ConversationId, Option<Option<Arc<Roster>>>>,
}

impl<'a> Shown<'a> {
    fn new(chat: &'a Chat, user: UserId) -> Self {
        Self {
            chat,
            user,
            rooms: std::collections::HashMap::new(),
        }
    }

    /// The message as the user sees it; `None` if they are no longer a member (they
    /// left a group between the read and now).
    async fn message(&mut self, row: messages::MessageRow) -> Result<Option<Message>, ChatError> {
        let conversation = row.conversation_id;
        if !self.rooms.contains_key(&conversation) {
            let room = match self.chat.members.room(self.user, conversation).await {
                Ok(Room::Group(roster)) => Some(Some(roster)),
                Ok(Room::Direct(_)) => Some(None),
                Err(ChatError::ConversationNotFound) => None,
                Err(other) => return Err(other),
            };
            self.rooms.insert(conversation, room);
        }
        Ok(match self.rooms.get(&conversation).cloned().flatten() {
            None => None,
            Some(Some(roster)) => Some(roster.message(row, roster.viewer(self.user))),
            Some(None) => Some(wire::message(row)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(clean_body("  hi \n").unwrap(), "hi");
        assert!(matches!(clean_body(" \n\t "), Err(ChatError::EmptyBody)));
        assert!(clean_body(&"é".repeat(4000)).is_ok());
        assert!(matches!(
            clean_body(&"a".repeat(4001)),
            Err(ChatError::BodyTooLong)
        ));
    }

    #[test]
    fn bodies_refuse_control_characters_before_the_writer() {
        // A form's textarea posts CRLF: that is a line break, not a refused character.
        assert_eq!(clean_body("one\r\ntwo\rthree").unwrap(), "one\ntwo\nthree");
        assert_eq!(clean_body("a\tb").unwrap(), "a\tb");
        for bad in [
            "bad\u{0}body",
            "bell\u{7}",
            "esc\u{1b}[31m",
            "del\u{7f}",
            "c1\u{85}c",
        ] {
            let err = clean_body(bad).unwrap_err();
            assert_eq!(err.code(), app::error::ErrorCode::InvalidBody, "{bad:?}");
            assert!(
                !err.to_string().contains(bad),
                "the refusal never quotes the body"
            );
        }
    }

    #[test]
    fn client_ids_are_uuids() {
        let id = parse_client_id("6F9619FF-8B86-4011-B42D-00C04FC964FF").unwrap();
        assert_eq!(id.0, "6f9619ff-8b86-4011-b42d-00c04fc964ff");
        assert!(parse_client_id("not-a-uuid").is_err());
    }
}
