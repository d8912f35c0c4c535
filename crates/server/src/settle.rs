//! Settling what playbill owes Google for a purchase: the acknowledge and consume calls that
//! core's decisions ask for. One place, so the verify flow (and later the notification
//! handler and the acknowledgement sweeper) perform and record them the same way.

use playbill_core::verify::Action;
use playbill_core::{PackageName, ProductKind, PurchaseToken};
use playbill_google::{GoogleError, PlayClient};
use playbill_store::EventKind;

/// Performs one action at Google.
pub async fn perform(
    play: &PlayClient,
    package: &PackageName,
    token: &PurchaseToken,
    action: &Action,
) -> Result<(), GoogleError> {
    let (package, token) = (package.as_str(), token.as_str());
    match action {
        Action::Acknowledge {
            kind: ProductKind::OneTime,
            product_id,
        } => {
            play.acknowledge_product(package, product_id.as_str(), token)
                .await
        }
        Action::Acknowledge {
            kind: ProductKind::Subscription,
            product_id,
        } => {
            play.acknowledge_subscription(package, product_id.as_str(), token)
                .await
        }
        Action::Consume { product_id } => {
            play.consume_product(package, product_id.as_str(), token)
                .await
        }
    }
}

/// The event that records an action's outcome.
pub fn outcome_event(action: &Action, succeeded: bool) -> EventKind {
    match (action, succeeded) {
        (Action::Acknowledge { .. }, true) => EventKind::Acknowledged,
        (Action::Acknowledge { .. }, false) => EventKind::AcknowledgeFailed,
        (Action::Consume { .. }, true) => EventKind::Consumed,
        (Action::Consume { .. }, false) => EventKind::ConsumeFailed,
    }
}
