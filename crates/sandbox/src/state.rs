//! The sandbox's world: products, purchases, issued keys and access tokens, a clock, a log
//! of the API calls it answered, and faults to inject. One mutex guards it all: the sandbox
//! is a test double for one team, not a load target.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use playbill_google::rtdn::{
    DeveloperNotification, OneTimeProductNotification, SubscriptionNotification,
    VoidedPurchaseNotification, one_time_type, subscription_type as code, voided,
};
use playbill_google::wire::Int64;

use crate::keys::IssuedKey;
use crate::lifecycle::{CancelKind, SubStatus, Subscription};
use crate::manage::{CancelBy, RevokeRefund};
use crate::period::Period;

pub const DAY_MS: i64 = 86_400_000;
/// Google answers 410 for a token this long after its subscription expired.
pub const TOKEN_RETENTION_MS: i64 = 60 * DAY_MS;

#[derive(Clone)]
pub struct Shared(Arc<Mutex<World>>);

impl Shared {
    pub fn new(world: World) -> Self {
        Self(Arc::new(Mutex::new(world)))
    }
    pub fn lock(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain data behind: keep serving.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    OneTime,
    Subscription,
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub package_name: String,
    pub product_id: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub base_plan_id: String,
    pub billing_period: Period,
    /// Grace period after a declined renewal, in days (0: none).
    pub grace_days: u32,
    /// Account hold after grace, in days (default 60 minus grace).
    pub hold_days: u32,
    /// Pre-tax price of one unit (one billing period), in micros of `currency`.
    pub price_micros: i64,
    /// ISO 4217 code of the price.
    pub currency: String,
    /// Subscriptions: a prepaid base plan (no renewals; top-ups add time).
    pub prepaid: bool,
    /// Subscriptions: an installment base plan with this many committed payments.
    pub installments: Option<u32>,
}

/// Price of a product unless the control API says otherwise: 4.99 USD.
pub const DEFAULT_PRICE_MICROS: i64 = 4_990_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimeState {
    Purchased,
    Pending,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct OneTime {
    pub state: OneTimeState,
    pub acknowledged: bool,
    pub consumed: bool,
    pub quantity: i32,
    pub refundable_quantity: i32,
    pub purchase_time_ms: i64,
    pub completion_time_ms: Option<i64>,
}

#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "a test double holding a few purchases; boxing would only add noise"
)]
pub enum Detail {
    OneTime(OneTime),
    Subscription(Subscription),
}

#[derive(Debug, Clone)]
pub struct Purchase {
    pub package_name: String,
    pub product_id: String,
    pub token: String,
    pub order_id: String,
    pub obfuscated_account_id: Option<String>,
    pub obfuscated_profile_id: Option<String>,
    pub test_purchase: bool,
    pub region_code: String,
    pub detail: Detail,
}

impl Purchase {
    /// The order id of the latest successful charge (renewals append `..N`).
    pub fn latest_order_id(&self) -> String {
        match &self.detail {
            Detail::Subscription(s) if s.renewals > 0 => {
                format!("{}..{}", self.order_id, s.renewals - 1)
            }
            _ => self.order_id.clone(),
        }
    }
}

impl Purchase {
    /// When Google would refund it for want of an acknowledgement, if that is pending.
    pub fn ack_deadline(&self) -> Option<i64> {
        match &self.detail {
            Detail::OneTime(o) if o.state == OneTimeState::Purchased && !o.acknowledged => {
                Some(o.completion_time_ms.unwrap_or(o.purchase_time_ms) + ACK_DEADLINE_MS)
            }
            Detail::Subscription(s)
                if !s.acknowledged && (s.is_live() || s.status == SubStatus::OnHold) =>
            {
                Some(s.start_ms + ACK_DEADLINE_MS)
            }
            _ => None,
        }
    }

