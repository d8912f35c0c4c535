//! The sandbox's order ledger: every charge Google would make (a one-time purchase paid, a
//! subscription started, renewed, recovered or resumed, a prepaid top-up) and every refund
//! made against it. The orders API, the Cloud Storage financial reports and the control API
//! all read this one ledger, so what the reports say matches what the API says.
//!
//! A charge is recorded where its RTDN is published ([`World::publish`] callers), so every
//! charge has exactly one notification and the ledger can never disagree with Pub/Sub.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use playbill_google::observe::format_time;
use playbill_google::rtdn::{DeveloperNotification, PendingRefundReviewNotification};
use playbill_google::wire::{
    BatchGetOrdersResponse, BuyerAddress, Empty, EventTime, Money, OneTimePurchaseDetails, Order,
    OrderDetails, OrderHistory, OrderLineItem, OrderState, OrderSubscriptionDetails,
    OrdersReviewRefundRequest, PartialRefundEvent, RefundDetails, RefundEvent, RefundPreference,
    RefundReason,
};
use serde::{Deserialize, Serialize};

use crate::error::GoogleApiError;
use crate::lifecycle::SubStatus;
use crate::play::split_verb;
use crate::quota::Bucket;
use crate::state::{DAY_MS, Detail, OneTimeState, Shared, TransitionError, World, random_token};

/// Tax the sandbox adds on top of the price: 10 % (in basis points).
pub const TAX_RATE_BP: i64 = 1_000;
/// Google's service fee on every charge: 15 % (in basis points) of the pre-tax price.
pub const GOOGLE_FEE_BP: i64 = 1_500;

/// One charge: an order as `orders.get` and the reports describe it.
#[derive(Debug, Clone, Serialize)]
pub struct Charge {
    /// `GPA.…` for the first charge of a purchase, `GPA.…..N` for renewal N.
    pub order_id: String,
    pub package: String,
    pub token: String,
    pub product_id: String,
    pub subscription: bool,
    /// Base plan of a subscription charge.
    pub base_plan_id: Option<String>,
    pub quantity: i32,
    /// When the charge happened (billing time, ms since the epoch).
    pub charged_ms: i64,
    /// Pre-tax price of one unit, in micros of `currency`.
    pub unit_price_micros: i64,
    pub currency: String,
    pub region: String,
    /// License testers are not charged: no money moves and the reports leave it out.
    pub test: bool,
    /// Subscription service period this charge pays for.
    pub service_period: Option<(i64, i64)>,
    pub refunds: Vec<Refund>,
}

/// A refund against a charge.
#[derive(Debug, Clone, Serialize)]
pub struct Refund {
    pub at_ms: i64,
    /// Units refunded (a quantity-based partial refund) or all that remained.
    pub quantity: i32,
    /// Pre-tax amount refunded, in micros.
    pub amount_micros: i64,
    pub partial: bool,
    /// voidedReason 7.
    pub chargeback: bool,
}

/// `amount × basis points / 10 000`, rounded down to a whole cent (10 000 micros).
pub fn share(amount_micros: i64, bp: i64) -> i64 {
    let v = amount_micros * bp / 10_000;
    v - v.rem_euclid(10_000)
}

impl Charge {
    /// Pre-tax amount charged.
    pub fn price_micros(&self) -> i64 {
        self.unit_price_micros * i64::from(self.quantity)
    }
    pub fn tax_micros(&self) -> i64 {
        share(self.price_micros(), TAX_RATE_BP)
    }
    /// What the buyer paid, tax included.
    pub fn total_micros(&self) -> i64 {
        self.price_micros() + self.tax_micros()
    }
    pub fn fee_micros(&self) -> i64 {
        share(self.price_micros(), GOOGLE_FEE_BP)
    }
    pub fn refunded_quantity(&self) -> i32 {
        self.refunds.iter().map(|r| r.quantity).sum()
    }
    pub fn refunded_micros(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount_micros).sum()
    }
    /// Every unit refunded, or (for an amount refund such as a prorated one) all the money.
    pub fn fully_refunded(&self) -> bool {
        self.refunded_quantity() >= self.quantity
            || (!self.refunds.is_empty() && self.refunded_micros() >= self.price_micros())
    }
}

