//! The rule that ties Google's `obfuscatedExternalAccountId` to our user id. Apps pass an
//! obfuscated account id to the Play Billing Library when a purchase starts; when Google
//! reports one, the user who verifies the token must be the one it names.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::UserId;

/// How the app derives the obfuscated account id from its user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountIdRule {
    /// The lowercase hex SHA-256 of the user id (what Google recommends apps send).
    #[default]
    Sha256,
    /// The user id itself.
    Raw,
    /// Do not compare.
    Ignore,
}

impl AccountIdRule {
    /// Whether `reported` (Google's obfuscated account id) is consistent with `user`.
    /// An absent id is always consistent: the app simply did not set one.
    pub fn matches(self, user: &UserId, reported: Option<&str>) -> bool {
        let Some(reported) = reported else {
            return true;
        };
        match self {
            AccountIdRule::Ignore => true,
            AccountIdRule::Raw => reported == user.as_str(),
            AccountIdRule::Sha256 => reported.eq_ignore_ascii_case(&sha256_hex(user.as_str())),
        }
    }
}

/// Lowercase hex SHA-256 of a string.
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rule: AccountIdRule, user: &str, reported: Option<&str>, expect: bool) {
        let user = UserId::parse(user).unwrap();
        assert_eq!(
            rule.matches(&user, reported),
            expect,
            "{rule:?} {user} {reported:?}"
        );
    }

    #[test]
    fn table() {
        let alice = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90";
        check(AccountIdRule::Sha256, "alice", Some(alice), true);
        check(AccountIdRule::Sha256, "alice", Some("alice"), false);
        check(AccountIdRule::Sha256, "alice", None, true);
        check(AccountIdRule::Raw, "alice", Some("alice"), true);
        check(AccountIdRule::Raw, "alice", Some("bob"), false);
        check(AccountIdRule::Ignore, "alice", Some("bob"), true);
    }
}
