//! Errors at the HTTP edge become responses: 4xx with a short reason, 5xx generic with the cause logged once.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use steward_domain::ports::BoxError;

/// An API failure, rendered as a JSON body `{"error": …, "field": …}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; `field` names what is wrong when known.
    #[error("{message}")]
    BadRequest {
        /// The offending field (dotted path), if any.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Missing or wrong credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// Nothing there.
    #[error("not found")]
    NotFound,
    /// The request conflicts with the resource's state (`already_reverted`).
    #[error("{0}")]
    Conflict(&'static str),
    /// The service is not configured for this request.
    #[error("{0}")]
    Unavailable(&'static str),
    /// A service Steward depends on failed; the client sees what to do, the cause is logged.
    #[error("{message}")]
    Upstream {
        /// What failed and what to do.
        message: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// Anything else; the cause is logged, the client sees a generic message.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// A 400 naming a field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest { field: Some(field.into()), message: message.into() }
    }

    /// A 500 keeping its cause.
    pub fn internal(error: impl Into<BoxError>) -> Self {
        Self::Internal(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest { field, message } => {
                (StatusCode::BAD_REQUEST, Json(json!({ "error": message, "field": field }))).into_response()
            }
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer")],
                Json(json!({ "error": "missing or invalid bearer token" })),
            )
                .into_response(),
            Self::NotFound => (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response(),
            Self::Conflict(why) => (StatusCode::CONFLICT, Json(json!({ "error": why }))).into_response(),
            Self::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": why }))).into_response(),
            Self::Upstream { message, source } => {
                tracing::error!(error = %source, "{message}");
                (StatusCode::BAD_GATEWAY, Json(json!({ "error": message }))).into_response()
            }
            Self::Internal(source) => {
                let mut chain = source.to_string();
                let mut cause = source.source();
                while let Some(inner) = cause {
                    chain.push_str(": ");
                    chain.push_str(&inner.to_string());
                    cause = inner.source();
                }
                tracing::error!(error = %chain, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": "internal error" }))).into_response()
            }
        }
    }
}