impl World {
    /// Records the charge that the purchase `token`'s latest order stands for, at `at`.
    /// Called with the RTDN that announces the charge. A second call for the same order id
    /// does nothing.
    pub fn record_charge(&mut self, token: &str, at: i64) {
        let Some(p) = self.purchases.get(token) else {
            return;
        };
        let order_id = p.latest_order_id();
        if self.orders.iter().any(|c| c.order_id == order_id) {
            return;
        }
        let (quantity, base_plan_id, service_period) = match &p.detail {
            Detail::OneTime(o) if o.state == OneTimeState::Purchased => (o.quantity, None, None),
            Detail::OneTime(_) => return,
            Detail::Subscription(s) => (
                1,
                Some(s.base_plan_id.clone()),
                Some((s.period_start_ms, s.expiry_ms)),
            ),
        };
        let (unit_price_micros, currency) = match &p.detail {
            Detail::Subscription(s) => (s.charge_micros(), s.currency.clone()),
            Detail::OneTime(_) => self
                .products
                .get(&(p.package_name.clone(), p.product_id.clone()))
                .map(|pr| (pr.price_micros, pr.currency.clone()))
                .unwrap_or((0, "USD".into())),
        };
        let charge = Charge {
            order_id,
            package: p.package_name.clone(),
            token: token.to_owned(),
            product_id: p.product_id.clone(),
            subscription: matches!(p.detail, Detail::Subscription(_)),
            base_plan_id,
            quantity,
            charged_ms: at,
            unit_price_micros,
            currency,
            region: p.region_code.clone(),
            test: p.test_purchase,
            service_period,
            refunds: Vec::new(),
        };
        self.orders.push(charge);
    }

    /// Records a refund of `quantity` units (all that remain when `None`) of `order_id`.
    pub fn record_refund(
        &mut self,
        order_id: &str,
        at: i64,
        quantity: Option<i32>,
        chargeback: bool,
    ) {
        let Some(c) = self.orders.iter_mut().find(|c| c.order_id == order_id) else {
            return;
        };
        let remaining = c.quantity - c.refunded_quantity();
        let units = quantity.unwrap_or(remaining).min(remaining);
        if units <= 0 {
            return;
        }
        let left = c.price_micros() - c.refunded_micros();
        let amount = (c.unit_price_micros * i64::from(units)).min(left);
        c.refunds.push(Refund {
            at_ms: at,
            quantity: units,
            amount_micros: amount,
            partial: amount < c.price_micros(),
            chargeback,
        });
    }

    pub fn order(&self, package: &str, order_id: &str) -> Option<&Charge> {
        self.orders
            .iter()
            .find(|c| c.package == package && c.order_id == order_id)
    }
}

/// A user's refund request under review (`pendingRefundReviewNotification`): the developer
/// has 24 hours to answer `orders.reviewrefund`. The sandbox's Google decides at once on
/// APPROVE (refund) or DECLINE (no refund), and at the deadline otherwise (NEUTRAL or no
/// answer: refund). A refund voids the order as a chargeback would (reason 7).
#[derive(Debug, Clone, Serialize)]
pub struct RefundReview {
    pub package: String,
    pub order_id: String,
    pub token: String,
    pub pending_refund_token: String,
    pub requested_ms: i64,
    pub deadline_ms: i64,
    /// The developer's `refundPreference`, once answered.
    pub answer: Option<String>,
    pub sample_content_provided: Option<bool>,
    pub consumption_percentage_milliunits: Option<i32>,
    /// `Some(true)`: refunded; `Some(false)`: declined; `None`: open.
    pub refunded: Option<bool>,
    pub decided_ms: Option<i64>,
}

