//! Store behaviour, each test on SQLite and on PostgreSQL (its own database each).

use playbill_core::{
    Entitlement, EntitlementState, PackageName, ProductId, ProductKind, PurchaseRecord,
    PurchaseState, PurchaseToken, Source, UserId,
};
use playbill_store::purchases::{SavePurchase, Settlement};
use playbill_store::testing::TestDb;
use playbill_store::{EventKind, NewEvent, StoreError, both_backends};
use serde_json::json;

const NOW: i64 = 1_800_000_000_000;

fn record(user: &str, token: &str) -> PurchaseRecord {
    PurchaseRecord {
        package: PackageName::parse("com.example").unwrap(),
        token: PurchaseToken::parse(token).unwrap(),
        kind: ProductKind::Subscription,
        user_id: UserId::parse(user).unwrap(),
        product_id: ProductId::parse("premium").unwrap(),
        state: PurchaseState::Active,
        acknowledged: false,
        consumed: false,
        quantity: 1,
        order_id: Some("GPA.1".into()),
        linked_purchase_token: Some(PurchaseToken::parse("older-token").unwrap()),
        expires_at: Some(NOW + 1000),
        auto_renewing: true,
        test_purchase: true,
        started_at: Some(NOW - 1000),
    }
}

fn grant(name: &str, state: EntitlementState, expires_at: Option<i64>) -> Entitlement {
    Entitlement {
        name: name.into(),
        product_id: ProductId::parse("premium").unwrap(),
        source: Source::GooglePlay,
        state,
        expires_at,
        auto_renewing: true,
        quantity: 1,
        test_purchase: true,
    }
}

fn event(kind: EventKind, token: &str) -> NewEvent {
    NewEvent {
        kind,
        package: "com.example".into(),
        token: token.into(),
        user_id: Some("u1".into()),
        detail: json!({"why": "test"}),
        at: NOW,
    }
}

both_backends!(migrations_are_idempotent, |db: TestDb| async move {
    let store = db.store().await;
    store.migrate().await.expect("second migrate is a no-op");
    store.ping().await.unwrap();
    store.upsert_app("com.example", NOW).await.unwrap();
    store.upsert_app("com.example", NOW).await.unwrap();
});

both_backends!(
    purchase_round_trips_with_entitlements_and_events,
    |db: TestDb| async move {
        let store = db.store().await;
        let r = record("u1", "tok-1");
        let ents = [
            grant("pro", EntitlementState::Active, Some(NOW + 1000)),
            grant("old", EntitlementState::Active, Some(NOW - 1)),
            grant("gone", EntitlementState::Inactive, Some(NOW + 1000)),
        ];
        let raw = json!({"subscriptionState": "SUBSCRIPTION_STATE_ACTIVE"});
        let id = store
            .save_purchase(SavePurchase {
                record: &r,
                entitlements: &ents,
                google_raw: &raw,
                events: &[event(EventKind::Verified, "tok-1")],
                is_new: true,
                observed_at: NOW,
                now: NOW,
                message: None,
            })
            .await
            .unwrap();
        let back = store.find_purchase("com.example", "tok-1").await.unwrap();
        assert_eq!(
            back.as_ref(),
            Some(&r),
            "every field survives the round trip"
        );

        let active = store
            .active_entitlements("com.example", "u1", NOW)
            .await
            .unwrap();
        assert_eq!(
            active,
            vec![ents[1].clone(), ents[0].clone()],
            "inactive rows are not listed; an ACTIVE subscription's state decides over a lagging expiry"
        );
        // Once canceled, the expiry decides.
        let mut canceled = r.clone();
        canceled.state = PurchaseState::Canceled;
        store
            .save_purchase(SavePurchase {
                record: &canceled,
                entitlements: &ents,
                google_raw: &raw,
                events: &[],
                is_new: false,
                observed_at: NOW,
                now: NOW,
                message: None,
            })
            .await
            .unwrap();
        assert_eq!(
            store
                .active_entitlements("com.example", "u1", NOW)
                .await
                .unwrap(),
            vec![ents[0].clone()],
            "a canceled subscription past its expiry grants nothing"
        );
        let held = store.held_entitlements("com.example", "u1").await.unwrap();
        assert_eq!(
            playbill_core::to_refresh(&held.play, NOW + 1000).len(),
            1,
            "expiry reached: stale, once however many rights it grants"
        );
        assert!(playbill_core::to_refresh(&held.play, NOW).is_empty());
        assert!(
            store
                .active_entitlements("com.example", "u2", NOW)
                .await
                .unwrap()
                .is_empty()
        );

        // Update: acknowledged, entitlement now inactive; upsert does not duplicate rows.
        let mut r2 = r.clone();
        r2.acknowledged = true;
        r2.state = PurchaseState::Expired;
        let id2 = store
            .save_purchase(SavePurchase {
                record: &r2,
                entitlements: &[grant("pro", EntitlementState::Inactive, Some(NOW + 1000))],
                google_raw: &raw,
                events: &[event(EventKind::Acknowledged, "tok-1")],
                is_new: false,
                observed_at: NOW,
                now: NOW + 1,
                message: None,
            })
            .await
            .unwrap();
        assert_eq!(id, id2);
        assert_eq!(
            store.find_purchase("com.example", "tok-1").await.unwrap(),
            Some(r2)
        );
        assert!(
            store
                .active_entitlements("com.example", "u1", NOW)
                .await
                .unwrap()
                .is_empty()
        );

        let events = store
            .events_for_token("com.example", "tok-1")
            .await
            .unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["verified", "acknowledged"]);
        assert!(
            events
                .iter()
                .all(|e| e.purchase_id.as_deref() == Some(id.as_str()))
        );
        assert_eq!(events[0].detail, json!({"why": "test"}));
    }
);

