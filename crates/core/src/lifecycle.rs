//! The purchase lifecycle after a notification: Google has just been re-read (the source of
//! truth) and told us what a token is now. Decide who owns it, what it entitles, and what we
//! owe Google — whatever the notification type said, so the order notifications arrive in
//! does not matter.
//!
//! Pure: ([`Context`] from the store, Google's answer, app policy, now) → [`Reconciled`].

use crate::verify::{self, AppPolicy, Decision, Rejection, VerifyRequest};
use crate::{AccountIdRule, EntitlementState, Observation, PurchaseRecord, UserId};

/// What the store knows around the token.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The token's own record, if it was seen before.
    pub stored: Option<&'a PurchaseRecord>,
    /// The owner of the token this one continues: its `linkedPurchaseToken` (plan change,
    /// re-signup, top-up), or the expired token of a resubscription bought in the Play Store
    /// (`outOfAppPurchaseContext`). The new token inherits the user.
    pub predecessor_owner: Option<&'a UserId>,
    /// A newer token names this one as its `linkedPurchaseToken`: this one lost access the
    /// moment it was replaced and never regains it, whatever arrives later.
    pub superseded: bool,
}

/// The outcome for one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// Stored for its owner, with its entitlements and what we owe Google.
    Owned(Box<Decision>),
    /// Nobody is known to own it yet (the app has not verified it, no linked token or account
    /// id tells): nothing can be granted, so nothing is acknowledged either. It waits for a
    /// verification or for its predecessor's owner.
    NoOwner,
    /// Google's answer contradicts what we hold (e.g. the obfuscated account id of another
    /// user): nothing changes.
    Refused(Rejection),
}

/// Whether a token replaces the one its `linkedPurchaseToken` names: not while its payment
/// is pending, nor when that pending change was abandoned (code 20: the older subscription
/// is unaffected).
pub fn replaces_predecessor(state: &crate::PurchaseState) -> bool {
    !matches!(
        state,
        crate::PurchaseState::Pending | crate::PurchaseState::PendingPurchaseCanceled
    )
}

/// Who owns the token: the stored owner, else the predecessor's, else the obfuscated account
/// id when the app sends user ids raw.
pub fn owner<'a>(ctx: &Context<'a>, seen: &Observation, policy: &AppPolicy) -> Option<UserId> {
    if let Some(stored) = ctx.stored {
        return Some(stored.user_id.clone());
    }
    if let Some(owner) = ctx.predecessor_owner {
        return Some(owner.clone());
    }
    match policy.account_id_rule {
        AccountIdRule::Raw => seen
            .obfuscated_account_id
            .as_deref()
            .and_then(|id| UserId::parse(id).ok()),
        _ => None,
    }
}

pub fn reconcile(
    ctx: &Context<'_>,
    package: &crate::PackageName,
    token: &crate::PurchaseToken,
    seen: &Observation,
    policy: &AppPolicy,
    now: i64,
) -> Reconciled {
    let Some(user_id) = owner(ctx, seen, policy) else {
        return Reconciled::NoOwner;
    };
    // The product the purchase is known by: what the app verified, else Google's first item.
    let product_id = match (ctx.stored, seen.items.first()) {
        (Some(stored), _) => stored.product_id.clone(),
        (None, Some(item)) => item.product_id.clone(),
        (None, None) => return Reconciled::NoOwner,
    };
    let req = VerifyRequest {
        package: package.clone(),
        user_id,
        product_id,
        token: token.clone(),
        kind: seen.kind,
    };
    let mut decision = match verify::decide(ctx.stored, &req, seen, policy, now) {
        Ok(d) => d,
        Err(rejection) => return Reconciled::Refused(rejection),
    };
    if ctx.superseded {
        supersede(&mut decision);
    }
    Reconciled::Owned(Box::new(decision))
}