    /// The next time-driven event of this purchase.
    pub fn due_at(&self) -> Option<i64> {
        let lifecycle = match &self.detail {
            Detail::Subscription(s) => s.due_at(),
            Detail::OneTime(_) => None,
        };
        match (lifecycle, self.ack_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Subscription {
    /// A new subscription to `product`'s base plan, bought at `now`.
    pub fn for_product(product: &Product, now: i64, pending: bool) -> Self {
        let mut s = Subscription::new(
            now,
            product.billing_period,
            product.grace_days,
            product.hold_days,
            &product.base_plan_id,
            pending,
        );
        s.price_micros = product.price_micros;
        s.currency = product.currency.clone();
        s.prepaid = product.prepaid;
        s.auto_renew = !product.prepaid;
        s.installments = product
            .installments
            .map(|n| crate::lifecycle::Installments {
                committed: n,
                remaining: n.saturating_sub(1),
                pending_cancellation: false,
            });
        s
    }

    /// The state name Google reports.
    pub fn google_state(&self) -> playbill_google::wire::SubscriptionState {
        use playbill_google::wire::SubscriptionState as S;
        match self.status {
            SubStatus::Pending => S::Pending,
            SubStatus::Active => S::Active,
            SubStatus::Paused => S::Paused,
            SubStatus::InGracePeriod => S::InGracePeriod,
            SubStatus::OnHold => S::OnHold,
            SubStatus::Canceled => S::Canceled,
            SubStatus::Expired => S::Expired,
            SubStatus::PendingPurchaseCanceled => S::PendingPurchaseCanceled,
        }
    }
}

/// One Google call the sandbox answered, for tests and operators to inspect.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Makes matching calls fail, to rehearse outages.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Fault {
    /// Applies to request paths containing this text (all Google paths if empty).
    #[serde(default)]
    pub path_contains: String,
    /// HTTP status to answer, e.g. 503 or 429.
    pub status: u16,
    /// How many calls to fail; then the fault is gone.
    #[serde(default = "one")]
    pub count: u32,
    /// Sent as `Retry-After` (seconds) when set.
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
}

fn one() -> u32 {
    1
}

pub struct AccessToken {
    pub scopes: Vec<String>,
    pub expires_at_wall_ms: i64,
}

pub struct World {
    pub base_url: String,
    pub project_id: String,
    pub clock_offset_ms: i64,
    pub products: HashMap<(String, String), Product>,
    pub purchases: HashMap<String, Purchase>,
    pub keys: HashMap<String, IssuedKey>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub requests: Vec<LoggedRequest>,
    pub faults: Vec<Fault>,
    pub order_seq: u64,
    /// Every notification published, oldest first.
    pub notifications: Vec<Published>,
    pub pubsub: crate::pubsub::PubSub,
    /// The topic RTDNs are published to.
    pub rtdn_topic: String,
    /// Where RTDNs are also forwarded, if anywhere.
    pub forward_target: Option<crate::forward::ForwardTarget>,
    pub forward_tx: Option<crate::forward::Sender>,
    /// Signs push requests' OIDC tokens.
    pub oidc: std::sync::Arc<crate::push::OidcSigner>,
    pub delivery: crate::push::DeliverySettings,
    /// Voided purchases (refunds, chargebacks, revocations), oldest first.
    pub voided: Vec<VoidedRecord>,
    /// The token the last `change_plan` / `resignup` created (for the control API's answer).
    pub last_new_token: Option<String>,
    pub quotas: crate::quota::Quotas,
    /// Every charge and its refunds, oldest first.
    pub orders: Vec<crate::orders::Charge>,
    /// Refund requests awaiting the developer's `orders.reviewrefund`, and their outcome.
    pub refund_reviews: Vec<crate::orders::RefundReview>,
    pub catalog: crate::catalog::Catalog,
    pub external: crate::external::ExternalTransactions,
    pub reports: crate::storage::Reports,
}

/// A voided order, as `purchases.voidedpurchases.list` reports it.
#[derive(Debug, Clone)]
pub struct VoidedRecord {
    pub package: String,
    pub token: String,
    pub order_id: String,
    pub purchase_time_ms: i64,
    pub voided_time_ms: i64,
    /// 0 User, 1 Developer, 2 Google.
    pub source: i32,
    /// 0 Other … 7 Chargeback, 8 Unacknowledged_purchase.
    pub reason: i32,
    pub subscription: bool,
    /// Set for quantity-based partial refunds.
    pub partial_quantity: Option<i32>,
}

/// Optional details of a control-API transition.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDetails {
    /// `refund`: units to refund (one-time, multi-quantity); all remaining when absent.
    #[serde(default)]
    pub quantity: Option<i32>,
    /// `refund`: voidedReason (default 0, Other).
    #[serde(default)]
    pub reason: Option<i32>,
    /// `refund`: voidedSource (default 0, User).
    #[serde(default)]
    pub source: Option<i32>,
    /// `refund`: the order to refund (a subscription's earlier renewal, say); the latest
    /// when absent.
    #[serde(default)]
    pub order_id: Option<String>,
    /// `change_plan`: the product of the new subscription.
    #[serde(default)]
    pub product_id: Option<String>,
    /// `change_plan` / `resignup`: choose the new token instead of a random one.
    #[serde(default)]
    pub purchase_token: Option<String>,
    /// `pause`: how long (default P1M; 1 week to 3 months). `defer`: by how much.
    #[serde(default)]
    pub duration: Option<Period>,
    /// `price_change`: the new recurring price, in micros.
    #[serde(default)]
    pub price_micros: Option<i64>,
    /// `price_change`: `PRICE_INCREASE` (opt-in) or `OPT_OUT_PRICE_INCREASE` for a rise
    /// (default opt-in); a lower price is always `PRICE_DECREASE`.
    #[serde(default)]
    pub mode: Option<String>,
    /// `change_plan`: the replacement mode (default `WITH_TIME_PRORATION`).
    #[serde(default)]
    pub replacement_mode: Option<String>,
}

/// Google refunds and revokes a purchase not acknowledged this long after it was paid.
pub const ACK_DEADLINE_MS: i64 = 3 * DAY_MS;

/// A published RTDN, as it will travel in a Pub/Sub message.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub message_id: String,
    pub publish_time_ms: i64,
    pub notification: DeveloperNotification,
}