/// How long the developer has to answer a refund review.
pub const REVIEW_WINDOW_MS: i64 = DAY_MS;

impl World {
    /// `request_refund` (control API): the user asks Google for a refund of the purchase's
    /// latest order; publishes `pendingRefundReviewNotification`. Returns its token.
    pub fn request_refund(&mut self, token: &str, now: i64) -> Result<String, TransitionError> {
        let p = self
            .purchases
            .get(token)
            .ok_or(TransitionError::NoSuchPurchase)?;
        let order_id = p.latest_order_id();
        let refundable = self
            .orders
            .iter()
            .any(|c| c.order_id == order_id && !c.fully_refunded());
        if !refundable {
            return Err(TransitionError::NotAllowed(
                "only a paid, not fully refunded order can be disputed".into(),
            ));
        }
        if self
            .refund_reviews
            .iter()
            .any(|r| r.order_id == order_id && r.refunded.is_none())
        {
            return Err(TransitionError::NotAllowed(
                "a refund review for this order is already open".into(),
            ));
        }
        let pending_refund_token = random_token("rr.", 48);
        let n = DeveloperNotification {
            pending_refund_review_notification: Some(PendingRefundReviewNotification {
                version: "1.0".into(),
                pending_refund_token: Some(pending_refund_token.clone()),
                order_id: Some(order_id.clone()),
                refund_reason: None,
                obfuscated_account_id: p.obfuscated_account_id.clone(),
                obfuscated_profile_id: p.obfuscated_profile_id.clone(),
            }),
            ..DeveloperNotification::default()
        };
        let package = p.package_name.clone();
        self.refund_reviews.push(RefundReview {
            package: package.clone(),
            order_id,
            token: token.to_owned(),
            pending_refund_token: pending_refund_token.clone(),
            requested_ms: now,
            deadline_ms: now + REVIEW_WINDOW_MS,
            answer: None,
            sample_content_provided: None,
            consumption_percentage_milliunits: None,
            refunded: None,
            decided_ms: None,
        });
        self.publish(&package, now, n);
        self.last_new_token = Some(pending_refund_token.clone());
        Ok(pending_refund_token)
    }

    pub fn next_review_due(&self) -> Option<i64> {
        self.refund_reviews
            .iter()
            .filter(|r| r.refunded.is_none())
            .map(|r| r.deadline_ms)
            .min()
    }

    /// Decides every open review whose deadline is `t` or earlier.
    pub fn decide_reviews(&mut self, t: i64) {
        let due: Vec<usize> = (0..self.refund_reviews.len())
            .filter(|&i| {
                let r = &self.refund_reviews[i];
                r.refunded.is_none() && r.deadline_ms <= t
            })
            .collect();
        for i in due {
            let refund = self.refund_reviews[i].answer.as_deref() != Some("DECLINE");
            self.decide_review(i, refund, self.refund_reviews[i].deadline_ms);
        }
    }

    fn decide_review(&mut self, i: usize, refund: bool, at: i64) {
        let (token, order_id) = {
            let r = &mut self.refund_reviews[i];
            r.refunded = Some(refund);
            r.decided_ms = Some(at);
            (r.token.clone(), r.order_id.clone())
        };
        if refund {
            // User source (0), reason Chargeback (7).
            let _ = self.void_order(&token, Some(&order_id), at, 0, 7, None);
        }
    }

