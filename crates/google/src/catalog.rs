//! Catalog wire types (inappproducts, monetization subscriptions / base plans / offers,
//! onetimeproducts with purchase options and offers, convertRegionPrices), exactly as the
//! discovery document (`contracts/androidpublisher.v3.json`) has them: every schema that the
//! requests and responses of `androidpublisher.inappproducts.*` and
//! `androidpublisher.monetization.*` reach, field for field, in the style of [`crate::wire`]:
//! - int64 values are JSON strings ([`Int64`]); so is `Price.priceMicros`, a plain string in
//!   the contract that carries an integer;
//! - enums are strings; a value we have not seen is kept verbatim in `Other`;
//! - every field is optional and absent fields stay absent when serialised;
//! - unknown fields are ignored;
//! - maps (`listings`, `prices`, `convertedRegionPrices`) are ordered by key, so output is
//!   stable;
//! - empty messages are [`Empty`].
//!
//! `Money`, `PageInfo` and `TokenPagination` are the ones of [`crate::wire`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::wire::{Empty, Int64, Money, PageInfo, TokenPagination, google_enum};

google_enum!(
    /// `BasePlan.state`
    BasePlanState {
        StateUnspecified => "STATE_UNSPECIFIED",
        Draft => "DRAFT",
        Active => "ACTIVE",
        Inactive => "INACTIVE",
    }
);
google_enum!(
    /// `InAppProduct.purchaseType`
    InAppProductPurchaseType {
        PurchaseTypeUnspecified => "purchaseTypeUnspecified",
        ManagedUser => "managedUser",
        Subscription => "subscription",
    }
);
google_enum!(
    /// `InAppProduct.status`
    InAppProductStatus {
        StatusUnspecified => "statusUnspecified",
        Active => "active",
        Inactive => "inactive",
    }
);
google_enum!(
    /// `InstallmentsBasePlanType.renewalType`
    InstallmentsRenewalType {
        Unspecified => "RENEWAL_TYPE_UNSPECIFIED",
        RenewsWithoutCommitment => "RENEWAL_TYPE_RENEWS_WITHOUT_COMMITMENT",
        RenewsWithCommitment => "RENEWAL_TYPE_RENEWS_WITH_COMMITMENT",
    }
);
google_enum!(
    /// `latencyTolerance` of the 19 request messages that carry it
    LatencyTolerance {
        Unspecified => "PRODUCT_UPDATE_LATENCY_TOLERANCE_UNSPECIFIED",
        LatencySensitive => "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_SENSITIVE",
        LatencyTolerant => "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT",
    }
);
google_enum!(
    /// `OneTimeProductPurchaseOptionNewRegionsConfig.availability`
    NewRegionsAvailability {
        AvailabilityUnspecified => "AVAILABILITY_UNSPECIFIED",
        Available => "AVAILABLE",
        NoLongerAvailable => "NO_LONGER_AVAILABLE",
    }
);
google_enum!(
    /// `OneTimeProductOfferRegionalPricingAndAvailabilityConfig.availability`
    OfferAvailability {
        AvailabilityUnspecified => "AVAILABILITY_UNSPECIFIED",
        Available => "AVAILABLE",
        NoLongerAvailable => "NO_LONGER_AVAILABLE",
    }
);
google_enum!(
    /// `OneTimeProductOffer.state`
    OneTimeProductOfferState {
        StateUnspecified => "STATE_UNSPECIFIED",
        Draft => "DRAFT",
        Active => "ACTIVE",
        Cancelled => "CANCELLED",
        Inactive => "INACTIVE",
    }
);
google_enum!(
    /// `OneTimeProductPreOrderOffer.priceChangeBehavior`
    PreOrderPriceChangeBehavior {
        Unspecified => "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_UNSPECIFIED",
        TwoPointLowest => "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_TWO_POINT_LOWEST",
        NewOrdersOnly => "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_NEW_ORDERS_ONLY",
    }
);
google_enum!(
    /// `RegionalPriceMigrationConfig.priceIncreaseType`
    PriceIncreaseType {
        Unspecified => "PRICE_INCREASE_TYPE_UNSPECIFIED",
        OptIn => "PRICE_INCREASE_TYPE_OPT_IN",
        OptOut => "PRICE_INCREASE_TYPE_OPT_OUT",
    }
);
google_enum!(
    /// `RegionalProductAgeRatingInfo.productAgeRatingTier`
    ProductAgeRatingTier {
        Unknown => "PRODUCT_AGE_RATING_TIER_UNKNOWN",
        Everyone => "PRODUCT_AGE_RATING_TIER_EVERYONE",
        ThirteenAndAbove => "PRODUCT_AGE_RATING_TIER_THIRTEEN_AND_ABOVE",
        SixteenAndAbove => "PRODUCT_AGE_RATING_TIER_SIXTEEN_AND_ABOVE",
        EighteenAndAbove => "PRODUCT_AGE_RATING_TIER_EIGHTEEN_AND_ABOVE",
    }
);
google_enum!(
    /// `OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig.availability`
    PurchaseOptionAvailability {
        AvailabilityUnspecified => "AVAILABILITY_UNSPECIFIED",
        Available => "AVAILABLE",
        NoLongerAvailable => "NO_LONGER_AVAILABLE",
        AvailableIfReleased => "AVAILABLE_IF_RELEASED",
        AvailableForOffersOnly => "AVAILABLE_FOR_OFFERS_ONLY",
    }
);
google_enum!(
    /// `OneTimeProductPurchaseOption.state`
    PurchaseOptionState {
        StateUnspecified => "STATE_UNSPECIFIED",
        Draft => "DRAFT",
        Active => "ACTIVE",
        Inactive => "INACTIVE",
        InactivePublished => "INACTIVE_PUBLISHED",
    }
);
google_enum!(
    /// `AutoRenewingBasePlanType.resubscribeState`, `InstallmentsBasePlanType.resubscribeState`
    ResubscribeState {
        Unspecified => "RESUBSCRIBE_STATE_UNSPECIFIED",
        Active => "RESUBSCRIBE_STATE_ACTIVE",
        Inactive => "RESUBSCRIBE_STATE_INACTIVE",
    }
);
google_enum!(
    /// `RegionalTaxConfig.streamingTaxType`, `RegionalTaxRateInfo.streamingTaxType`
    StreamingTaxType {
        Unspecified => "STREAMING_TAX_TYPE_UNSPECIFIED",
        TelcoVideoRental => "STREAMING_TAX_TYPE_TELCO_VIDEO_RENTAL",
        TelcoVideoSales => "STREAMING_TAX_TYPE_TELCO_VIDEO_SALES",
        TelcoVideoMultiChannel => "STREAMING_TAX_TYPE_TELCO_VIDEO_MULTI_CHANNEL",
        TelcoAudioRental => "STREAMING_TAX_TYPE_TELCO_AUDIO_RENTAL",
        TelcoAudioSales => "STREAMING_TAX_TYPE_TELCO_AUDIO_SALES",
        TelcoAudioMultiChannel => "STREAMING_TAX_TYPE_TELCO_AUDIO_MULTI_CHANNEL",
    }
);
google_enum!(
    /// `SubscriptionOffer.state`
    SubscriptionOfferState {
        StateUnspecified => "STATE_UNSPECIFIED",
        Draft => "DRAFT",
        Active => "ACTIVE",
        Inactive => "INACTIVE",
    }
);
google_enum!(
    /// `AutoRenewingBasePlanType.prorationMode`, `InstallmentsBasePlanType.prorationMode`
    SubscriptionProrationMode {
        Unspecified => "SUBSCRIPTION_PRORATION_MODE_UNSPECIFIED",
        ChargeOnNextBillingDate => "SUBSCRIPTION_PRORATION_MODE_CHARGE_ON_NEXT_BILLING_DATE",
        ChargeFullPriceImmediately => "SUBSCRIPTION_PRORATION_MODE_CHARGE_FULL_PRICE_IMMEDIATELY",
    }
);
google_enum!(
    /// `RegionalTaxConfig.taxTier`, `RegionalTaxRateInfo.taxTier`
    TaxTier {
        Unspecified => "TAX_TIER_UNSPECIFIED",
        Books1 => "TAX_TIER_BOOKS_1",
        News1 => "TAX_TIER_NEWS_1",
        News2 => "TAX_TIER_NEWS_2",
        MusicOrAudio1 => "TAX_TIER_MUSIC_OR_AUDIO_1",
        LiveOrBroadcast1 => "TAX_TIER_LIVE_OR_BROADCAST_1",
    }
);
google_enum!(
    /// `PrepaidBasePlanType.timeExtension`
    TimeExtension {
        Unspecified => "TIME_EXTENSION_UNSPECIFIED",
        Active => "TIME_EXTENSION_ACTIVE",
        Inactive => "TIME_EXTENSION_INACTIVE",
    }
);
google_enum!(
    /// `ManagedProductTaxAndComplianceSettings.eeaWithdrawalRightType`,
    /// `PurchaseOptionTaxAndComplianceSettings.withdrawalRightType`,
    /// `SubscriptionTaxAndComplianceSettings.eeaWithdrawalRightType`
    WithdrawalRightType {
        TypeUnspecified => "WITHDRAWAL_RIGHT_TYPE_UNSPECIFIED",
        DigitalContent => "WITHDRAWAL_RIGHT_DIGITAL_CONTENT",
        Service => "WITHDRAWAL_RIGHT_SERVICE",
    }
);