/// A replaced token's decision: nothing it carries is active, nothing is owed for it (the
/// replacing token is the one to acknowledge).
pub fn supersede(decision: &mut Decision) {
    for e in &mut decision.entitlements {
        if e.state == EntitlementState::Active {
            e.state = EntitlementState::Inactive;
        }
    }
    decision.actions.clear();
    decision.outcome = verify::Outcome::NotEntitled;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Action, Outcome};
    use crate::{ObservedItem, PackageName, ProductId, ProductKind, PurchaseState, PurchaseToken};

    const NOW: i64 = 1_000_000;
    const LATER: i64 = NOW + 86_400_000;

    fn pkg() -> PackageName {
        PackageName::parse("com.example.app").unwrap()
    }
    fn token(t: &str) -> PurchaseToken {
        PurchaseToken::parse(t).unwrap()
    }
    fn user(u: &str) -> UserId {
        UserId::parse(u).unwrap()
    }

    fn sub(state: PurchaseState, expires: i64, acked: bool) -> Observation {
        Observation {
            kind: ProductKind::Subscription,
            state,
            acknowledged: acked,
            items: vec![ObservedItem {
                product_id: ProductId::parse("pro").unwrap(),
                quantity: 1,
                refundable_quantity: None,
                expires_at: Some(expires),
                auto_renewing: true,
                consumed: false,
            }],
            order_id: Some("GPA.1".into()),
            linked_purchase_token: None,
            out_of_app_expired_token: None,
            obfuscated_account_id: None,
            test_purchase: false,
            started_at: Some(NOW - 1000),
        }
    }

    fn stored_for(owner: &str, t: &str, seen: &Observation) -> PurchaseRecord {
        let req = VerifyRequest {
            package: pkg(),
            user_id: user(owner),
            product_id: ProductId::parse("pro").unwrap(),
            token: token(t),
            kind: seen.kind,
        };
        verify::decide(None, &req, seen, &AppPolicy::default(), NOW)
            .unwrap()
            .record
    }

    fn active(r: &Reconciled) -> Vec<String> {
        match r {
            Reconciled::Owned(d) => d
                .entitlements
                .iter()
                .filter(|e| e.state == EntitlementState::Active)
                .map(|e| e.name.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn owner_of(r: &Reconciled) -> Option<String> {
        match r {
            Reconciled::Owned(d) => Some(d.record.user_id.to_string()),
            _ => None,
        }
    }

    /// One row: the context, Google's answer, and what must come out.
    struct Row {
        name: &'static str,
        stored_owner: Option<&'static str>,
        predecessor: Option<&'static str>,
        superseded: bool,
        rule: AccountIdRule,
        seen: Observation,
        owner: Option<&'static str>,
        active: &'static [&'static str],
        acknowledge: bool,
    }

    #[test]
    fn table() {
        let mut raw_id = sub(PurchaseState::Active, LATER, false);
        raw_id.obfuscated_account_id = Some("carol".into());
        let rows = [
            Row {
                name: "renewed, stored owner keeps access",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Active, LATER, true),
                owner: Some("alice"),
                active: &["pro"],
                acknowledge: false,
            },
            Row {
                name: "canceled keeps access until expiry",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Canceled, LATER, true),
                owner: Some("alice"),
                active: &["pro"],
                acknowledge: false,
            },
            Row {
                name: "canceled past expiry: no access (canceled is not expired, but ended)",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Canceled, NOW - 1, true),
                owner: Some("alice"),
                active: &[],
                acknowledge: false,
            },
            Row {
                name: "grace keeps access",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::InGracePeriod, LATER, true),
                owner: Some("alice"),
                active: &["pro"],
                acknowledge: false,
            },
            Row {
                name: "hold removes access",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::OnHold, NOW - 1, true),
                owner: Some("alice"),
                active: &[],
                acknowledge: false,
            },
            Row {
                name: "paused removes access",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Paused, NOW - 1, true),
                owner: Some("alice"),
                active: &[],
                acknowledge: false,
            },
            Row {
                name: "revoked / expired removes access now",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Expired, NOW, true),
                owner: Some("alice"),
                active: &[],
                acknowledge: false,
            },
            Row {
                name: "new token inherits the predecessor's owner and is acknowledged",
                stored_owner: None,
                predecessor: Some("bob"),
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Active, LATER, false),
                owner: Some("bob"),
                active: &["pro"],
                acknowledge: true,
            },
            Row {
                name: "superseded token never grants, even when Google still says ACTIVE",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: true,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Active, LATER, false),
                owner: Some("alice"),
                active: &[],
                acknowledge: false,
            },
            Row {
                name: "unknown owner: nothing granted or acknowledged",
                stored_owner: None,
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Sha256,
                seen: sub(PurchaseState::Active, LATER, false),
                owner: None,
                active: &[],
                acknowledge: false,
            },
            Row {
                name: "raw account ids name the owner",
                stored_owner: None,
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Raw,
                seen: raw_id,
                owner: Some("carol"),
                active: &["pro"],
                acknowledge: true,
            },
            Row {
                name: "pending: nothing granted yet",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(PurchaseState::Pending, LATER, false),
                owner: Some("alice"),
                active: &[],
                acknowledge: false,
            },
            Row {
                name: "unknown future state: kept, never grants",
                stored_owner: Some("alice"),
                predecessor: None,
                superseded: false,
                rule: AccountIdRule::Ignore,
                seen: sub(
                    PurchaseState::Unknown("SUBSCRIPTION_STATE_NEW".into()),
                    LATER,
                    true,
                ),
                owner: Some("alice"),
                active: &[],
                acknowledge: false,
            },
        ];
        for row in rows {
            let stored = row.stored_owner.map(|o| stored_for(o, "t1", &row.seen));
            let pred = row.predecessor.map(user);
            let ctx = Context {
                stored: stored.as_ref(),
                predecessor_owner: pred.as_ref(),
                superseded: row.superseded,
            };
            let policy = AppPolicy {
                account_id_rule: row.rule,
                ..AppPolicy::default()
            };
            let got = reconcile(&ctx, &pkg(), &token("t1"), &row.seen, &policy, NOW);
            assert_eq!(owner_of(&got).as_deref(), row.owner, "{}", row.name);
            assert_eq!(active(&got), row.active, "{}", row.name);
            let acks = match &got {
                Reconciled::Owned(d) => d
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::Acknowledge { .. })),
                _ => false,
            };
            assert_eq!(acks, row.acknowledge, "{}", row.name);
            if row.superseded
                && let Reconciled::Owned(d) = &got
            {
                assert_eq!(d.outcome, Outcome::NotEntitled, "{}", row.name);
            }
        }
    }

    #[test]
    fn a_pending_or_abandoned_change_leaves_the_old_token_alone() {
        assert!(!replaces_predecessor(&PurchaseState::Pending));
        assert!(!replaces_predecessor(
            &PurchaseState::PendingPurchaseCanceled
        ));
        assert!(replaces_predecessor(&PurchaseState::Active));
        assert!(replaces_predecessor(&PurchaseState::Expired));
    }

    #[test]
    fn another_users_account_id_is_refused() {
        let mut seen = sub(PurchaseState::Active, LATER, true);
        seen.obfuscated_account_id = Some("mallory".into());
        let pred = user("bob");
        let ctx = Context {
            predecessor_owner: Some(&pred),
            ..Context::default()
        };
        let policy = AppPolicy {
            account_id_rule: AccountIdRule::Raw,
            ..AppPolicy::default()
        };
        let got = reconcile(&ctx, &pkg(), &token("t2"), &seen, &policy, NOW);
        assert_eq!(got, Reconciled::Refused(Rejection::AccountMismatch));
    }
}
