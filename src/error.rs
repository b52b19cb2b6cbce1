//! The one error type every handler returns, rendered as RFC 9457
//! `application/problem+json` with a stable machine-readable `code`.
//!
//! 5xx bodies are deliberately opaque: the cause is logged (with the request id
//! that tracing-actix-web attaches to the span) and never sent to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// How long clients should wait before retrying when the database is unavailable.
pub const DB_RETRY_AFTER_SECS: u64 = 2;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// For bulk input (units of a lot): the row, an index into the request's
    /// array or a CSV line number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// JSON path of the offending field, e.g. `hosting.power_off_at` or `rows[3].price`.
    pub field: String,
    /// For bulk input: a stable snake_case code of what is wrong with the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { row: None, field: field.into(), code: None, message: message.into() }
    }

    /// A problem with `field` of one row of bulk input.
    pub fn in_row(row: usize, field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self { row: Some(row), field: field.into(), code: Some(code.to_string()), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Text with NUL or other control characters, refused before any handler.
    #[error("control characters in text")]
    InvalidCharacters(Vec<FieldError>),
    #[error("bad request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("unauthorized: {detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("forbidden: {detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("not found: {code}")]
    NotFound { code: &'static str, detail: String },
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String },
    /// `If-Match` named another version of the resource than the current one.
    #[error("precondition failed")]
    PreconditionFailed { detail: String },
    #[error("payload too large")]
    PayloadTooLarge { limit_bytes: usize },
    /// The request head did not arrive within the client request timeout
    /// (rendered by `http::malformed`, which sees the parser's refusals).
    #[error("request head timed out")]
    RequestTimeout,
    /// The request head exceeds the parser's limit (`http::malformed`).
    #[error("request headers too large")]
    HeadersTooLarge,
    /// A known path asked with a method it does not answer; `allowed` is the
    /// `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<String> },
    #[error("unsupported media type")]
    UnsupportedMediaType { detail: String },
    #[error("unprocessable: {detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// A quota of the product (not of request rates) is used up, e.g. `offer_limit`.
    #[error("limit reached: {detail}")]
    LimitReached { code: &'static str, detail: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// The `code` of a problem+json answer, left in the response's extensions by
/// [`ApiError::error_response`] so middleware (the access log) can name it
/// without parsing the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemCode(pub &'static str);

/// The problem+json body. `errors` is present only for validation failures.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` when only the status matters).
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case code clients can branch on, e.g. `listing_not_found`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl crate::db::fresh_read::Replay for ApiError {
    /// The same answer again, for each request that shared one read
    /// (`db::fresh_read`): an internal error keeps only its text, which is
    /// logged and never sent.
    fn replay(&self) -> Self {
        match self {
            Self::Validation(errors) => Self::Validation(errors.clone()),
            Self::InvalidCharacters(errors) => Self::InvalidCharacters(errors.clone()),
            Self::BadRequest { code, detail } => Self::BadRequest { code, detail: detail.clone() },
            Self::Unauthorized { code, detail } => Self::Unauthorized { code, detail: detail.clone() },
            Self::Forbidden { code, detail } => Self::Forbidden { code, detail: detail.clone() },
            Self::NotFound { code, detail } => Self::NotFound { code, detail: detail.clone() },
            Self::Conflict { code, detail } => Self::Conflict { code, detail: detail.clone() },
            Self::PreconditionFailed { detail } => Self::PreconditionFailed { detail: detail.clone() },
            Self::PayloadTooLarge { limit_bytes } => Self::PayloadTooLarge { limit_bytes: *limit_bytes },
            Self::RequestTimeout => Self::RequestTimeout,
            Self::HeadersTooLarge => Self::HeadersTooLarge,
            Self::MethodNotAllowed { allowed } => Self::MethodNotAllowed { allowed: allowed.clone() },
            Self::UnsupportedMediaType { detail } => Self::UnsupportedMediaType { detail: detail.clone() },
            Self::Unprocessable { code, detail } => Self::Unprocessable { code, detail: detail.clone() },
            Self::TooManyRequests { retry_after_secs } => Self::TooManyRequests { retry_after_secs: *retry_after_secs },
            Self::LimitReached { code, detail } => Self::LimitReached { code, detail: detail.clone() },
            Self::Unavailable(reason) => Self::Unavailable(reason.clone()),
            Self::Internal(cause) => Self::Internal(anyhow::anyhow!("{cause:#}")),
        }
    }
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest { code, detail: detail.into() }
    }
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized { code, detail: detail.into() }
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden { code, detail: detail.into() }
    }
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::NotFound { code, detail: detail.into() }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict { code, detail: detail.into() }
    }
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unprocessable { code, detail: detail.into() }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidCharacters(_) => "invalid_characters",
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::LimitReached { code, .. } => code,
            Self::PreconditionFailed { .. } => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::HeadersTooLarge => "headers_too_large",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn public_detail(&self) -> String {
        match self {
            Self::Validation(errors) => format!("{} field(s) are invalid; see `errors`.", errors.len().max(1)),
            Self::InvalidCharacters(errors) => {
                format!("{} field(s) contain control characters; see `errors`.", errors.len().max(1))
            }
            Self::BadRequest { detail, .. }
            | Self::Unauthorized { detail, .. }
            | Self::Forbidden { detail, .. }
            | Self::NotFound { detail, .. }
            | Self::Conflict { detail, .. }
            | Self::Unprocessable { detail, .. }
            | Self::LimitReached { detail, .. }
            | Self::UnsupportedMediaType { detail }
            | Self::PreconditionFailed { detail } => detail.clone(),
            Self::PayloadTooLarge { limit_bytes } => {
                format!("The request body exceeds the limit of {limit_bytes} bytes.")
            }
            Self::RequestTimeout => "The request head did not arrive in time.".into(),
            Self::HeadersTooLarge => "The request line and headers exceed the size this service accepts.".into(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("Too many requests; retry after {retry_after_secs} s.")
            }
            Self::MethodNotAllowed { allowed } => format!("This route answers {} only.", allowed.join(", ")),
            // Never leak the cause (SQL, hostnames, constraint names) to a client.
            Self::Unavailable(_) => "The service is temporarily unavailable; please retry shortly.".into(),
            Self::Internal(_) => "An unexpected error occurred. It has been logged.".into(),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            type_uri: format!("https://rigmarket.dev/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.public_detail(),
            code: self.code().to_string(),
            errors: match self {
                Self::Validation(errors) | Self::InvalidCharacters(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::InvalidCharacters(_) | Self::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } | Self::LimitReached { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(error.cause = ?cause, "internal error"),
            Self::Unavailable(cause) => tracing::warn!(error.cause = %cause, "dependency unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, DB_RETRY_AFTER_SECS.to_string()));
            }
            Self::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::MethodNotAllowed { allowed } => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            _ => {}
        }
        let mut response = response.json(self.to_problem());
        response.extensions_mut().insert(ProblemCode(self.code()));
        response
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => ApiError::not_found("not_found", "The resource does not exist."),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                ApiError::Unavailable(format!("database connection closed: {}", info.message()))
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::conflict("concurrent_update", "The resource was changed concurrently; please retry.")
            }
            other if crate::db::is_connection_error(&other) => ApiError::Unavailable(other.to_string()),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Domain code returns `anyhow` for the unexpected; a database failure inside one
/// (a lost connection mid-transaction) is still a 503, and an `ApiError` carried
/// through it keeps its meaning.
impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        let err = match err.downcast::<diesel::result::Error>() {
            Ok(db) => return db.into(),
            Err(err) => err,
        };
        match err.downcast::<ApiError>() {
            Ok(api) => api,
            Err(err) => ApiError::Internal(err),
        }
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(err: crate::db::PoolError) -> Self {
        ApiError::Unavailable(format!("database pool: {err}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
