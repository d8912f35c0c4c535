//! What a developer (or the user, through Play) does to a live subscription: cancel, defer,
//! revoke. The Play API handlers (`subscriptionsv2:cancel|defer|revoke`,
//! `subscriptions:cancel|defer`) and the control API's `cancel` / `defer` / `revoke` share
//! these rules, so both answer and publish alike (reference sections 4.3, 4.4 and 7).

use playbill_google::rtdn::subscription_type as code;

use crate::lifecycle::{CancelKind, SubStatus, Subscription};
use crate::state::{DAY_MS, Detail, TransitionError, World};

/// Who stops the renewals (`CancellationContext.cancellationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelBy {
    /// `USER_REQUESTED_STOP_RENEWALS`: as if the user canceled in Play; restorable.
    User,
    /// `DEVELOPER_REQUESTED_STOP_PAYMENTS`: not restorable.
    Developer,
}

/// The refund that comes with a revocation (`RevocationContext`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeRefund {
    /// No money back (the control API's plain `revoke`).
    None,
    Full,
    /// The unused part of the current period.
    Prorated,
    /// One item of a multi-item subscription: refunded and removed, the rest goes on.
    Item(String),
}

fn not_allowed(what: &str) -> TransitionError {
    TransitionError::NotAllowed(format!(
        "{what} is not possible for this subscription in its current state"
    ))
}

impl World {
    fn live_subscription(&mut self, token: &str) -> Result<&mut Subscription, TransitionError> {
        match self.purchases.get_mut(token).map(|p| &mut p.detail) {
            Some(Detail::Subscription(s)) => Ok(s),
            Some(Detail::OneTime(_)) => Err(TransitionError::NotAllowed(
                "this purchase token is for a one-time product, not a subscription".into(),
            )),
            None => Err(TransitionError::NoSuchPurchase),
        }
    }

    /// Stops the renewals; access lasts until the expiry time. An installment plan still in
    /// its commitment only schedules the cancellation (RTDN 18), which happens when the
    /// committed payments are made.
    pub fn cancel_subscription(
        &mut self,
        token: &str,
        by: CancelBy,
        now: i64,
    ) -> Result<(), TransitionError> {
        let s = self.live_subscription(token)?;
        if !matches!(
            s.status,
            SubStatus::Active | SubStatus::InGracePeriod | SubStatus::OnHold | SubStatus::Paused
        ) {
            return Err(not_allowed("cancel"));
        }
        let package = self.purchases[token].package_name.clone();
        let s = self.live_subscription(token)?;
        if by == CancelBy::User
            && let Some(plan) = s.installments.as_mut().filter(|i| i.remaining > 0)
        {
            if plan.pending_cancellation {
                return Err(TransitionError::NotAllowed(
                    "the cancellation is already scheduled for the end of the commitment".into(),
                ));
            }
            plan.pending_cancellation = true;
            self.publish_subscription(&package, token, code::CANCELLATION_SCHEDULED, now);
            return Ok(());
        }
        if s.status == SubStatus::Paused {
            // Canceled while paused: access already ended at the pause.
            s.expiry_ms = s.expiry_ms.min(now);
            s.resume_at_ms = None;
        }
        s.status = SubStatus::Canceled;
        s.auto_renew = false;
        s.pause_scheduled = None;
        s.phase_end_ms = None;
        s.cancel = Some(match by {
            CancelBy::User => CancelKind::User { at: now },
            CancelBy::Developer => CancelKind::Developer,
        });
        self.publish_subscription(&package, token, code::CANCELED, now);
        Ok(())
    }

    /// Moves the expiry (and the next charge) later, free of charge (RTDN 9).
    /// `validate_only` checks without changing anything. Returns the new expiry.
    pub fn defer_subscription(
        &mut self,
        token: &str,
        new_expiry_ms: i64,
        validate_only: bool,
        now: i64,
    ) -> Result<i64, TransitionError> {
        let s = self.live_subscription(token)?;
        if !matches!(s.status, SubStatus::Active | SubStatus::Canceled) || s.expiry_ms <= now {
            return Err(not_allowed("defer"));
        }
        let by = new_expiry_ms - s.expiry_ms;
        if !(DAY_MS..=365 * DAY_MS).contains(&by) {
            return Err(TransitionError::NotAllowed(
                "a deferral moves the expiry by one day to one year".into(),
            ));
        }
        if validate_only {
            return Ok(new_expiry_ms);
        }
        s.expiry_ms = new_expiry_ms;
        let package = self.purchases[token].package_name.clone();
        self.publish_subscription(&package, token, code::DEFERRED, now);
        Ok(new_expiry_ms)
    }

