//! Google's answers reduced to `playbill_core::Observation`, the only shape the decisions
//! look at. Everything Google may leave out is handled here, once.

use playbill_core::{
    Observation, ObservedItem, ProductId, ProductKind, PurchaseState, PurchaseToken,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::GoogleError;
use crate::wire::{
    AcknowledgementState, ConsumptionState, ProductPurchaseState, ProductPurchaseV2,
    SubscriptionPurchaseV2,
};

/// Parses a `google-datetime` (RFC 3339) into epoch milliseconds.
pub fn parse_time(field: &str, s: &str) -> Result<i64, GoogleError> {
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| GoogleError::Decode(format!("{field} is not RFC 3339 ({s:?}): {e}")))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Formats epoch milliseconds as a `google-datetime` (RFC 3339, UTC, milliseconds).
pub fn format_time(ms: i64) -> String {
    time_text(ms).as_str().to_owned()
}

/// A `google-datetime` (`YYYY-MM-DDTHH:MM:SS.mmmZ`) held on the stack: API answers write
/// many of them, and this is [`format_time`] without the allocation or the formatter.
#[derive(Clone, Copy)]
pub struct TimeText {
    buf: [u8; 32],
    len: usize,
}

impl TimeText {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl serde::Serialize for TimeText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Epoch milliseconds as a [`TimeText`]; out of `time`'s range reads as the epoch.
pub fn time_text(ms: i64) -> TimeText {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = TimeText {
        buf: [0; 32],
        len: 0,
    };
    let year = t.year();
    let Ok(year4) = u32::try_from(year) else {
        return written(&mut out, t);
    };
    if year4 > 9999 {
        return written(&mut out, t);
    }
    let fields: [(u32, usize, u8); 7] = [
        (year4, 4, b'-'),
        (u32::from(u8::from(t.month())), 2, b'-'),
        (u32::from(t.day()), 2, b'T'),
        (u32::from(t.hour()), 2, b':'),
        (u32::from(t.minute()), 2, b':'),
        (u32::from(t.second()), 2, b'.'),
        (u32::from(t.millisecond()), 3, b'Z'),
    ];
    let mut at = 0;
    for (value, width, sep) in fields {
        let mut v = value;
        for i in (0..width).rev() {
            out.buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.buf[at + width] = sep;
        at += width + 1;
    }
    out.len = at;
    out
}

/// The general path (years before 0): through the formatter, still without allocating.
fn written(out: &mut TimeText, t: OffsetDateTime) -> TimeText {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut out.buf[..]);
    // 32 bytes hold any year `time` represents (at most 6 digits and a sign).
    let _ = write!(
        cursor,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    );
    out.len = cursor.position() as usize;
    *out
}

fn product_id(field: &str, s: Option<&String>) -> Result<ProductId, GoogleError> {
    let s = s.ok_or_else(|| GoogleError::Decode(format!("{field} is missing")))?;
    ProductId::parse(s.as_str()).map_err(|e| GoogleError::Decode(format!("{field}: {e}")))
}

/// `ProductPurchaseV2` → observation of a one-time purchase.
pub fn observe_product(p: &ProductPurchaseV2) -> Result<Observation, GoogleError> {
    let state = match p
        .purchase_state_context
        .as_ref()
        .and_then(|c| c.purchase_state.as_ref())
    {
        Some(ProductPurchaseState::Purchased) => PurchaseState::Purchased,
        Some(ProductPurchaseState::Cancelled) => PurchaseState::Cancelled,
        Some(ProductPurchaseState::Pending) => PurchaseState::Pending,
        Some(other) => PurchaseState::Unknown(other.as_str().to_owned()),
        None => PurchaseState::Unknown("PURCHASE_STATE_UNSPECIFIED".into()),
    };
    let mut items = Vec::new();
    for li in p.product_line_item.iter().flatten() {
        let offer = li.product_offer_details.as_ref();
        items.push(ObservedItem {
            product_id: product_id("productLineItem.productId", li.product_id.as_ref())?,
            expires_at: None,
            auto_renewing: false,
            quantity: offer.and_then(|o| o.quantity).map_or(1, i64::from),
            refundable_quantity: offer.and_then(|o| o.refundable_quantity).map(i64::from),
            consumed: offer.and_then(|o| o.consumption_state.as_ref())
                == Some(&ConsumptionState::Consumed),
        });
    }
    Ok(Observation {
        kind: ProductKind::OneTime,
        state,
        acknowledged: p.acknowledgement_state == Some(AcknowledgementState::Acknowledged),
        items,
        order_id: p.order_id.clone(),
        linked_purchase_token: None,
        out_of_app_expired_token: None,
        obfuscated_account_id: p.obfuscated_external_account_id.clone(),
        test_purchase: p.test_purchase_context.is_some(),
        started_at: p
            .purchase_completion_time
            .as_deref()
            .map(|t| parse_time("purchaseCompletionTime", t))
            .transpose()?,
    })
}

/// `SubscriptionPurchaseV2` → observation of a subscription.
pub fn observe_subscription(s: &SubscriptionPurchaseV2) -> Result<Observation, GoogleError> {
    let state = s.subscription_state.as_ref().map_or(
        PurchaseState::Unknown("SUBSCRIPTION_STATE_UNSPECIFIED".into()),
        |st| PurchaseState::parse(st.as_str()),
    );
    let mut items = Vec::new();
    for li in s.line_items.iter().flatten() {
        items.push(ObservedItem {
            product_id: product_id("lineItems.productId", li.product_id.as_ref())?,
            expires_at: li
                .expiry_time
                .as_deref()
                .map(|t| parse_time("lineItems.expiryTime", t))
                .transpose()?,
            auto_renewing: li
                .auto_renewing_plan
                .as_ref()
                .and_then(|p| p.auto_renew_enabled)
                .unwrap_or(false),
            quantity: 1,
            refundable_quantity: None,
            consumed: false,
        });
    }
    let linked_purchase_token = s
        .linked_purchase_token
        .as_deref()
        .map(PurchaseToken::parse)
        .transpose()
        .map_err(|e| GoogleError::Decode(format!("linkedPurchaseToken: {e}")))?;
    Ok(Observation {
        kind: ProductKind::Subscription,
        state,
        acknowledged: s.acknowledgement_state == Some(AcknowledgementState::Acknowledged),
        order_id: s
            .line_items
            .iter()
            .flatten()
            .find_map(|li| li.latest_successful_order_id.clone()),
        items,
        linked_purchase_token,
        out_of_app_expired_token: s
            .out_of_app_purchase_context
            .as_ref()
            .and_then(|c| c.expired_purchase_token.as_deref())
            .map(PurchaseToken::parse)
            .transpose()
            .map_err(|e| GoogleError::Decode(format!("expiredPurchaseToken: {e}")))?,
        obfuscated_account_id: s
            .external_account_identifiers
            .as_ref()
            .and_then(|e| e.obfuscated_external_account_id.clone()),
        test_purchase: s.test_purchase.is_some(),
        started_at: s
            .start_time
            .as_deref()
            .map(|t| parse_time("startTime", t))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let ms = parse_time("t", "2022-04-22T18:39:58.270Z").unwrap();
        assert_eq!(ms, 1_650_652_798_270);
        assert_eq!(format_time(ms), "2022-04-22T18:39:58.270Z");
        // The digit writer agrees with the formatter, edges included.
        for ms in [
            0,
            1,
            -1,
            999,
            86_399_999,
            951_782_400_000,
            253_402_300_799_999,
            -62_167_219_200_000,
            -62_167_219_200_001,
            -100_000_000_000_000,
        ] {
            let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
            let mut slow = TimeText {
                buf: [0; 32],
                len: 0,
            };
            assert_eq!(
                time_text(ms).as_str(),
                written(&mut slow, t).as_str(),
                "{ms}"
            );
        }
        assert_eq!(format_time(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_time(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(
            parse_time("t", "2022-04-22T18:39:58Z").unwrap(),
            1_650_652_798_000
        );
        assert!(parse_time("t", "yesterday").is_err());
    }

    #[test]
    fn subscription_with_unknown_state_never_fails_to_decode() {
        let s: SubscriptionPurchaseV2 = serde_json::from_str(
            r#"{"subscriptionState":"SUBSCRIPTION_STATE_LATER","lineItems":[{"productId":"p","expiryTime":"2030-01-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        let o = observe_subscription(&s).unwrap();
        assert_eq!(
            o.state,
            PurchaseState::Unknown("SUBSCRIPTION_STATE_LATER".into())
        );
        assert_eq!(o.items.len(), 1);
        assert!(!o.items[0].auto_renewing);
    }

    #[test]
    fn one_time_defaults() {
        let p: ProductPurchaseV2 = serde_json::from_str(
            r#"{"purchaseStateContext":{"purchaseState":"PURCHASED"},"productLineItem":[{"productId":"gems","productOfferDetails":{}}]}"#,
        )
        .unwrap();
        let o = observe_product(&p).unwrap();
        assert_eq!(o.items[0].quantity, 1, "absent quantity means 1");
        assert!(!o.acknowledged && !o.test_purchase);
    }
}
