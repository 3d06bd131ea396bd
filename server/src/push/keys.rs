//! The service's VAPID key pair (RFC 8292): push services learn from its signature which
//! application server sends, and refuse pushes to a subscription made with another key. Made
//! on first start and kept in the database so that every node (and every restart) signs
//! with the same key; or given by configuration.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use web_push_native::jwt_simple::prelude::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::vapid::VapidSignature;

use super::PushError;
use crate::store::{self, Db};
use app::protocol::Timestamp;

/// The key pair, and its public half as browsers take it.
pub struct VapidKeys {
    pub pair: ES256KeyPair,
    /// The uncompressed P-256 point, base64url: `applicationServerKey`.
    pub public: String,
    /// Signatures made, by push service (`scheme://host`, the JWT's audience).
    signed: Mutex<HashMap<String, (Instant, http::HeaderValue)>>,
}

/// How long one signature serves every push to a push service. It is valid for
/// [`SIGNATURE_VALID`]; an ECDSA signature per push was 40% of a push's cryptography
/// (docs/benchmarks.md).
const SIGNATURE_REUSED_FOR: Duration = Duration::from_secs(3600);
/// How long a signature is valid (push services refuse more than a day).
pub const SIGNATURE_VALID: Duration = Duration::from_secs(12 * 3600);

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
        Ok(Self {
            pair,
            public,
            signed: Mutex::default(),
        })
    }

    /// The `Authorization` header for a push to `endpoint`, signed by `subject`: made once
    /// per push service and hour.
    pub fn authorization(
        &self,
        endpoint: &http::Uri,
        subject: &str,
    ) -> Result<http::HeaderValue, PushError> {
        let audience = format!(
            "{}://{}",
            endpoint.scheme_str().unwrap_or_default(),
            endpoint.host().unwrap_or_default()
        );
        let now = Instant::now();
        let mut signed = self.signed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, header)) = signed.get(&audience) {
            if now.duration_since(*at) < SIGNATURE_REUSED_FOR {
                return Ok(header.clone());
            }
        }
        let signature = VapidSignature::sign(endpoint, SIGNATURE_VALID, subject, &self.pair)
            .map_err(|_| PushError::BadKey)?;
        let header = http::HeaderValue::from(signature);
        signed.insert(audience, (now, header.clone()));
        Ok(header)
    }
}
