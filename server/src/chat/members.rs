//! Who is in a conversation. Every send checks membership. A one-to-one conversation's
//! members never change, so they are cached for good (bounded: past [`CAPACITY`]
//! conversations the cache starts over, which costs one query per conversation used
//! again). A group's members change (joining, leaving, removal) on any node, so a group is
//! read afresh for every operation: a removal takes effect at once everywhere, with
//! nothing to invalidate across nodes (docs/decisions.md).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use app::protocol::{ConversationId, UserId};

use super::roster::Roster;
use super::ChatError;
use crate::store::{conversations, groups, Db};

/// Conversations remembered at most (a few MiB).
const CAPACITY: usize = 100_000;

/// A conversation as an operation needs it.
#[derive(Debug, Clone)]
pub enum Room {
    /// One-to-one: its two members.
    Direct(Arc<[UserId]>),
    /// A group, as stored now.
    Group(Arc<Roster>),
}

impl Room {
    /// Everyone who is a member now.
    pub fn members(&self) -> Arc<[UserId]> {
        match self {
            Room::Direct(members) => members.clone(),
            Room::Group(roster) => roster.members(),
        }
    }
}

/// Members per conversation.
pub struct Members {
    db: Db,
    cache: RwLock<HashMap<ConversationId, Arc<[UserId]>>>,
}

impl Members {
    /// Empty, reading from `db`.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The conversation if `user` is a member of it now; otherwise (or if there is no
    /// such conversation) [`ChatError::ConversationNotFound`].
    pub async fn room(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Room, ChatError> {
        let cached = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&conversation)
            .cloned();
        let room = match cached {
            Some(members) => Room::Direct(members),
            None => match groups::find(&self.db, conversation).await? {
                Some(group) => {
                    let people = groups::people(&self.db, conversation).await?;
                    Room::Group(Arc::new(Roster::new(group, people)))
                }
                None => {
                    let loaded: Arc<[UserId]> =
                        conversations::members(&self.db, conversation).await?.into();
                    if loaded.is_empty() {
                        return Err(ChatError::ConversationNotFound);
                    }
                    let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
                    if cache.len() >= CAPACITY {
                        cache.clear();
                    }
                    cache.insert(conversation, loaded.clone());
                    Room::Direct(loaded)
                }
            },
        };
        if room.members().contains(&user) {
            Ok(room)
        } else {
            Err(ChatError::ConversationNotFound)
        }
    }

    /// The members of `conversation` if `user` is one of them (see [`Members::room`]).
    pub async fn of_if_member(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Arc<[UserId]>, ChatError> {
        Ok(self.room(user, conversation).await?.members())
    }
}