// ---- In-app products (`inappproducts`, the legacy API for managed products) ----

/// `InAppProduct`: An in-app product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InAppProduct {
    /// Default language of the localized data, as defined by BCP-47.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_language: Option<String>,
    /// Default price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_price: Option<Price>,
    /// Deprecated: Subscriptions are no longer supported in the InAppProducts API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<String>,
    /// List of localized title and description data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listings: Option<BTreeMap<String, InAppProductListing>>,
    /// Details about taxes and legal compliance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_product_taxes_and_compliance_settings:
        Option<ManagedProductTaxAndComplianceSettings>,
    /// Package name of the parent app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Prices per buyer region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prices: Option<BTreeMap<String, Price>>,
    /// The type of the product, e.g. a recurring subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_type: Option<InAppProductPurchaseType>,
    /// Stock-keeping-unit (SKU) of the product, unique within an app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The status of the product, e.g. whether it's active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<InAppProductStatus>,
    /// Deprecated: Subscriptions are no longer supported in the InAppProducts API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_period: Option<String>,
    /// Deprecated: Subscriptions are no longer supported in the InAppProducts API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_taxes_and_compliance_settings: Option<SubscriptionTaxAndComplianceSettings>,
    /// Deprecated: Subscriptions are no longer supported in the InAppProducts API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_period: Option<String>,
}

/// `Price`: Definition of a price, i.e. currency and units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// 3 letter Currency code, as defined by ISO 4217.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Price in 1/million of the currency base unit, represented as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_micros: Option<Int64>,
}

/// `InAppProductListing`: Store listing of a single in-app product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InAppProductListing {
    /// Deprecated: Subscriptions are no longer supported in the InAppProducts API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefits: Option<Vec<String>>,
    /// Description for the store listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Title for the store listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `ManagedProductTaxAndComplianceSettings`: Details about taxation and legal compliance for
/// managed products.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedProductTaxAndComplianceSettings {
    /// Digital content or service classification for products distributed to users in the European
    /// Economic Area (EEA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eea_withdrawal_right_type: Option<WithdrawalRightType>,
    /// Whether this in-app product is declared as a product representing a tokenized digital asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tokenized_digital_asset: Option<bool>,
    /// Product tax category code to assign to the in-app product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_tax_category_code: Option<String>,
    /// Regional age rating information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_product_age_rating_infos: Option<Vec<RegionalProductAgeRatingInfo>>,
    /// A mapping from region code to tax rate details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rate_info_by_region_code: Option<BTreeMap<String, RegionalTaxRateInfo>>,
}

/// `RegionalProductAgeRatingInfo`: Details about the age rating for a specific geographic region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalProductAgeRatingInfo {
    /// The age rating tier of a product for the given region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_age_rating_tier: Option<ProductAgeRatingTier>,
    /// Region code this configuration applies to, as defined by ISO 3166-2, e.g. "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

/// `RegionalTaxRateInfo`: Specified details about taxation in a given geographical region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalTaxRateInfo {
    /// You must tell us if your app contains streaming products to correctly charge US state and
    /// local sales tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible_for_streaming_service_tax_rate: Option<bool>,
    /// To collect communications or amusement taxes in the United States, choose the appropriate
    /// tax category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streaming_tax_type: Option<StreamingTaxType>,
    /// Tax tier to specify reduced tax rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_tier: Option<TaxTier>,
}

/// `SubscriptionTaxAndComplianceSettings`: Details about taxation, Google Play policy, and legal
/// compliance for subscription products.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionTaxAndComplianceSettings {
    /// Digital content or service classification for products distributed to users in the European
    /// Economic Area (EEA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eea_withdrawal_right_type: Option<WithdrawalRightType>,
    /// Whether this subscription is declared as a product representing a tokenized digital asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tokenized_digital_asset: Option<bool>,
    /// Product tax category code to assign to the subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_tax_category_code: Option<String>,
    /// Regional age rating information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_product_age_rating_infos: Option<Vec<RegionalProductAgeRatingInfo>>,
    /// A mapping from region code to tax rate details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rate_info_by_region_code: Option<BTreeMap<String, RegionalTaxRateInfo>>,
}

