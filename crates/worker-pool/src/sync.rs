//! Two small helpers both pools (this one and the `threads` crate's) use.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, also when a thread panicked while holding it: the pools' state stays
/// consistent under every lock (no invariant is left half-updated across a panic point).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