/// Why a control-API transition was refused; the world is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    NoSuchPurchase,
    UnknownAction(String),
    NotAllowed(String),
}

impl World {
    pub fn new(base_url: String, project_id: String, oidc: crate::push::OidcSigner) -> Self {
        let mut world = Self::empty(base_url, project_id, oidc);
        let topic = world.rtdn_topic.clone();
        world.pubsub.ensure_topic(&topic);
        world
    }

    fn empty(base_url: String, project_id: String, oidc: crate::push::OidcSigner) -> Self {
        let rtdn_topic = crate::pubsub::default_topic(&project_id);
        Self {
            base_url,
            project_id,
            clock_offset_ms: 0,
            products: HashMap::new(),
            purchases: HashMap::new(),
            keys: HashMap::new(),
            access_tokens: HashMap::new(),
            requests: Vec::new(),
            faults: Vec::new(),
            order_seq: 0,
            notifications: Vec::new(),
            pubsub: Default::default(),
            rtdn_topic,
            forward_target: None,
            forward_tx: None,
            oidc: std::sync::Arc::new(oidc),
            delivery: Default::default(),
            voided: Vec::new(),
            last_new_token: None,
            quotas: Default::default(),
            orders: Vec::new(),
            refund_reviews: Vec::new(),
            catalog: Default::default(),
            external: Default::default(),
            reports: Default::default(),
        }
    }

    /// Billing time: the wall clock moved by the control API. OAuth uses the wall clock, so
    /// credentials keep working however far billing time is advanced.
    pub fn now(&self) -> i64 {
        wall_ms() + self.clock_offset_ms
    }

    /// Lets billing time reach `target`: every subscription event that falls due on the way
    /// happens at its own time, in time order, publishing what Google would.
    pub fn run_until(&mut self, target: i64) {
        for _ in 0..1_000_000 {
            let next = self
                .purchases
                .iter()
                .filter_map(|(token, p)| p.due_at().map(|t| (t, token.clone())))
                .filter(|(t, _)| *t <= target)
                .min();
            let review = self.next_review_due().filter(|t| *t <= target);
            if let Some(r) = review
                && next.as_ref().is_none_or(|(t, _)| r <= *t)
            {
                self.decide_reviews(r);
                continue;
            }
            let Some((t, token)) = next else { return };
            let Some(p) = self.purchases.get_mut(&token) else {
                return;
            };
            if p.ack_deadline().is_some_and(|d| d <= t) {
                // Not acknowledged within 3 days: Google refunds and revokes it.
                let _ = self.void(&token, t, 2, 8, None);
                continue;
            }
            let package = p.package_name.clone();
            let codes = match &mut p.detail {
                Detail::Subscription(s) => s.on_due(t),
                Detail::OneTime(_) => Vec::new(),
            };
            for c in codes {
                self.publish_subscription(&package, &token, c, t);
            }
        }
    }