/// `InappproductsListResponse`: Response listing all in-app products.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InappproductsListResponse {
    /// All in-app products.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inappproduct: Option<Vec<InAppProduct>>,
    /// The kind of this response ("androidpublisher#inappproductsListResponse").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Deprecated and unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_info: Option<PageInfo>,
    /// Pagination token, to handle a number of products that is over one page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_pagination: Option<TokenPagination>,
}

/// `InappproductsBatchGetResponse`: Response message for BatchGetSubscriptions endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InappproductsBatchGetResponse {
    /// The list of requested in-app products, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inappproduct: Option<Vec<InAppProduct>>,
}

/// `InappproductsBatchUpdateRequest`: Request to update or insert one or more in-app products.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InappproductsBatchUpdateRequest {
    /// Required. Individual update requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<InappproductsUpdateRequest>>,
}

/// `InappproductsUpdateRequest`: Request to update an in-app product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InappproductsUpdateRequest {
    /// If set to true, and the in-app product with the given package_name and sku doesn't exist,
    /// the in-app product will be created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_missing: Option<bool>,
    /// If true the prices for all regions targeted by the parent app that don't have a price
    /// specified for this in-app product will be auto converted to the target currency based on the
    /// default price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_convert_missing_prices: Option<bool>,
    /// The new in-app product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inappproduct: Option<InAppProduct>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Package name of the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Unique identifier for the in-app product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

/// `InappproductsBatchUpdateResponse`: Response for a batch in-app product update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InappproductsBatchUpdateResponse {
    /// The updated or inserted in-app products.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inappproducts: Option<Vec<InAppProduct>>,
}

/// `InappproductsBatchDeleteRequest`: Request to delete multiple in-app products.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InappproductsBatchDeleteRequest {
    /// Individual delete requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<InappproductsDeleteRequest>>,
}

/// `InappproductsDeleteRequest`: Request to delete an in-app product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InappproductsDeleteRequest {
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Package name of the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Unique identifier for the in-app product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

// ---- Subscriptions (`monetization.subscriptions`) ----

/// `Subscription`: A single subscription for an app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Output only. Deprecated: subscription archiving is not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// The set of base plans for this subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plans: Option<Vec<BasePlan>>,
    /// Required. List of localized listings for this subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listings: Option<Vec<SubscriptionListing>>,
    /// Immutable. Package name of the parent app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Immutable. Unique product ID of the product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Optional. Countries where the purchase of this subscription is restricted to payment methods
    /// registered in the same country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restricted_payment_countries: Option<RestrictedPaymentCountries>,
    /// Details about taxes and legal compliance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_and_compliance_settings: Option<SubscriptionTaxAndComplianceSettings>,
}

/// `BasePlan`: A single base plan for a subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BasePlan {
    /// Set when the base plan automatically renews at a regular interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_renewing_base_plan_type: Option<AutoRenewingBasePlanType>,
    /// Required. Immutable. The unique identifier of this base plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Set for installments base plans where a user is committed to a specified number of payments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installments_base_plan_type: Option<InstallmentsBasePlanType>,
    /// List of up to 20 custom tags specified for this base plan, and returned to the app through
    /// the billing library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_tags: Option<Vec<OfferTag>>,
    /// Pricing information for any new locations Play may launch in the future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_regions_config: Option<OtherRegionsBasePlanConfig>,
    /// Set when the base plan does not automatically renew at the end of the billing period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prepaid_base_plan_type: Option<PrepaidBasePlanType>,
    /// Region-specific information for this base plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_configs: Option<Vec<RegionalBasePlanConfig>>,
    /// Output only. The state of the base plan, i.e. whether it's active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<BasePlanState>,
}

/// `AutoRenewingBasePlanType`: Represents a base plan that automatically renews at the end of its
/// subscription period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRenewingBasePlanType {
    /// Optional. Custom account hold period of the subscription, specified in ISO 8601 format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_hold_duration: Option<String>,
    /// Required. Immutable. Subscription period, specified in ISO 8601 format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_period_duration: Option<String>,
    /// Grace period of the subscription, specified in ISO 8601 format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_duration: Option<String>,
    /// Whether the renewing base plan is backward compatible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_compatible: Option<bool>,
    /// Subscription offer id which is legacy compatible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_compatible_subscription_offer_id: Option<String>,
    /// The proration mode for the base plan determines what happens when a user switches to this
    /// plan from another base plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proration_mode: Option<SubscriptionProrationMode>,
    /// Whether users should be able to resubscribe to this base plan in Google Play surfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resubscribe_state: Option<ResubscribeState>,
}

/// `InstallmentsBasePlanType`: Represents an installments base plan where a user commits to a
/// specified number of payments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallmentsBasePlanType {
    /// Optional. Custom account hold period of the subscription, specified in ISO 8601 format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_hold_duration: Option<String>,
    /// Required. Immutable. Subscription period, specified in ISO 8601 format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_period_duration: Option<String>,
    /// Required. Immutable. The number of payments the user is committed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed_payments_count: Option<i32>,
    /// Grace period of the subscription, specified in ISO 8601 format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_duration: Option<String>,
    /// The proration mode for the base plan determines what happens when a user switches to this
    /// plan from another base plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proration_mode: Option<SubscriptionProrationMode>,
    /// Required. Immutable. Installments base plan renewal type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewal_type: Option<InstallmentsRenewalType>,
    /// Whether users should be able to resubscribe to this base plan in Google Play surfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resubscribe_state: Option<ResubscribeState>,
}

/// `OfferTag`: Represents a custom tag specified for a product offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferTag {
    /// Must conform with RFC-1034.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// `OtherRegionsBasePlanConfig`: Pricing information for any new locations Play may launch in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherRegionsBasePlanConfig {
    /// Required. Price in EUR to use for any new locations Play may launch in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eur_price: Option<Money>,
    /// Whether the base plan is available for new subscribers in any new locations Play may launch
    /// in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_subscriber_availability: Option<bool>,
    /// Required. Price in USD to use for any new locations Play may launch in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_price: Option<Money>,
}

/// `PrepaidBasePlanType`: Represents a base plan that does not automatically renew at the end of
/// the base plan, and must be manually renewed by the user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidBasePlanType {
    /// Required. Immutable. Subscription period, specified in ISO 8601 format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_period_duration: Option<String>,
    /// Whether users should be able to extend this prepaid base plan in Google Play surfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_extension: Option<TimeExtension>,
}

/// `RegionalBasePlanConfig`: Configuration for a base plan specific to a region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalBasePlanConfig {
    /// Whether the base plan in the specified region is available for new subscribers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_subscriber_availability: Option<bool>,
    /// The price of the base plan in the specified region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Required. Region code this configuration applies to, as defined by ISO 3166-2, e.g. "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

