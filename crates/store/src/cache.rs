//! A per-instance cache of the entitlements users hold, so that the hot read, "what may this
//! user use now", is answered without a database round trip.
//!
//! It stays exact through invalidation, not expiry: the instance that wrote evicts its own
//! entry as soon as it commits, so it reads its own writes. SQLite: one process serves a
//! file (a lock next to it says so), so that is all. PostgreSQL: every transaction that
//! changes what a user holds also sends `NOTIFY playbill_entitlements` (delivered to every
//! instance when it commits). Each instance LISTENs on one connection; while that connection is
//! down the cache is empty and bypassed (notifications may have been missed), so a lost
//! listener costs speed, never correctness. A read that raced with an eviction does not fill
//! the cache (the eviction epoch moved). Time-dependent rules (expiry) are applied to the
//! cached rows at each read, so nothing here goes stale with the clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::StoreError;

/// The channel of invalidations; the payload is `package\nuser`.
pub(crate) const CHANNEL: &str = "playbill_entitlements";
/// Users kept at most per app; the app's whole cache is dropped beyond (a simple bound).
const MAX_USERS: usize = 100_000;

pub(crate) type Held = Arc<playbill_core::Held>;

#[derive(Default)]
pub(crate) struct HeldCache {
    inner: Mutex<Inner>,
    /// The listener is connected (SQLite: always): entries can be trusted and kept.
    live: AtomicBool,
    /// The store was closed: the listener stops.
    closed: AtomicBool,
    /// SQLite: the lock that makes this process the file's only server, held while any
    /// store of this process uses the file.
    _lock: Option<std::fs::File>,
}

/// SQLite: one cache per database file in this process, shared by every store on it (their
/// writes evict it directly: nothing else can write to the file while this process holds its
/// lock). `None` when another process holds the lock: then nothing is cached here, and that
/// process must not be serving either ([`crate::Store::serves_alone`]).
pub(crate) fn for_sqlite_file(path: &std::path::Path) -> Option<Arc<HeldCache>> {
    static FILES: Mutex<Option<HashMap<std::path::PathBuf, std::sync::Weak<HeldCache>>>> =
        Mutex::new(None);
    let path = path.canonicalize().ok()?;
    let mut files = FILES.lock().unwrap_or_else(|p| p.into_inner());
    let files = files.get_or_insert_with(HashMap::new);
    if let Some(cache) = files.get(&path).and_then(std::sync::Weak::upgrade) {
        return Some(cache);
    }
    let mut lock_path = path.clone().into_os_string();
    lock_path.push(".playbill-lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .ok()?;
    lock.try_lock().ok()?;
    let cache = Arc::new(HeldCache {
        inner: Mutex::default(),
        live: AtomicBool::new(true),
        closed: AtomicBool::new(false),
        _lock: Some(lock),
    });
    files.insert(path, Arc::downgrade(&cache));
    Some(cache)
}

#[derive(Default)]
struct Inner {
    /// Package → user → holdings: looked up by `&str`, with no key to allocate.
    users: HashMap<String, HashMap<String, Held>>,
    /// Moves at every eviction: a read that began before it must not fill the cache.
    epoch: u64,
}

impl HeldCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached holdings, and the epoch a read from the database must carry to fill them.
    pub(crate) fn get(&self, package: &str, user: &str) -> (Option<Held>, u64) {
        let inner = self.inner();
        if !self.live.load(Ordering::Acquire) {
            return (None, inner.epoch);
        }
        let held = inner.users.get(package).and_then(|u| u.get(user)).cloned();
        (held, inner.epoch)
    }

    /// Keeps a database read begun at `epoch`, unless something was evicted since.
    pub(crate) fn fill(&self, package: &str, user: &str, held: Held, epoch: u64) {
        let mut inner = self.inner();
        if !self.live.load(Ordering::Acquire) || inner.epoch != epoch {
            return;
        }
        let users = match inner.users.get_mut(package) {
            Some(users) => users,
            None => inner.users.entry(package.to_owned()).or_default(),
        };
        if users.len() >= MAX_USERS {
            users.clear();
        }
        users.insert(user.to_owned(), held);
    }

    /// The store is closed: nothing is cached any more, and the listener stops when its
    /// connection ends.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.live.store(false, Ordering::Release);
        self.clear();
    }

    pub(crate) fn evict(&self, package: &str, user: &str) {
        let mut inner = self.inner();
        inner.epoch += 1;
        if let Some(users) = inner.users.get_mut(package) {
            users.remove(user);
        }
    }

    fn clear(&self) {
        let mut inner = self.inner();
        inner.epoch += 1;
        inner.users.clear();
    }

    /// Listens for invalidations until the process ends, reconnecting as needed.
    pub(crate) fn start(self: &Arc<Self>, url: String) {
        let cache = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(this) = cache.upgrade() else { return };
                if let Err(e) = this.listen(&url).await
                    && !this.closed.load(Ordering::Acquire)
                {
                    tracing::warn!(error = %e, "entitlement cache off: cannot listen for changes");
                }
                if this.closed.load(Ordering::Acquire) {
                    return;
                }
                this.live.store(false, Ordering::Release);
                this.clear();
                drop(this);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    async fn listen(self: &Arc<Self>, url: &str) -> Result<(), StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        self.clear();
        self.live.store(true, Ordering::Release);
        loop {
            // `None`: the connection was lost, and what was sent meanwhile with it. The cache
            // goes off until a new listener is in place.
            match listener.try_recv().await? {
                Some(n) => match n.payload().split_once('\n') {
                    Some((package, user)) => self.evict(package, user),
                    None => self.clear(),
                },
                None => {
                    return Err(StoreError::Unavailable(
                        "the listening connection was lost".into(),
                    ));
                }
            }
        }
    }
}

/// Tells every instance that `user` of `package` holds something else now (PostgreSQL:
/// delivered when the transaction commits).
pub(crate) async fn announce(
    conn: &mut sqlx::AnyConnection,
    package: &str,
    user: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload(package, user))
        .execute(conn)
        .await?;
    Ok(())
}

/// The NOTIFY payload naming whose holdings changed.
pub(crate) fn payload(package: &str, user: &str) -> String {
    format!("{package}\n{user}")
}
