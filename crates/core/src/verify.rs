//! The decision behind `purchases:verify`: an app hands us a token for a user; Google has
//! told us what the token is. Decide whether it binds to that user, what it entitles, and
//! what we still owe Google (acknowledge, consume).
//!
//! Pure: (stored record, request, Google's answer, app policy, now) → [`Decision`] or
//! [`Rejection`]. The server does the I/O around it.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    AccountIdRule, Entitlement, EntitlementState, Observation, PackageName, ProductId, ProductKind,
    PurchaseRecord, PurchaseState, PurchaseToken, Source, UserId,
};

/// Per-app settings the decisions depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppPolicy {
    pub account_id_rule: AccountIdRule,
    /// Product ids consumed after granting (the user may buy them again).
    pub consumables: BTreeSet<String>,
    /// Product id → entitlement names. A product not listed grants one entitlement named
    /// after the product id itself.
    pub entitlements: BTreeMap<String, Vec<String>>,
}

impl AppPolicy {
    pub fn entitlement_names(&self, product: &ProductId) -> Vec<String> {
        match self.entitlements.get(product.as_str()) {
            Some(names) if !names.is_empty() => names.clone(),
            _ => vec![product.as_str().to_owned()],
        }
    }
    pub fn is_consumable(&self, product: &ProductId) -> bool {
        self.consumables.contains(product.as_str())
    }
}

/// What the app asked us to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    pub package: PackageName,
    pub user_id: UserId,
    pub product_id: ProductId,
    pub token: PurchaseToken,
    pub kind: ProductKind,
}

/// Something we owe Google once the grant is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `purchases.products.acknowledge` or `purchases.subscriptions.acknowledge`.
    Acknowledge {
        kind: ProductKind,
        product_id: ProductId,
    },
    /// `purchases.products.consume` (which also acknowledges).
    Consume { product_id: ProductId },
}

/// How the verification came out, for the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// At least one entitlement is active.
    Entitled,
    /// Payment not completed yet: nothing granted; a notification will complete it.
    Pending,
    /// Google knows the purchase but it gives no access now (expired, cancelled…).
    NotEntitled,
}

/// Why a token may not be bound to the requesting user. Nothing is stored but an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("purchase token belongs to product(s) {actual:?}, not {requested}")]
    ProductMismatch {
        requested: String,
        actual: Vec<String>,
    },
    #[error("purchase token is already bound to another user")]
    BoundToOtherUser,
    #[error("the purchase's obfuscated account id does not match this user")]
    AccountMismatch,
}

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub record: PurchaseRecord,
    /// Every entitlement this purchase carries, active or not, to be upserted.
    pub entitlements: Vec<Entitlement>,
    /// Calls owed to Google, in order, after the record is committed.
    pub actions: Vec<Action>,
    pub outcome: Outcome,
    /// True when this verification binds the token to the user for the first time.
    pub newly_bound: bool,
}

/// Whether a subscription in `state` whose latest expiry is `expires_at` gives access at `now`
/// (reference section 7): Google's state decides for ACTIVE and IN_GRACE_PERIOD — the expiry
/// may lag a renewal in progress ("silent grace") — and CANCELED keeps access until expiry.
pub fn subscription_grants(state: &PurchaseState, expires_at: Option<i64>, now: i64) -> bool {
    match state {
        PurchaseState::Active | PurchaseState::InGracePeriod => true,
        PurchaseState::Canceled => expires_at.is_some_and(|e| e > now),
        _ => false,
    }
}