/// `SubscriptionListing`: The consumer-visible metadata of a subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionListing {
    /// A list of benefits shown to the user on platforms such as the Play Store and in restoration
    /// flows in the language of this listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefits: Option<Vec<String>>,
    /// The description of this subscription in the language of this listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Required. The language of this listing, as defined by BCP-47, e.g. "en-US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    /// Required. The title of this subscription in the language of this listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `RestrictedPaymentCountries`: Countries where the purchase of this product is restricted to
/// payment methods registered in the same country.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestrictedPaymentCountries {
    /// Required. Region codes to impose payment restrictions on, as defined by ISO 3166-2, e.g.
    /// "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_codes: Option<Vec<String>>,
}

/// `ListSubscriptionsResponse`: Response message for ListSubscriptions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSubscriptionsResponse {
    /// A token, which can be sent as `page_token` to retrieve the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// The subscriptions from the specified app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<Subscription>>,
}

/// `BatchGetSubscriptionsResponse`: Response message for BatchGetSubscriptions endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetSubscriptionsResponse {
    /// The list of requested subscriptions, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<Subscription>>,
}

/// `BatchUpdateSubscriptionsRequest`: Request message for BatchUpdateSubscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateSubscriptionsRequest {
    /// Required. A list of update requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdateSubscriptionRequest>>,
}

/// `UpdateSubscriptionRequest`: Request message for UpdateSubscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSubscriptionRequest {
    /// Optional. If set to true, and the subscription with the given package_name and product_id
    /// doesn't exist, the subscription will be created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_missing: Option<bool>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The version of the available regions being used for the subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<RegionsVersion>,
    /// Required. The subscription to update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    /// Required. The list of fields to be updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_mask: Option<String>,
}

/// `RegionsVersion`: The version of the available regions being used for the specified resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionsVersion {
    /// Required. A string representing the version of available regions being used for the
    /// specified resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `BatchUpdateSubscriptionsResponse`: Response message for BatchUpdateSubscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateSubscriptionsResponse {
    /// The updated subscriptions list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<Subscription>>,
}

/// `ArchiveSubscriptionRequest`: Deprecated: subscription archiving is not supported (an empty
/// message).
pub type ArchiveSubscriptionRequest = Empty;

// ---- Base plans (`monetization.subscriptions.basePlans`) ----

/// `ActivateBasePlanRequest`: Request message for ActivateBasePlan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivateBasePlanRequest {
    /// Required. The unique base plan ID of the base plan to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The parent app (package name) of the base plan to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent subscription (ID) of the base plan to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// `DeactivateBasePlanRequest`: Request message for DeactivateBasePlan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeactivateBasePlanRequest {
    /// Required. The unique base plan ID of the base plan to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The parent app (package name) of the base plan to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent subscription (ID) of the base plan to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// `BatchUpdateBasePlanStatesRequest`: Request message for BatchUpdateBasePlanStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateBasePlanStatesRequest {
    /// Required. The update request list of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdateBasePlanStateRequest>>,
}

/// `UpdateBasePlanStateRequest`: Request message to update the state of a subscription base plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBasePlanStateRequest {
    /// Activates a base plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activate_base_plan_request: Option<ActivateBasePlanRequest>,
    /// Deactivates a base plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivate_base_plan_request: Option<DeactivateBasePlanRequest>,
}

/// `BatchUpdateBasePlanStatesResponse`: Response message for BatchUpdateBasePlanStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateBasePlanStatesResponse {
    /// The list of updated subscriptions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<Subscription>>,
}

/// `MigrateBasePlanPricesRequest`: Request message for MigrateBasePlanPrices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrateBasePlanPricesRequest {
    /// Required. The unique base plan ID of the base plan to update prices on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. Package name of the parent app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The ID of the subscription to update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The regional prices to update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_price_migrations: Option<Vec<RegionalPriceMigrationConfig>>,
    /// Required. The version of the available regions being used for the regional_price_migrations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<RegionsVersion>,
}

/// `RegionalPriceMigrationConfig`: Configuration for migration of a legacy price cohort.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalPriceMigrationConfig {
    /// Required. Subscribers in all legacy price cohorts before this time will be migrated to the
    /// current price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_allowed_price_version_time: Option<String>,
    /// Optional. The requested type of price increase
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_increase_type: Option<PriceIncreaseType>,
    /// Required. Region code this configuration applies to, as defined by ISO 3166-2, e.g. "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

/// `BatchMigrateBasePlanPricesRequest`: Request message for BatchMigrateBasePlanPrices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchMigrateBasePlanPricesRequest {
    /// Required. Up to 100 price migration requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<MigrateBasePlanPricesRequest>>,
}

/// `BatchMigrateBasePlanPricesResponse`: Response message for BatchMigrateBasePlanPrices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchMigrateBasePlanPricesResponse {
    /// Contains one response per requested price migration, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responses: Option<Vec<Empty>>,
}

/// `MigrateBasePlanPricesResponse`: Response message for MigrateBasePlanPrices (an empty message).
pub type MigrateBasePlanPricesResponse = Empty;

// ---- Subscription offers (`monetization.subscriptions.basePlans.offers`) ----

/// `SubscriptionOffer`: A single, temporary offer
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionOffer {
    /// Required. Immutable. The ID of the base plan to which this offer is an extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Required. Immutable. Unique ID of this subscription offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// List of up to 20 custom tags specified for this offer, and returned to the app through the
    /// billing library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_tags: Option<Vec<OfferTag>>,
    /// The configuration for any new locations Play may launch in the future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_regions_config: Option<OtherRegionsSubscriptionOfferConfig>,
    /// Required. Immutable. The package name of the app the parent subscription belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The phases of this subscription offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<SubscriptionOfferPhase>>,
    /// Required. Immutable. The ID of the parent subscription this offer belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The region-specific configuration of this offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_configs: Option<Vec<RegionalSubscriptionOfferConfig>>,
    /// Output only. The current state of this offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<SubscriptionOfferState>,
    /// The requirements that users need to fulfil to be eligible for this offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targeting: Option<SubscriptionOfferTargeting>,
}

/// `OtherRegionsSubscriptionOfferConfig`: Configuration for any new locations Play may launch in
/// specified on a subscription offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherRegionsSubscriptionOfferConfig {
    /// Whether the subscription offer in any new locations Play may launch in the future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_regions_new_subscriber_availability: Option<bool>,
}

/// `SubscriptionOfferPhase`: A single phase of a subscription offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionOfferPhase {
    /// Required. The duration of a single recurrence of this phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Pricing information for any new locations Play may launch in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_regions_config: Option<OtherRegionsSubscriptionOfferPhaseConfig>,
    /// Required. The number of times this phase repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence_count: Option<i32>,
    /// Required. The region-specific configuration of this offer phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_configs: Option<Vec<RegionalSubscriptionOfferPhaseConfig>>,
}

