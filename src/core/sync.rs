//! The one way the core takes a lock: a mutex poisoned by a panicking thread is recovered,
//! not propagated. Every lock guards plain data that stays consistent between statements,
//! and a panic on an SDK thread is caught and counted; failing every later call instead would
//! stop the SDK inside the host app for good.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `mutex`, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads `rwlock`, recovering the data if a panicking thread poisoned it.
pub fn read<T>(rwlock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    rwlock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Writes `rwlock`, recovering the data if a panicking thread poisoned it.
pub fn write<T>(rwlock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    rwlock.write().unwrap_or_else(PoisonError::into_inner)
}
