//! Entitlements: the named rights a user holds ("premium", "coins_100"), each traced to the
//! purchase (or other source) that granted it.

use serde::{Deserialize, Serialize};

use crate::ProductId;

/// Where a Play entitlement comes from. Rights from other platforms and promotions are
/// [`Grant`]s, merged with these in [`Rights`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    GooglePlay,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::GooglePlay => "google_play",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        (s == "google_play").then_some(Source::GooglePlay)
    }
}

/// Whether an entitlement gives access now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementState {
    /// Gives access.
    Active,
    /// A consumable whose goods were delivered and consumed: a record, no longer a right.
    Consumed,
    /// The purchase no longer entitles (expired, on hold, paused, cancelled, refunded…).
    Inactive,
}

impl EntitlementState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntitlementState::Active => "active",
            EntitlementState::Consumed => "consumed",
            EntitlementState::Inactive => "inactive",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(EntitlementState::Active),
            "consumed" => Some(EntitlementState::Consumed),
            "inactive" => Some(EntitlementState::Inactive),
            _ => None,
        }
    }
}

/// One right granted by one product of one purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    pub name: String,
    pub product_id: ProductId,
    pub source: Source,
    pub state: EntitlementState,
    /// End of access, epoch ms; `None` for one-time products (no end).
    pub expires_at: Option<i64>,
    pub auto_renewing: bool,
    pub quantity: i64,
    /// Granted by a license tester's purchase: no real money changed hands.
    pub test_purchase: bool,
}

/// What decides whether a stored purchase's entitlements give access at a moment: the facts
/// of the purchase an entitlement is held through (neither replaced nor revoked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub token: crate::PurchaseToken,
    pub product_id: ProductId,
    pub kind: crate::ProductKind,
    pub state: crate::PurchaseState,
    pub expires_at: Option<i64>,
}

/// Whether `e`, held through `p`, gives access at `now` (reference section 7): it is active,
/// and either not past its expiry or its subscription's last known state is ACTIVE or
/// IN_GRACE_PERIOD — while a renewal is under way Google's state decides, and
/// [`needs_refresh`] has the server re-read it first.
pub fn grants_at(e: &Entitlement, p: &Holding, now: i64) -> bool {
    e.state == EntitlementState::Active
        && (e.expires_at.is_none_or(|t| t > now)
            || matches!(
                p.state,
                crate::PurchaseState::Active | crate::PurchaseState::InGracePeriod
            ))
}

/// Whether purchase `p` should be re-read from Google before its entitlements are listed at
/// `now`: a subscription that still grants by its stored state but whose expiry has passed
/// (a renewal, a restore or a lapse we have not heard of).
pub fn needs_refresh(p: &Holding, now: i64) -> bool {
    p.kind == crate::ProductKind::Subscription
        && matches!(
            p.state,
            crate::PurchaseState::Active
                | crate::PurchaseState::InGracePeriod
                | crate::PurchaseState::Canceled
        )
        && p.expires_at.is_some_and(|t| t <= now)
}

/// The entitlements among `held` that give access at `now` ([`grants_at`]), in their order.
pub fn granted(held: &[(Entitlement, Holding)], now: i64) -> Vec<Entitlement> {
    held.iter()
        .filter(|(e, p)| grants_at(e, p, now))
        .map(|(e, _)| e.clone())
        .collect()
}

/// The purchases among `held` (a user's entitlements with their purchases) to re-read from
/// Google before listing at `now`, once each.
pub fn to_refresh(held: &[(Entitlement, Holding)], now: i64) -> Vec<&Holding> {
    let mut out: Vec<&Holding> = Vec::new();
    for (_, p) in held {
        if needs_refresh(p, now) && !out.iter().any(|o| o.token == p.token) {
            out.push(p);
        }
    }
    out
}

/// A right granted outside Google Play: bought on another platform (`app_store`, `stripe`…)
/// or given as a promotion (`promotional`). An operator records and revokes it; it gives
/// access until it expires or is revoked, and is listed beside Play's entitlements so one
/// user sees the same rights everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub grant_id: String,
    /// The entitlement's name, as Play products map to ("premium").
    pub entitlement: String,
    pub source: String,
    /// End of access, epoch ms; `None`: until revoked.
    pub expires_at: Option<i64>,
    pub note: Option<String>,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
}

impl Grant {
    /// Whether it gives access at `now`.
    pub fn gives_access(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// Checks a grant's source: 1 to 40 lowercase letters, digits or `_`, and not `google_play`
/// (Play's rights come from verified purchases, never from a grant).
pub fn check_grant_source(source: &str) -> Result<(), String> {
    if source == Source::GooglePlay.as_str() {
        return Err("google_play rights come from verified purchases, not grants".into());
    }
    let ok = (1..=40).contains(&source.len())
        && source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(
            "must be 1 to 40 lowercase letters, digits or _ (e.g. app_store, stripe, promotional)"
                .into(),
        )
    }
}

/// Everything a user holds, whether or not it gives access now: Play entitlements with the
/// purchases they are held through, and grants from other sources (not revoked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    pub play: Vec<(Entitlement, Holding)>,
    pub grants: Vec<Grant>,
}

