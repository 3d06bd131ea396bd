//! Who is in a conversation, cached: every send checks membership, and membership never
//! changes once a conversation exists (one-to-one only, no leaving), so entries never go
//! stale. The cache is bounded: past [`CAPACITY`] conversations it starts over, which
//! costs one query per conversation used again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use app::protocol::{ConversationId, UserId};

use super::ChatError;
use crate::store::{conversations, Db};

/// Conversations remembered at most (a few MiB).
const CAPACITY: usize = 100_000;

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

    /// The members of `conversation` if `user` is one of them; otherwise (or if there is no
    /// such conversation) [`ChatError::ConversationNotFound`]. Unknown ids are not cached.
    pub async fn of_if_member(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Arc<[UserId]>, ChatError> {
        let cached = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&conversation)
            .cloned();
        let members = match cached {
            Some(members) => members,
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
                loaded
            }
        };
        if members.contains(&user) {
            Ok(members)
        } else {
            Err(ChatError::ConversationNotFound)
        }
    }
}
