//! Maps SDK errors to [`StoreError`] kinds, keeping the SDK error as the cause.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use steward_domain::ports::{BoxError, StoreError, StoreErrorKind};

const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

/// A mapper from an SDK error to a [`StoreError`] for `operation`.
pub(crate) fn sdk_error<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |error| {
        let kind = match &error {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
                StoreErrorKind::Unavailable
            }
            SdkError::ServiceError(service) => match service.err().code() {
                Some(code) if THROTTLING.contains(&code) => StoreErrorKind::Throttled,
                Some("InternalServerError" | "ServiceUnavailable") => StoreErrorKind::Unavailable,
                _ => StoreErrorKind::Other,
            },
            _ => StoreErrorKind::Other,
        };
        StoreError::new(kind, operation, error)
    }
}

/// A mapper from a decoding error (JSON, an id) to a corrupt-data [`StoreError`].
pub(crate) fn corrupt<E: Into<BoxError>>(operation: &'static str) -> impl FnOnce(E) -> StoreError {
    move |source| StoreError::new(StoreErrorKind::Corrupt, operation, source)
}

/// Whether a conditional write was refused because its condition was false.
pub(crate) fn condition_failed<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException")
}