/// What gives a user access at one moment, from every source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    pub play: Vec<Entitlement>,
    pub grants: Vec<Grant>,
}

impl Held {
    /// What of it gives access at `now` ([`granted`], [`Grant::gives_access`]).
    pub fn rights(&self, now: i64) -> Rights {
        Rights {
            play: granted(&self.play, now),
            grants: self
                .grants
                .iter()
                .filter(|g| g.gives_access(now))
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProductKind, PurchaseState, PurchaseToken};

    const NOW: i64 = 1_000_000;

    fn purchase(kind: ProductKind, state: PurchaseState, expires_at: Option<i64>) -> Holding {
        Holding {
            token: PurchaseToken::parse("tok-1").unwrap(),
            product_id: ProductId::parse("pro").unwrap(),
            kind,
            state,
            expires_at,
        }
    }

    fn right(state: EntitlementState, expires_at: Option<i64>) -> Entitlement {
        Entitlement {
            name: "premium".into(),
            product_id: ProductId::parse("pro").unwrap(),
            source: Source::GooglePlay,
            state,
            expires_at,
            auto_renewing: true,
            quantity: 1,
            test_purchase: false,
        }
    }

    #[test]
    fn access_and_refresh_rules_as_a_table() {
        use EntitlementState::{Active, Consumed, Inactive};
        use ProductKind::{OneTime, Subscription};
        let (past, future) = (Some(NOW - 1), Some(NOW + 1));
        // (kind, purchase state, expiry, entitlement state) → (grants, needs refresh)
        #[rustfmt::skip]
        let rows = [
            (Subscription, PurchaseState::Active, future, Active, true, false),
            (Subscription, PurchaseState::Active, past, Active, true, true),
            (Subscription, PurchaseState::Active, Some(NOW), Active, true, true),
            (Subscription, PurchaseState::InGracePeriod, past, Active, true, true),
            (Subscription, PurchaseState::Canceled, future, Active, true, false),
            (Subscription, PurchaseState::Canceled, past, Active, false, true),
            (Subscription, PurchaseState::OnHold, past, Inactive, false, false),
            (Subscription, PurchaseState::Paused, future, Inactive, false, false),
            (Subscription, PurchaseState::Expired, past, Inactive, false, false),
            (Subscription, PurchaseState::Expired, past, Active, false, false),
            (OneTime, PurchaseState::Purchased, None, Active, true, false),
            (OneTime, PurchaseState::Purchased, None, Consumed, false, false),
            (OneTime, PurchaseState::Cancelled, None, Inactive, false, false),
        ];
        for (kind, state, expires, e_state, grants, refresh) in rows {
            let p = purchase(kind, state.clone(), expires);
            let e = right(e_state, expires);
            let row = format!("{kind:?} {state:?} {expires:?} {e_state:?}");
            assert_eq!(grants_at(&e, &p, NOW), grants, "grants: {row}");
            assert_eq!(needs_refresh(&p, NOW), refresh, "refresh: {row}");
        }
    }

    #[test]
    fn grants_give_access_until_expiry_or_revocation() {
        let grant = |expires_at, revoked_at| Grant {
            grant_id: "g".into(),
            entitlement: "premium".into(),
            source: "stripe".into(),
            expires_at,
            note: None,
            granted_at: 0,
            revoked_at,
        };
        // (expires_at, revoked_at, gives access at NOW)
        let table = [
            (None, None, true),
            (Some(NOW + 1), None, true),
            (Some(NOW), None, false),
            (None, Some(NOW - 1), false),
            (Some(NOW + 1), Some(NOW - 1), false),
        ];
        for (expires_at, revoked_at, access) in table {
            assert_eq!(
                grant(expires_at, revoked_at).gives_access(NOW),
                access,
                "{expires_at:?} {revoked_at:?}"
            );
        }
        let held = Held {
            play: vec![],
            grants: vec![grant(None, None), grant(Some(NOW), None)],
        };
        assert_eq!(held.rights(NOW).grants, vec![grant(None, None)]);
    }

    #[test]
    fn grant_sources_are_named_plainly_and_never_google_play() {
        for ok in ["app_store", "stripe", "promotional", "web2"] {
            assert!(check_grant_source(ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(41);
        for bad in ["", "google_play", "App Store", "stripe!", long.as_str()] {
            assert!(check_grant_source(bad).is_err(), "{bad:?}");
        }
    }
}
