//! Serde types for the androidpublisher v3 billing resources, field for field as the
//! discovery document (`contracts/androidpublisher.v3.json`) has them:
//! - int64 values are JSON strings ([`Int64`] also accepts numbers, as Google is not always
//!   consistent in notifications);
//! - enums are strings; a value we have not seen is kept verbatim in `Other`;
//! - every field is optional and absent fields stay absent when serialised;
//! - unknown fields are ignored.
//!
//! The sandbox serialises the same types, so client and sandbox cannot drift apart; the
//! contract test checks both against the document.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An int64 carried as a JSON string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Int64(pub i64);

impl Serialize for Int64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            S(String),
            N(i64),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(Int64(n)),
            Either::S(s) => s
                .trim()
                .parse()
                .map(Int64)
                .map_err(|_| serde::de::Error::custom(format!("not an int64: {s:?}"))),
        }
    }
}

/// Declares a Google enum: known values as variants, anything else kept in `Other`.
macro_rules! google_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A value newer than this code.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::from(s.as_str()))
            }
        }
    };
}
/// Also used by the `catalog` wire types.
pub(crate) use google_enum;

google_enum!(
    /// `acknowledgementState` of the v2 resources.
    AcknowledgementState {
        Unspecified => "ACKNOWLEDGEMENT_STATE_UNSPECIFIED",
        Pending => "ACKNOWLEDGEMENT_STATE_PENDING",
        Acknowledged => "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED",
    }
);
google_enum!(
    /// `PurchaseStateContext.purchaseState`.
    ProductPurchaseState {
        Unspecified => "PURCHASE_STATE_UNSPECIFIED",
        Purchased => "PURCHASED",
        Cancelled => "CANCELLED",
        Pending => "PENDING",
    }
);
google_enum!(
    /// `ProductOfferDetails.consumptionState`.
    ConsumptionState {
        Unspecified => "CONSUMPTION_STATE_UNSPECIFIED",
        YetToBeConsumed => "CONSUMPTION_STATE_YET_TO_BE_CONSUMED",
        Consumed => "CONSUMPTION_STATE_CONSUMED",
    }
);
google_enum!(
    /// `TestPurchaseContext.fopType`.
    FopType {
        Unspecified => "FOP_TYPE_UNSPECIFIED",
        Test => "TEST",
    }
);
google_enum!(
    /// `SubscriptionPurchaseV2.subscriptionState`.
    SubscriptionState {
        Unspecified => "SUBSCRIPTION_STATE_UNSPECIFIED",
        Pending => "SUBSCRIPTION_STATE_PENDING",
        Active => "SUBSCRIPTION_STATE_ACTIVE",
        Paused => "SUBSCRIPTION_STATE_PAUSED",
        InGracePeriod => "SUBSCRIPTION_STATE_IN_GRACE_PERIOD",
        OnHold => "SUBSCRIPTION_STATE_ON_HOLD",
        Canceled => "SUBSCRIPTION_STATE_CANCELED",
        Expired => "SUBSCRIPTION_STATE_EXPIRED",
        PendingPurchaseCanceled => "SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED",
    }
);
google_enum!(
    /// `CancelSurveyResult.reason`.
    CancelSurveyReason {
        Unspecified => "CANCEL_SURVEY_REASON_UNSPECIFIED",
        NotEnoughUsage => "CANCEL_SURVEY_REASON_NOT_ENOUGH_USAGE",
        TechnicalIssues => "CANCEL_SURVEY_REASON_TECHNICAL_ISSUES",
        CostRelated => "CANCEL_SURVEY_REASON_COST_RELATED",
        FoundBetterApp => "CANCEL_SURVEY_REASON_FOUND_BETTER_APP",
        Others => "CANCEL_SURVEY_REASON_OTHERS",
    }
);
google_enum!(
    /// `SubscriptionItemPriceChangeDetails.priceChangeMode`.
    PriceChangeMode {
        Unspecified => "PRICE_CHANGE_MODE_UNSPECIFIED",
        PriceDecrease => "PRICE_DECREASE",
        PriceIncrease => "PRICE_INCREASE",
        OptOutPriceIncrease => "OPT_OUT_PRICE_INCREASE",
    }
);
google_enum!(
    /// `SubscriptionItemPriceChangeDetails.priceChangeState`.
    PriceChangeState {
        Unspecified => "PRICE_CHANGE_STATE_UNSPECIFIED",
        Outstanding => "OUTSTANDING",
        Confirmed => "CONFIRMED",
        Applied => "APPLIED",
        Canceled => "CANCELED",
    }
);
google_enum!(
    /// `PriceStepUpConsentDetails.state`.
    ConsentState {
        Unspecified => "CONSENT_STATE_UNSPECIFIED",
        Pending => "PENDING",
        Confirmed => "CONFIRMED",
        Completed => "COMPLETED",
    }
);
google_enum!(
    /// `ItemReplacement.replacementMode`.
    ReplacementMode {
        Unspecified => "REPLACEMENT_MODE_UNSPECIFIED",
        WithTimeProration => "WITH_TIME_PRORATION",
        ChargeProratedPrice => "CHARGE_PRORATED_PRICE",
        WithoutProration => "WITHOUT_PRORATION",
        ChargeFullPrice => "CHARGE_FULL_PRICE",
        Deferred => "DEFERRED",
        KeepExisting => "KEEP_EXISTING",
    }
);
google_enum!(
    /// `ProrationPeriodOfferPhase.originalOfferPhaseType`.
    OriginalOfferPhaseType {
        Unspecified => "ORIGINAL_OFFER_PHASE_TYPE_UNSPECIFIED",
        Base => "BASE",
        Introductory => "INTRODUCTORY",
        FreeTrial => "FREE_TRIAL",
    }
);