    /// Refunds (fully, or `quantity` units of a multi-quantity one-time purchase) and voids
    /// the purchase's latest order at `t`: the voided record, the RTDNs, and the state change
    /// (a subscription is revoked; a fully refunded one-time purchase is cancelled).
    pub fn void(
        &mut self,
        token: &str,
        t: i64,
        source: i32,
        reason: i32,
        quantity: Option<i32>,
    ) -> Result<(), TransitionError> {
        self.void_order(token, None, t, source, reason, quantity)
    }

    /// [`World::void`] for a given order of the purchase (a subscription's renewal order,
    /// say); the latest order when `None`.
    pub fn void_order(
        &mut self,
        token: &str,
        order: Option<&str>,
        t: i64,
        source: i32,
        reason: i32,
        quantity: Option<i32>,
    ) -> Result<(), TransitionError> {
        use TransitionError::NotAllowed;
        let p = self
            .purchases
            .get_mut(token)
            .ok_or(TransitionError::NoSuchPurchase)?;
        let package = p.package_name.clone();
        let order_id = order.map_or_else(|| p.latest_order_id(), str::to_owned);
        let (subscription, partial, purchase_time) = match &mut p.detail {
            Detail::OneTime(o) => {
                if o.state != OneTimeState::Purchased || o.refundable_quantity == 0 {
                    return Err(NotAllowed(
                        "only a paid, not yet refunded purchase can be refunded".into(),
                    ));
                }
                let units = quantity.unwrap_or(o.refundable_quantity);
                if units < 1 || units > o.refundable_quantity {
                    return Err(NotAllowed(format!(
                        "quantity must be between 1 and the {} refundable units",
                        o.refundable_quantity
                    )));
                }
                o.refundable_quantity -= units;
                let partial = o.refundable_quantity > 0;
                if !partial {
                    o.state = OneTimeState::Cancelled;
                }
                (
                    false,
                    partial.then_some(units),
                    o.completion_time_ms.unwrap_or(o.purchase_time_ms),
                )
            }
            Detail::Subscription(s) => {
                if quantity.is_some() {
                    return Err(NotAllowed(
                        "quantity applies to one-time purchases only".into(),
                    ));
                }
                if matches!(
                    s.status,
                    SubStatus::Pending | SubStatus::PendingPurchaseCanceled | SubStatus::Expired
                ) {
                    return Err(NotAllowed(
                        "only a paid, unexpired subscription can be refunded".into(),
                    ));
                }
                s.end_now(t, CancelKind::Developer);
                (true, None, s.start_ms)
            }
        };
        self.record_refund(&order_id, t, quantity, reason == 7);
        self.voided.push(VoidedRecord {
            package: package.clone(),
            token: token.to_owned(),
            order_id: order_id.clone(),
            purchase_time_ms: purchase_time,
            voided_time_ms: t,
            source,
            reason,
            subscription,
            partial_quantity: partial,
        });
        if subscription {
            self.publish_subscription(&package, token, code::REVOKED, t);
        }
        let n = DeveloperNotification {
            voided_purchase_notification: Some(VoidedPurchaseNotification {
                purchase_token: token.to_owned(),
                order_id,
                product_type: if subscription {
                    voided::PRODUCT_TYPE_SUBSCRIPTION
                } else {
                    voided::PRODUCT_TYPE_ONE_TIME
                },
                refund_type: if partial.is_some() {
                    voided::REFUND_TYPE_QUANTITY_BASED_PARTIAL_REFUND
                } else {
                    voided::REFUND_TYPE_FULL_REFUND
                },
            }),
            ..DeveloperNotification::default()
        };
        self.publish(&package, t, n);
        Ok(())
    }

    /// Moves billing time forward to `target`, running everything due on the way.
    pub fn advance_to(&mut self, target: i64) {
        self.run_until(target);
        let now = self.now();
        if target > now {
            self.clock_offset_ms += target - now;
        }
    }