pub fn decide(
    stored: Option<&PurchaseRecord>,
    req: &VerifyRequest,
    seen: &Observation,
    policy: &AppPolicy,
    now: i64,
) -> Result<Decision, Rejection> {
    // Ownership first: another user learns nothing about a bound token.
    if let Some(stored) = stored
        && stored.user_id != req.user_id
    {
        return Err(Rejection::BoundToOtherUser);
    }
    let item = seen
        .items
        .iter()
        .find(|i| i.product_id == req.product_id)
        .ok_or_else(|| Rejection::ProductMismatch {
            requested: req.product_id.to_string(),
            actual: seen
                .items
                .iter()
                .map(|i| i.product_id.to_string())
                .collect(),
        })?;
    if !policy
        .account_id_rule
        .matches(&req.user_id, seen.obfuscated_account_id.as_deref())
    {
        return Err(Rejection::AccountMismatch);
    }

    let record = PurchaseRecord {
        package: req.package.clone(),
        token: req.token.clone(),
        kind: seen.kind,
        user_id: req.user_id.clone(),
        product_id: req.product_id.clone(),
        state: seen.state.clone(),
        acknowledged: seen.acknowledged,
        consumed: item.consumed,
        quantity: item.quantity,
        order_id: seen.order_id.clone(),
        linked_purchase_token: seen.linked_purchase_token.clone(),
        expires_at: seen.expires_at(),
        auto_renewing: seen.kind == ProductKind::Subscription && item.auto_renewing,
        test_purchase: seen.test_purchase,
        started_at: seen.started_at,
    };

    let (entitlements, entitled) = entitlements_for(seen, policy, now);
    let mut actions = Vec::new();
    match seen.kind {
        ProductKind::OneTime if seen.state == PurchaseState::Purchased => {
            if policy.is_consumable(&item.product_id) && !item.consumed {
                actions.push(Action::Consume {
                    product_id: item.product_id.clone(),
                });
            } else if !seen.acknowledged {
                actions.push(Action::Acknowledge {
                    kind: ProductKind::OneTime,
                    product_id: item.product_id.clone(),
                });
            }
        }
        ProductKind::Subscription if entitled && !seen.acknowledged => {
            actions.push(Action::Acknowledge {
                kind: ProductKind::Subscription,
                product_id: item.product_id.clone(),
            });
        }
        _ => {}
    }

    let outcome = if seen.state == PurchaseState::Pending {
        Outcome::Pending
    } else if entitled {
        Outcome::Entitled
    } else {
        Outcome::NotEntitled
    };
    Ok(Decision {
        record,
        entitlements,
        actions,
        outcome,
        newly_bound: stored.is_none(),
    })
}

/// The entitlements Google's answer implies, and whether any of them is active.
fn entitlements_for(seen: &Observation, policy: &AppPolicy, now: i64) -> (Vec<Entitlement>, bool) {
    if seen.state == PurchaseState::Pending {
        return (Vec::new(), false);
    }
    let mut out = Vec::new();
    // With several line items (add-ons), an item whose own expiry passed while others run
    // has ended; when all are past, the state (e.g. silent grace) decides for all.
    let all_past = seen
        .items
        .iter()
        .all(|i| i.expires_at.is_some_and(|e| e <= now));
    for item in &seen.items {
        let state = match seen.kind {
            ProductKind::OneTime => match seen.state {
                PurchaseState::Purchased if item.consumed => EntitlementState::Consumed,
                PurchaseState::Purchased => EntitlementState::Active,
                _ => EntitlementState::Inactive,
            },
            ProductKind::Subscription => {
                let item_running = all_past || item.expires_at.is_none_or(|e| e > now);
                if subscription_grants(&seen.state, item.expires_at, now) && item_running {
                    EntitlementState::Active
                } else {
                    EntitlementState::Inactive
                }
            }
        };
        for name in policy.entitlement_names(&item.product_id) {
            out.push(Entitlement {
                name,
                product_id: item.product_id.clone(),
                source: Source::GooglePlay,
                state,
                expires_at: item.expires_at,
                auto_renewing: seen.kind == ProductKind::Subscription && item.auto_renewing,
                // Units refunded (a quantity-based partial refund) are no longer owned.
                quantity: item.refundable_quantity.unwrap_or(item.quantity),
                test_purchase: seen.test_purchase,
            });
        }
    }
    let entitled = out.iter().any(|e| e.state == EntitlementState::Active);
    (out, entitled)
}

