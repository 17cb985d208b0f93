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
    /// The database cannot be reached at all (refused, reset, unreachable): the request can be
    /// retried once it is back, which `/readyz` tells.
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// The client did not send its request body within the request's time limit.
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    /// Too many requests from one token or client address; retry after this many seconds.
    #[error("too many requests; retry after {0} s")]
    TooManyRequests(u64),
    /// A body in a media type the route does not take (a cross-site form post to GraphQL).
    #[error("{0}")]
    UnsupportedMediaType(String),
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
            AppError::Unavailable => "DB_UNAVAILABLE",
            AppError::BodyTimeout => "REQUEST_TIMEOUT",
            AppError::TooManyRequests(_) => "RATE_LIMITED",
            AppError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
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
            AppError::Unavailable => 503,
            AppError::BodyTimeout => 408,
            AppError::TooManyRequests(_) => 429,
            AppError::UnsupportedMediaType(_) => 415,
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
        // The database cannot be reached: a live connection was cut (reset, closed, end of
        // stream), a new one was refused or reset, the server is shutting down or starting up, or
        // the pool was closed. Nothing about the request is wrong; it can be retried once the
        // database is back, which `/readyz` tells.
        if unreachable(&e) {
            note_unreachable();
            tracing::warn!(error = %e, "the database is unreachable");
            return AppError::Unavailable;
        }
        // A pool that cannot hand out a connection in time: sqlx answers `PoolTimedOut` both when
        // every connection is busy (an overload) and when it kept retrying a refused connection
        // until the time ran out (the database is down: sqlx retries `ConnectionRefused` inside
        // the acquire and reports only the time-out). The two are told apart by whether a
        // connection-level failure was seen lately (`note_unreachable`, refreshed by each such
        // time-out, cleared by `note_reachable` when a statement succeeds again).
        if matches!(e, DbErr::ConnectionAcquire(_)) {
            if recently_unreachable() {
                note_unreachable();
                tracing::warn!(error = %e, "no database connection: the database is unreachable");
                return AppError::Unavailable;
            }
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
        let code = sqlstate(&e);
        if matches!(code.as_deref(), Some("22021" | "22P05")) {
            return AppError::BadRequest("text must not contain the NUL character (U+0000)".into());
        }
        // PostgreSQL cancelled a statement that outran `statement_timeout` (`db::connect_with`).
        if code.as_deref() == Some("57014") {
            tracing::warn!(error = %e, "statement cancelled by the database's statement_timeout");
            return AppError::Timeout;
        }
        AppError::Database(e)
    }
}

/// The sqlx error under a `DbErr`, when there is one.
fn sqlx_error(e: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(x))
        | DbErr::Exec(RuntimeErr::SqlxError(x))
        | DbErr::Query(RuntimeErr::SqlxError(x)) => Some(x.as_ref()),
        _ => None,
    }
}

/// Whether `e` says the database could not be reached, rather than that a statement failed.
pub fn unreachable(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as X;
    if matches!(
        e,
        DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed)
    ) {
        return true;
    }
    match sqlx_error(e) {
        // Reset, refused, broken pipe, an unexpected end of stream: the socket, not the SQL.
        Some(X::Io(_) | X::Tls(_) | X::PoolClosed | X::WorkerCrashed) => true,
        // PostgreSQL's class 08 (connection exception) and 57P01-57P03: the server is shutting
        // down, crashed, or not accepting connections yet.
        Some(X::Database(d)) => d.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Milliseconds since the Unix epoch of the last connection-level failure (0: none since the
/// database last answered).
static LAST_UNREACHABLE_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How long after a connection-level failure a pool time-out is taken for the same outage. Longer
/// than the pool's acquire time-out, so that time-outs in a row keep it alive while the database
/// stays away.
pub const UNREACHABLE_MEMORY: std::time::Duration = std::time::Duration::from_secs(30);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(1)
        .max(1)
}

/// Records that the database could not be reached just now.
pub fn note_unreachable() {
    LAST_UNREACHABLE_MS.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
}

/// Records that the database answered: later pool time-outs are overloads again. The StackTach
/// worker calls it after each pass that reached the database; `/readyz` may too.
pub fn note_reachable() {
    LAST_UNREACHABLE_MS.store(0, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a connection-level failure was seen within `UNREACHABLE_MEMORY` and the database has
/// not been seen answering since.
pub fn recently_unreachable() -> bool {
    let last = LAST_UNREACHABLE_MS.load(std::sync::atomic::Ordering::Relaxed);
    last != 0 && now_ms().saturating_sub(last) <= UNREACHABLE_MEMORY.as_millis() as u64
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::sqlx::Error as X;
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

    use super::*;

    fn query(x: X) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(x)))
    }

    /// One test, because the memory of the last outage is one per process.
    #[test]
    fn connection_failures_are_unavailable_and_a_pool_time_out_is_an_overload_unless_one_was_seen()
    {
        note_reachable();
        let timeout = || DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        assert!(matches!(AppError::from(timeout()), AppError::Timeout));
        assert!(!recently_unreachable());

        for kind in [
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::ConnectionRefused,
            std::io::ErrorKind::UnexpectedEof,
            std::io::ErrorKind::BrokenPipe,
        ] {
            let e = AppError::from(query(X::Io(kind.into())));
            assert!(matches!(e, AppError::Unavailable), "{kind:?}: {e:?}");
            assert_eq!((e.code(), e.http_status()), ("DB_UNAVAILABLE", 503));
            assert_eq!(
                e.public_message(),
                "the database is unavailable; try again shortly"
            );
        }
        let conn = DbErr::Conn(RuntimeErr::SqlxError(Arc::new(X::PoolClosed)));
        assert!(matches!(AppError::from(conn), AppError::Unavailable));
        let closed = DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed);
        assert!(matches!(AppError::from(closed), AppError::Unavailable));

        // Within the memory of an outage, a pool time-out is the outage going on.
        assert!(recently_unreachable());
        assert!(matches!(AppError::from(timeout()), AppError::Unavailable));
        // Once the database answered again, it is an overload.
        note_reachable();
        assert!(matches!(AppError::from(timeout()), AppError::Timeout));

        // Statement errors stay what they were.
        let other = AppError::from(query(X::RowNotFound));
        assert!(matches!(other, AppError::Database(_)), "{other:?}");
        assert!(!recently_unreachable());
    }
}
