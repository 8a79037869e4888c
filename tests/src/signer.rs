//! Signs interaction requests the way Discord does, with a key generated per test.

use ed25519_dalek::{Signer as _, SigningKey};

/// A Discord application's signing key.
pub struct Signer {
    key: SigningKey,
}

impl Default for Signer {
    fn default() -> Self {
        Self { key: SigningKey::from_bytes(&rand::random::<[u8; 32]>()) }
    }
}

impl Signer {
    /// The public key in hex, as the Developer Portal shows it.
    #[must_use]
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// The `X-Signature-Ed25519` value for `timestamp ‖ body`.
    #[must_use]
    pub fn sign(&self, timestamp: &str, body: &str) -> String {
        hex::encode(self.key.sign(format!("{timestamp}{body}").as_bytes()).to_bytes())
    }
}

/// Seconds since the epoch, as Discord sends in `X-Signature-Timestamp`.
#[must_use]
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}