/// An empty message (`{}`): its presence is the information.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// `ProductPurchase` (purchases.products.get, v1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPurchase {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledgement_state: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_state: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_payload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_profile_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_state: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_time_millis: Option<Int64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_type: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refundable_quantity: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

/// `ProductPurchaseV2` (purchases.productsv2.getproductpurchasev2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPurchaseV2 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledgement_state: Option<AcknowledgementState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_profile_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_line_item: Option<Vec<ProductLineItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_completion_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_state_context: Option<PurchaseStateContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_purchase_context: Option<TestPurchaseContext>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductLineItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_offer_details: Option<ProductOfferDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductOfferDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_state: Option<ConsumptionState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preorder_offer_details: Option<PreorderOfferDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refundable_quantity: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rent_offer_details: Option<Empty>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreorderOfferDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preorder_release_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseStateContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_state: Option<ProductPurchaseState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestPurchaseContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fop_type: Option<FopType>,
}

/// `SubscriptionPurchaseV2` (purchases.subscriptionsv2.get).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPurchaseV2 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledgement_state: Option<AcknowledgementState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canceled_state_context: Option<CanceledStateContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_account_identifiers: Option<ExternalAccountIdentifiers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_grace_period_state_context: Option<RenewalDeclinedHolder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<SubscriptionPurchaseLineItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_purchase_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hold_state_context: Option<RenewalDeclinedHolder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_app_purchase_context: Option<OutOfAppPurchaseContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_state_context: Option<PausedStateContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribe_with_google_info: Option<SubscribeWithGoogleInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_state: Option<SubscriptionState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_purchase: Option<Empty>,
}

/// `CanceledStateContext`: exactly one member is present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanceledStateContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_initiated_cancellation: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement_cancellation: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_initiated_cancellation: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_initiated_cancellation: Option<UserInitiatedCancellation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInitiatedCancellation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_survey_result: Option<CancelSurveyResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelSurveyResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<CancelSurveyReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_user_input: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalAccountIdentifiers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_profile_id: Option<String>,
}

