//! The service's VAPID key pair (RFC 8292): push services learn from its signature which
//! application server sends, and refuse pushes to a subscription made with another key. Made
//! on first start and kept in the database so that every node (and every restart) signs
//! with the same key; or given by configuration.

use base64ct::{Base64UrlUnpadded, Encoding};
use web_push_native::jwt_simple::prelude::{ECDSAP256PublicKeyLike, ES256KeyPair};

use super::PushError;
use crate::store::{self, Db};
use app::protocol::Timestamp;

/// The key pair, and its public half as browsers take it.
pub struct VapidKeys {
    pub pair: ES256KeyPair,
    /// The uncompressed P-256 point, base64url: `applicationServerKey`.
    pub public: String,
}

impl VapidKeys {
    /// The configured key, or the one in the database, or a new one stored there (the first
    /// node to store it wins; the others read it back).
    pub async fn load(db: &Db, configured: Option<&str>) -> Result<Self, PushError> {
        let private = match configured {
            Some(key) => key.to_owned(),
            None => match store::push::vapid_key(db).await? {
                Some(key) => key,
                None => {
                    let fresh =
                        Base64UrlUnpadded::encode_string(&ES256KeyPair::generate().to_bytes());
                    store::push::keep_vapid_key(db, &fresh, Timestamp::now()).await?
                }
            },
        };
        Self::from_private(&private)
    }

    /// The pair from a private key in base64url.
    pub fn from_private(private: &str) -> Result<Self, PushError> {
        let bytes = Base64UrlUnpadded::decode_vec(private.trim()).map_err(|_| PushError::BadKey)?;
        let pair = ES256KeyPair::from_bytes(&bytes).map_err(|_| PushError::BadKey)?;
        let public = Base64UrlUnpadded::encode_string(
            &pair.public_key().public_key().to_bytes_uncompressed(),
        );
        Ok(Self { pair, public })
    }
}