both_backends!(one_token_one_owner, |db: TestDb| async move {
    let store = db.store().await;
    let raw = json!({});
    let save = |user: &'static str, is_new: bool| {
        let store = store.clone();
        let raw = raw.clone();
        async move {
            let r = record(user, "tok-shared");
            store
                .save_purchase(SavePurchase {
                    record: &r,
                    entitlements: &[],
                    google_raw: &raw,
                    events: &[],
                    is_new,
                    observed_at: NOW,
                    now: NOW,
                    message: None,
                })
                .await
        }
    };
    save("u1", true).await.unwrap();
    assert!(
        matches!(save("u2", true).await, Err(StoreError::Conflict(c)) if c == "purchases_token_unique")
    );
    assert!(
        matches!(save("u2", false).await, Err(StoreError::Conflict(c)) if c == "purchases_owner_or_fresher")
    );
    let owner = store
        .find_purchase("com.example", "tok-shared")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.user_id.as_str(), "u1", "the first owner is kept");
});

both_backends!(
    concurrent_first_binds_have_one_winner,
    |db: TestDb| async move {
        let store = db.store().await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let r = record(&format!("u{i}"), "tok-race");
                store
                    .save_purchase(SavePurchase {
                        record: &r,
                        entitlements: &[grant("pro", EntitlementState::Active, None)],
                        message: None,
                        google_raw: &json!({}),
                        events: &[],
                        is_new: true,
                        observed_at: NOW,
                        now: NOW,
                    })
                    .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(ok, 1, "exactly one user wins the token");
    }
);

both_backends!(
    failed_attempts_leave_only_an_event,
    |db: TestDb| async move {
        let store = db.store().await;
        store
            .append_event(&event(EventKind::VerificationFailed, "tok-bad"))
            .await
            .unwrap();
        assert!(
            store
                .find_purchase("com.example", "tok-bad")
                .await
                .unwrap()
                .is_none()
        );
        let events = store
            .events_for_token("com.example", "tok-bad")
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "verification_failed");
        assert_eq!(events[0].purchase_id, None);
    }
);

both_backends!(expire_purchase_removes_access, |db: TestDb| async move {
    let store = db.store().await;
    let r = record("u1", "tok-old");
    store
        .save_purchase(SavePurchase {
            record: &r,
            entitlements: &[grant("pro", EntitlementState::Active, Some(NOW + 1000))],
            message: None,
            google_raw: &json!({}),
            events: &[],
            is_new: true,
            observed_at: NOW,
            now: NOW,
        })
        .await
        .unwrap();
    store
        .expire_purchase(&event(EventKind::ExpiredAtGoogle, "tok-old"))
        .await
        .unwrap();
    let back = store
        .find_purchase("com.example", "tok-old")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.state, PurchaseState::Expired);
    assert!(
        store
            .active_entitlements("com.example", "u1", NOW)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .events_for_token("com.example", "tok-old")
            .await
            .unwrap()[0]
            .kind,
        "expired_at_google"
    );
    assert!(
        !format!("{:?}", event(EventKind::Verified, "tok-old-and-secret")).contains("and-secret")
    );
});