/// `OtherRegionsSubscriptionOfferPhaseConfig`: Configuration for any new locations Play may launch
/// in for a single offer phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherRegionsSubscriptionOfferPhaseConfig {
    /// The absolute amount of money subtracted from the base plan price prorated over the phase
    /// duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_discounts: Option<OtherRegionsSubscriptionOfferPhasePrices>,
    /// Set to specify this offer is free to obtain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free: Option<Empty>,
    /// The absolute price the user pays for this offer phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_regions_prices: Option<OtherRegionsSubscriptionOfferPhasePrices>,
    /// The percentage discount subtracted from the base plan price prorated over the phase
    /// duration, specified as a fraction strictly larger than `0` and strictly smaller than `1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_discount: Option<f64>,
}

/// `OtherRegionsSubscriptionOfferPhasePrices`: Pricing information for any new locations Play may
/// launch in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherRegionsSubscriptionOfferPhasePrices {
    /// Required. Price in EUR to use for any new locations Play may launch in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eur_price: Option<Money>,
    /// Required. Price in USD to use for any new locations Play may launch in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_price: Option<Money>,
}

/// `RegionalSubscriptionOfferPhaseConfig`: Configuration for a single phase of a subscription offer
/// in a single region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalSubscriptionOfferPhaseConfig {
    /// The absolute amount of money subtracted from the base plan price prorated over the phase
    /// duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_discount: Option<Money>,
    /// Set to specify this offer is free to obtain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free: Option<Empty>,
    /// The absolute price the user pays for this offer phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Required. Immutable. The region to which this config applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// The percentage discount subtracted from the base plan price prorated over the phase
    /// duration, specified as a fraction strictly larger than `0` and strictly smaller than `1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_discount: Option<f64>,
}

/// `RegionalSubscriptionOfferConfig`: Configuration for a subscription offer in a single region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalSubscriptionOfferConfig {
    /// Whether the subscription offer in the specified region is available for new subscribers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_subscriber_availability: Option<bool>,
    /// Required. Immutable. Region code this configuration applies to, as defined by ISO 3166-2,
    /// e.g. "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

/// `SubscriptionOfferTargeting`: Defines the rule a user needs to satisfy to receive this offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionOfferTargeting {
    /// Offer targeting rule for new user acquisition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_rule: Option<AcquisitionTargetingRule>,
    /// Offer targeting rule for upgrading users' existing plans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_rule: Option<UpgradeTargetingRule>,
}

/// `AcquisitionTargetingRule`: Represents a targeting rule of the form: User never had {scope}
/// before.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcquisitionTargetingRule {
    /// Required. The scope of subscriptions this rule considers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<TargetingRuleScope>,
}

/// `TargetingRuleScope`: Defines the scope of subscriptions which a targeting rule can match to
/// target offers to users based on past or current entitlement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetingRuleScope {
    /// The scope of the current targeting rule is any subscription in the parent app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any_subscription_in_app: Option<Empty>,
    /// The scope of the current targeting rule is the subscription with the specified subscription
    /// ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specific_subscription_in_app: Option<String>,
    /// The scope of the current targeting rule is the subscription in which this offer is defined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub this_subscription: Option<Empty>,
}

/// `UpgradeTargetingRule`: Represents a targeting rule of the form: User currently has {scope}
/// [with billing period {billing_period}].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeTargetingRule {
    /// The specific billing period duration, specified in ISO 8601 format, that a user must be
    /// currently subscribed to to be eligible for this rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_period_duration: Option<String>,
    /// Limit this offer to only once per user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub once_per_user: Option<bool>,
    /// Required. The scope of subscriptions this rule considers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<TargetingRuleScope>,
}

/// `ListSubscriptionOffersResponse`: Response message for ListSubscriptionOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSubscriptionOffersResponse {
    /// A token, which can be sent as `page_token` to retrieve the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// The subscription offers from the specified subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_offers: Option<Vec<SubscriptionOffer>>,
}

/// `ActivateSubscriptionOfferRequest`: Request message for ActivateSubscriptionOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivateSubscriptionOfferRequest {
    /// Required. The parent base plan (ID) of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The unique offer ID of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent subscription (ID) of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// `DeactivateSubscriptionOfferRequest`: Request message for DeactivateSubscriptionOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeactivateSubscriptionOfferRequest {
    /// Required. The parent base plan (ID) of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The unique offer ID of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent subscription (ID) of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// `BatchGetSubscriptionOffersRequest`: Request message for BatchGetSubscriptionOffers endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetSubscriptionOffersRequest {
    /// Required. A list of update requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<GetSubscriptionOfferRequest>>,
}

/// `GetSubscriptionOfferRequest`: Request message for GetSubscriptionOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetSubscriptionOfferRequest {
    /// Required. The parent base plan (ID) of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// Required. The unique offer ID of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent subscription (ID) of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// `BatchGetSubscriptionOffersResponse`: Response message for BatchGetSubscriptionOffers endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetSubscriptionOffersResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_offers: Option<Vec<SubscriptionOffer>>,
}

/// `BatchUpdateSubscriptionOffersRequest`: Request message for BatchUpdateSubscriptionOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateSubscriptionOffersRequest {
    /// Required. A list of update requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdateSubscriptionOfferRequest>>,
}

/// `UpdateSubscriptionOfferRequest`: Request message for UpdateSubscriptionOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSubscriptionOfferRequest {
    /// Optional. If set to true, and the subscription offer with the given package_name,
    /// product_id, base_plan_id and offer_id doesn't exist, an offer will be created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_missing: Option<bool>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The version of the available regions being used for the subscription_offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<RegionsVersion>,
    /// Required. The subscription offer to update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_offer: Option<SubscriptionOffer>,
    /// Required. The list of fields to be updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_mask: Option<String>,
}

/// `BatchUpdateSubscriptionOffersResponse`: Response message for BatchUpdateSubscriptionOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateSubscriptionOffersResponse {
    /// The updated subscription offers list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_offers: Option<Vec<SubscriptionOffer>>,
}

/// `BatchUpdateSubscriptionOfferStatesRequest`: Request message for
/// BatchUpdateSubscriptionOfferStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateSubscriptionOfferStatesRequest {
    /// Required. The update request list of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdateSubscriptionOfferStateRequest>>,
}

/// `UpdateSubscriptionOfferStateRequest`: Request message to update the state of a subscription
/// offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSubscriptionOfferStateRequest {
    /// Activates an offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activate_subscription_offer_request: Option<ActivateSubscriptionOfferRequest>,
    /// Deactivates an offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivate_subscription_offer_request: Option<DeactivateSubscriptionOfferRequest>,
}

/// `BatchUpdateSubscriptionOfferStatesResponse`: Response message for
/// BatchUpdateSubscriptionOfferStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateSubscriptionOfferStatesResponse {
    /// The updated subscription offers list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_offers: Option<Vec<SubscriptionOffer>>,
}

