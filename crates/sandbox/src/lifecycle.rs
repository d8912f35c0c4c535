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
        }
    }

    /// When the next time-driven event of this subscription happens, if any.
    pub fn due_at(&self) -> Option<i64> {
        match self.status {
            SubStatus::Active if self.auto_renew => Some(self.expiry_ms),
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
            // A scheduled pause starts at the renewal date instead of a charge.
            SubStatus::Active if self.pause_scheduled.is_some() => {
                let length = self.pause_scheduled.take().unwrap_or(self.period);
                self.status = SubStatus::Paused;
                self.resume_at_ms = Some(length.add_to(self.expiry_ms));
                vec![code::PAUSED]
            }
            SubStatus::Paused => self.resume(t),
            SubStatus::Active if self.payment_ok => {
                self.expiry_ms = self.period.add_to(self.expiry_ms);
                self.renewals += 1;
                vec![code::RENEWED]
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