    pub fn publish(&mut self, package: &str, event_time: i64, mut n: DeveloperNotification) {
        n.version = "1.0".into();
        n.package_name = package.to_owned();
        n.event_time_millis = Some(Int64(event_time));
        let data = serde_json::to_vec(&n).unwrap_or_default();
        let topic = self.rtdn_topic.clone();
        let message_id = self
            .pubsub
            .publish(&topic, &data, None, event_time)
            .unwrap_or_default();
        if let (Some(target), Some(tx)) = (&self.forward_target, &self.forward_tx) {
            let _ = tx.send(crate::forward::Outgoing {
                target: target.clone(),
                data: data.clone(),
            });
        }
        self.notifications.push(Published {
            message_id,
            publish_time_ms: event_time,
            notification: n,
        });
    }

    /// Publishes a SubscriptionNotification; the codes that announce a payment also record
    /// the charge in the order ledger.
    pub fn publish_subscription(&mut self, package: &str, token: &str, code: i32, at: i64) {
        if matches!(code, code::PURCHASED | code::RENEWED | code::RECOVERED) {
            self.record_charge(token, at);
        }
        let n = DeveloperNotification {
            subscription_notification: Some(SubscriptionNotification {
                version: "1.0".into(),
                notification_type: code,
                purchase_token: token.to_owned(),
                subscription_id: None,
            }),
            ..DeveloperNotification::default()
        };
        self.publish(package, at, n);
    }

    /// Publishes a OneTimeProductNotification; a purchase that is paid records its charge.
    pub fn publish_one_time(&mut self, package: &str, token: &str, sku: &str, code: i32, at: i64) {
        if code == one_time_type::PURCHASED {
            self.record_charge(token, at);
        }
        let n = DeveloperNotification {
            one_time_product_notification: Some(OneTimeProductNotification {
                version: "1.0".into(),
                notification_type: code,
                purchase_token: token.to_owned(),
                sku: sku.to_owned(),
            }),
            ..DeveloperNotification::default()
        };
        self.publish(package, at, n);
    }