// ---- One-time products (`monetization.onetimeproducts`, with purchase options) ----

/// `OneTimeProduct`: A single one-time product for an app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProduct {
    /// Required. Set of localized title and description data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listings: Option<Vec<OneTimeProductListing>>,
    /// Optional. List of up to 20 custom tags specified for this one-time product, and returned to
    /// the app through the billing library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_tags: Option<Vec<OfferTag>>,
    /// Required. Immutable. Package name of the parent app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. Immutable. Unique product ID of the product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The set of purchase options for this one-time product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_options: Option<Vec<OneTimeProductPurchaseOption>>,
    /// Output only. The version of the regions configuration that was used to generate the one-time
    /// product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<RegionsVersion>,
    /// Optional. Countries where the purchase of this one-time product is restricted to payment
    /// methods registered in the same country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restricted_payment_countries: Option<RestrictedPaymentCountries>,
    /// Details about taxes and legal compliance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_and_compliance_settings: Option<OneTimeProductTaxAndComplianceSettings>,
}

/// `OneTimeProductListing`: Regional store listing for a one-time product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductListing {
    /// Required. The description of this product in the language of this listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Required. The language of this listing, as defined by BCP-47, e.g., "en-US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    /// Required. The title of this product in the language of this listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `OneTimeProductPurchaseOption`: A single purchase option for a one-time product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductPurchaseOption {
    /// A purchase option that can be bought.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buy_option: Option<OneTimeProductBuyPurchaseOption>,
    /// Pricing information for any new locations Play may launch in the future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_regions_config: Option<OneTimeProductPurchaseOptionNewRegionsConfig>,
    /// Optional. List of up to 20 custom tags specified for this purchase option, and returned to
    /// the app through the billing library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_tags: Option<Vec<OfferTag>>,
    /// Required. Immutable. The unique identifier of this purchase option.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
    /// Regional pricing and availability information for this purchase option.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_pricing_and_availability_configs:
        Option<Vec<OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig>>,
    /// A purchase option that can be rented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rent_option: Option<OneTimeProductRentPurchaseOption>,
    /// Output only. The state of the purchase option, i.e., whether it's active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<PurchaseOptionState>,
    /// Optional. Details about taxes and legal compliance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_and_compliance_settings: Option<PurchaseOptionTaxAndComplianceSettings>,
}

/// `OneTimeProductBuyPurchaseOption`: A purchase option that can be bought.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductBuyPurchaseOption {
    /// Optional. Whether this purchase option will be available in legacy PBL flows that do not
    /// support one-time products model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_compatible: Option<bool>,
    /// Optional. Whether this purchase option allows multi-quantity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_quantity_enabled: Option<bool>,
}

/// `OneTimeProductPurchaseOptionNewRegionsConfig`: Pricing information for any new regions Play may
/// launch in the future.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductPurchaseOptionNewRegionsConfig {
    /// Required. The regional availability for the new regions config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<NewRegionsAvailability>,
    /// Required. Price in EUR to use for any new regions Play may launch in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eur_price: Option<Money>,
    /// Required. Price in USD to use for any new regions Play may launch in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_price: Option<Money>,
}

/// `OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig`: Regional pricing and
/// availability configuration for a purchase option.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig {
    /// The availability of the purchase option.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<PurchaseOptionAvailability>,
    /// The price of the purchase option in the specified region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Required. Region code this configuration applies to, as defined by ISO 3166-2, e.g., "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

/// `OneTimeProductRentPurchaseOption`: A purchase option that can be rented.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductRentPurchaseOption {
    /// Optional. The amount of time the user has after starting consuming the entitlement before it
    /// is revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_period: Option<String>,
    /// Required. The amount of time a user has the entitlement for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_period: Option<String>,
}

/// `PurchaseOptionTaxAndComplianceSettings`: Details about taxation, Google Play policy and legal
/// compliance for one-time product purchase options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseOptionTaxAndComplianceSettings {
    /// Optional. Digital content or service classification for products distributed to users in
    /// eligible regions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal_right_type: Option<WithdrawalRightType>,
}

/// `OneTimeProductTaxAndComplianceSettings`: Details about taxation, Google Play policy and legal
/// compliance for one-time products.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductTaxAndComplianceSettings {
    /// Whether this one-time product is declared as a product representing a tokenized digital
    /// asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tokenized_digital_asset: Option<bool>,
    /// Product tax category code to assign to the one-time product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_tax_category_code: Option<String>,
    /// Regional age rating information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_product_age_rating_infos: Option<Vec<RegionalProductAgeRatingInfo>>,
    /// Regional tax configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_tax_configs: Option<Vec<RegionalTaxConfig>>,
}

/// `RegionalTaxConfig`: Details about taxation in a given geographical region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalTaxConfig {
    /// You must tell us if your app contains streaming products to correctly charge US state and
    /// local sales tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible_for_streaming_service_tax_rate: Option<bool>,
    /// Required. Region code this configuration applies to, as defined by ISO 3166-2, e.g. "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// To collect communications or amusement taxes in the United States, choose the appropriate
    /// tax category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streaming_tax_type: Option<StreamingTaxType>,
    /// Tax tier to specify reduced tax rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_tier: Option<TaxTier>,
}

/// `ListOneTimeProductsResponse`: Response message for ListOneTimeProducts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOneTimeProductsResponse {
    /// A token, which can be sent as `page_token` to retrieve the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// The one-time products from the specified app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_products: Option<Vec<OneTimeProduct>>,
}

/// `BatchGetOneTimeProductsResponse`: Response message for the BatchGetOneTimeProducts endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetOneTimeProductsResponse {
    /// The list of requested one-time products, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_products: Option<Vec<OneTimeProduct>>,
}

/// `BatchUpdateOneTimeProductsRequest`: Request message for BatchUpdateOneTimeProduct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateOneTimeProductsRequest {
    /// Required. A list of update requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdateOneTimeProductRequest>>,
}

/// `UpdateOneTimeProductRequest`: Request message for UpdateOneTimeProduct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOneTimeProductRequest {
    /// Optional. If set to true, and the one-time product with the given package_name and
    /// product_id doesn't exist, the one-time product will be created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_missing: Option<bool>,
    /// Optional. The latency tolerance for the propagation of this product upsert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The one-time product to upsert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_product: Option<OneTimeProduct>,
    /// Required. The version of the available regions being used for the one-time product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<RegionsVersion>,
    /// Required. The list of fields to be updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_mask: Option<String>,
}

/// `BatchUpdateOneTimeProductsResponse`: Response message for BatchUpdateOneTimeProduct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateOneTimeProductsResponse {
    /// The list of updated one-time products list, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_products: Option<Vec<OneTimeProduct>>,
}

/// `BatchDeleteOneTimeProductsRequest`: Request message for BatchDeleteOneTimeProduct.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchDeleteOneTimeProductsRequest {
    /// Required. A list of delete requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<DeleteOneTimeProductRequest>>,
}