    /// The answer of `orders.reviewrefund`, checked against the open review.
    pub fn answer_review(
        &mut self,
        package: &str,
        order_id: &str,
        req: &OrdersReviewRefundRequest,
        now: i64,
    ) -> Result<(), GoogleApiError> {
        let token = req.pending_refund_token.as_deref().ok_or_else(|| {
            GoogleApiError::invalid("required", "pendingRefundToken is required.")
        })?;
        let preference = match &req.refund_preference {
            Some(
                p @ (RefundPreference::Approve
                | RefundPreference::Decline
                | RefundPreference::Neutral),
            ) => p.as_str().to_owned(),
            _ => {
                return Err(GoogleApiError::invalid(
                    "invalid",
                    "refundPreference must be APPROVE, DECLINE or NEUTRAL.",
                ));
            }
        };
        if req.sample_content_provided.is_none() {
            return Err(GoogleApiError::invalid(
                "required",
                "sampleContentProvided is required.",
            ));
        }
        if req
            .consumption_percentage_milliunits
            .is_some_and(|v| !(0..=100_000).contains(&v))
        {
            return Err(GoogleApiError::invalid(
                "invalid",
                "consumptionPercentageMilliunits must be between 0 and 100000.",
            ));
        }
        if req
            .consumption_usage_events
            .as_ref()
            .is_some_and(|e| e.len() > 1000)
        {
            return Err(GoogleApiError::invalid(
                "invalid",
                "consumptionUsageEvents holds at most 1000 events.",
            ));
        }
        let Some(i) = self.refund_reviews.iter().position(|r| {
            r.package == package && r.order_id == order_id && r.pending_refund_token == token
        }) else {
            return Err(GoogleApiError::not_found(
                "No pending refund review matches this order and pendingRefundToken.",
            ));
        };
        let r = &mut self.refund_reviews[i];
        if r.refunded.is_some() || r.answer.is_some() || now > r.deadline_ms {
            return Err(GoogleApiError::invalid(
                "refundReviewClosed",
                "The refund review is closed: it was answered, decided or is past its deadline.",
            ));
        }
        r.answer = Some(preference.clone());
        r.sample_content_provided = req.sample_content_provided;
        r.consumption_percentage_milliunits = req.consumption_percentage_milliunits;
        match preference.as_str() {
            "APPROVE" => self.decide_review(i, true, now),
            "DECLINE" => self.decide_review(i, false, now),
            _ => {}
        }
        Ok(())
    }

