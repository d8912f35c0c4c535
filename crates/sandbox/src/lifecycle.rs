//! The subscription lifecycle (reference section 7) as Google runs it: explicit states, the
//! events that fall due as billing time passes (renewal, grace → hold → expiry, canceled →
//! expired), and the notification codes each step publishes. Control-API transitions live in
//! [`crate::state::World::transition`]; this module holds the per-subscription rules.

use playbill_google::rtdn::subscription_type as code;

use crate::period::Period;
use crate::state::DAY_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubStatus {
    Pending,
    Active,
    Paused,
    InGracePeriod,
    OnHold,
    Canceled,
    Expired,
    PendingPurchaseCanceled,
}

/// Who canceled, for `canceledStateContext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelKind {
    User {
        at: i64,
    },
    System,
    Developer,
    /// Replaced by a new purchase token (plan change, re-signup).
    Replacement,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub status: SubStatus,
    pub acknowledged: bool,
    pub start_ms: i64,
    /// End of access: pushed to the end of grace during grace, in the past during hold.
    pub expiry_ms: i64,
    pub period: Period,
    pub grace_ms: i64,
    pub hold_ms: i64,
    pub base_plan_id: String,
    pub auto_renew: bool,
    /// Whether the user's payment method will work at the next charge.
    pub payment_ok: bool,
    /// The renewal date a declined payment missed (kept for recovery during grace).
    pub missed_renewal_ms: Option<i64>,
    /// End of the current grace period or account hold.
    pub phase_end_ms: Option<i64>,
    pub cancel: Option<CancelKind>,
    /// Renewal orders so far (`GPA…..0`, `..1`, …).
    pub renewals: u32,
    /// The token this subscription replaced (plan change, re-signup).
    pub linked_purchase_token: Option<String>,
    /// A pause the user scheduled: it starts at the next renewal date and lasts this long.
    pub pause_scheduled: Option<Period>,
    /// While paused: when the subscription resumes by itself.
    pub resume_at_ms: Option<i64>,
    /// Start of the period the latest charge paid for.
    pub period_start_ms: i64,
    /// Recurring pre-tax price of the base item, in micros of `currency`.
    pub price_micros: i64,
    pub currency: String,
    /// A prepaid plan: no renewals, no pause; time is added by top-ups (new linked tokens).
    pub prepaid: bool,
    /// An installment plan's commitment.
    pub installments: Option<Installments>,
    /// A price change announced for the base item (RTDN 19).
    pub price_change: Option<PriceChange>,
    /// Add-on items beside the base item (multi-line-item subscriptions).
    pub add_ons: Vec<AddOn>,
    /// Bought in the Play Store after `expired_token` had expired: shown as
    /// `outOfAppPurchaseContext` until acknowledged.
    pub out_of_app_expired_token: Option<String>,
    /// This token came from a plan change: what it replaced and how (`itemReplacement`).
    pub item_replacement: Option<ItemReplacement>,
    /// A DEFERRED plan change waits for this token's renewal date: the product it switches to.
    pub deferred_replacement: Option<String>,
    /// False for a DEFERRED plan change's new token until its first charge.
    pub owned: bool,
}

/// Committed payments of an installment plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installments {
    /// Payments each commitment asks for (the first charge is one of them).
    pub committed: u32,
    /// Payments still due in the current commitment.
    pub remaining: u32,
    /// The user canceled: the plan ends with the commitment (RTDN 18 announced it).
    pub pending_cancellation: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceChangeMode {
    Decrease,
    /// Opt-in: the user must accept, or the subscription is canceled at the new price's date.
    Increase,
    /// Applies unless the user cancels.
    OptOutIncrease,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceChangeState {
    Outstanding,
    Confirmed,
    Applied,
    Canceled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChange {
    pub new_price_micros: i64,
    pub mode: PriceChangeMode,
    pub state: PriceChangeState,
    /// The renewal that charges the new price.
    pub charge_at_ms: i64,
}

/// An add-on item of a multi-line-item subscription; it renews with the base item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOn {
    pub product_id: String,
    pub base_plan_id: String,
    pub price_micros: i64,
    /// Removal asked for: the item goes at the next renewal (`deferredItemRemoval`).
    pub removal_deferred: bool,
}

/// What a plan change replaced (`lineItems[].itemReplacement`, shown for 60 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemReplacement {
    pub product_id: String,
    pub base_plan_id: String,
    pub mode: playbill_google::wire::ReplacementMode,
    pub at_ms: i64,
}

