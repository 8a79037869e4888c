//! Conversions every port shares: SQLite and JSON errors to [`StoreError`]s, integers to columns.

use steward_domain::ports::{BoxError, StoreError, StoreErrorKind};

/// A mapper from a SQLite error to a [`StoreError`] for `operation`; busy and locked are retryable.
pub(crate) fn error(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| {
        let kind = match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreErrorKind::Unavailable
            }
            _ => StoreErrorKind::Other,
        };
        StoreError::new(kind, operation, source)
    }
}

/// A mapper from a decoding error (JSON, an id) to a corrupt-data [`StoreError`].
pub(crate) fn corrupt<E: Into<BoxError>>(operation: &'static str) -> impl FnOnce(E) -> StoreError {
    move |source| StoreError::new(StoreErrorKind::Corrupt, operation, source)
}

/// A count or size as an `INTEGER` column, saturating.
pub(crate) fn i64_of(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// An `INTEGER` column as a count or size; negative reads as zero.
pub(crate) fn u64_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