/// `DeleteOneTimeProductRequest`: Request message for deleting a one-time product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOneTimeProductRequest {
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The parent app (package name) of the one-time product to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The one-time product ID of the one-time product to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// `BatchUpdatePurchaseOptionStatesRequest`: Request message for BatchUpdatePurchaseOptionStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdatePurchaseOptionStatesRequest {
    /// Required. The update request list of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdatePurchaseOptionStateRequest>>,
}

/// `UpdatePurchaseOptionStateRequest`: Request message to update the state of a one-time product
/// purchase option.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePurchaseOptionStateRequest {
    /// Activates a purchase option.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activate_purchase_option_request: Option<ActivatePurchaseOptionRequest>,
    /// Deactivates a purchase option.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivate_purchase_option_request: Option<DeactivatePurchaseOptionRequest>,
}

/// `ActivatePurchaseOptionRequest`: Request message for UpdatePurchaseOptionState.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivatePurchaseOptionRequest {
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The parent app (package name) of the purchase option to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the purchase option to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The purchase option ID of the purchase option to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

/// `DeactivatePurchaseOptionRequest`: Request message for UpdatePurchaseOptionState.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeactivatePurchaseOptionRequest {
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The parent app (package name) of the purchase option to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the purchase option to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The purchase option ID of the purchase option to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

/// `BatchUpdatePurchaseOptionStatesResponse`: Response message for BatchUpdatePurchaseOptionStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdatePurchaseOptionStatesResponse {
    /// The list of updated one-time products.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_products: Option<Vec<OneTimeProduct>>,
}

/// `BatchDeletePurchaseOptionsRequest`: Request message for BatchDeletePurchaseOption.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchDeletePurchaseOptionsRequest {
    /// Required. A list of delete requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<DeletePurchaseOptionRequest>>,
}

/// `DeletePurchaseOptionRequest`: Request message for deleting a purchase option.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletePurchaseOptionRequest {
    /// Optional. This field has no effect for purchase options with no offers under them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The parent app (package name) of the purchase option to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the purchase option to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The purchase option ID of the purchase option to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

// ---- One-time product offers (`monetization.onetimeproducts.purchaseOptions.offers`) ----

/// `OneTimeProductOffer`: A single offer for a one-time product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductOffer {
    /// A discounted offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discounted_offer: Option<OneTimeProductDiscountedOffer>,
    /// A game reward offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub game_reward_offer: Option<OneTimeProductGameRewardOffer>,
    /// Required. Immutable. The ID of this product offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Optional. List of up to 20 custom tags specified for this offer, and returned to the app
    /// through the billing library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_tags: Option<Vec<OfferTag>>,
    /// Required. Immutable. The package name of the app the parent product belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// A pre-order offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_order_offer: Option<OneTimeProductPreOrderOffer>,
    /// Required. Immutable. The ID of the parent product this offer belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. Immutable. The ID of the purchase option to which this offer is an extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
    /// Set of regional pricing and availability information for this offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_pricing_and_availability_configs:
        Option<Vec<OneTimeProductOfferRegionalPricingAndAvailabilityConfig>>,
    /// Output only. The version of the regions configuration that was used to generate the one-time
    /// product offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<RegionsVersion>,
    /// Output only. The current state of this offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<OneTimeProductOfferState>,
}

/// `OneTimeProductDiscountedOffer`: Configuration specific to discounted offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductDiscountedOffer {
    /// Time when the offer will stop being available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Optional. The number of times this offer can be redeemed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redemption_limit: Option<Int64>,
    /// Time when the offer will start being available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

/// `OneTimeProductGameRewardOffer`: Configuration specific to game reward offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductGameRewardOffer {
    /// Optional. The number of times this offer can be redeemed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redemption_limit: Option<Int64>,
}

/// `OneTimeProductPreOrderOffer`: Configuration specific to pre-order offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductPreOrderOffer {
    /// Required. Time when the pre-order will stop being available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Required. Immutable. Specifies how price changes affect pre-existing pre-orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_change_behavior: Option<PreOrderPriceChangeBehavior>,
    /// Required. Time on which the product associated with the pre-order will be released and the
    /// pre-order orders fulfilled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_time: Option<String>,
    /// Required. Time when the pre-order will start being available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

/// `OneTimeProductOfferRegionalPricingAndAvailabilityConfig`: Regional pricing and availability
/// configuration for a one-time product offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductOfferRegionalPricingAndAvailabilityConfig {
    /// The absolute value of the discount that is subtracted from the purchase option price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_discount: Option<Money>,
    /// Required. The availability for this region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<OfferAvailability>,
    /// The price defined in the purchase option for this region will be used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_override: Option<Empty>,
    /// Required. Region code this configuration applies to, as defined by ISO 3166-2, e.g., "US".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// The percentage discount subtracted from the purchase option price, specified as a fraction
    /// strictly larger than `0` and strictly smaller than `1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_discount: Option<f64>,
}

/// `ListOneTimeProductOffersResponse`: Response message for ListOneTimeProductOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOneTimeProductOffersResponse {
    /// A token, which can be sent as `page_token` to retrieve the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// The one_time_product offers from the specified request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_product_offers: Option<Vec<OneTimeProductOffer>>,
}

/// `ActivateOneTimeProductOfferRequest`: Request message for ActivateOneTimeProductOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivateOneTimeProductOfferRequest {
    /// Optional. The latency tolerance for the propagation of this update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The offer ID of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The parent purchase option (ID) of the offer to activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

/// `DeactivateOneTimeProductOfferRequest`: Request message for DeactivateOneTimeProductOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeactivateOneTimeProductOfferRequest {
    /// Optional. The latency tolerance for the propagation of this update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The offer ID of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The parent purchase option (ID) of the offer to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

/// `CancelOneTimeProductOfferRequest`: Request message for CancelOneTimeProductOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelOneTimeProductOfferRequest {
    /// Optional. The latency tolerance for the propagation of this update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The offer ID of the offer to cancel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to cancel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the offer to cancel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The parent purchase option (ID) of the offer to cancel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

/// `BatchGetOneTimeProductOffersRequest`: Request message for the BatchGetOneTimeProductOffers
/// endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetOneTimeProductOffersRequest {
    /// Required. A list of get requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<GetOneTimeProductOfferRequest>>,
}

/// `GetOneTimeProductOfferRequest`: Request message for GetOneTimeProductOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetOneTimeProductOfferRequest {
    /// Required. The unique offer ID of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The parent purchase option (ID) of the offer to get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

/// `BatchGetOneTimeProductOffersResponse`: Response message for the BatchGetOneTimeProductOffers
/// endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetOneTimeProductOffersResponse {
    /// The list of requested one-time product offers, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_product_offers: Option<Vec<OneTimeProductOffer>>,
}