impl Subscription {
    pub fn new(
        now: i64,
        period: Period,
        grace_days: u32,
        hold_days: u32,
        base_plan_id: &str,
        pending: bool,
    ) -> Self {
        Self {
            status: if pending {
                SubStatus::Pending
            } else {
                SubStatus::Active
            },
            acknowledged: false,
            start_ms: now,
            expiry_ms: period.add_to(now),
            period,
            grace_ms: i64::from(grace_days) * DAY_MS,
            hold_ms: i64::from(hold_days) * DAY_MS,
            base_plan_id: base_plan_id.to_owned(),
            auto_renew: true,
            payment_ok: true,
            missed_renewal_ms: None,
            phase_end_ms: None,
            cancel: None,
            renewals: 0,
            linked_purchase_token: None,
            pause_scheduled: None,
            resume_at_ms: None,
            period_start_ms: now,
            price_micros: 0,
            currency: "USD".into(),
            prepaid: false,
            installments: None,
            price_change: None,
            add_ons: Vec::new(),
            out_of_app_expired_token: None,
            item_replacement: None,
            deferred_replacement: None,
            owned: true,
        }
    }

    /// Ends access now with the given cancellation (revocation, replacement, refund).
    pub fn end_now(&mut self, now: i64, cancel: CancelKind) {
        self.status = SubStatus::Expired;
        self.auto_renew = false;
        self.expiry_ms = now;
        self.phase_end_ms = None;
        self.resume_at_ms = None;
        self.pause_scheduled = None;
        self.deferred_replacement = None;
        self.cancel.get_or_insert(cancel);
    }

    /// Pre-tax amount of the next charge: the base item and every add-on.
    pub fn charge_micros(&self) -> i64 {
        self.price_micros + self.add_ons.iter().map(|a| a.price_micros).sum::<i64>()
    }

    /// A renewal at `t` was paid: the next period starts, commitments count down, a due
    /// price change applies and add-ons marked for removal go. Returns the codes besides
    /// RENEWED that the renewal publishes (19 for an applied price, 17 for removed items).
    fn renew(&mut self, t: i64) -> Vec<i32> {
        let mut extra = Vec::new();
        self.period_start_ms = self.expiry_ms.min(t);
        self.expiry_ms = self.period.add_to(self.expiry_ms.max(t));
        self.renewals += 1;
        if let Some(plan) = &mut self.installments {
            plan.remaining = plan.remaining.checked_sub(1).unwrap_or(plan.committed - 1);
        }
        if let Some(pc) = &mut self.price_change
            && pc.charge_at_ms <= t
            && matches!(
                pc.state,
                PriceChangeState::Outstanding | PriceChangeState::Confirmed
            )
        {
            self.price_micros = pc.new_price_micros;
            pc.state = PriceChangeState::Applied;
            extra.push(code::PRICE_CHANGE_UPDATED);
        }
        let before = self.add_ons.len();
        self.add_ons.retain(|a| !a.removal_deferred);
        if self.add_ons.len() != before {
            extra.push(code::ITEMS_CHANGED);
        }
        extra
    }

    fn cancel_and_expire(&mut self, t: i64, kind: CancelKind) -> Vec<i32> {
        self.status = SubStatus::Expired;
        self.auto_renew = false;
        self.expiry_ms = self.expiry_ms.min(t);
        self.cancel = Some(kind);
        vec![code::CANCELED, code::EXPIRED]
    }

    /// When the next time-driven event of this subscription happens, if any.
    pub fn due_at(&self) -> Option<i64> {
        match self.status {
            SubStatus::Active if self.auto_renew || self.prepaid => Some(self.expiry_ms),
            SubStatus::Canceled => Some(self.expiry_ms),
            SubStatus::InGracePeriod | SubStatus::OnHold => self.phase_end_ms,
            SubStatus::Paused => self.resume_at_ms,
            _ => None,
        }
    }

    /// Resumes a paused subscription at `t`: charged (recovered, a new period from `t`), or
    /// into account hold when the payment fails.
    pub fn resume(&mut self, t: i64) -> Vec<i32> {
        self.resume_at_ms = None;
        if self.payment_ok {
            self.status = SubStatus::Active;
            self.period_start_ms = t;
            self.expiry_ms = self.period.add_to(t);
            self.renewals += 1;
            vec![code::RECOVERED]
        } else {
            self.status = SubStatus::OnHold;
            self.missed_renewal_ms = Some(t);
            self.expiry_ms = t;
            self.phase_end_ms = Some(t + self.hold_ms);
            vec![code::ON_HOLD]
        }
    }