    /// A control-API transition (`POST …/purchases/{token}:{action}`) on the purchase, at the
    /// current billing time. Refused transitions change nothing.
    pub fn transition(
        &mut self,
        package: &str,
        token: &str,
        action: &str,
        details: &ActionDetails,
    ) -> Result<(), TransitionError> {
        use TransitionError::NotAllowed;
        let now = self.now();
        self.run_until(now);
        if self
            .purchases
            .get(token)
            .is_none_or(|p| p.package_name != package)
        {
            return Err(TransitionError::NoSuchPurchase);
        }
        if matches!(
            action,
            "change_plan" | "resignup" | "top_up" | "resubscribe"
        ) {
            return self.replace_subscription(package, token, action, details, now);
        }
        if action == "refund" {
            for (name, v, range) in [
                ("reason", details.reason, 0..=8),
                ("source", details.source, 0..=2),
            ] {
                if v.is_some_and(|v| !range.contains(&v)) {
                    return Err(NotAllowed(format!("{name} must be in {range:?}")));
                }
            }
            if let Some(order) = &details.order_id {
                let refundable = self
                    .orders
                    .iter()
                    .any(|c| &c.order_id == order && c.token == token && !c.fully_refunded());
                if !refundable {
                    return Err(NotAllowed(format!(
                        "{order:?} is not a paid, unrefunded order of this purchase"
                    )));
                }
            }
            return self.void_order(
                token,
                details.order_id.as_deref(),
                now,
                details.source.unwrap_or(0),
                details.reason.unwrap_or(0),
                details.quantity,
            );
        }
        match action {
            "cancel" => return self.cancel_subscription(token, CancelBy::User, now),
            "revoke" => return self.revoke_subscription(token, RevokeRefund::None, now),
            "defer" => {
                let by = details
                    .duration
                    .ok_or_else(|| NotAllowed("defer needs duration, e.g. \"P7D\"".into()))?;
                let expiry = match self.purchases.get(token).map(|p| &p.detail) {
                    Some(Detail::Subscription(s)) => s.expiry_ms,
                    _ => return Err(NotAllowed("defer applies to subscriptions".into())),
                };
                return self
                    .defer_subscription(token, by.add_to(expiry), false, now)
                    .map(|_| ());
            }
            "price_change" => return self.change_price(token, details, now),
            "confirm_price" => return self.confirm_price(token, now),
            "add_item" | "remove_item" => return self.change_items(token, action, details, now),
            "request_refund" => return self.request_refund(token, now).map(|_| ()),
            _ => {}
        }
        let Some(p) = self.purchases.get_mut(token) else {
            return Err(TransitionError::NoSuchPurchase);
        };
        let sku = p.product_id.clone();
        let mut sub_codes = Vec::new();
        let mut one_time_codes = Vec::new();
        match (action, &mut p.detail) {
            ("complete", Detail::OneTime(o)) if o.state == OneTimeState::Pending => {
                o.state = OneTimeState::Purchased;
                o.completion_time_ms = Some(now);
                one_time_codes.push(one_time_type::PURCHASED);
            }
            ("pending_cancel", Detail::OneTime(o)) if o.state == OneTimeState::Pending => {
                o.state = OneTimeState::Cancelled;
                one_time_codes.push(one_time_type::CANCELED);
            }
            ("complete", Detail::Subscription(s)) if s.status == SubStatus::Pending => {
                s.status = SubStatus::Active;
                s.start_ms = now;
                s.period_start_ms = now;
                s.expiry_ms = s.period.add_to(now);
                sub_codes.push(code::PURCHASED);
            }
            ("pending_cancel", Detail::Subscription(s)) if s.status == SubStatus::Pending => {
                s.status = SubStatus::PendingPurchaseCanceled;
                sub_codes.push(code::PENDING_PURCHASE_CANCELED);
            }
            ("decline_payment", Detail::Subscription(s))
                if s.is_live() || matches!(s.status, SubStatus::OnHold | SubStatus::Paused) =>
            {
                s.payment_ok = false;
            }
            ("fix_payment", Detail::Subscription(s)) => {
                s.payment_ok = true;
                match s.status {
                    // Recovered in grace: charged now, the original renewal date is kept.
                    SubStatus::InGracePeriod => {
                        let missed = s.missed_renewal_ms.take().unwrap_or(s.expiry_ms);
                        s.status = SubStatus::Active;
                        s.period_start_ms = missed;
                        s.expiry_ms = s.period.add_to(missed);
                        s.phase_end_ms = None;
                        s.renewals += 1;
                        sub_codes.push(code::RENEWED);
                    }
                    // Recovered from hold: the billing date resets to today.
                    SubStatus::OnHold => {
                        s.status = SubStatus::Active;
                        s.missed_renewal_ms = None;
                        s.period_start_ms = now;
                        s.expiry_ms = s.period.add_to(now);
                        s.phase_end_ms = None;
                        s.renewals += 1;
                        sub_codes.push(code::RECOVERED);
                    }
                    _ => {}
                }
            }
            ("pause", Detail::Subscription(s)) if s.status == SubStatus::Active && s.auto_renew => {
                let length = details.duration.unwrap_or(Period {
                    years: 0,
                    months: 1,
                    days: 0,
                });
                let days = (length.add_to(now) - now) / DAY_MS;
                if !(7..=92).contains(&days) {
                    return Err(NotAllowed(
                        "a pause lasts from one week to three months".into(),
                    ));
                }
                s.pause_scheduled = Some(length);
                sub_codes.push(code::PAUSE_SCHEDULE_CHANGED);
            }
            ("resume", Detail::Subscription(s)) if s.status == SubStatus::Paused => {
                sub_codes.extend(s.resume(now));
            }
            ("resume", Detail::Subscription(s))
                if s.status == SubStatus::Active && s.pause_scheduled.is_some() =>
            {
                s.pause_scheduled = None;
                sub_codes.push(code::PAUSE_SCHEDULE_CHANGED);
            }
            // A user's cancellation of an installment plan, withdrawn before it took effect.
            ("restore", Detail::Subscription(s))
                if s.status == SubStatus::Active
                    && s.installments
                        .as_ref()
                        .is_some_and(|i| i.pending_cancellation) =>
            {
                if let Some(i) = &mut s.installments {
                    i.pending_cancellation = false;
                }
                sub_codes.push(code::RESTARTED);
            }
            // Only a user's cancellation can be undone (not a developer's stop of payments).
            ("restore", Detail::Subscription(s))
                if s.status == SubStatus::Canceled
                    && now < s.expiry_ms
                    && matches!(s.cancel, Some(CancelKind::User { .. })) =>
            {
                s.status = SubStatus::Active;
                s.auto_renew = true;
                s.cancel = None;
                sub_codes.push(code::RESTARTED);
            }
            ("expire", Detail::Subscription(s)) if s.is_live() || s.status == SubStatus::OnHold => {
                s.status = SubStatus::Expired;
                s.auto_renew = false;
                s.expiry_ms = now;
                s.phase_end_ms = None;
                sub_codes.push(code::EXPIRED);
            }
            (
                "complete" | "pending_cancel" | "decline_payment" | "cancel" | "restore" | "revoke"
                | "expire" | "pause" | "resume",
                _,
            ) => {
                return Err(NotAllowed(format!(
                    "{action} is not possible for this purchase in its current state"
                )));
            }
            (other, _) => return Err(TransitionError::UnknownAction(other.to_owned())),
        }
        for c in sub_codes {
            self.publish_subscription(package, token, c, now);
        }
        for c in one_time_codes {
            self.publish_one_time(package, token, &sku, c, now);
        }
        Ok(())
    }

