//! A store whose every call can be scripted: pass, fail, apply and then lose the answer, hang
//! forever, or first run other work (another writer's commits, a GC pass) — so each protocol
//! race is a deterministic, explicit interleaving instead of a lucky timing.

use std::cell::RefCell;
use std::sync::Arc;

use akidb_core::kv::{Kv, KvError, MemoryKv, PutCondition, VersionToken, Versioned};
use async_trait::async_trait;
use futures::future::LocalBoxFuture;

/// One store call, as the script sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Get(String),
    Put(String),
    Delete(String),
    List(String),
}

impl Call {
    pub fn key(&self) -> &str {
        match self {
            Call::Get(k) | Call::Put(k) | Call::Delete(k) | Call::List(k) => k,
        }
    }
    pub fn is_manifest_put(&self) -> bool {
        matches!(self, Call::Put(k) if k.ends_with("manifest.json"))
    }
    pub fn is_manifest_get(&self) -> bool {
        matches!(self, Call::Get(k) if k.ends_with("manifest.json"))
    }
    pub fn is_segment_put(&self) -> bool {
        matches!(self, Call::Put(k) if k.ends_with(".seg"))
    }
}

/// What the store does with a call.
pub enum Action {
    /// Perform it.
    Pass,
    /// Fail without performing it.
    Fail(KvError),
    /// Perform it, then answer with this error (the answer was lost).
    LoseAnswer(KvError),
    /// Never answer (a request whose caller was cancelled).
    Hang,
    /// Run this first (other writers, GC), then perform the call.
    RunFirst(LocalBoxFuture<'static, ()>),
}

type Script = Box<dyn FnMut(&Call) -> Action>;

/// A [`MemoryKv`] behind a script.
pub struct ScriptKv {
    pub inner: Arc<MemoryKv>,
    script: RefCell<Script>,
    pub calls: RefCell<Vec<Call>>,
}

/// An ambiguous transient error, as S3 gives for a 503 after the write went through.
pub fn lost_answer() -> KvError {
    KvError::Transient { message: "HTTP 503 SlowDown (injected after the write was applied)".into(), ambiguous: true }
}

/// A plain transient read failure.
pub fn unavailable() -> KvError {
    KvError::Transient { message: "connection reset (injected)".into(), ambiguous: false }
}

impl ScriptKv {
    pub fn new(inner: Arc<MemoryKv>) -> Self {
        ScriptKv { inner, script: RefCell::new(Box::new(|_| Action::Pass)), calls: RefCell::new(Vec::new()) }
    }

    /// Replaces the script.
    pub fn script(&self, f: impl FnMut(&Call) -> Action + 'static) {
        *self.script.borrow_mut() = Box::new(f);
    }

    /// Back to passing everything.
    pub fn heal(&self) {
        self.script(|_| Action::Pass);
    }

    async fn perform<T, F>(&self, call: Call, op: impl FnOnce() -> F) -> Result<T, KvError>
    where
        F: std::future::Future<Output = Result<T, KvError>>,
    {
        let action = (self.script.borrow_mut())(&call);
        self.calls.borrow_mut().push(call);
        match action {
            Action::Pass => op().await,
            Action::Fail(e) => Err(e),
            Action::LoseAnswer(e) => {
                op().await?;
                Err(e)
            }
            Action::Hang => futures::future::pending().await,
            Action::RunFirst(f) => {
                f.await;
                op().await
            }
        }
    }
}

#[async_trait(?Send)]
impl Kv for ScriptKv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        self.perform(Call::Get(key.into()), || self.inner.get(key)).await
    }
    async fn put(&self, key: &str, value: Vec<u8>, c: PutCondition) -> Result<VersionToken, KvError> {
        self.perform(Call::Put(key.into()), || self.inner.put(key, value, c)).await
    }
    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.perform(Call::Delete(key.into()), || self.inner.delete(key)).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        self.perform(Call::List(prefix.into()), || self.inner.list(prefix)).await
    }
}