    /// Ends the subscription now (RTDN 12, state EXPIRED) and refunds as asked; a refund
    /// also voids the latest order (voided purchases, RTDN voidedPurchaseNotification).
    /// An item-based refund of an add-on removes just that item (RTDN 17).
    pub fn revoke_subscription(
        &mut self,
        token: &str,
        refund: RevokeRefund,
        now: i64,
    ) -> Result<(), TransitionError> {
        let s = self.live_subscription(token)?;
        if matches!(
            s.status,
            SubStatus::Expired | SubStatus::Pending | SubStatus::PendingPurchaseCanceled
        ) {
            return Err(not_allowed("revoke"));
        }
        let package = self.purchases[token].package_name.clone();
        let base_product = self.purchases[token].product_id.clone();
        match refund {
            RevokeRefund::Item(product) if product != base_product => {
                let s = self.live_subscription(token)?;
                let Some(i) = s.add_ons.iter().position(|a| a.product_id == product) else {
                    return Err(TransitionError::NotAllowed(format!(
                        "the subscription has no item {product:?}"
                    )));
                };
                s.add_ons.remove(i);
                self.publish_subscription(&package, token, code::ITEMS_CHANGED, now);
                Ok(())
            }
            RevokeRefund::None => {
                let s = self.live_subscription(token)?;
                s.end_now(now, CancelKind::Developer);
                self.publish_subscription(&package, token, code::REVOKED, now);
                Ok(())
            }
            RevokeRefund::Prorated => {
                let s = self.live_subscription(token)?;
                let (start, end) = (s.period_start_ms, s.expiry_ms.max(now));
                let unused = if end > start {
                    (end - now).max(0) as f64 / (end - start) as f64
                } else {
                    0.0
                };
                let order_id = self.purchases[token].latest_order_id();
                self.void_with_share(token, now, &order_id, unused)
            }
            RevokeRefund::Full | RevokeRefund::Item(_) => {
                // Developer source (1), reason Other (0).
                self.void(token, now, 1, 0, None)
            }
        }
    }

    /// A prorated refund: the voided record and notifications of [`World::void`], with only
    /// `share` of the order's price refunded.
    fn void_with_share(
        &mut self,
        token: &str,
        now: i64,
        order_id: &str,
        share: f64,
    ) -> Result<(), TransitionError> {
        let refunds_before = self
            .orders
            .iter()
            .find(|c| c.order_id == order_id)
            .map(|c| c.refunds.len());
        self.void(token, now, 1, 0, None)?;
        if let (Some(n), Some(c)) = (
            refunds_before,
            self.orders.iter_mut().find(|c| c.order_id == order_id),
        ) && let Some(r) = c.refunds.get_mut(n)
        {
            let amount = (r.amount_micros as f64 * share) as i64;
            r.amount_micros = amount - amount.rem_euclid(10_000);
            r.partial = true;
            // An amount, not units: the order's unit stays refundable for the rest.
            r.quantity = 0;
        }
        Ok(())
    }
}

impl World {
    /// The developer changes the base item's price for existing subscribers (RTDN 19 with
    /// `priceChangeDetails`). A decrease applies at the next renewal; an increase at the
    /// first renewal at least 30 days away — opt-in (`PRICE_INCREASE`, the default) needs the
    /// user's `confirm_price` or the subscription is canceled then; `OPT_OUT_PRICE_INCREASE`
    /// applies unless the user cancels.
    pub fn change_price(
        &mut self,
        token: &str,
        details: &crate::state::ActionDetails,
        now: i64,
    ) -> Result<(), TransitionError> {
        use crate::lifecycle::{PriceChange, PriceChangeMode, PriceChangeState};
        let new_price = details
            .price_micros
            .ok_or_else(|| TransitionError::NotAllowed("price_change needs price_micros".into()))?;
        let s = self.live_subscription(token)?;
        if s.prepaid || !matches!(s.status, SubStatus::Active | SubStatus::InGracePeriod) {
            return Err(not_allowed("price_change"));
        }
        if new_price <= 0 || new_price % 10_000 != 0 || new_price == s.price_micros {
            return Err(TransitionError::NotAllowed(
                "price_micros must be a new, positive whole number of cents".into(),
            ));
        }
        let mode = match (new_price < s.price_micros, details.mode.as_deref()) {
            (true, None | Some("PRICE_DECREASE")) => PriceChangeMode::Decrease,
            (false, None | Some("PRICE_INCREASE")) => PriceChangeMode::Increase,
            (false, Some("OPT_OUT_PRICE_INCREASE")) => PriceChangeMode::OptOutIncrease,
            (_, Some(m)) => {
                return Err(TransitionError::NotAllowed(format!(
                    "mode {m:?} does not fit this price change: a decrease is PRICE_DECREASE, \
                     an increase PRICE_INCREASE or OPT_OUT_PRICE_INCREASE"
                )));
            }
        };
        let mut charge_at = s.expiry_ms;
        if mode != PriceChangeMode::Decrease {
            while charge_at < now + 30 * DAY_MS {
                charge_at = s.period.add_to(charge_at);
            }
        }
        s.price_change = Some(PriceChange {
            new_price_micros: new_price,
            mode,
            state: PriceChangeState::Outstanding,
            charge_at_ms: charge_at,
        });
        let package = self.purchases[token].package_name.clone();
        self.publish_subscription(&package, token, code::PRICE_CHANGE_UPDATED, now);
        Ok(())
    }

