//! Reconciliation of Play's financial reports with what playbill recorded (reference section
//! 11): per month and app, the orders Google charged that we never recorded, the grants we
//! hold that Google never charged, the full refunds Google made while we still grant, and
//! the totals per currency. A pure function over the imported report lines and the stored
//! purchases.

use std::collections::{BTreeMap, BTreeSet};

/// Which report a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Report {
    Earnings,
    Sales,
}

/// What a report line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Earnings `Charge`, sales `Charged`: the buyer paid.
    Charge,
    /// Earnings `Google fee`.
    Fee,
    /// Earnings `Tax`.
    Tax,
    /// Earnings `Charge refund`, sales `Refund` / `Partial refund`.
    Refund,
    FeeRefund,
    TaxRefund,
    Other,
}

impl LineKind {
    /// From an earnings row's `Transaction Type`.
    pub fn of_earnings(transaction_type: &str) -> Self {
        match transaction_type {
            "Charge" => LineKind::Charge,
            "Google fee" => LineKind::Fee,
            "Tax" => LineKind::Tax,
            "Charge refund" => LineKind::Refund,
            "Google fee refund" => LineKind::FeeRefund,
            "Tax refund" => LineKind::TaxRefund,
            _ => LineKind::Other,
        }
    }
    /// From a sales row's `Financial Status`.
    pub fn of_sales(status: &str) -> Self {
        match status {
            "Charged" => LineKind::Charge,
            "Refund" | "Partial refund" => LineKind::Refund,
            _ => LineKind::Other,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Charge => "charge",
            LineKind::Fee => "fee",
            LineKind::Tax => "tax",
            LineKind::Refund => "refund",
            LineKind::FeeRefund => "fee_refund",
            LineKind::TaxRefund => "tax_refund",
            LineKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "charge" => LineKind::Charge,
            "fee" => LineKind::Fee,
            "tax" => LineKind::Tax,
            "refund" => LineKind::Refund,
            "fee_refund" => LineKind::FeeRefund,
            "tax_refund" => LineKind::TaxRefund,
            _ => LineKind::Other,
        }
    }
}

/// One imported report line of one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub report: Report,
    /// `YYYY-MM` (the report's month).
    pub month: String,
    pub order_id: String,
    pub kind: LineKind,
    /// A refund of the whole order (earnings `Refund Type` Full, sales `Refund`).
    pub full_refund: bool,
    /// The buyer's currency and the amount in it, in micros.
    pub currency: String,
    pub amount_micros: i64,
}

/// A stored purchase, as reconciliation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub token: String,
    pub order_id: Option<String>,
    pub started_at: Option<i64>,
    /// A license tester's: no money moves, so no charge is expected.
    pub test_purchase: bool,
    /// Payment still pending: no charge yet.
    pub pending: bool,
    /// It gives access now (an active entitlement, neither revoked nor replaced).
    pub grants: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// What buyers paid, less what was refunded to them.
    pub gross_micros: i64,
    /// Google's fees (negative), less fees returned on refunds.
    pub fees_micros: i64,
    /// Tax Google remits (negative), less tax returned on refunds.
    pub tax_micros: i64,
    /// The sum of every line: what the developer is paid.
    pub net_micros: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    pub month: String,
    /// Orders Google charged in the month that no stored purchase has.
    pub charged_not_recorded: Vec<String>,
    /// Stored purchases started in the month (not test, not pending) with no charge in any
    /// imported report: (order id or `-`, token).
    pub granted_not_charged: Vec<(String, String)>,
    /// Orders Google refunded in full in the month whose purchase still grants.
    pub refunded_not_revoked: Vec<String>,
    /// Per buyer currency, from the earnings report.
    pub totals: BTreeMap<String, Totals>,
}

impl Reconciliation {
    /// Whether Google's reports and our records agree.
    pub fn is_clean(&self) -> bool {
        self.charged_not_recorded.is_empty()
            && self.granted_not_charged.is_empty()
            && self.refunded_not_revoked.is_empty()
    }
}

/// The order a renewal order (`GPA.…..N`) belongs to.
pub fn order_base(order_id: &str) -> &str {
    order_id.split("..").next().unwrap_or(order_id)
}

