//! `PlayClient`: the Play Developer API calls playbill makes, authenticated, with truncated
//! exponential backoff and full jitter on 429, 5xx and network errors (honouring
//! `Retry-After`), and one token refresh on 401.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::de::DeserializeOwned;

use crate::methods::{self, Method};
use crate::wire::{
    ProductPurchase, ProductPurchaseV2, ProductPurchasesAcknowledgeRequest, SubscriptionPurchaseV2,
    SubscriptionPurchasesAcknowledgeRequest, VoidedPurchasesListResponse,
};
use crate::{GoogleError, TokenSource};

/// How hard to try before giving up on a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(32),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1` (0-based): full jitter over an exponential cap,
    /// and never shorter than what Google asked for (capped at `max_backoff`).
    pub fn delay(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        let cap = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_backoff);
        let jittered = rand::rng().random_range(Duration::ZERO..=cap);
        match asked {
            Some(asked) => jittered.max(asked.min(self.max_backoff)),
            None => jittered,
        }
    }
}

/// A Google answer together with its raw JSON, which playbill stores for audit and replay.
#[derive(Debug, Clone)]
pub struct WithRaw<T> {
    pub value: T,
    pub raw: serde_json::Value,
}

/// Client for the billing part of androidpublisher v3.
#[derive(Clone)]
pub struct PlayClient {
    http: reqwest::Client,
    base_url: String,
    auth: Arc<TokenSource>,
    retry: RetryPolicy,
}