/// `BatchUpdateOneTimeProductOffersRequest`: Request message for BatchUpdateOneTimeProductOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateOneTimeProductOffersRequest {
    /// Required. A list of update requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdateOneTimeProductOfferRequest>>,
}

/// `UpdateOneTimeProductOfferRequest`: Request message for UpdateOneTimeProductOffer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOneTimeProductOfferRequest {
    /// Optional. If set to true, and the offer with the given package_name, product_id,
    /// purchase_option_id and offer_id doesn't exist, an offer will be created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_missing: Option<bool>,
    /// Optional. The latency tolerance for the propagation of this offer update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The one-time product offer to update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_product_offer: Option<OneTimeProductOffer>,
    /// Required. The version of the available regions being used for the offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<RegionsVersion>,
    /// Required. The list of fields to be updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_mask: Option<String>,
}

/// `BatchUpdateOneTimeProductOffersResponse`: Response message for BatchUpdateOneTimeProductOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateOneTimeProductOffersResponse {
    /// The list of updated one-time product offers, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_product_offers: Option<Vec<OneTimeProductOffer>>,
}

/// `BatchUpdateOneTimeProductOfferStatesRequest`: Request message for
/// BatchUpdateOneTimeProductOfferStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateOneTimeProductOfferStatesRequest {
    /// Required. The update request list of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<UpdateOneTimeProductOfferStateRequest>>,
}

/// `UpdateOneTimeProductOfferStateRequest`: Request message to update the state of a one-time
/// product offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOneTimeProductOfferStateRequest {
    /// Activates an offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activate_one_time_product_offer_request: Option<ActivateOneTimeProductOfferRequest>,
    /// Cancels an offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_one_time_product_offer_request: Option<CancelOneTimeProductOfferRequest>,
    /// Deactivates an offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivate_one_time_product_offer_request: Option<DeactivateOneTimeProductOfferRequest>,
}

/// `BatchUpdateOneTimeProductOfferStatesResponse`: Response message for
/// BatchUpdateOneTimeProductOfferStates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateOneTimeProductOfferStatesResponse {
    /// The updated one-time product offers list, in the same order as the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_product_offers: Option<Vec<OneTimeProductOffer>>,
}

/// `BatchDeleteOneTimeProductOffersRequest`: Request message for BatchDeleteOneTimeProductOffers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchDeleteOneTimeProductOffersRequest {
    /// Required. A list of delete requests of up to 100 elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<DeleteOneTimeProductOfferRequest>>,
}

/// `DeleteOneTimeProductOfferRequest`: Request message for deleting an one-time product offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOneTimeProductOfferRequest {
    /// Optional. The latency tolerance for the propagation of this product update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_tolerance: Option<LatencyTolerance>,
    /// Required. The unique offer ID of the offer to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// Required. The parent app (package name) of the offer to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Required. The parent one-time product (ID) of the offer to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Required. The parent purchase option (ID) of the offer to delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_option_id: Option<String>,
}

// ---- Prices (`monetization.convertRegionPrices`) ----

/// `ConvertRegionPricesRequest`: Request message for ConvertRegionPrices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvertRegionPricesRequest {
    /// The intital price to convert other regions from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Optional. Product tax category code in context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_tax_category_code: Option<String>,
}

/// `ConvertRegionPricesResponse`: Response message for ConvertRegionPrices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvertRegionPricesResponse {
    /// Converted other regions prices in USD and EUR, to use for countries where Play doesn't
    /// support a country's local currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_other_regions_price: Option<ConvertedOtherRegionsPrice>,
    /// Map from region code to converted region price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_region_prices: Option<BTreeMap<String, ConvertedRegionPrice>>,
    /// The region version at which the prices were generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_version: Option<RegionsVersion>,
}

/// `ConvertedOtherRegionsPrice`: Converted other regions prices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvertedOtherRegionsPrice {
    /// Price in EUR to use for the "Other regions" location exclusive of taxes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eur_price: Option<Money>,
    /// Price in USD to use for the "Other regions" location exclusive of taxes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_price: Option<Money>,
}

/// `ConvertedRegionPrice`: A converted region price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvertedRegionPrice {
    /// The converted price tax inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// The region code of the region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// The tax amount of the converted price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<Money>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_round_trips_with_strings_for_int64_and_enums() {
        let raw = serde_json::json!({
            "packageName": "com.example",
            "productId": "pro",
            "listings": [{"languageCode": "en-US", "title": "Pro", "benefits": ["a"]}],
            "basePlans": [{
                "basePlanId": "monthly",
                "state": "ACTIVE",
                "autoRenewingBasePlanType": {
                    "billingPeriodDuration": "P1M",
                    "gracePeriodDuration": "P7D",
                    "resubscribeState": "RESUBSCRIBE_STATE_ACTIVE"
                },
                "offerTags": [{"tag": "promo"}],
                "regionalConfigs": [{
                    "regionCode": "US",
                    "newSubscriberAvailability": true,
                    "price": {"currencyCode": "USD", "units": "4", "nanos": 990000000}
                }]
            }],
            "aFieldFromTheFuture": {"x": 1}
        });
        let s: Subscription = serde_json::from_value(raw.clone()).unwrap();
        let plan = &s.base_plans.as_ref().unwrap()[0];
        assert_eq!(plan.state, Some(BasePlanState::Active));
        let price = plan.regional_configs.as_ref().unwrap()[0]
            .price
            .as_ref()
            .unwrap();
        assert_eq!(price.units, Some(Int64(4)));
        let back = serde_json::to_value(&s).unwrap();
        let mut expected = raw;
        expected
            .as_object_mut()
            .unwrap()
            .remove("aFieldFromTheFuture");
        assert_eq!(
            back, expected,
            "what goes in comes out, unknown fields aside"
        );
    }

    #[test]
    fn unknown_enum_values_survive_and_absent_stays_absent() {
        let o: SubscriptionOffer =
            serde_json::from_str(r#"{"offerId":"intro","state":"ARCHIVED_SOMEDAY"}"#).unwrap();
        assert_eq!(
            o.state,
            Some(SubscriptionOfferState::Other("ARCHIVED_SOMEDAY".into()))
        );
        assert_eq!(
            serde_json::to_value(&o).unwrap(),
            serde_json::json!({"offerId": "intro", "state": "ARCHIVED_SOMEDAY"})
        );
        let p: InAppProduct = serde_json::from_str(
            r#"{"sku":"gems","purchaseType":"managedUser","status":"active",
                "defaultPrice":{"priceMicros":"990000","currency":"USD"},
                "listings":{"en-US":{"title":"Gems"}}}"#,
        )
        .unwrap();
        assert_eq!(p.purchase_type, Some(InAppProductPurchaseType::ManagedUser));
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back["defaultPrice"]["priceMicros"], "990000");
        assert!(back.get("prices").is_none());
    }
}