    /// The order as `orders.get` shows it: from the ledger, or a pending / canceled purchase
    /// that was never charged.
    pub fn render_order(&self, package: &str, order_id: &str) -> Option<Order> {
        let money = |m: i64, cur: &str| Some(Money::from_micros(m, cur));
        if let Some(c) = self.order(package, order_id) {
            let open_review = self
                .refund_reviews
                .iter()
                .any(|r| r.order_id == order_id && r.refunded.is_none());
            let refunded = c.refunded_micros();
            let state = if c.fully_refunded() {
                OrderState::Refunded
            } else if open_review {
                OrderState::PendingRefund
            } else if !c.refunds.is_empty() {
                OrderState::PartiallyRefunded
            } else {
                OrderState::Processed
            };
            let tax_of = |m: i64| share(m, TAX_RATE_BP);
            let details = |amount: i64| {
                Some(RefundDetails {
                    tax: money(tax_of(amount), &c.currency),
                    total: money(amount + tax_of(amount), &c.currency),
                })
            };
            let full = c.refunds.iter().find(|r| !r.partial);
            let partials: Vec<PartialRefundEvent> = c
                .refunds
                .iter()
                .filter(|r| r.partial)
                .map(|r| PartialRefundEvent {
                    create_time: Some(format_time(r.at_ms)),
                    process_time: Some(format_time(r.at_ms)),
                    refund_details: details(r.amount_micros),
                    state: Some("PROCESSED_SUCCESSFULLY".into()),
                })
                .collect();
            let last = c
                .refunds
                .iter()
                .map(|r| r.at_ms)
                .max()
                .unwrap_or(c.charged_ms);
            let revenue =
                c.price_micros() - c.fee_micros() - refunded + share(refunded, GOOGLE_FEE_BP);
            let line = OrderLineItem {
                listing_price: money(c.unit_price_micros, &c.currency),
                product_id: Some(c.product_id.clone()),
                product_title: Some(c.product_id.clone()),
                tax: money(c.tax_micros(), &c.currency),
                total: money(c.total_micros(), &c.currency),
                one_time_purchase_details: (!c.subscription).then(|| OneTimePurchaseDetails {
                    offer_id: None,
                    purchase_option_id: Some("legacy-base".into()),
                    quantity: Some(c.quantity),
                }),
                subscription_details: c.subscription.then(|| OrderSubscriptionDetails {
                    base_plan_id: c.base_plan_id.clone(),
                    offer_id: None,
                    offer_phase: Some("BASE".into()),
                    service_period_start_time: c.service_period.map(|p| format_time(p.0)),
                    service_period_end_time: c.service_period.map(|p| format_time(p.1)),
                }),
            };
            return Some(Order {
                buyer_address: Some(BuyerAddress {
                    buyer_country: Some(c.region.clone()),
                    ..BuyerAddress::default()
                }),
                create_time: Some(format_time(c.charged_ms)),
                developer_revenue_in_buyer_currency: money(revenue.max(0), &c.currency),
                last_event_time: Some(format_time(last)),
                line_items: Some(vec![line]),
                order_details: Some(OrderDetails {
                    tax_inclusive: Some(false),
                }),
                order_history: Some(OrderHistory {
                    cancellation_event: None,
                    partial_refund_events: (!partials.is_empty()).then_some(partials),
                    processed_event: Some(EventTime {
                        event_time: Some(format_time(c.charged_ms)),
                    }),
                    refund_event: full.map(|r| RefundEvent {
                        event_time: Some(format_time(r.at_ms)),
                        refund_details: details(r.amount_micros),
                        refund_reason: Some(if r.chargeback {
                            RefundReason::Chargeback
                        } else {
                            RefundReason::OtherReason
                        }),
                    }),
                }),
                order_id: Some(c.order_id.clone()),
                purchase_token: Some(c.token.clone()),
                sales_channel: Some("IN_APP".into()),
                state: Some(state),
                tax: money(c.tax_micros(), &c.currency),
                total: money(c.total_micros(), &c.currency),
            });
        }
        // A purchase whose payment never completed has an order but no charge.
        let p = self
            .purchases
            .values()
            .find(|p| p.package_name == package && p.order_id == order_id)?;
        let (state, created, canceled) = match &p.detail {
            Detail::OneTime(o) => (
                if o.state == OneTimeState::Cancelled {
                    OrderState::Canceled
                } else {
                    OrderState::Pending
                },
                o.purchase_time_ms,
                o.state == OneTimeState::Cancelled,
            ),
            Detail::Subscription(s) => (
                if s.status == SubStatus::PendingPurchaseCanceled {
                    OrderState::Canceled
                } else {
                    OrderState::Pending
                },
                s.start_ms,
                s.status == SubStatus::PendingPurchaseCanceled,
            ),
        };
        Some(Order {
            create_time: Some(format_time(created)),
            last_event_time: Some(format_time(created)),
            line_items: Some(vec![OrderLineItem {
                product_id: Some(p.product_id.clone()),
                product_title: Some(p.product_id.clone()),
                ..OrderLineItem::default()
            }]),
            order_history: Some(OrderHistory {
                cancellation_event: canceled.then(|| EventTime {
                    event_time: Some(format_time(created)),
                }),
                ..OrderHistory::default()
            }),
            order_id: Some(order_id.to_owned()),
            purchase_token: Some(p.token.clone()),
            sales_channel: Some("IN_APP".into()),
            state: Some(state),
            ..Order::default()
        })
    }