    /// Applies the event due at `t`; returns the notification codes it publishes, in order.
    pub fn on_due(&mut self, t: i64) -> Vec<i32> {
        match self.status {
            // A DEFERRED plan change's new token: owned, and charged, from the old renewal date.
            SubStatus::Active if !self.owned => {
                self.owned = true;
                self.period_start_ms = t;
                self.expiry_ms = self.period.add_to(t);
                vec![code::RENEWED]
            }
            // The old token of a DEFERRED plan change: replaced at its renewal date (the new
            // token publishes the charge).
            SubStatus::Active if self.deferred_replacement.is_some() => {
                self.end_now(t, CancelKind::Replacement);
                Vec::new()
            }
            // A prepaid plan just runs out.
            SubStatus::Active if self.prepaid => {
                self.status = SubStatus::Expired;
                self.auto_renew = false;
                vec![code::EXPIRED]
            }
            // The user canceled an installment plan: it ends with the commitment.
            SubStatus::Active
                if self
                    .installments
                    .as_ref()
                    .is_some_and(|i| i.pending_cancellation && i.remaining == 0) =>
            {
                self.cancel_and_expire(t, CancelKind::User { at: t })
            }
            // An opt-in price increase the user never accepted cancels the subscription.
            SubStatus::Active
                if self.price_change.as_ref().is_some_and(|pc| {
                    pc.mode == PriceChangeMode::Increase
                        && pc.state == PriceChangeState::Outstanding
                        && pc.charge_at_ms <= t
                }) =>
            {
                if let Some(pc) = &mut self.price_change {
                    pc.state = PriceChangeState::Canceled;
                }
                self.cancel_and_expire(t, CancelKind::System)
            }
            // A scheduled pause starts at the renewal date instead of a charge.
            SubStatus::Active if self.pause_scheduled.is_some() => {
                let length = self.pause_scheduled.take().unwrap_or(self.period);
                self.status = SubStatus::Paused;
                self.resume_at_ms = Some(length.add_to(self.expiry_ms));
                vec![code::PAUSED]
            }
            SubStatus::Paused => self.resume(t),
            SubStatus::Active if self.payment_ok => {
                let extra = self.renew(t);
                let mut codes = vec![code::RENEWED];
                codes.extend(extra);
                codes
            }
            SubStatus::Active if self.grace_ms > 0 => {
                self.status = SubStatus::InGracePeriod;
                self.missed_renewal_ms = Some(self.expiry_ms);
                self.expiry_ms += self.grace_ms;
                self.phase_end_ms = Some(self.expiry_ms);
                vec![code::IN_GRACE_PERIOD]
            }
            SubStatus::Active | SubStatus::InGracePeriod => {
                if self.missed_renewal_ms.is_none() {
                    self.missed_renewal_ms = Some(self.expiry_ms);
                }
                self.status = SubStatus::OnHold;
                self.expiry_ms = t;
                self.phase_end_ms = Some(t + self.hold_ms);
                vec![code::ON_HOLD]
            }
            SubStatus::OnHold => {
                // Hold ran out: the system cancels, and the subscription expires.
                self.status = SubStatus::Expired;
                self.auto_renew = false;
                self.cancel = Some(CancelKind::System);
                self.phase_end_ms = None;
                vec![code::CANCELED, code::EXPIRED]
            }
            SubStatus::Canceled => {
                self.status = SubStatus::Expired;
                vec![code::EXPIRED]
            }
            _ => Vec::new(),
        }
    }

    /// Whether the subscription currently gives access (what Google's state implies).
    pub fn is_live(&self) -> bool {
        matches!(
            self.status,
            SubStatus::Active | SubStatus::InGracePeriod | SubStatus::Canceled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month() -> Period {
        Period::parse("P1M").unwrap()
    }

    /// Runs due events up to `until`; returns the codes published.
    fn run(s: &mut Subscription, until: i64) -> Vec<i32> {
        let mut codes = Vec::new();
        while let Some(t) = s.due_at().filter(|t| *t <= until) {
            codes.extend(s.on_due(t));
        }
        codes
    }

    #[test]
    fn renews_while_payment_works() {
        let mut s = Subscription::new(0, month(), 7, 53, "monthly", false);
        assert_eq!(run(&mut s, 95 * DAY_MS), [2, 2, 2]);
        assert_eq!(s.status, SubStatus::Active);
    }

    #[test]
    fn declined_goes_grace_hold_then_cancel_and_expire() {
        let mut s = Subscription::new(0, month(), 7, 53, "monthly", false);
        s.payment_ok = false;
        let renewal = s.expiry_ms;
        assert_eq!(run(&mut s, renewal), [6]);
        assert_eq!(s.status, SubStatus::InGracePeriod);
        assert_eq!(
            s.expiry_ms,
            renewal + 7 * DAY_MS,
            "expiry extended through grace"
        );
        assert_eq!(run(&mut s, renewal + 7 * DAY_MS), [5]);
        assert_eq!(s.status, SubStatus::OnHold);
        assert_eq!(run(&mut s, renewal + 60 * DAY_MS), [3, 13]);
        assert_eq!(s.status, SubStatus::Expired);
        assert_eq!(s.cancel, Some(CancelKind::System));
        assert_eq!(
            run(&mut s, renewal + 600 * DAY_MS),
            Vec::<i32>::new(),
            "terminal"
        );
    }

    #[test]
    fn no_grace_goes_straight_to_hold() {
        let mut s = Subscription::new(0, month(), 0, 30, "monthly", false);
        s.payment_ok = false;
        let renewal = s.expiry_ms;
        assert_eq!(run(&mut s, renewal), [5]);
    }

    #[test]
    fn canceled_expires_at_expiry() {
        let mut s = Subscription::new(0, month(), 7, 53, "monthly", false);
        s.status = SubStatus::Canceled;
        s.auto_renew = false;
        let expiry = s.expiry_ms;
        assert_eq!(run(&mut s, expiry - 1), Vec::<i32>::new());
        assert_eq!(run(&mut s, expiry), [13]);
    }
}
