//! External transactions (alternative billing) wire types, exactly as the discovery document has them.
//!
//! `androidpublisher.externaltransactions.*` (reference section 12): the
//! [`ExternalTransaction`] resource (request and response of create, response of get and
//! refund) and [`RefundExternalTransactionRequest`]. Amounts are [`Price`]s whose
//! `priceMicros` is a plain string in the contract (no int64 format), so it stays a `String`.
//! Enum fields are strings, so a value newer than this code still decodes; the known values
//! are the constants of the modules below. Every field is optional, absent fields stay
//! absent, unknown fields are ignored.

use serde::{Deserialize, Serialize};

use crate::wire::Empty;

/// `ExternalTransaction.transactionState`.
pub mod transaction_state {
    pub const UNSPECIFIED: &str = "TRANSACTION_STATE_UNSPECIFIED";
    /// Reported to Google.
    pub const REPORTED: &str = "TRANSACTION_REPORTED";
    /// Fully refunded.
    pub const CANCELED: &str = "TRANSACTION_CANCELED";
}

/// `ExternalSubscription.subscriptionType`.
pub mod subscription_type {
    pub const UNSPECIFIED: &str = "SUBSCRIPTION_TYPE_UNSPECIFIED";
    pub const RECURRING: &str = "RECURRING";
    pub const PREPAID: &str = "PREPAID";
}

/// `RecurringExternalTransaction.migratedTransactionProgram`.
pub mod transaction_program {
    pub const UNSPECIFIED: &str = "EXTERNAL_TRANSACTION_PROGRAM_UNSPECIFIED";
    pub const USER_CHOICE_BILLING: &str = "USER_CHOICE_BILLING";
    pub const ALTERNATIVE_BILLING_ONLY: &str = "ALTERNATIVE_BILLING_ONLY";
}

/// `ExternalOfferDetails.linkType` (prefix `EXTERNAL_OFFER_`) and
/// `ExternalContentLinkDetails.linkType` (prefix `EXTERNAL_CONTENT_`).
pub mod link_type {
    pub const OFFER_UNSPECIFIED: &str = "EXTERNAL_OFFER_LINK_TYPE_UNSPECIFIED";
    pub const CONTENT_UNSPECIFIED: &str = "EXTERNAL_CONTENT_LINK_TYPE_UNSPECIFIED";
    pub const LINK_TO_DIGITAL_CONTENT_OFFER: &str = "LINK_TO_DIGITAL_CONTENT_OFFER";
    pub const LINK_TO_APP_DOWNLOAD: &str = "LINK_TO_APP_DOWNLOAD";
}

/// `ExternalOfferDetails.installedAppCategory` and `ExternalContentLinkDetails.externalAppCategory`.
pub mod app_category {
    pub const OFFER_UNSPECIFIED: &str = "EXTERNAL_OFFER_APP_CATEGORY_UNSPECIFIED";
    pub const CONTENT_UNSPECIFIED: &str = "EXTERNAL_CONTENT_APP_CATEGORY_UNSPECIFIED";
    pub const APP: &str = "APP";
    pub const GAME: &str = "GAME";
}

/// `Price`: an amount in micros of an ISO 4217 currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Micros of the currency's base unit, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_micros: Option<String>,
}

impl Price {
    pub fn new(micros: i64, currency: &str) -> Self {
        Self {
            currency: Some(currency.to_owned()),
            price_micros: Some(micros.to_string()),
        }
    }
}

/// `ExternalTransaction`. Output-only fields (`packageName`, `externalTransactionId`,
/// `createTime`, `current*Amount`, `transactionState`, `testPurchase`) are set by Google;
/// input-only fields (the tokens, `migratedTransactionProgram`) are never sent back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalTransaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_pre_tax_amount: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_tax_amount: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_content_link_details: Option<ExternalContentLinkDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_offer_details: Option<ExternalOfferDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_transaction: Option<OneTimeExternalTransaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_pre_tax_amount: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_tax_amount: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_transaction: Option<RecurringExternalTransaction>,
    /// `ExternalTransactionTestPurchase` (an empty message): present for test accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_purchase: Option<Empty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_program_code: Option<i32>,
    /// [`transaction_state`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_tax_address: Option<ExternalTransactionAddress>,
}

/// `OneTimeExternalTransaction`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeExternalTransaction {
    /// Input only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_transaction_token: Option<String>,
}

/// `RecurringExternalTransaction`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurringExternalTransaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_subscription: Option<ExternalSubscription>,
    /// Input only; the initial transaction of a series only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_transaction_token: Option<String>,
    /// The first transaction of the series (its own id for the first one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_external_transaction_id: Option<String>,
    /// Input only; [`transaction_program`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_transaction_program: Option<String>,
    /// `OtherRecurringProduct` (an empty message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_recurring_product: Option<Empty>,
}

/// `ExternalSubscription`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSubscription {
    /// [`subscription_type`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_type: Option<String>,
}

/// `ExternalTransactionAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalTransactionAddress {
    /// Required for India only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrative_area: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

/// `ExternalOfferDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalOfferDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_download_event_external_transaction_id: Option<String>,
    /// [`app_category`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_app_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_app_package: Option<String>,
    /// [`link_type`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_type: Option<String>,
}

/// `ExternalContentLinkDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalContentLinkDetails {
    /// [`app_category`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_app_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_app_package: Option<String>,
    /// [`link_type`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_type: Option<String>,
}

/// `RefundExternalTransactionRequest`: `refundTime` and exactly one of the two refunds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundExternalTransactionRequest {
    /// `FullRefund` (an empty message): refund all that remains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_refund: Option<Empty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_refund: Option<PartialRefund>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_time: Option<String>,
}

/// `PartialRefund`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialRefund {
    /// Unique among the refunds of one transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// Must be below the remaining pre-tax amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_pre_tax_amount: Option<Price>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_documented_shape() {
        let t: ExternalTransaction = serde_json::from_str(
            r#"{"originalPreTaxAmount":{"priceMicros":"9990000","currency":"EUR"},
                "originalTaxAmount":{"priceMicros":"1900000","currency":"EUR"},
                "transactionTime":"2026-10-01T12:00:00Z",
                "userTaxAddress":{"regionCode":"KR"},
                "recurringTransaction":{"initialExternalTransactionId":"sub-1",
                  "externalSubscription":{"subscriptionType":"RECURRING"}},
                "testPurchase":{},"transactionState":"TRANSACTION_REPORTED","newField":1}"#,
        )
        .unwrap();
        assert_eq!(
            t.original_pre_tax_amount,
            Some(Price::new(9_990_000, "EUR"))
        );
        let r = t.recurring_transaction.as_ref().unwrap();
        assert_eq!(
            r.external_subscription
                .as_ref()
                .unwrap()
                .subscription_type
                .as_deref(),
            Some(subscription_type::RECURRING)
        );
        assert_eq!(t.test_purchase, Some(Empty {}));
        let back = serde_json::to_value(&t).unwrap();
        assert_eq!(back["originalTaxAmount"]["priceMicros"], "1900000");
        assert_eq!(back["testPurchase"], serde_json::json!({}));
        assert!(back.get("oneTimeTransaction").is_none());

        let refund: RefundExternalTransactionRequest =
            serde_json::from_str(r#"{"refundTime":"2026-10-02T00:00:00Z","fullRefund":{}}"#)
                .unwrap();
        assert_eq!(refund.full_refund, Some(Empty {}));
        assert!(refund.partial_refund.is_none());
    }
}