/// Reconciles `month` (`YYYY-MM`, its start and end in epoch ms as `[from, to)`) of one app:
/// `lines` are every imported line of the app (all months: a purchase charged in another
/// month is not "never charged"), `booked` its stored purchases.
pub fn reconcile(
    month: &str,
    (from, to): (i64, i64),
    lines: &[ReportLine],
    booked: &[Booked],
) -> Reconciliation {
    let recorded: BTreeMap<&str, &Booked> = booked
        .iter()
        .filter_map(|b| b.order_id.as_deref().map(|o| (order_base(o), b)))
        .collect();
    let charged_anywhere: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l.kind == LineKind::Charge)
        .map(|l| order_base(&l.order_id))
        .collect();
    let in_month = lines.iter().filter(|l| l.month == month);

    let mut charged_not_recorded = BTreeSet::new();
    let mut refunded_not_revoked = BTreeSet::new();
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    for l in in_month {
        let ours = recorded.get(order_base(&l.order_id));
        match l.kind {
            LineKind::Charge if ours.is_none() => {
                charged_not_recorded.insert(l.order_id.clone());
            }
            LineKind::Refund if l.full_refund && ours.is_some_and(|b| b.grants) => {
                refunded_not_revoked.insert(l.order_id.clone());
            }
            _ => {}
        }
        if l.report == Report::Earnings {
            let t = totals.entry(l.currency.clone()).or_default();
            match l.kind {
                LineKind::Charge | LineKind::Refund => t.gross_micros += l.amount_micros,
                LineKind::Fee | LineKind::FeeRefund => t.fees_micros += l.amount_micros,
                LineKind::Tax | LineKind::TaxRefund => t.tax_micros += l.amount_micros,
                LineKind::Other => {}
            }
            t.net_micros += l.amount_micros;
        }
    }
    let granted_not_charged = booked
        .iter()
        .filter(|b| !b.test_purchase && !b.pending)
        .filter(|b| b.started_at.is_some_and(|t| (from..to).contains(&t)))
        .filter(|b| {
            b.order_id
                .as_deref()
                .is_none_or(|o| !charged_anywhere.contains(order_base(o)))
        })
        .map(|b| {
            (
                b.order_id.clone().unwrap_or_else(|| "-".into()),
                b.token.clone(),
            )
        })
        .collect();
    Reconciliation {
        month: month.to_owned(),
        charged_not_recorded: charged_not_recorded.into_iter().collect(),
        granted_not_charged,
        refunded_not_revoked: refunded_not_revoked.into_iter().collect(),
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(report: Report, month: &str, order: &str, kind: LineKind, micros: i64) -> ReportLine {
        ReportLine {
            report,
            month: month.into(),
            order_id: order.into(),
            kind,
            full_refund: kind == LineKind::Refund,
            currency: "EUR".into(),
            amount_micros: micros,
        }
    }

    fn booked(order: &str, started_at: i64, grants: bool) -> Booked {
        Booked {
            token: format!("tok-{order}"),
            order_id: Some(order.into()),
            started_at: Some(started_at),
            test_purchase: false,
            pending: false,
            grants,
        }
    }

    #[test]
    fn each_kind_of_discrepancy_and_nothing_else() {
        use LineKind::*;
        use Report::*;
        let m = "2026-11";
        let lines = vec![
            // A: charged and recorded (its renewal too), nothing to say.
            line(Earnings, m, "GPA.A", Charge, 11_000_000),
            line(Earnings, m, "GPA.A", Fee, -1_500_000),
            line(Earnings, m, "GPA.A", Tax, -1_000_000),
            line(Earnings, m, "GPA.A..0", Charge, 11_000_000),
            line(Sales, m, "GPA.A", Charge, 11_000_000),
            // B: charged, never recorded.
            line(Earnings, m, "GPA.B", Charge, 5_000_000),
            // C: refunded in full, we still grant.
            line(Earnings, m, "GPA.C", Charge, 2_000_000),
            line(Earnings, m, "GPA.C", Refund, -2_000_000),
            // E: refunded in full and revoked: fine.
            line(Sales, m, "GPA.E", Charge, 1_000_000),
            line(Sales, m, "GPA.E", Refund, -1_000_000),
            // F: charged last month: not "never charged" this month.
            line(Earnings, "2026-10", "GPA.F", Charge, 1_000_000),
        ];
        let (from, to) = (1_000, 2_000);
        let mut test = booked("GPA.T", 1_500, true);
        test.test_purchase = true;
        let books = vec![
            booked("GPA.A..0", 1_100, true),
            booked("GPA.C", 1_200, true),
            booked("GPA.D", 1_300, true), // D: granted, never charged.
            booked("GPA.E", 1_400, false),
            booked("GPA.F", 1_500, true),
            booked("GPA.G", 2_500, true), // next month: not this month's concern.
            test,
        ];
        let r = reconcile(m, (from, to), &lines, &books);
        assert_eq!(r.charged_not_recorded, ["GPA.B"]);
        assert_eq!(
            r.granted_not_charged,
            [("GPA.D".to_owned(), "tok-GPA.D".to_owned())]
        );
        assert_eq!(r.refunded_not_revoked, ["GPA.C"]);
        assert!(!r.is_clean());
        assert_eq!(
            r.totals["EUR"],
            Totals {
                gross_micros: 11_000_000 * 2 + 5_000_000,
                fees_micros: -1_500_000,
                tax_micros: -1_000_000,
                net_micros: 11_000_000 * 2 + 5_000_000 - 2_500_000,
            },
            "earnings only; a refund cancels its charge"
        );
    }
}
