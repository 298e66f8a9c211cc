//! How a failed command ends: one `error: …` line on stderr and an exit code
//! per class of failure. This is the only place that maps
//! [`steward::Error`]; handlers just return it. Clap's own usage errors never
//! get here (clap prints them and exits with 2).
//!
//! | code | meaning |
//! |---|---|
//! | 1 | internal error, or output/input that could not be written/read |
//! | 2 | invalid input (also clap's usage errors) |
//! | 3 | not found |
//! | 4 | conflict: duplicate, stale version, illegal status change |
//! | 5 | forbidden or unauthorized |
//! | 6 | unavailable (database down or busy): retrying may work |

use std::io;
use std::process::ExitCode;

use steward::Error;

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The domain said no.
    Domain(Error),
    /// The domain said no about a value the user named (`--user x@y`).
    About { subject: String, error: Error },
    /// Reading input or writing output failed.
    Io { doing: &'static str, error: io::Error },
    /// A command stopped part-way: `cause`, and what it had already done
    /// (an import's committed lines), which stays done.
    Partial { done: String, cause: Box<Failure> },
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Domain(error)
    }
}

/// Writing to stdout failed.
impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure::Io { doing: "write output", error }
    }
}

impl Failure {
    pub(crate) fn about(subject: impl Into<String>) -> impl FnOnce(Error) -> Failure {
        let subject = subject.into();
        move |error| Failure::About { subject, error }
    }
}

/// Reports a failure on stderr and picks the exit code.
pub(crate) fn report(failure: &Failure) -> ExitCode {
    match describe(failure) {
        // Whoever read our output went away (`steward task list | head -1`):
        // nothing left to tell anyone.
        None => ExitCode::SUCCESS,
        Some((message, code)) => {
            eprintln!("error: {}", crate::output::escape(&one_line(&message)));
            ExitCode::from(code)
        }
    }
}

fn describe(failure: &Failure) -> Option<(String, u8)> {
    Some(match failure {
        Failure::Domain(error) => (error.to_string(), exit_code(error)),
        Failure::About { subject, error } => (format!("{subject}: {error}"), exit_code(error)),
        Failure::Io { error, .. } if error.kind() == io::ErrorKind::BrokenPipe => return None,
        Failure::Io { doing, error } => (format!("cannot {doing}: {error}"), 1),
        Failure::Partial { done, cause } => {
            let (message, code) = describe(cause)?;
            (format!("{message} ({done})"), code)
        }
    })
}

/// The exit code for each class of domain error.
pub(crate) fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Invalid(_) => 2,
        Error::NotFound { .. } => 3,
        Error::Conflict(_)
        | Error::VersionConflict { .. }
        | Error::InvalidTransition { .. }
        | Error::ApprovalExpired { .. }
        | Error::NotDeleted { .. } => 4,
        Error::Forbidden(_) | Error::Unauthorized => 5,
        Error::Unavailable(_) => 6,
        // Internal, and any class added to core later until it is mapped here.
        _ => 1,
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use steward::{Conflict, Entity, Error, FieldError};

    use super::exit_code;

    #[test]
    fn each_error_class_has_its_own_exit_code() {
        let invalid = Error::Invalid(vec![FieldError::body("title", "must not be empty")]);
        assert_eq!(exit_code(&invalid), 2);
        assert_eq!(exit_code(&Error::not_found(Entity::Task)), 3);
        assert_eq!(exit_code(&Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" })), 4);
        let stale = Error::VersionConflict { entity: Entity::Task, expected: 1, actual: 2 };
        assert_eq!(exit_code(&stale), 4);
        assert_eq!(exit_code(&Error::Forbidden("observer".into())), 5);
        assert_eq!(exit_code(&Error::Unauthorized), 5);
        assert_eq!(exit_code(&Error::Unavailable("locked".into())), 6);
        assert_eq!(exit_code(&Error::Internal("bug".into())), 1);
    }
}