    /// A new purchase token continues `token` (reference section 5):
    /// - `change_plan` (upgrade or downgrade of a live subscription; `replacement_mode`
    ///   `WITH_TIME_PRORATION` (default), `CHARGE_PRORATED_PRICE`, `CHARGE_FULL_PRICE`,
    ///   `WITHOUT_PRORATION` replace it now; `DEFERRED` issues the new token now but switches
    ///   at the old renewal date);
    /// - `resignup` (the same product bought again in the app while canceled, unexpired);
    /// - `top_up` (a prepaid plan extended: time added on top of the current expiry);
    /// - `resubscribe` (bought again in the Play Store after expiry: a new token with no
    ///   link, carrying `outOfAppPurchaseContext` until acknowledged).
    ///
    /// The new token publishes SUBSCRIPTION_PURCHASED; a linked one carries
    /// `linkedPurchaseToken` and its predecessor ends with `replacementCancellation` (no
    /// notification of its own: the reference does not say that Google sends one).
    fn replace_subscription(
        &mut self,
        package: &str,
        token: &str,
        action: &str,
        details: &ActionDetails,
        now: i64,
    ) -> Result<(), TransitionError> {
        use TransitionError::NotAllowed;
        use playbill_google::wire::ReplacementMode as Mode;
        let old = self
            .purchases
            .get(token)
            .ok_or(TransitionError::NoSuchPurchase)?
            .clone();
        let Detail::Subscription(old_sub) = &old.detail else {
            return Err(NotAllowed(format!("{action} applies to subscriptions")));
        };
        let refused = || {
            NotAllowed(format!(
                "{action} is not possible for this purchase in its current state"
            ))
        };
        let mode = match details.replacement_mode.as_deref() {
            None => Mode::WithTimeProration,
            Some(m) if action == "change_plan" => match Mode::from(m) {
                Mode::Other(_) | Mode::Unspecified | Mode::KeepExisting => {
                    return Err(NotAllowed(format!(
                        "replacement_mode {m:?} is not one of WITH_TIME_PRORATION, \
                         CHARGE_PRORATED_PRICE, CHARGE_FULL_PRICE, WITHOUT_PRORATION, DEFERRED"
                    )));
                }
                mode => mode,
            },
            Some(_) => return Err(NotAllowed("replacement_mode applies to change_plan".into())),
        };
        let unexpired = now < old_sub.expiry_ms;
        let product_id = match action {
            "resignup" if old_sub.status == SubStatus::Canceled && unexpired => {
                old.product_id.clone()
            }
            "top_up" if old_sub.prepaid && old_sub.is_live() => old.product_id.clone(),
            "resubscribe" if old_sub.status == SubStatus::Expired => old.product_id.clone(),
            "change_plan"
                if !old_sub.prepaid
                    && old_sub.deferred_replacement.is_none()
                    && matches!(
                        old_sub.status,
                        SubStatus::Active | SubStatus::InGracePeriod | SubStatus::Canceled
                    ) =>
            {
                details
                    .product_id
                    .clone()
                    .ok_or_else(|| NotAllowed("change_plan needs product_id".into()))?
            }
            _ => return Err(refused()),
        };
        if action == "change_plan" && !old_sub.acknowledged {
            return Err(NotAllowed(
                "Google blocks plan changes while the current purchase is unacknowledged".into(),
            ));
        }
        let product = self
            .products
            .get(&(package.to_owned(), product_id.clone()))
            .filter(|p| p.kind == Kind::Subscription)
            .cloned()
            .ok_or_else(|| {
                NotAllowed(format!(
                    "no subscription product {product_id:?} in this app"
                ))
            })?;
        if action == "change_plan" && (product.prepaid || product.product_id == old.product_id) {
            return Err(NotAllowed(
                "change_plan moves to another auto-renewing subscription product".into(),
            ));
        }
        let new_token = details
            .purchase_token
            .clone()
            .unwrap_or_else(|| random_token("sbx.", 96));
        if self.purchases.contains_key(&new_token) {
            return Err(NotAllowed("purchase_token already exists".into()));
        }
        let mut sub = Subscription::for_product(&product, now, false);
        match action {
            "resubscribe" => sub.out_of_app_expired_token = Some(token.to_owned()),
            _ => sub.linked_purchase_token = Some(token.to_owned()),
        }
        if action == "top_up" {
            sub.start_ms = old_sub.start_ms;
            sub.expiry_ms = product.billing_period.add_to(old_sub.expiry_ms.max(now));
        }
        let deferred = mode == Mode::Deferred;
        if action == "change_plan" {
            sub.item_replacement = Some(crate::lifecycle::ItemReplacement {
                product_id: old.product_id.clone(),
                base_plan_id: old_sub.base_plan_id.clone(),
                mode: mode.clone(),
                at_ms: now,
            });
            if deferred {
                // Not owned (nor charged) until the old plan's renewal date.
                sub.owned = false;
                sub.expiry_ms = old_sub.expiry_ms;
            }
        }
        let order_id = self.next_order_id();
        self.purchases.insert(
            new_token.clone(),
            Purchase {
                package_name: package.to_owned(),
                product_id: product.product_id.clone(),
                token: new_token.clone(),
                order_id,
                obfuscated_account_id: old.obfuscated_account_id.clone(),
                obfuscated_profile_id: old.obfuscated_profile_id.clone(),
                test_purchase: old.test_purchase,
                region_code: old.region_code.clone(),
                detail: Detail::Subscription(sub),
            },
        );
        if action != "resubscribe"
            && let Some(Detail::Subscription(s)) =
                self.purchases.get_mut(token).map(|p| &mut p.detail)
        {
            if deferred {
                s.deferred_replacement = Some(product.product_id.clone());
            } else {
                s.end_now(now, CancelKind::Replacement);
                s.cancel = Some(CancelKind::Replacement);
            }
        }
        if deferred {
            // Nothing is charged yet: the notification without a ledger entry.
            let n = DeveloperNotification {
                subscription_notification: Some(SubscriptionNotification {
                    version: "1.0".into(),
                    notification_type: code::PURCHASED,
                    purchase_token: new_token.clone(),
                    subscription_id: None,
                }),
                ..DeveloperNotification::default()
            };
            self.publish(package, now, n);
        } else {
            self.publish_subscription(package, &new_token, code::PURCHASED, now);
        }
        self.last_new_token = Some(new_token);
        Ok(())
    }

    pub fn next_order_id(&mut self) -> String {
        self.order_seq += 1;
        let n = self.order_seq;
        format!(
            "GPA.{:04}-{:04}-{:04}-{:05}",
            3300 + (n / 100_000_000) % 1000,
            (n / 10_000) % 10_000,
            (n / 10) % 10_000,
            n % 100_000
        )
    }

    /// Takes one matching fault, if any.
    pub fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let i = self
            .faults
            .iter()
            .position(|f| f.count > 0 && path.contains(&f.path_contains))?;
        let fault = self.faults[i].clone();
        self.faults[i].count -= 1;
        if self.faults[i].count == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }
}

pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A random opaque token in the style of Google's purchase tokens.
pub fn random_token(prefix: &str, len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    let body: String = (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{body}")
}
