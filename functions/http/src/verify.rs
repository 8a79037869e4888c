//! Ed25519 verification of Discord interaction requests, per application (shared or custom bot).

use std::collections::HashMap;
use std::time::Duration;

use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use steward_domain::clock::Timestamp;
use steward_domain::ids::ApplicationId;

/// How far a request's timestamp may be from now, either way.
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// Why a request was refused. Every variant is answered with 401 and nothing else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A signature header is missing.
    #[error("missing X-Signature-Ed25519 or X-Signature-Timestamp")]
    MissingHeader,
    /// The signature is not 64 bytes of hex.
    #[error("the signature is not 128 hex characters")]
    MalformedSignature,
    /// The timestamp is not a number of seconds.
    #[error("the timestamp is not a number")]
    MalformedTimestamp,
    /// The timestamp is too old or too far ahead.
    #[error("the timestamp is more than five minutes from now")]
    StaleTimestamp,
    /// No key is configured for the application named in the body.
    #[error("no public key for this application")]
    UnknownApplication,
    /// The signature does not match.
    #[error("the signature does not match")]
    BadSignature,
}

/// An error in a configured public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("public key for application {0} is not a valid Ed25519 key in hex")]
pub struct KeyError(pub ApplicationId);

/// The public keys of the applications this deployment answers for, parsed once.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    keys: HashMap<ApplicationId, VerifyingKey>,
}

impl Verifier {
    /// Parses hex public keys, one per application.
    ///
    /// # Errors
    /// Returns [`KeyError`] for a key that is not 32 bytes of hex or not a valid point.
    pub fn from_hex<'a>(keys: impl IntoIterator<Item = (ApplicationId, &'a str)>) -> Result<Self, KeyError> {
        let keys = keys
            .into_iter()
            .map(|(app, hex_key)| {
                let bytes: [u8; 32] = hex::decode(hex_key).ok().and_then(|b| b.try_into().ok()).ok_or(KeyError(app))?;
                let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError(app))?;
                Ok((app, key))
            })
            .collect::<Result<_, KeyError>>()?;
        Ok(Self { keys })
    }

    /// Whether any application is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies `signature` over `timestamp ‖ body` with `app`'s key, and the timestamp's age.
    ///
    /// # Errors
    /// Returns the first [`VerifyError`] found.
    pub fn verify(
        &self,
        app: Option<ApplicationId>,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
            return Err(VerifyError::MissingHeader);
        };
        let signature: [u8; 64] =
            hex::decode(signature).ok().and_then(|b| b.try_into().ok()).ok_or(VerifyError::MalformedSignature)?;
        let seconds: i64 = timestamp.parse().map_err(|_| VerifyError::MalformedTimestamp)?;
        if Timestamp::from_secs(seconds).distance(now) > MAX_SKEW {
            return Err(VerifyError::StaleTimestamp);
        }
        let key = app.and_then(|app| self.keys.get(&app)).ok_or(VerifyError::UnknownApplication)?;
        let mut message = Vec::with_capacity(timestamp.len() + body.len());
        message.extend_from_slice(timestamp.as_bytes());
        message.extend_from_slice(body);
        key.verify(&message, &Signature::from_bytes(&signature)).map_err(|_| VerifyError::BadSignature)
    }
}
