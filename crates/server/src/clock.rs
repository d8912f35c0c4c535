//! Time as the server sees it: the wall clock plus an offset. The offset is zero in
//! production; tests (and a sandbox-driven demo) move it together with the sandbox's billing
//! clock, so time-driven behaviour — lapsed subscriptions, acknowledgement deadlines — can be
//! exercised without waiting a month. The sandbox and the server still share no state: whoever
//! advances the sandbox's clock tells the server too.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone, Default, Debug)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        wall + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Sets how far this clock runs ahead of the wall clock.
    pub fn set_offset_ms(&self, offset: i64) {
        self.offset_ms.store(offset, Ordering::Relaxed);
    }
}
