//! Group commit for SQLite's one writer. Purchase saves that queue up while a commit is under
//! way are written together in the next transaction, each inside its own savepoint (a save
//! that fails, a conflict say, undoes only itself), and made durable by one commit: SQLite
//! syncs its log once per transaction, so under load many saves share one sync. A save
//! that finds the writer idle is written alone, as it would be without this.

use playbill_core::{Entitlement, PurchaseRecord};
use sqlx::{Acquire, AnyPool};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::events::NewEvent;
use crate::notifications::InboxMessage;
use crate::purchases::{SavePurchase, save_in};

/// Saves written by one transaction at most.
const MAX_BATCH: usize = 64;

/// The queue to the writer task.
#[derive(Clone)]
pub(crate) struct Saves {
    queue: mpsc::Sender<Job>,
}

struct Job {
    save: OwnedSave,
    reply: oneshot::Sender<Result<String, StoreError>>,
}

impl Saves {
    /// Starts the writer task on `writer` (a one-connection pool).
    pub(crate) fn start(writer: AnyPool) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(writer, jobs));
        Self { queue }
    }

    /// Queues one save and waits until it is committed (or refused).
    pub(crate) async fn save(&self, s: &SavePurchase<'_>) -> Result<String, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        self.queue
            .send(Job {
                save: OwnedSave::from(s),
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(writer: AnyPool, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = write(&writer, &batch).await;
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

/// Writes the batch in one transaction; one result per save, in order. Saves rarely fail
/// (a conflict with a concurrent one), so the batch is first written plainly; only if one
/// fails is it written again with a savepoint around each save, so that the failure undoes
/// only itself.
async fn write(writer: &AnyPool, batch: &[Job]) -> Vec<Result<String, StoreError>> {
    let plainly = async {
        let mut tx = writer.begin().await?;
        let mut ids = Vec::with_capacity(batch.len());
        for job in batch {
            match job.save.write(&mut tx).await {
                Ok(id) => ids.push(id),
                // Dropping the transaction rolls it back.
                Err(e) => return Ok(Err(e)),
            }
        }
        tx.commit().await?;
        Ok::<_, StoreError>(Ok(ids))
    };
    match plainly.await {
        Ok(Ok(ids)) => ids.into_iter().map(Ok).collect(),
        Ok(Err(failed)) if batch.len() == 1 => vec![Err(failed)],
        Ok(Err(_)) => match one_by_one(writer, batch).await {
            Ok(results) => results,
            Err(e) => failed_all(batch, &e),
        },
        Err(e) => failed_all(batch, &e),
    }
}

/// The batch again, each save in its own savepoint.
async fn one_by_one(
    writer: &AnyPool,
    batch: &[Job],
) -> Result<Vec<Result<String, StoreError>>, StoreError> {
    let mut tx = writer.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let mut savepoint = tx.begin().await?;
        match job.save.write(&mut savepoint).await {
            Ok(id) => {
                savepoint.commit().await?;
                results.push(Ok(id));
            }
            Err(e) => {
                savepoint.rollback().await?;
                results.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    Ok(results)
}

/// The transaction itself failed: none of its saves is durable.
fn failed_all(batch: &[Job], e: &StoreError) -> Vec<Result<String, StoreError>> {
    let why = e.to_string();
    batch
        .iter()
        .map(|_| Err(StoreError::Unavailable(why.clone())))
        .collect()
}

/// A [`SavePurchase`] that can cross to the writer task.
struct OwnedSave {
    record: PurchaseRecord,
    entitlements: Vec<Entitlement>,
    google_raw: serde_json::Value,
    events: Vec<NewEvent>,
    is_new: bool,
    observed_at: i64,
    now: i64,
    message: Option<OwnedMessage>,
}

struct OwnedMessage {
    message_id: String,
    subscription: String,
    package: String,
    notification: String,
    published_at: Option<String>,
    received_at: i64,
}

impl From<&SavePurchase<'_>> for OwnedSave {
    fn from(s: &SavePurchase<'_>) -> Self {
        Self {
            record: s.record.clone(),
            entitlements: s.entitlements.to_vec(),
            google_raw: s.google_raw.clone(),
            events: s.events.to_vec(),
            is_new: s.is_new,
            observed_at: s.observed_at,
            now: s.now,
            message: s.message.map(|m| OwnedMessage {
                message_id: m.message_id.to_owned(),
                subscription: m.subscription.to_owned(),
                package: m.package.to_owned(),
                notification: m.notification.to_owned(),
                published_at: m.published_at.map(str::to_owned),
                received_at: m.received_at,
            }),
        }
    }
}

impl OwnedSave {
    async fn write(&self, conn: &mut sqlx::AnyConnection) -> Result<String, StoreError> {
        let message = self.message.as_ref().map(|m| InboxMessage {
            message_id: &m.message_id,
            subscription: &m.subscription,
            package: &m.package,
            notification: &m.notification,
            published_at: m.published_at.as_deref(),
            received_at: m.received_at,
        });
        let save = SavePurchase {
            record: &self.record,
            entitlements: &self.entitlements,
            google_raw: &self.google_raw,
            events: &self.events,
            is_new: self.is_new,
            observed_at: self.observed_at,
            now: self.now,
            message: message.as_ref(),
        };
        save_in(conn, &save).await
    }
}