    /// The user accepts an opt-in price increase: RTDN 19 (state CONFIRMED) and the
    /// deprecated 8 that Google still sends for subscriptions without add-ons.
    pub fn confirm_price(&mut self, token: &str, now: i64) -> Result<(), TransitionError> {
        use crate::lifecycle::{PriceChangeMode, PriceChangeState};
        let s = self.live_subscription(token)?;
        let Some(pc) = s.price_change.as_mut().filter(|pc| {
            pc.mode == PriceChangeMode::Increase && pc.state == PriceChangeState::Outstanding
        }) else {
            return Err(TransitionError::NotAllowed(
                "there is no outstanding opt-in price increase to confirm".into(),
            ));
        };
        pc.state = PriceChangeState::Confirmed;
        let add_ons = !s.add_ons.is_empty();
        let package = self.purchases[token].package_name.clone();
        self.publish_subscription(&package, token, code::PRICE_CHANGE_UPDATED, now);
        if !add_ons {
            self.publish_subscription(&package, token, code::PRICE_CHANGE_CONFIRMED, now);
        }
        Ok(())
    }

    /// `add_item`: the user adds an add-on (another subscription product of the app) to a
    /// live subscription; it renews with the base item. `remove_item`: the add-on goes at the
    /// next renewal (`deferredItemRemoval` until then). Both publish RTDN 17.
    pub fn change_items(
        &mut self,
        token: &str,
        action: &str,
        details: &crate::state::ActionDetails,
        now: i64,
    ) -> Result<(), TransitionError> {
        let product_id = details
            .product_id
            .clone()
            .ok_or_else(|| TransitionError::NotAllowed(format!("{action} needs product_id")))?;
        let (package, base) = match self.purchases.get(token) {
            Some(p) => (p.package_name.clone(), p.product_id.clone()),
            None => return Err(TransitionError::NoSuchPurchase),
        };
        let product = self
            .products
            .get(&(package.clone(), product_id.clone()))
            .filter(|p| p.kind == crate::state::Kind::Subscription && !p.prepaid)
            .cloned();
        let s = self.live_subscription(token)?;
        if s.prepaid || !matches!(s.status, SubStatus::Active | SubStatus::InGracePeriod) {
            return Err(not_allowed(action));
        }
        let existing = s.add_ons.iter().position(|a| a.product_id == product_id);
        match (action, existing) {
            ("add_item", None) => {
                let product = product.filter(|_| product_id != base).ok_or_else(|| {
                    TransitionError::NotAllowed(format!(
                        "no other auto-renewing subscription product {product_id:?} in this app"
                    ))
                })?;
                s.add_ons.push(crate::lifecycle::AddOn {
                    product_id,
                    base_plan_id: product.base_plan_id.clone(),
                    price_micros: product.price_micros,
                    removal_deferred: false,
                });
            }
            ("remove_item", Some(i)) if !s.add_ons[i].removal_deferred => {
                s.add_ons[i].removal_deferred = true;
            }
            _ => {
                return Err(TransitionError::NotAllowed(format!(
                    "{action} {product_id:?} does not fit the subscription's items"
                )));
            }
        }
        self.publish_subscription(&package, token, code::ITEMS_CHANGED, now);
        Ok(())
    }
}
