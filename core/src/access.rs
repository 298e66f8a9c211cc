//! Who may do what: the role rules of the HTTP contract (`API.md` §1), in
//! one place, enforced by the engine for every frontend alike.
//!
//! Every engine operation names the [`Access`] it needs and asks the acting
//! [`Principal`]; no frontend re-decides it. Owner scoping is separate and
//! always on: a principal reads and writes its own user's records, and
//! another user's record is "not found", never "forbidden".

use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::user::{Principal, Role};

/// What an operation needs from its caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Read the principal's own records.
    ReadOwn,
    /// Change the principal's own records.
    WriteOwn,
    /// Create, list and revoke the principal's own API keys.
    ManageKeys,
    /// Create users and read other users' accounts.
    ManageUsers,
    /// Act on another user's records (an admin helping, the CLI's `--user`).
    OtherUsers,
    /// Run and operate the work queue: enqueue, claim, finish, the sweeps,
    /// list, retry and cancel anyone's jobs, queue statistics.
    OperateQueue,
    /// Read the system log and read or change a server's runtime
    /// configuration (`/logs`, `/config`).
    Administer,
}

impl Access {
    /// Every access, for tables and tests.
    pub const ALL: [Access; 7] = [
        Access::ReadOwn,
        Access::WriteOwn,
        Access::ManageKeys,
        Access::ManageUsers,
        Access::OtherUsers,
        Access::OperateQueue,
        Access::Administer,
    ];

    /// The rule itself: whether `role` has this access.
    pub fn allowed(self, role: Role) -> bool {
        match self {
            Access::ReadOwn => true,
            Access::WriteOwn => role != Role::Observer,
            // The system acts for no user of its own, so it holds no keys.
            Access::ManageKeys => matches!(role, Role::Admin | Role::User),
            Access::ManageUsers | Access::OtherUsers | Access::OperateQueue => {
                matches!(role, Role::Admin | Role::System)
            }
            // A person's decision: the system changes no configuration.
            Access::Administer => role == Role::Admin,
        }
    }

    fn refusal(self, role: Role) -> String {
        match self {
            Access::ReadOwn => format!("a {role} cannot read this"),
            Access::WriteOwn => format!("a {role} cannot change data"),
            Access::ManageKeys => format!("a {role} cannot manage API keys"),
            Access::ManageUsers => format!("a {role} cannot manage users"),
            Access::OtherUsers => format!("a {role} cannot act on another user's data"),
            Access::OperateQueue => format!("a {role} cannot operate the work queue"),
            Access::Administer => format!("a {role} cannot read the system log or the server's configuration"),
        }
    }
}

impl Principal {
    /// The engine's own principal, for the worker and the scheduler: it may
    /// operate the queue and run the sweeps over every user. It belongs to
    /// no user (events it causes have no actor) and cannot be stored, granted
    /// or authenticated as.
    pub fn system() -> Principal {
        Principal { user_id: UserId(uuid::Uuid::nil()), role: Role::System }
    }

    pub fn is_system(&self) -> bool {
        self.role == Role::System
    }

    /// `Ok` when the role has `access`, else `Forbidden` saying why.
    pub fn require(&self, access: Access) -> Result<()> {
        if access.allowed(self.role) { Ok(()) } else { Err(Error::Forbidden(access.refusal(self.role))) }
    }

    pub(crate) fn require_write(&self) -> Result<()> {
        self.require(Access::WriteOwn)
    }

    /// This principal acting on `owner`'s records: itself when they are
    /// its own; otherwise, with [`Access::OtherUsers`] (the system, an
    /// admin), the same role scoped to `owner`. The system stays the system,
    /// so what it does there has no actor.
    pub fn acting_for(&self, owner: UserId) -> Result<Principal> {
        if self.user_id == owner {
            return Ok(*self);
        }
        self.require(Access::OtherUsers)?;
        Ok(Principal { user_id: owner, role: self.role })
    }

    /// Whether this principal may see `owner`'s records: its own, or anyone's
    /// with [`Access::OtherUsers`].
    pub fn may_act_for(&self, owner: UserId) -> bool {
        self.user_id == owner || Access::OtherUsers.allowed(self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of `API.md` §1, row by row.
    #[test]
    fn roles_have_exactly_the_access_of_the_contract() {
        use Access::*;
        let table = [
            (Role::Admin, vec![ReadOwn, WriteOwn, ManageKeys, ManageUsers, OtherUsers, OperateQueue, Administer]),
            (Role::User, vec![ReadOwn, WriteOwn, ManageKeys]),
            (Role::Observer, vec![ReadOwn]),
            (Role::Api, vec![ReadOwn, WriteOwn]),
            (Role::System, vec![ReadOwn, WriteOwn, ManageUsers, OtherUsers, OperateQueue]),
        ];
        for (role, granted) in table {
            for access in Access::ALL {
                assert_eq!(access.allowed(role), granted.contains(&access), "{role} × {access:?}");
                let principal = Principal { user_id: UserId(uuid::Uuid::nil()), role };
                match principal.require(access) {
                    Ok(()) => assert!(granted.contains(&access)),
                    Err(Error::Forbidden(why)) => assert!(why.contains(role.as_str()), "{why}"),
                    Err(other) => panic!("{other:?}"),
                }
            }
        }
    }
}
