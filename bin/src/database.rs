//! Opening the database (which creates and migrates it) and deciding who a
//! command acts as. `steward migrate` lives here because opening is all it
//! does.

use steward::core::webhook::Targets;
use steward::{Principal, Steward};

use crate::cli::Global;
use crate::errors::Failure;
use crate::output::Output;

/// Opens the store named by `--database-url`, migrating it to the current
/// schema, with the webhook targets `--webhook-allow-private` allows.
pub(crate) async fn open(global: &Global) -> Result<Steward, Failure> {
    let targets = if global.webhook_allow_private { Targets::AnyAddress } else { Targets::PublicOnly };
    let steward = Steward::open(&global.database_url).await?.with_webhook_targets(targets);
    Ok(match global.webhook_cache_ttl {
        Some(seconds) => steward.with_webhook_cache_ttl(std::time::Duration::from_secs(seconds)),
        None => steward,
    })
}

/// The opened store and who the command acts as ([`principal`]).
pub(crate) async fn session(global: &Global) -> Result<(Steward, Principal), Failure> {
    let steward = open(global).await?;
    let p = principal(&steward, global).await?;
    Ok((steward, p))
}

/// `--user EMAIL` (or `STEWARD_USER`), else the local operator. The person
/// at the terminal is the local operator (an admin): naming a user means
/// the operator acts as that user, with that user's role.
pub(crate) async fn principal(steward: &Steward, global: &Global) -> Result<Principal, Failure> {
    match named_user(global) {
        Some(email) => named_principal(steward, email).await,
        None => Ok(steward.local_principal().await?),
    }
}

/// The user named by `--user EMAIL`, which the command requires.
pub(crate) async fn required_principal(steward: &Steward, global: &Global) -> Result<Principal, Failure> {
    match named_user(global) {
        Some(email) => named_principal(steward, email).await,
        None => {
            Err(steward::Error::invalid("user", "this command needs --user EMAIL (or STEWARD_USER) to say whose it is")
                .into())
        }
    }
}

/// The email given, if any; an empty one (`STEWARD_USER=`) counts as none.
fn named_user(global: &Global) -> Option<&str> {
    global.user.as_deref().map(str::trim).filter(|email| !email.is_empty())
}

async fn named_principal(steward: &Steward, email: &str) -> Result<Principal, Failure> {
    let operator = steward.local_principal().await?;
    steward.principal_for(&operator, email).await.map_err(Failure::about(format!("--user {email}")))
}

/// `steward migrate`.
pub(crate) async fn migrate(global: &Global, out: Output) -> Result<(), Failure> {
    open(global).await?;
    let url = global.database_url.as_str();
    let report = serde_json::json!({ "database_url": url, "schema": "current" });
    out.emit(&report, || format!("{url}: schema is current"))
}