both_backends!(
    an_older_read_never_replaces_a_fresher_one,
    |db: TestDb| async move {
        let store = db.store().await;
        let save = |state: PurchaseState, observed_at: i64, is_new: bool| {
            let store = store.clone();
            async move {
                let mut r = record("u1", "tok-fresh");
                r.state = state;
                store
                    .save_purchase(SavePurchase {
                        record: &r,
                        entitlements: &[],
                        message: None,
                        google_raw: &json!({}),
                        events: &[],
                        is_new,
                        observed_at,
                        now: NOW,
                    })
                    .await
            }
        };
        save(PurchaseState::Active, NOW, true).await.unwrap();
        save(PurchaseState::Canceled, NOW + 10, false)
            .await
            .unwrap();
        let stale = save(PurchaseState::Active, NOW + 5, false).await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        let back = store
            .find_purchase("com.example", "tok-fresh")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            back.state,
            PurchaseState::Canceled,
            "the fresher read stands"
        );
        assert_eq!(
            store
                .purchase_observed_at("com.example", "tok-fresh")
                .await
                .unwrap(),
            Some(NOW + 10)
        );
    }
);

both_backends!(
    settlement_is_claimed_once_and_recorded_monotonically,
    |db: TestDb| async move {
        let store = db.store().await;
        let mut r = record("u1", "tok-settle");
        r.kind = ProductKind::OneTime;
        store
            .save_purchase(SavePurchase {
                record: &r,
                entitlements: &[grant("pro", EntitlementState::Active, None)],
                message: None,
                google_raw: &json!({}),
                events: &[],
                is_new: true,
                observed_at: NOW,
                now: NOW,
            })
            .await
            .unwrap();
        let claim =
            |now: i64| store.claim_settlement("com.example", "tok-settle", now + 60_000, now);
        let (a, b) = tokio::join!(claim(NOW), claim(NOW));
        assert!(a.unwrap() ^ b.unwrap(), "exactly one claimant");
        assert!(!claim(NOW + 1).await.unwrap(), "a live claim holds");
        assert!(
            claim(NOW + 61_000).await.unwrap(),
            "an abandoned claim expires"
        );
        store
            .record_settlement(
                "com.example",
                "tok-settle",
                Settlement {
                    acknowledged: false,
                    consumed_product: Some("premium"),
                    events: &[event(EventKind::Consumed, "tok-settle")],
                    now: NOW,
                },
            )
            .await
            .unwrap();
        let back = store
            .find_purchase("com.example", "tok-settle")
            .await
            .unwrap()
            .unwrap();
        assert!(back.acknowledged && back.consumed, "consuming acknowledges");
        assert!(
            store
                .active_entitlements("com.example", "u1", NOW)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            claim(NOW + 2).await.unwrap(),
            "recording released the claim"
        );
        // A later settlement that failed changes no fact.
        store
            .record_settlement(
                "com.example",
                "tok-settle",
                Settlement {
                    now: NOW,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            store
                .find_purchase("com.example", "tok-settle")
                .await
                .unwrap()
                .unwrap()
                .consumed
        );
    }
);

both_backends!(
    concurrent_saves_commit_together_and_a_conflict_undoes_only_itself,
    |db: TestDb| async move {
        let store = db.store().await;
        let raw = json!({});
        let ents = [grant("pro", EntitlementState::Active, Some(NOW + 1000))];
        // 24 saves at once: 20 distinct tokens, and 4 that all insert one more token (one may
        // win; the others are conflicts). On SQLite they queue for the one writer and are
        // committed in groups; a conflict must not undo its neighbours.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..24 {
            let store = store.clone();
            let (ents, raw) = (ents.clone(), raw.clone());
            tasks.spawn(async move {
                let token = if i < 20 {
                    format!("tok-many-{i}")
                } else {
                    "tok-contested".to_owned()
                };
                let r = record(&format!("user-{i}"), &token);
                let saved = store
                    .save_purchase(SavePurchase {
                        record: &r,
                        entitlements: &ents,
                        google_raw: &raw,
                        events: &[],
                        is_new: true,
                        observed_at: NOW,
                        now: NOW,
                        message: None,
                    })
                    .await;
                (i, saved)
            });
        }
        let mut contested_wins = 0;
        while let Some(done) = tasks.join_next().await {
            let (i, saved) = done.unwrap();
            match saved {
                Ok(_) if i >= 20 => contested_wins += 1,
                Ok(_) => {}
                Err(StoreError::Conflict(_)) if i >= 20 => {}
                Err(e) => panic!("save {i}: {e}"),
            }
        }
        assert_eq!(contested_wins, 1, "one insert of a token wins");
        for i in 0..20 {
            let user = format!("user-{i}");
            let stored = store
                .find_purchase("com.example", &format!("tok-many-{i}"))
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("save {i} is durable"));
            assert_eq!(stored.user_id.as_str(), user);
            assert_eq!(
                store
                    .active_entitlements("com.example", &user, NOW)
                    .await
                    .unwrap()
                    .len(),
                1
            );
        }
    }
);

