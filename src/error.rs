//! One error type for the whole server. Services return it; each edge (GraphQL, every legacy REST
//! dialect) maps it to its own wire shape. Database and internal details are logged here and never
//! reach a client.

use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is wrong; the message says what and is safe to show.
    #[error("{0}")]
    BadRequest(String),
    /// Named input fields are wrong: each field with what is wrong with it, in the order the
    /// edge should report them (never empty).
    #[error("{}", describe_fields(.0))]
    InvalidFields(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    /// The write would contradict what is stored (a duplicate key with other content).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the database did not answer in time")]
    Timeout,
    #[error("database error")]
    Database(#[source] DbErr),
    #[error("internal error")]
    Internal(String),
    /// An internal failure that an edge has reworded in its legacy API's own sentence (Evergreen
    /// answered a failed look-up with 500 and "Error finding task 'x'"); the detail was logged when
    /// it was reworded, so the sentence is all that is left.
    #[error("{0}")]
    InternalWorded(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// One wrong input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn describe_fields(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        AppError::BadRequest(msg.into())
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::InvalidFields(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        AppError::NotFound(msg.into())
    }

    /// Stable machine-readable code, sent as GraphQL `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) | AppError::InvalidFields(_) => "BAD_USER_INPUT",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Conflict(_) => "CONFLICT",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            AppError::Timeout => "TIMEOUT",
            AppError::Database(_) | AppError::Internal(_) | AppError::InternalWorded(_) => {
                "INTERNAL_SERVER_ERROR"
            }
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) | AppError::InvalidFields(_) => 400,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Unauthenticated(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::PayloadTooLarge(_) => 413,
            AppError::Timeout => 503,
            AppError::Database(_) | AppError::Internal(_) | AppError::InternalWorded(_) => 500,
        }
    }

    /// The same failure worded `text` by a legacy edge: a missing object is `NotFound(text)`, an
    /// internal failure `InternalWorded(text)` (its detail logged here); other errors (a timeout,
    /// a conflict, bad input) keep their own status and message.
    pub fn reworded(self, text: &str) -> AppError {
        match self {
            AppError::NotFound(_) => AppError::NotFound(text.to_owned()),
            AppError::Database(_) | AppError::Internal(_) => {
                let _ = self.public_message();
                AppError::InternalWorded(text.to_owned())
            }
            other => other,
        }
    }

    /// The message a client may see. Internal failures are logged with their detail and reduced to
    /// a generic sentence.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Database(e) => {
                tracing::error!(error = %e, "database error");
                "internal server error".to_owned()
            }
            AppError::Internal(detail) => {
                tracing::error!(detail = %detail, "internal error");
                "internal server error".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        // A pool that cannot hand out a connection in time is an overload, not a bug.
        if matches!(e, DbErr::ConnectionAcquire(_)) {
            tracing::warn!(error = %e, "database connection not acquired in time");
            return AppError::Timeout;
        }
        // Two writers racing to create the same key: the loser learns it exists.
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
            return AppError::Conflict("a record with that key already exists".into());
        }
        // PostgreSQL keeps no NUL character in text (22021 for a bound string, 22P05 for a
        // `\u0000` read out of JSON); SQLite does. Text in Rust is valid UTF-8 otherwise, so this
        // is the one string a client can send that the database refuses: the client's error.
        if matches!(sqlstate(&e).as_deref(), Some("22021" | "22P05")) {
            return AppError::BadRequest("text must not contain the NUL character (U+0000)".into());
        }
        AppError::Database(e)
    }
}

/// The SQLSTATE of an error the database itself reported.
fn sqlstate(e: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(x)) | DbErr::Query(RuntimeErr::SqlxError(x)) => {
            Some(x.as_database_error()?.code()?.into_owned())
        }
        _ => None,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}
