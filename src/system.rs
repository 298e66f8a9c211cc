//! The real ports: the system clock, and UUIDv7 ids and secrets whose random
//! bits come from `rand`'s thread-local CSPRNG (seeded from the OS).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use steward_core::{Clock, IdGenerator};
use uuid::Uuid;

/// The wall clock, made monotonic (never returns an earlier instant than it
/// already has) and truncated to microseconds.
#[derive(Debug, Default)]
pub struct SystemClock {
    last: Mutex<Option<DateTime<Utc>>>,
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = steward_core::clock::to_micros(Utc::now());
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = last.map_or(now, |l| l.max(now));
        *last = Some(now);
        now
    }
}

/// Time-ordered UUIDv7 ids; secrets from `rand`'s thread-local CSPRNG
/// (ChaCha, seeded and periodically reseeded from the operating system).
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidV7;

impl IdGenerator for UuidV7 {
    fn next_id(&self) -> Uuid {
        Uuid::now_v7()
    }

    fn fill_random(&self, buf: &mut [u8]) {
        use rand::RngCore;
        rand::rng().fill_bytes(buf);
    }
}