both_backends!(
    what_one_instance_writes_the_others_read_at_once,
    |db: TestDb| async move {
        // Two instances on one database. On PostgreSQL each caches what users hold; a change
        // made by one must reach the other's reads (NOTIFY), and its own reads at once.
        let (one, other) = (db.store().await, db.store().await);
        let raw = json!({});
        let save = |store: playbill_store::Store,
                    state: PurchaseState,
                    ents: Vec<Entitlement>,
                    is_new: bool| {
            let raw = raw.clone();
            async move {
                let mut r = record("u-cache", "tok-cache");
                r.state = state;
                store
                    .save_purchase(SavePurchase {
                        record: &r,
                        entitlements: &ents,
                        google_raw: &raw,
                        events: &[],
                        is_new,
                        observed_at: NOW,
                        now: NOW,
                        message: None,
                    })
                    .await
                    .unwrap();
            }
        };
        let holds = |store: playbill_store::Store| async move {
            store
                .active_entitlements("com.example", "u-cache", NOW)
                .await
                .unwrap()
                .len()
        };
        let active = vec![grant("pro", EntitlementState::Active, Some(NOW + 1000))];
        let inactive = vec![grant("pro", EntitlementState::Inactive, Some(NOW + 1000))];
        // Both read (and may cache) "nothing", then one grants: both see it.
        assert_eq!(holds(one.clone()).await, 0);
        assert_eq!(holds(other.clone()).await, 0);
        // (Let both listeners start: a read before then is simply not cached.)
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(holds(one.clone()).await, 0);
        assert_eq!(holds(other.clone()).await, 0);
        save(one.clone(), PurchaseState::Active, active.clone(), true).await;
        assert_eq!(
            holds(one.clone()).await,
            1,
            "the writer reads its own write"
        );
        // Within two seconds, `store` holds `n` rights.
        let comes_to = |store: playbill_store::Store, n: usize| async move {
            for _ in 0..200 {
                if holds(store.clone()).await == n {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            false
        };
        assert!(
            comes_to(other.clone(), 1).await,
            "the other instance sees the grant"
        );
        // Now the other one ends it: both stop granting.
        save(other.clone(), PurchaseState::Expired, inactive, false).await;
        assert_eq!(holds(other.clone()).await, 0);
        assert!(
            comes_to(one.clone(), 0).await,
            "the first instance sees the end"
        );
    }
);

both_backends!(
    a_save_records_its_notification_with_the_purchase,
    |db: TestDb| async move {
        let store = db.store().await;
        let r = record("u1", "tok-n");
        let message = playbill_store::notifications::InboxMessage {
            message_id: "m-1",
            subscription: "projects/p/subscriptions/s",
            package: "com.example",
            notification: r#"{"version":"1.0"}"#,
            published_at: Some("2026-11-25T00:00:00Z"),
            received_at: NOW,
        };
        let (done, stored, successor) = store
            .message_and_purchase("m-1", "com.example", "tok-n")
            .await
            .unwrap();
        assert_eq!((done, stored, successor), (false, None, None));
        // The same right twice (e.g. two products of one order mapped to one name): the
        // later one wins, as with two upserts.
        let ents = [
            grant("pro", EntitlementState::Inactive, Some(NOW + 1000)),
            grant("pro", EntitlementState::Active, Some(NOW + 2000)),
        ];
        store
            .save_purchase(SavePurchase {
                record: &r,
                entitlements: &ents,
                google_raw: &json!({}),
                events: &[event(EventKind::Notified, "tok-n")],
                is_new: true,
                observed_at: NOW,
                now: NOW,
                message: Some(&message),
            })
            .await
            .unwrap();
        let (done, stored, successor) = store
            .message_and_purchase("m-1", "com.example", "tok-n")
            .await
            .unwrap();
        assert!(done, "the save recorded the message as processed");
        assert_eq!(stored, Some(r.clone()));
        assert_eq!(successor, None);
        assert_eq!(
            store
                .active_entitlements("com.example", "u1", NOW)
                .await
                .unwrap(),
            vec![ents[1].clone()]
        );

        // A second message's save, refused as older than what is stored, records nothing.
        let second = playbill_store::notifications::InboxMessage {
            message_id: "m-2",
            ..message
        };
        let refused = store
            .save_purchase(SavePurchase {
                record: &r,
                entitlements: &[grant("pro", EntitlementState::Inactive, None)],
                google_raw: &json!({}),
                events: &[event(EventKind::Notified, "tok-n")],
                is_new: false,
                observed_at: NOW - 1,
                now: NOW,
                message: Some(&second),
            })
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        assert!(!store.message_done("m-2").await.unwrap());
        assert_eq!(
            store
                .events_for_token("com.example", "tok-n")
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .active_entitlements("com.example", "u1", NOW)
                .await
                .unwrap(),
            vec![ents[1].clone()],
            "the refused save changed nothing"
        );
    }
);
