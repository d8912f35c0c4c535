//! A few counters operators alert on, served at `GET /metrics` in Prometheus' text format.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    /// Purchases found unacknowledged within 24 hours of Google's 3-day refund deadline.
    pub ack_deadline_alerts: AtomicU64,
    /// Notifications taken in (after de-duplication), quarantined, and test notifications.
    pub rtdn_processed: AtomicU64,
    pub rtdn_quarantined: AtomicU64,
    pub rtdn_test_notifications: AtomicU64,
    /// External-transaction reports Google refused, or that ran out of their 24 hours.
    pub external_reports_failed: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, c) in [
            (
                "playbill_ack_deadline_alerts_total",
                "Purchases still unacknowledged within 24 h of Google's 3-day refund deadline.",
                &self.ack_deadline_alerts,
            ),
            (
                "playbill_rtdn_processed_total",
                "Real-time developer notifications processed.",
                &self.rtdn_processed,
            ),
            (
                "playbill_rtdn_quarantined_total",
                "Notification bodies that can never succeed, kept in quarantine.",
                &self.rtdn_quarantined,
            ),
            (
                "playbill_rtdn_test_notifications_total",
                "Test notifications from Play Console.",
                &self.rtdn_test_notifications,
            ),
            (
                "playbill_external_reports_failed_total",
                "External-transaction reports Google did not take (refused, or past 24 hours).",
                &self.external_reports_failed,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        out
    }
}