impl Decision {
    /// Records that an action succeeded at Google: acknowledging sets the flag; consuming
    /// acknowledges too and turns the consumable's entitlements into delivered records.
    pub fn completed(&mut self, action: &Action) {
        match action {
            Action::Acknowledge { .. } => self.record.acknowledged = true,
            Action::Consume { product_id } => {
                self.record.acknowledged = true;
                self.record.consumed = true;
                for e in &mut self.entitlements {
                    if &e.product_id == product_id && e.state == EntitlementState::Active {
                        e.state = EntitlementState::Consumed;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObservedItem;

    const NOW: i64 = 1_800_000_000_000;
    const DAY: i64 = 86_400_000;

    fn req(user: &str, product: &str, kind: ProductKind) -> VerifyRequest {
        VerifyRequest {
            package: PackageName::parse("com.example").unwrap(),
            user_id: UserId::parse(user).unwrap(),
            product_id: ProductId::parse(product).unwrap(),
            token: PurchaseToken::parse("tok").unwrap(),
            kind,
        }
    }

    fn one_time(state: &str, acked: bool, consumed: bool) -> Observation {
        Observation {
            kind: ProductKind::OneTime,
            state: PurchaseState::parse(state),
            acknowledged: acked,
            items: vec![ObservedItem {
                product_id: ProductId::parse("gems").unwrap(),
                expires_at: None,
                auto_renewing: false,
                quantity: 2,
                refundable_quantity: Some(2),
                consumed,
            }],
            order_id: Some("GPA.1".into()),
            linked_purchase_token: None,
            out_of_app_expired_token: None,
            obfuscated_account_id: None,
            test_purchase: false,
            started_at: Some(NOW - DAY),
        }
    }

    fn sub(state: &str, expires_in: i64, acked: bool) -> Observation {
        Observation {
            kind: ProductKind::Subscription,
            state: PurchaseState::parse(state),
            acknowledged: acked,
            items: vec![ObservedItem {
                product_id: ProductId::parse("premium").unwrap(),
                expires_at: Some(NOW + expires_in),
                auto_renewing: state == "SUBSCRIPTION_STATE_ACTIVE",
                quantity: 1,
                refundable_quantity: None,
                consumed: false,
            }],
            order_id: Some("GPA.2".into()),
            linked_purchase_token: None,
            out_of_app_expired_token: None,
            obfuscated_account_id: None,
            test_purchase: false,
            started_at: Some(NOW - DAY),
        }
    }

    fn policy(consumable: bool) -> AppPolicy {
        let mut p = AppPolicy::default();
        if consumable {
            p.consumables.insert("gems".into());
        }
        p.entitlements
            .insert("premium".into(), vec!["pro".into(), "no_ads".into()]);
        p
    }

    /// One row of a table: Google's answer → (outcome, active entitlement names, actions).
    fn check(
        seen: Observation,
        consumable: bool,
        outcome: Outcome,
        active: &[&str],
        actions: &[&str],
    ) {
        let product = seen.items[0].product_id.to_string();
        let d = decide(
            None,
            &req("u1", &product, seen.kind),
            &seen,
            &policy(consumable),
            NOW,
        )
        .expect("accepted");
        assert_eq!(d.outcome, outcome, "{seen:?}");
        let got: Vec<_> = d
            .entitlements
            .iter()
            .filter(|e| e.state == EntitlementState::Active)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(got, active, "{seen:?}");
        let got: Vec<_> = d
            .actions
            .iter()
            .map(|a| match a {
                Action::Acknowledge { .. } => "ack",
                Action::Consume { .. } => "consume",
            })
            .collect();
        assert_eq!(got, actions, "{seen:?}");
    }

    #[test]
    fn one_time_table() {
        use Outcome::*;
        check(
            one_time("PURCHASED", false, false),
            false,
            Entitled,
            &["gems"],
            &["ack"],
        );
        check(
            one_time("PURCHASED", true, false),
            false,
            Entitled,
            &["gems"],
            &[],
        );
        check(
            one_time("PURCHASED", false, false),
            true,
            Entitled,
            &["gems"],
            &["consume"],
        );
        check(
            one_time("PURCHASED", true, true),
            true,
            NotEntitled,
            &[],
            &[],
        );
        check(one_time("PENDING", false, false), false, Pending, &[], &[]);
        check(
            one_time("CANCELLED", false, false),
            false,
            NotEntitled,
            &[],
            &[],
        );
        check(
            one_time("SOMETHING_NEW", false, false),
            false,
            NotEntitled,
            &[],
            &[],
        );
    }

    #[test]
    fn subscription_table() {
        use Outcome::*;
        let s = |x: &str| format!("SUBSCRIPTION_STATE_{x}");
        check(
            sub(&s("ACTIVE"), DAY, false),
            false,
            Entitled,
            &["pro", "no_ads"],
            &["ack"],
        );
        check(
            sub(&s("ACTIVE"), DAY, true),
            false,
            Entitled,
            &["pro", "no_ads"],
            &[],
        );
        check(
            sub(&s("IN_GRACE_PERIOD"), DAY, true),
            false,
            Entitled,
            &["pro", "no_ads"],
            &[],
        );
        check(
            sub(&s("CANCELED"), DAY, true),
            false,
            Entitled,
            &["pro", "no_ads"],
            &[],
        );
        check(sub(&s("CANCELED"), -1, true), false, NotEntitled, &[], &[]);
        // Google's state decides while a renewal is under way (expiry not yet moved).
        check(
            sub(&s("ACTIVE"), -1, true),
            false,
            Entitled,
            &["pro", "no_ads"],
            &[],
        );
        check(
            sub(&s("IN_GRACE_PERIOD"), -1, true),
            false,
            Entitled,
            &["pro", "no_ads"],
            &[],
        );
        check(sub(&s("EXPIRED"), -DAY, true), false, NotEntitled, &[], &[]);
        check(sub(&s("ON_HOLD"), -DAY, true), false, NotEntitled, &[], &[]);
        check(sub(&s("PAUSED"), -DAY, true), false, NotEntitled, &[], &[]);
        check(sub(&s("PENDING"), DAY, false), false, Pending, &[], &[]);
        check(
            sub(&s("PENDING_PURCHASE_CANCELED"), DAY, false),
            false,
            NotEntitled,
            &[],
            &[],
        );
        check(
            sub(&s("UNSPECIFIED"), DAY, false),
            false,
            NotEntitled,
            &[],
            &[],
        );
        check(
            sub("SUBSCRIPTION_STATE_FROM_THE_FUTURE", DAY, false),
            false,
            NotEntitled,
            &[],
            &[],
        );
    }

    #[test]
    fn binding_rules() {
        let seen = one_time("PURCHASED", true, false);
        let p = policy(false);
        let first = decide(
            None,
            &req("u1", "gems", ProductKind::OneTime),
            &seen,
            &p,
            NOW,
        )
        .unwrap();
        assert!(first.newly_bound);
        let again = decide(
            Some(&first.record),
            &req("u1", "gems", ProductKind::OneTime),
            &seen,
            &p,
            NOW,
        )
        .unwrap();
        assert!(!again.newly_bound);
        assert_eq!(again.entitlements, first.entitlements);
        assert_eq!(
            decide(
                Some(&first.record),
                &req("u2", "gems", ProductKind::OneTime),
                &seen,
                &p,
                NOW
            ),
            Err(Rejection::BoundToOtherUser)
        );
        assert!(matches!(
            decide(
                None,
                &req("u1", "other", ProductKind::OneTime),
                &seen,
                &p,
                NOW
            ),
            Err(Rejection::ProductMismatch { .. })
        ));
        assert_eq!(
            decide(
                Some(&first.record),
                &req("u2", "other", ProductKind::OneTime),
                &seen,
                &p,
                NOW
            ),
            Err(Rejection::BoundToOtherUser),
            "another user probing with a wrong product learns nothing about the token"
        );
        let mut foreign = seen.clone();
        foreign.obfuscated_account_id = Some(crate::account::sha256_hex("u9"));
        assert_eq!(
            decide(
                None,
                &req("u1", "gems", ProductKind::OneTime),
                &foreign,
                &p,
                NOW
            ),
            Err(Rejection::AccountMismatch)
        );
        assert!(
            decide(
                None,
                &req("u9", "gems", ProductKind::OneTime),
                &foreign,
                &p,
                NOW
            )
            .is_ok()
        );
    }

    #[test]
    fn an_ended_add_on_is_not_granted_while_the_base_runs() {
        let mut seen = sub("SUBSCRIPTION_STATE_ACTIVE", DAY, true);
        let mut addon = seen.items[0].clone();
        addon.product_id = ProductId::parse("addon").unwrap();
        addon.expires_at = Some(NOW - 1);
        seen.items.push(addon);
        let d = decide(
            None,
            &req("u1", "premium", ProductKind::Subscription),
            &seen,
            &policy(false),
            NOW,
        )
        .unwrap();
        let active: Vec<_> = d
            .entitlements
            .iter()
            .filter(|e| e.state == EntitlementState::Active)
            .map(|e| e.product_id.as_str())
            .collect();
        assert_eq!(active, ["premium", "premium"]);
    }

    #[test]
    fn consume_completion_delivers() {
        let seen = one_time("PURCHASED", false, false);
        let mut d = decide(
            None,
            &req("u1", "gems", ProductKind::OneTime),
            &seen,
            &policy(true),
            NOW,
        )
        .unwrap();
        let action = d.actions[0].clone();
        d.completed(&action);
        assert!(d.record.acknowledged && d.record.consumed);
        assert_eq!(d.entitlements[0].state, EntitlementState::Consumed);
        assert_eq!(d.entitlements[0].quantity, 2);
    }
}
