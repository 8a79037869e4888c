//! The storage error every store port returns.

/// A boxed error cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What kind of storage failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The store could not be reached or timed out; retry later.
    Unavailable,
    /// The store is throttling us; retry later.
    Throttled,
    /// Stored data could not be decoded.
    Corrupt,
    /// Anything else (bad configuration, permissions).
    Other,
}

/// A storage failure, keeping its cause.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed ({kind:?})")]
pub struct StoreError {
    /// The kind of failure.
    pub kind: StoreErrorKind,
    /// The operation that failed, e.g. `get settings`.
    pub operation: &'static str,
    /// The underlying error.
    #[source]
    pub source: Option<BoxError>,
}

impl StoreError {
    /// A new error of `kind` for `operation`, with its cause.
    pub fn new(kind: StoreErrorKind, operation: &'static str, source: impl Into<BoxError>) -> Self {
        Self { kind, operation, source: Some(source.into()) }
    }

    /// Whether trying again may succeed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self.kind, StoreErrorKind::Unavailable | StoreErrorKind::Throttled)
    }
}