/// `InGracePeriodStateContext` and `OnHoldStateContext` (same shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalDeclinedHolder {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewal_declined: Option<RenewalDeclinedContext>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalDeclinedContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_order_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutOfAppPurchaseContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_external_account_identifiers: Option<ExternalAccountIdentifiers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_purchase_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PausedStateContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_resume_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeWithGoogleInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPurchaseLineItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_renewing_plan: Option<AutoRenewingPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_item_removal: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_item_replacement: Option<DeferredItemReplacement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_replacement: Option<ItemReplacement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_successful_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_details: Option<OfferDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_phase: Option<OfferPhase>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prepaid_plan: Option<PrepaidPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signup_promotion: Option<SignupPromotion>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRenewingPlan {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_renew_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installment_details: Option<InstallmentPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_change_details: Option<SubscriptionItemPriceChangeDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_step_up_consent_details: Option<PriceStepUpConsentDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_price: Option<Money>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallmentPlan {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_committed_payments_count: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_cancellation: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_committed_payments_count: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsequent_committed_payments_count: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionItemPriceChangeDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_new_price_charge_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_change_mode: Option<PriceChangeMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_change_state: Option<PriceChangeState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceStepUpConsentDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_deadline_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ConsentState>,
}

/// `Money`: `units` is an int64 string, `nanos` an int32.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nanos: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<Int64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredItemReplacement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReplacement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement_mode: Option<ReplacementMode>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_tags: Option<Vec<String>>,
}

/// `OfferPhase`: exactly one member is present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferPhase {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_price: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_trial: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introductory_price: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proration_period: Option<ProrationPeriodOfferPhase>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProrationPeriodOfferPhase {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_offer_phase_type: Option<OriginalOfferPhaseType>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidPlan {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_extend_after_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignupPromotion {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_code: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vanity_code: Option<VanityCode>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VanityCode {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion_code: Option<String>,
}

/// `ProductPurchasesAcknowledgeRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPurchasesAcknowledgeRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_payload: Option<String>,
}

/// `SubscriptionPurchasesAcknowledgeRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPurchasesAcknowledgeRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_payload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_account_ids: Option<ExternalAccountIds>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalAccountIds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_profile_id: Option<String>,
}

/// `VoidedPurchase` (purchases.voidedpurchases.list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoidedPurchase {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_time_millis: Option<Int64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_token: Option<String>,
    /// Units refunded by a quantity-based partial refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_quantity: Option<i32>,
    /// 0 Other, 1 Remorse, 2 Not_received, 3 Defective, 4 Accidental_purchase, 5 Fraud,
    /// 6 Friendly_fraud, 7 Chargeback, 8 Unacknowledged_purchase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_reason: Option<i32>,
    /// 0 User, 1 Developer, 2 Google.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_source: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_time_millis: Option<Int64>,
}

/// `VoidedPurchasesListResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoidedPurchasesListResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_info: Option<PageInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_pagination: Option<TokenPagination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_purchases: Option<Vec<VoidedPurchase>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPagination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_per_page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_index: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_results: Option<i32>,
}

/// Google's error envelope, common to all its JSON APIs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: u16,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorItem {
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_as_string_both_ways() {
        let p: ProductPurchase =
            serde_json::from_str(r#"{"purchaseTimeMillis":"1503349566168","quantity":2}"#).unwrap();
        assert_eq!(p.purchase_time_millis, Some(Int64(1_503_349_566_168)));
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back["purchaseTimeMillis"], "1503349566168");
        assert!(back.get("orderId").is_none(), "absent stays absent");
        let n: Int64 = serde_json::from_str("42").unwrap();
        assert_eq!(n, Int64(42));
        assert!(serde_json::from_str::<Int64>(r#""x""#).is_err());
    }

    #[test]
    fn unknown_enum_values_and_fields_survive() {
        let s: SubscriptionPurchaseV2 = serde_json::from_str(
            r#"{"subscriptionState":"SUBSCRIPTION_STATE_NEW","brandNewField":{"a":1},
                "lineItems":[{"productId":"p","offerPhase":{"freeTrial":{}}}]}"#,
        )
        .unwrap();
        assert_eq!(
            s.subscription_state,
            Some(SubscriptionState::Other("SUBSCRIPTION_STATE_NEW".into()))
        );
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["subscriptionState"], "SUBSCRIPTION_STATE_NEW");
        assert_eq!(
            back["lineItems"][0]["offerPhase"]["freeTrial"],
            serde_json::json!({})
        );
    }
}

