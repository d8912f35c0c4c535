//! Catalog wire types (inappproducts, monetization subscriptions / base plans / offers, onetimeproducts, convertRegionPrices), exactly as the discovery document has them.
