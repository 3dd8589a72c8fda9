//! `MemoryKv`: the embedded default store. Thread-safe, so native tests can share one store
//! between real threads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{Kv, KvError, PutCondition, VersionToken, Versioned};

#[derive(Default)]
struct Inner {
    entries: BTreeMap<String, (Arc<Vec<u8>>, u64)>,
    // One counter for the whole store: a deleted and re-created key never reuses a token (ABA).
    next_version: u64,
}

/// An in-memory key-value store with atomic conditional puts.
#[derive(Default)]
pub struct MemoryKv {
    inner: Mutex<Inner>,
}

impl MemoryKv {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated (single inserts),
        // so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of stored keys (for tests and the demo).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every key and value, to assert that a failed operation changed nothing.
    pub fn dump(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().entries.iter().map(|(k, (v, _))| (k.clone(), v.as_ref().clone())).collect()
    }
}

#[async_trait(?Send)]
impl Kv for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        Ok(self
            .lock()
            .entries
            .get(key)
            .map(|(v, ver)| Versioned { value: v.as_ref().clone(), version: VersionToken(ver.to_string()) }))
    }

    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.lock().entries.get(key).map(|(v, _)| {
            let n = v.len();
            let s = usize::try_from(start).unwrap_or(n).min(n);
            let e = s.saturating_add(usize::try_from(len).unwrap_or(n)).min(n);
            v[s..e].to_vec()
        }))
    }

    fn supports_ranges(&self) -> bool {
        true
    }

    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        let mut inner = self.lock();
        let current = inner.entries.get(key).map(|(_, v)| *v);
        let allowed = match (&condition, current) {
            (PutCondition::Any, _) => true,
            (PutCondition::IfAbsent, cur) => cur.is_none(),
            (PutCondition::IfVersion(_), None) => false,
            (PutCondition::IfVersion(t), Some(cur)) => t.0 == cur.to_string(),
        };
        if !allowed {
            return Err(KvError::PreconditionFailed);
        }
        inner.next_version += 1;
        let ver = inner.next_version;
        inner.entries.insert(key.to_string(), (Arc::new(value), ver));
        Ok(VersionToken(ver.to_string()))
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.lock().entries.remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        Ok(self
            .lock()
            .entries
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::conformance;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn memory_kv_passes_conformance() {
        let kv = MemoryKv::new();
        futures::executor::block_on(conformance::run_all(&kv, "conf/")).unwrap();
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn concurrent_if_absent_has_exactly_one_winner() {
        let kv = Arc::new(MemoryKv::new());
        let wins: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|i| {
                    let kv = kv.clone();
                    s.spawn(move || {
                        futures::executor::block_on(kv.put("k", vec![i], PutCondition::IfAbsent)).is_ok() as usize
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(wins, 1);
    }
}
