//! The androidpublisher methods playbill calls, each named by its discovery method id and
//! carrying the contract's `flatPath` verbatim. The client builds every URL from these, and
//! a test compares them with `contracts/androidpublisher.v3.json`, so a path cannot drift.

/// One REST method of a Google discovery document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    /// Discovery method id, e.g. `androidpublisher.purchases.subscriptionsv2.get`.
    pub id: &'static str,
    pub http_method: &'static str,
    /// The discovery document's `flatPath`, relative to the API's root URL.
    pub flat_path: &'static str,
}

impl Method {
    /// Fills `{name}` placeholders with percent-encoded values (path segment encoding, so
    /// `/` and `:` inside a token cannot change the route).
    pub fn path(&self, params: &[(&str, &str)]) -> String {
        let mut out = String::with_capacity(self.flat_path.len() + 64);
        let mut rest = self.flat_path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let name = &rest[open + 1..close];
            match params.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => encode_segment(value, &mut out),
                None => panic!("{}: no value for {{{name}}}", self.id),
            }
            rest = rest.get(close + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

/// Appends `?k=v&…` with percent-encoded values.
pub fn with_query(path: String, query: &[(&str, String)]) -> String {
    if query.is_empty() {
        return path;
    }
    let mut out = path;
    for (i, (k, v)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        encode_segment(v, &mut out);
    }
    out
}

fn encode_segment(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

macro_rules! methods {
    ($($name:ident = $id:literal, $http:literal, $path:literal;)*) => {
        $(pub const $name: Method = Method { id: $id, http_method: $http, flat_path: $path };)*
        /// Every method this crate calls.
        pub const ALL: &[Method] = &[$($name),*];
    };
}

methods! {
    PRODUCTS_GET = "androidpublisher.purchases.products.get", "GET",
        "androidpublisher/v3/applications/{packageName}/purchases/products/{productId}/tokens/{token}";
    PRODUCTS_ACKNOWLEDGE = "androidpublisher.purchases.products.acknowledge", "POST",
        "androidpublisher/v3/applications/{packageName}/purchases/products/{productId}/tokens/{token}:acknowledge";
    PRODUCTS_CONSUME = "androidpublisher.purchases.products.consume", "POST",
        "androidpublisher/v3/applications/{packageName}/purchases/products/{productId}/tokens/{token}:consume";
    PRODUCTSV2_GET = "androidpublisher.purchases.productsv2.getproductpurchasev2", "GET",
        "androidpublisher/v3/applications/{packageName}/purchases/productsv2/tokens/{token}";
    SUBSCRIPTIONS_ACKNOWLEDGE = "androidpublisher.purchases.subscriptions.acknowledge", "POST",
        "androidpublisher/v3/applications/{packageName}/purchases/subscriptions/{subscriptionId}/tokens/{token}:acknowledge";
    SUBSCRIPTIONSV2_GET = "androidpublisher.purchases.subscriptionsv2.get", "GET",
        "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}";
    VOIDEDPURCHASES_LIST = "androidpublisher.purchases.voidedpurchases.list", "GET",
        "androidpublisher/v3/applications/{packageName}/purchases/voidedpurchases";
    ORDERS_REVIEWREFUND = "androidpublisher.orders.reviewrefund", "POST",
        "androidpublisher/v3/applications/{packageName}/orders/{orderId}:reviewrefund";
    EXTERNALTRANSACTIONS_CREATE = "androidpublisher.externaltransactions.createexternaltransaction", "POST",
        "androidpublisher/v3/applications/{applicationsId}/externalTransactions";
    EXTERNALTRANSACTIONS_REFUND = "androidpublisher.externaltransactions.refundexternaltransaction", "POST",
        "androidpublisher/v3/applications/{applicationsId}/externalTransactions/{externalTransactionsId}:refund";
    INAPPPRODUCTS_LIST = "androidpublisher.inappproducts.list", "GET",
        "androidpublisher/v3/applications/{packageName}/inappproducts";
    INAPPPRODUCTS_BATCHUPDATE = "androidpublisher.inappproducts.batchUpdate", "POST",
        "androidpublisher/v3/applications/{packageName}/inappproducts:batchUpdate";
    CONVERT_REGION_PRICES = "androidpublisher.monetization.convertRegionPrices", "POST",
        "androidpublisher/v3/applications/{packageName}/pricing:convertRegionPrices";
    SUBSCRIPTIONS_BATCHUPDATE = "androidpublisher.monetization.subscriptions.batchUpdate", "POST",
        "androidpublisher/v3/applications/{packageName}/subscriptions:batchUpdate";
    BASEPLANS_ACTIVATE = "androidpublisher.monetization.subscriptions.basePlans.activate", "POST",
        "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}:activate";
    INAPPPRODUCTS_DELETE = "androidpublisher.inappproducts.delete", "DELETE",
        "androidpublisher/v3/applications/{packageName}/inappproducts/{sku}";
    SUBSCRIPTIONS_LIST = "androidpublisher.monetization.subscriptions.list", "GET",
        "androidpublisher/v3/applications/{packageName}/subscriptions";
    OFFERS_LIST = "androidpublisher.monetization.subscriptions.basePlans.offers.list", "GET",
        "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers";
    ONETIMEPRODUCTS_LIST = "androidpublisher.monetization.onetimeproducts.list", "GET",
        "androidpublisher/v3/applications/{packageName}/oneTimeProducts";
    ORDERS_REFUND = "androidpublisher.orders.refund", "POST",
        "androidpublisher/v3/applications/{packageName}/orders/{orderId}:refund";
    SUBSCRIPTIONSV2_CANCEL = "androidpublisher.purchases.subscriptionsv2.cancel", "POST",
        "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}:cancel";
    SUBSCRIPTIONSV2_DEFER = "androidpublisher.purchases.subscriptionsv2.defer", "POST",
        "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}:defer";
    SUBSCRIPTIONSV2_REVOKE = "androidpublisher.purchases.subscriptionsv2.revoke", "POST",
        "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}:revoke";
}

/// The OAuth scope of the Play Developer API.
pub const ANDROIDPUBLISHER_SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_encodes() {
        let p = PRODUCTS_ACKNOWLEDGE.path(&[
            ("packageName", "com.example"),
            ("productId", "gems"),
            ("token", "a/b:c d"),
        ]);
        assert_eq!(
            p,
            "androidpublisher/v3/applications/com.example/purchases/products/gems/tokens/a%2Fb%3Ac%20d:acknowledge"
        );
    }
}
