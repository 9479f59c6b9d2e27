//! The management API's errors, in API Gateway's shapes: the error type in `x-amzn-ErrorType`
//! and a `{"message": ...}` body, with AWS's status codes.

use http::StatusCode;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A signature problem: the AWS error type (`InvalidSignatureException`, ...) and message.
    #[error("{1}")]
    Forbidden(&'static str, String),
    /// Portico could not keep a change (the state directory failed); nothing was acknowledged.
    #[error("{0}")]
    Internal(String),
}

impl AdminError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Forbidden(..) => StatusCode::FORBIDDEN,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn error_type(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NotFoundException",
            Self::BadRequest(_) => "BadRequestException",
            Self::Conflict(_) => "ConflictException",
            Self::TooManyRequests(_) => "TooManyRequestsException",
            Self::Forbidden(kind, _) => kind,
            Self::Internal(_) => "InternalFailure",
        }
    }
}

pub type AdminResult<T> = Result<T, AdminError>;

pub fn not_found(message: impl Into<String>) -> AdminError {
    AdminError::NotFound(message.into())
}

pub fn bad_request(message: impl Into<String>) -> AdminError {
    AdminError::BadRequest(message.into())
}

pub fn conflict(message: impl Into<String>) -> AdminError {
    AdminError::Conflict(message.into())
}