// ---- orders (androidpublisher.orders.*) -------------------------------------------------

google_enum!(
    /// `Order.state`.
    OrderState {
        Unspecified => "STATE_UNSPECIFIED",
        Pending => "PENDING",
        Processed => "PROCESSED",
        Canceled => "CANCELED",
        PendingRefund => "PENDING_REFUND",
        PartiallyRefunded => "PARTIALLY_REFUNDED",
        Refunded => "REFUNDED",
    }
);
google_enum!(
    /// `RefundEvent.refundReason`.
    RefundReason {
        Unspecified => "REFUND_REASON_UNSPECIFIED",
        OtherReason => "OTHER",
        Chargeback => "CHARGEBACK",
    }
);
google_enum!(
    /// `OrdersReviewRefundRequest.refundPreference`.
    RefundPreference {
        Unspecified => "REFUND_PREFERENCE_UNSPECIFIED",
        Decline => "DECLINE",
        Approve => "APPROVE",
        Neutral => "NEUTRAL",
    }
);

/// `Order`, as `orders.get` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_address: Option<BuyerAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_revenue_in_buyer_currency: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<OrderLineItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_details: Option<OrderDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_history: Option<OrderHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<OrderState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuyerAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_postcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_inclusive: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderHistory {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_event: Option<EventTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_refund_events: Option<Vec<PartialRefundEvent>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_event: Option<EventTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_event: Option<RefundEvent>,
}

/// `ProcessedEvent` and `CancellationEvent`: just when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTime {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_details: Option<RefundDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<RefundReason>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialRefundEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_details: Option<RefundDetails>,
    /// `PENDING` or `PROCESSED_SUCCESSFULLY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
}

/// The contract's `LineItem` of an order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_purchase_details: Option<OneTimePurchaseDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_details: Option<OrderSubscriptionDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimePurchaseDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i32>,
}

/// The contract's `SubscriptionDetails` of an order line item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSubscriptionDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// `BASE`, `INTRODUCTORY` or `FREE_TRIAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_period_end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_period_start_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetOrdersResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders: Option<Vec<Order>>,
}

/// `OrdersReviewRefundRequest` (usage events kept as raw JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersReviewRefundRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_percentage_milliunits: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_usage_events: Option<Vec<serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_refund_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_preference: Option<RefundPreference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_content_provided: Option<bool>,
}

impl Money {
    /// `micros` of `currency` as Google's `Money` (units + nanos).
    pub fn from_micros(micros: i64, currency: &str) -> Self {
        Self {
            currency_code: Some(currency.to_owned()),
            units: Some(Int64(micros / 1_000_000)),
            nanos: Some(((micros % 1_000_000) * 1_000) as i32),
        }
    }
}

// ---- subscription management (purchases.subscriptions[v2] cancel / defer / revoke) ------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelSubscriptionPurchaseRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_context: Option<CancellationContext>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationContext {
    /// `USER_REQUESTED_STOP_RENEWALS` or `DEVELOPER_REQUESTED_STOP_PAYMENTS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferSubscriptionPurchaseRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferral_context: Option<DeferralContext>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferralContext {
    /// A `google-duration`, e.g. `"604800s"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defer_duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validate_only: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferSubscriptionPurchaseResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_expiry_time_details: Option<Vec<ItemExpiryTimeDetails>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemExpiryTimeDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeSubscriptionPurchaseRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_context: Option<RevocationContext>,
}

/// Exactly one member is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_refund: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_based_refund: Option<RevocationContextItemBasedRefund>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prorated_refund: Option<Empty>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationContextItemBasedRefund {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPurchasesDeferRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferral_info: Option<SubscriptionDeferralInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDeferralInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_expiry_time_millis: Option<Int64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_expiry_time_millis: Option<Int64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPurchasesDeferResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_expiry_time_millis: Option<Int64>,
}
