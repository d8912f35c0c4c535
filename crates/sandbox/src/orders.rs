//! The sandbox's order ledger: every charge Google would make (a one-time purchase paid, a
//! subscription started, renewed, recovered or resumed, a prepaid top-up) and every refund
//! made against it. The orders API, the Cloud Storage financial reports and the control API
//! all read this one ledger, so what the reports say matches what the API says.
//!
//! A charge is recorded where its RTDN is published ([`World::publish`] callers), so every
//! charge has exactly one notification and the ledger can never disagree with Pub/Sub.

use serde::Serialize;

use crate::state::{Detail, OneTimeState, World};

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
    pub fn fully_refunded(&self) -> bool {
        self.refunded_quantity() >= self.quantity
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
            Detail::Subscription(s) => (1, Some(s.base_plan_id.clone()), Some((at, s.expiry_ms))),
        };
        let (unit_price_micros, currency) = self
            .products
            .get(&(p.package_name.clone(), p.product_id.clone()))
            .map(|pr| (pr.price_micros, pr.currency.clone()))
            .unwrap_or((0, "USD".into()));
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
        c.refunds.push(Refund {
            at_ms: at,
            quantity: units,
            amount_micros: c.unit_price_micros * i64::from(units),
            partial: units < c.quantity,
            chargeback,
        });
    }

    pub fn order(&self, package: &str, order_id: &str) -> Option<&Charge> {
        self.orders
            .iter()
            .find(|c| c.package == package && c.order_id == order_id)
    }
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