impl PlayClient {
    /// `base_url` is the API's root URL (`https://androidpublisher.googleapis.com/` in
    /// production); method paths are appended to it.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        auth: Arc<TokenSource>,
        retry: RetryPolicy,
    ) -> Self {
        let mut base_url = base_url.to_owned();
        if !base_url.ends_with('/') {
            base_url.push('/');
        }
        Self {
            http,
            base_url,
            auth,
            retry,
        }
    }

    /// `androidpublisher.purchases.productsv2.getproductpurchasev2`
    pub async fn get_product_v2(
        &self,
        package: &str,
        token: &str,
    ) -> Result<WithRaw<ProductPurchaseV2>, GoogleError> {
        let path = methods::PRODUCTSV2_GET.path(&[("packageName", package), ("token", token)]);
        self.read(&methods::PRODUCTSV2_GET, &path).await
    }

    /// `androidpublisher.purchases.subscriptionsv2.get`
    pub async fn get_subscription_v2(
        &self,
        package: &str,
        token: &str,
    ) -> Result<WithRaw<SubscriptionPurchaseV2>, GoogleError> {
        let path = methods::SUBSCRIPTIONSV2_GET.path(&[("packageName", package), ("token", token)]);
        self.read(&methods::SUBSCRIPTIONSV2_GET, &path).await
    }

    /// `androidpublisher.purchases.voidedpurchases.list`; `query` holds the optional
    /// parameters (`startTime`, `endTime`, `maxResults`, `token`, `type`,
    /// `includeQuantityBasedPartialRefund`).
    pub async fn list_voided(
        &self,
        package: &str,
        query: &[(&str, String)],
    ) -> Result<WithRaw<VoidedPurchasesListResponse>, GoogleError> {
        let m = methods::VOIDEDPURCHASES_LIST;
        let path = methods::with_query(m.path(&[("packageName", package)]), query);
        self.read(&m, &path).await
    }

    /// `androidpublisher.purchases.products.get` (v1; productsv2 is preferred).
    pub async fn get_product(
        &self,
        package: &str,
        product_id: &str,
        token: &str,
    ) -> Result<WithRaw<ProductPurchase>, GoogleError> {
        let path = methods::PRODUCTS_GET.path(&[
            ("packageName", package),
            ("productId", product_id),
            ("token", token),
        ]);
        self.read(&methods::PRODUCTS_GET, &path).await
    }

    /// `androidpublisher.purchases.products.acknowledge`
    pub async fn acknowledge_product(
        &self,
        package: &str,
        product_id: &str,
        token: &str,
    ) -> Result<(), GoogleError> {
        let m = methods::PRODUCTS_ACKNOWLEDGE;
        let path = m.path(&[
            ("packageName", package),
            ("productId", product_id),
            ("token", token),
        ]);
        let body =
            serde_json::to_value(ProductPurchasesAcknowledgeRequest::default()).unwrap_or_default();
        self.call(&m, &path, Some(body)).await.map(|_| ())
    }

    /// `androidpublisher.purchases.products.consume`
    pub async fn consume_product(
        &self,
        package: &str,
        product_id: &str,
        token: &str,
    ) -> Result<(), GoogleError> {
        let m = methods::PRODUCTS_CONSUME;
        let path = m.path(&[
            ("packageName", package),
            ("productId", product_id),
            ("token", token),
        ]);
        self.call(&m, &path, None).await.map(|_| ())
    }

    /// `androidpublisher.purchases.subscriptions.acknowledge` — still the way to acknowledge
    /// a subscription; `subscription_id` is the line item's product id.
    pub async fn acknowledge_subscription(
        &self,
        package: &str,
        subscription_id: &str,
        token: &str,
    ) -> Result<(), GoogleError> {
        let m = methods::SUBSCRIPTIONS_ACKNOWLEDGE;
        let path = m.path(&[
            ("packageName", package),
            ("subscriptionId", subscription_id),
            ("token", token),
        ]);
        let body = serde_json::to_value(SubscriptionPurchasesAcknowledgeRequest::default())
            .unwrap_or_default();
        self.call(&m, &path, Some(body)).await.map(|_| ())
    }

    /// `androidpublisher.orders.reviewrefund`: our answer to a user's refund request.
    pub async fn review_refund(
        &self,
        package: &str,
        order_id: &str,
        request: &crate::wire::OrdersReviewRefundRequest,
    ) -> Result<(), GoogleError> {
        let m = methods::ORDERS_REVIEWREFUND;
        let path = m.path(&[("packageName", package), ("orderId", order_id)]);
        let body = serde_json::to_value(request)
            .map_err(|e| GoogleError::Decode(format!("{}: {e}", m.id)))?;
        self.call(&m, &path, Some(body)).await.map(|_| ())
    }

    /// `androidpublisher.externaltransactions.createexternaltransaction`: reports an
    /// alternative-billing transaction (within 24 hours of it).
    pub async fn create_external_transaction(
        &self,
        package: &str,
        transaction_id: &str,
        body: &crate::external::ExternalTransaction,
    ) -> Result<(), GoogleError> {
        let m = methods::EXTERNALTRANSACTIONS_CREATE;
        let path = methods::with_query(
            m.path(&[("applicationsId", package)]),
            &[("externalTransactionId", transaction_id.to_owned())],
        );
        let body = serde_json::to_value(body)
            .map_err(|e| GoogleError::Decode(format!("{}: {e}", m.id)))?;
        self.call(&m, &path, Some(body)).await.map(|_| ())
    }

    /// `androidpublisher.externaltransactions.refundexternaltransaction`: a full or partial
    /// refund of a reported transaction (within 24 hours of the refund).
    pub async fn refund_external_transaction(
        &self,
        package: &str,
        transaction_id: &str,
        body: &crate::external::RefundExternalTransactionRequest,
    ) -> Result<(), GoogleError> {
        let m = methods::EXTERNALTRANSACTIONS_REFUND;
        let path = m.path(&[
            ("applicationsId", package),
            ("externalTransactionsId", transaction_id),
        ]);
        let body = serde_json::to_value(body)
            .map_err(|e| GoogleError::Decode(format!("{}: {e}", m.id)))?;
        self.call(&m, &path, Some(body)).await.map(|_| ())
    }

    /// `androidpublisher.orders.refund`: a full refund of the order; `revoke` also ends access
    /// (and a subscription's future payments).
    pub async fn refund_order(
        &self,
        package: &str,
        order_id: &str,
        revoke: bool,
    ) -> Result<(), GoogleError> {
        let m = methods::ORDERS_REFUND;
        let path = format!(
            "{}?revoke={revoke}",
            m.path(&[("packageName", package), ("orderId", order_id)])
        );
        self.call(&m, &path, None).await.map(|_| ())
    }

    /// `androidpublisher.purchases.subscriptionsv2.cancel`: stops renewals; access lasts
    /// until the paid period ends.
    pub async fn cancel_subscription_v2(
        &self,
        package: &str,
        token: &str,
        request: &crate::wire::CancelSubscriptionPurchaseRequest,
    ) -> Result<(), GoogleError> {
        self.post_v2(&methods::SUBSCRIPTIONSV2_CANCEL, package, token, request)
            .await
            .map(|_| ())
    }

    /// `androidpublisher.purchases.subscriptionsv2.defer`: moves every item's expiry (and the
    /// next charge) later; needs the `etag` of the latest read.
    pub async fn defer_subscription_v2(
        &self,
        package: &str,
        token: &str,
        request: &crate::wire::DeferSubscriptionPurchaseRequest,
    ) -> Result<crate::wire::DeferSubscriptionPurchaseResponse, GoogleError> {
        let m = methods::SUBSCRIPTIONSV2_DEFER;
        let bytes = self.post_v2(&m, package, token, request).await?;
        serde_json::from_slice(&bytes).map_err(|e| GoogleError::Decode(format!("{}: {e}", m.id)))
    }

    /// `androidpublisher.purchases.subscriptionsv2.revoke`: ends access now, with a refund.
    pub async fn revoke_subscription_v2(
        &self,
        package: &str,
        token: &str,
        request: &crate::wire::RevokeSubscriptionPurchaseRequest,
    ) -> Result<(), GoogleError> {
        self.post_v2(&methods::SUBSCRIPTIONSV2_REVOKE, package, token, request)
            .await
            .map(|_| ())
    }

    async fn post_v2<B: serde::Serialize>(
        &self,
        m: &Method,
        package: &str,
        token: &str,
        request: &B,
    ) -> Result<Vec<u8>, GoogleError> {
        let path = m.path(&[("packageName", package), ("token", token)]);
        let body = serde_json::to_value(request)
            .map_err(|e| GoogleError::Decode(format!("{}: {e}", m.id)))?;
        self.call(m, &path, Some(body)).await
    }

    /// `androidpublisher.inappproducts.list`: one page (`token` from the previous one).
    pub async fn list_inapp_products(
        &self,
        package: &str,
        token: Option<&str>,
    ) -> Result<crate::catalog::InappproductsListResponse, GoogleError> {
        let m = methods::INAPPPRODUCTS_LIST;
        self.page(&m, &[("packageName", package)], ("token", token))
            .await
    }

    /// `androidpublisher.inappproducts.batchUpdate`: up to 100 products at once.
    pub async fn batch_update_inapp_products(
        &self,
        package: &str,
        request: &crate::catalog::InappproductsBatchUpdateRequest,
    ) -> Result<crate::catalog::InappproductsBatchUpdateResponse, GoogleError> {
        let m = methods::INAPPPRODUCTS_BATCHUPDATE;
        self.post_json(&m, &m.path(&[("packageName", package)]), request)
            .await
    }

    /// `androidpublisher.monetization.subscriptions.batchUpdate`: up to 100 subscriptions.
    pub async fn batch_update_subscriptions(
        &self,
        package: &str,
        request: &crate::catalog::BatchUpdateSubscriptionsRequest,
    ) -> Result<crate::catalog::BatchUpdateSubscriptionsResponse, GoogleError> {
        let m = methods::SUBSCRIPTIONS_BATCHUPDATE;
        self.post_json(&m, &m.path(&[("packageName", package)]), request)
            .await
    }

    /// `androidpublisher.monetization.subscriptions.basePlans.activate`: a draft base plan
    /// goes on sale.
    pub async fn activate_base_plan(
        &self,
        package: &str,
        product_id: &str,
        base_plan_id: &str,
        request: &crate::catalog::ActivateBasePlanRequest,
    ) -> Result<crate::catalog::Subscription, GoogleError> {
        let m = methods::BASEPLANS_ACTIVATE;
        let path = m.path(&[
            ("packageName", package),
            ("productId", product_id),
            ("basePlanId", base_plan_id),
        ]);
        self.post_json(&m, &path, request).await
    }

    /// `androidpublisher.monetization.convertRegionPrices`: a price in every region Play sells
    /// in, converted by Google.
    pub async fn convert_region_prices(
        &self,
        package: &str,
        request: &crate::catalog::ConvertRegionPricesRequest,
    ) -> Result<crate::catalog::ConvertRegionPricesResponse, GoogleError> {
        let m = methods::CONVERT_REGION_PRICES;
        self.post_json(&m, &m.path(&[("packageName", package)]), request)
            .await
    }

    async fn post_json<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        m: &Method,
        path: &str,
        request: &B,
    ) -> Result<T, GoogleError> {
        let body = serde_json::to_value(request)
            .map_err(|e| GoogleError::Decode(format!("{}: {e}", m.id)))?;
        let bytes = self.call(m, path, Some(body)).await?;
        serde_json::from_slice(&bytes).map_err(|e| GoogleError::Decode(format!("{}: {e}", m.id)))
    }

    /// `androidpublisher.inappproducts.delete`.
    pub async fn delete_inapp_product(&self, package: &str, sku: &str) -> Result<(), GoogleError> {
        let m = methods::INAPPPRODUCTS_DELETE;
        let path = m.path(&[("packageName", package), ("sku", sku)]);
        self.call(&m, &path, None).await.map(|_| ())
    }

    /// `androidpublisher.monetization.subscriptions.list`: one page, with base plans.
    pub async fn list_subscriptions(
        &self,
        package: &str,
        page_token: Option<&str>,
    ) -> Result<crate::catalog::ListSubscriptionsResponse, GoogleError> {
        let m = methods::SUBSCRIPTIONS_LIST;
        self.page(&m, &[("packageName", package)], ("pageToken", page_token))
            .await
    }

    /// `androidpublisher.monetization.subscriptions.basePlans.offers.list`: one page of a
    /// subscription's offers (`base_plan_id` `-`: of every base plan).
    pub async fn list_offers(
        &self,
        package: &str,
        product_id: &str,
        base_plan_id: &str,
        page_token: Option<&str>,
    ) -> Result<crate::catalog::ListSubscriptionOffersResponse, GoogleError> {
        let m = methods::OFFERS_LIST;
        let params = [
            ("packageName", package),
            ("productId", product_id),
            ("basePlanId", base_plan_id),
        ];
        self.page(&m, &params, ("pageToken", page_token)).await
    }

    /// `androidpublisher.monetization.onetimeproducts.list`: one page.
    pub async fn list_onetime_products(
        &self,
        package: &str,
        page_token: Option<&str>,
    ) -> Result<crate::catalog::ListOneTimeProductsResponse, GoogleError> {
        let m = methods::ONETIMEPRODUCTS_LIST;
        self.page(&m, &[("packageName", package)], ("pageToken", page_token))
            .await
    }

    /// One page of a list method: its path, and the previous page's token under its name.
    async fn page<T: DeserializeOwned>(
        &self,
        m: &Method,
        params: &[(&str, &str)],
        (name, token): (&str, Option<&str>),
    ) -> Result<T, GoogleError> {
        let query: Vec<_> = token.map(|t| (name, t.to_owned())).into_iter().collect();
        let path = methods::with_query(m.path(params), &query);
        self.read(m, &path).await.map(|r| r.value)
    }

    /// `storage.objects.list` (a client made with Cloud Storage's root URL and a storage
    /// scope): one page of the objects under `prefix`.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        page_token: Option<&str>,
    ) -> Result<crate::storage::Objects, GoogleError> {
        let m = crate::storage::OBJECTS_LIST;
        let mut query = vec![("prefix", prefix.to_owned())];
        if let Some(t) = page_token {
            query.push(("pageToken", t.to_owned()));
        }
        let path = methods::with_query(m.path(&[("bucket", bucket)]), &query);
        self.read(&m, &path).await.map(|r| r.value)
    }

    /// `storage.objects.get` with `alt=media`: an object's bytes at one `generation`.
    pub async fn download_object(
        &self,
        bucket: &str,
        name: &str,
        generation: &str,
    ) -> Result<Vec<u8>, GoogleError> {
        let m = crate::storage::OBJECTS_GET;
        let path = methods::with_query(
            m.path(&[("bucket", bucket), ("object", name)]),
            &[
                ("alt", "media".to_owned()),
                ("generation", generation.to_owned()),
            ],
        );
        self.call(&m, &path, None).await
    }

    async fn read<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
    ) -> Result<WithRaw<T>, GoogleError> {
        let bytes = self.call(method, path, None).await?;
        let raw: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| GoogleError::Decode(format!("{}: {e}", method.id)))?;
        let value = serde_json::from_value(raw.clone())
            .map_err(|e| GoogleError::Decode(format!("{}: {e}", method.id)))?;
        Ok(WithRaw { value, raw })
    }

    /// One logical call: retries what is retryable, refreshes the token once on 401.
    async fn call(
        &self,
        method: &Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Vec<u8>, GoogleError> {
        let url = format!("{}{}", self.base_url, path);
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            let result = self.attempt(method, &url, body.as_ref()).await;
            let err = match result {
                Ok(bytes) => return Ok(bytes),
                Err(GoogleError::Unauthenticated { .. }) if !refreshed => {
                    refreshed = true;
                    self.auth.invalidate().await;
                    continue;
                }
                Err(e) => e,
            };
            attempt += 1;
            if !err.is_retryable() || attempt >= self.retry.max_attempts {
                return Err(err);
            }
            let delay = self.retry.delay(attempt - 1, err.retry_after());
            tracing::warn!(method = method.id, attempt, ?delay, error = %err, "retrying Google call");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, GoogleError> {
        let token = self.auth.token().await?;
        let mut req = match method.http_method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url),
        }
        .bearer_auth(token);
        req = match body {
            Some(b) => req.json(b),
            None => req.header(reqwest::header::CONTENT_LENGTH, "0"),
        };
        let resp = req.send().await.map_err(|e| GoogleError::Unavailable {
            retry_after: None,
            message: format!("{} failed: {}", method.id, describe(e)),
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp.bytes().await.map_err(|e| GoogleError::Unavailable {
            retry_after: None,
            message: format!("{} body: {}", method.id, describe(e)),
        })?;
        if (200..300).contains(&status) {
            Ok(bytes.to_vec())
        } else {
            Err(GoogleError::from_status(status, &bytes, retry_after))
        }
    }
}

/// reqwest errors print the URL, which contains the purchase token: drop it.
fn describe(e: reqwest::Error) -> String {
    e.without_url().to_string()
}