    /// `orders.refund`: a full refund of the order; `revoke` also ends access (and voids it,
    /// as voided purchases and an RTDN show). Without `revoke` the money goes back and
    /// nothing else changes (Google does not list it as voided).
    pub fn refund_order(
        &mut self,
        package: &str,
        order_id: &str,
        revoke: bool,
        now: i64,
    ) -> Result<(), GoogleApiError> {
        let c = self
            .order(package, order_id)
            .ok_or_else(|| GoogleApiError::not_found("The order was not found."))?;
        if c.fully_refunded() {
            return Err(GoogleApiError::invalid(
                "orderAlreadyRefunded",
                "The order has already been fully refunded.",
            ));
        }
        if now - c.charged_ms > 3 * 365 * DAY_MS {
            return Err(GoogleApiError::invalid(
                "orderTooOld",
                "Orders older than 3 years cannot be refunded.",
            ));
        }
        let token = c.token.clone();
        if revoke {
            // Developer source (1), reason Other (0).
            self.void_order(&token, Some(order_id), now, 1, 0, None)
                .map_err(|e| GoogleApiError::invalid("invalidPurchaseState", format!("{e:?}")))?;
        } else {
            self.record_refund(order_id, now, None, false);
        }
        Ok(())
    }
}

type ApiResult<T> = Result<T, GoogleApiError>;

/// `androidpublisher.orders.get`
pub async fn get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, order_id)): Path<(String, String)>,
) -> ApiResult<Json<Order>> {
    let world = crate::play::open(&shared, &headers, &package, Bucket::Orders)?;
    world
        .render_order(&package, &order_id)
        .map(Json)
        .ok_or_else(|| GoogleApiError::not_found("The order was not found."))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundQuery {
    revoke: Option<String>,
}

/// `androidpublisher.orders.refund` and `androidpublisher.orders.reviewrefund`
pub async fn post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, segment)): Path<(String, String)>,
    query: Result<Query<RefundQuery>, QueryRejection>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Empty>> {
    let (order_id, verb) = split_verb(&segment, &["refund", "reviewrefund"])?;
    let Query(q) = query.map_err(|e| GoogleApiError::invalid("invalid", e.body_text()))?;
    let mut world = crate::play::open(&shared, &headers, &package, Bucket::Orders)?;
    let now = world.now();
    if verb == "refund" {
        let revoke = match q.revoke.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(GoogleApiError::invalid(
                    "invalid",
                    format!("Invalid value for revoke: {other:?}"),
                ));
            }
        };
        world.refund_order(&package, order_id, revoke, now)?;
    } else {
        let req: OrdersReviewRefundRequest = serde_json::from_slice(&body).map_err(|e| {
            GoogleApiError::invalid("invalid", format!("Invalid JSON payload: {e}"))
        })?;
        world.answer_review(&package, order_id, &req, now)?;
    }
    Ok(Json(Empty {}))
}

/// Query of `orders.batchget`: `orderIds` repeats.
pub async fn batch_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    uri: axum::http::Uri,
) -> ApiResult<Json<BatchGetOrdersResponse>> {
    let ids: Vec<String> = query_pairs(uri.query().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| k == "orderIds")
        .map(|(_, v)| v)
        .collect();
    if ids.is_empty() || ids.len() > 1000 {
        return Err(GoogleApiError::invalid(
            "invalid",
            "orderIds must hold between 1 and 1000 order IDs.",
        ));
    }
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    if distinct.len() != ids.len() {
        return Err(GoogleApiError::invalid(
            "invalid",
            "The order IDs must be distinct.",
        ));
    }
    let world = crate::play::open(&shared, &headers, &package, Bucket::Orders)?;
    let orders = ids
        .iter()
        .map(|id| {
            world
                .render_order(&package, id)
                .ok_or_else(|| GoogleApiError::not_found(format!("The order {id} was not found.")))
        })
        .collect::<ApiResult<Vec<Order>>>()?;
    Ok(Json(BatchGetOrdersResponse {
        orders: Some(orders),
    }))
}

/// Decoded `key=value` pairs of a query string, repeated keys kept (Google's repeated
/// query parameters: `orderIds=A&orderIds=B`).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_down_to_the_cent() {
        assert_eq!(share(4_990_000, TAX_RATE_BP), 490_000);
        assert_eq!(share(4_990_000, GOOGLE_FEE_BP), 740_000);
        assert_eq!(share(0, GOOGLE_FEE_BP), 0);
    }
}
