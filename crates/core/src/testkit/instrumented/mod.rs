//! `InstrumentedKv`: the one store wrapper of the tests and benches. It counts every call and
//! the bytes moved, optionally logs the calls in order, and runs a script that may fail, lose
//! the answer of, hang, or first run other work before any call, so a request budget is an
//! assertion and a protocol race an explicit interleaving instead of a lucky timing.
//!
//! Single-threaded by design (cells, and scripts that capture `Rc`s and local futures): tests
//! drive it from one executor; share the inner store, not this wrapper, between threads.

mod call;
#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};

use async_trait::async_trait;

pub use call::{lost_answer, unavailable, Action, Call, Counts, Entry, Op, PutKind};

use crate::kv::{GetIfChanged, Kv, KvError, PutCondition, VersionToken, Versioned};

type Script = Box<dyn FnMut(&Call<'_>) -> Action>;

/// A [`Kv`] wrapper that counts, logs and scripts the calls to `inner`. Every operation of the
/// trait is forwarded as itself (ranged reads, conditional reads and staged puts included), so
/// the store under test behaves as `inner` does unless the script says otherwise.
pub struct InstrumentedKv<K> {
    inner: K,
    counts: Cell<Counts>,
    logging: bool,
    log: RefCell<Vec<Entry>>,
    // Entries dropped by `reset`, so a call still in flight across a reset finds its entry
    // (or knows it is gone) when it answers.
    dropped: Cell<usize>,
    script: RefCell<Option<Script>>,
}

impl<K: Kv> InstrumentedKv<K> {
    /// Wraps `inner`: counting, not logging, passing every call.
    pub fn new(inner: K) -> Self {
        InstrumentedKv {
            inner,
            counts: Cell::new(Counts::default()),
            logging: false,
            log: RefCell::new(Vec::new()),
            dropped: Cell::new(0),
            script: RefCell::new(None),
        }
    }

    /// Also keeps an ordered log of the calls (see [`InstrumentedKv::log`]).
    pub fn with_log(mut self) -> Self {
        self.logging = true;
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &K {
        &self.inner
    }

    /// The counters since creation or the last [`InstrumentedKv::reset`].
    pub fn counts(&self) -> Counts {
        self.counts.get()
    }

    /// The calls made since creation or the last reset, in order (empty unless
    /// [`InstrumentedKv::with_log`]).
    pub fn log(&self) -> Vec<Entry> {
        self.log.borrow().clone()
    }

    /// Zeroes the counters and empties the log (the script stays).
    pub fn reset(&self) {
        self.counts.set(Counts::default());
        let mut log = self.log.borrow_mut();
        self.dropped.set(self.dropped.get() + log.len());
        log.clear();
    }

    /// Replaces the script: it sees every later call before the store does and says what
    /// happens to it. State the script keeps (a call counter, a flag) makes "the Nth put" rules.
    pub fn script(&self, f: impl FnMut(&Call<'_>) -> Action + 'static) {
        *self.script.borrow_mut() = Some(Box::new(f));
    }

    /// Back to passing every call.
    pub fn heal(&self) {
        *self.script.borrow_mut() = None;
    }

    /// Asks the script, then counts and logs the call (so a failed or hung call is seen too).
    /// Returns the action and the call's place in the log.
    fn admit(&self, op: Op, key: &str, value: Option<&[u8]>) -> (Action, Option<usize>) {
        let action = match self.script.borrow_mut().as_mut() {
            Some(script) => script(&Call { op, key, value }),
            None => Action::Pass,
        };
        let mut counts = self.counts.get();
        counts.count(op);
        self.counts.set(counts);
        let seq = self.logging.then(|| {
            let mut log = self.log.borrow_mut();
            log.push(Entry { op, key: key.to_string(), bytes: value.map_or(0, |v| v.len() as u64) });
            self.dropped.get() + log.len() - 1
        });
        (action, seq)
    }

    /// Carries out `action` around `run`, then adds the bytes moved: `written` for a put the
    /// store applied, `read(answer)` for a read.
    async fn perform<T, F>(
        &self,
        (action, seq): (Action, Option<usize>),
        written: u64,
        read: fn(&T) -> u64,
        run: impl FnOnce() -> F,
    ) -> Result<T, KvError>
    where
        F: std::future::Future<Output = Result<T, KvError>>,
    {
        let (answer, lost) = match action {
            Action::Pass => (run().await, None),
            Action::Fail(e) => return Err(e),
            Action::LoseAnswer(e) => (run().await, Some(e)),
            Action::Hang => futures::future::pending().await,
            Action::RunFirst(first) => {
                first.await;
                (run().await, None)
            }
        };
        let answer = answer?;
        let got = read(&answer);
        let mut counts = self.counts.get();
        counts.bytes_read += got;
        counts.bytes_written += written;
        self.counts.set(counts);
        if let Some(i) = seq.and_then(|s| s.checked_sub(self.dropped.get())) {
            if let Some(entry) = self.log.borrow_mut().get_mut(i) {
                entry.bytes += got;
            }
        }
        match lost {
            Some(e) => Err(e),
            None => Ok(answer),
        }
    }

    async fn write(
        &self,
        key: &str,
        value: Vec<u8>,
        condition: PutCondition,
        staged: bool,
    ) -> Result<VersionToken, KvError> {
        let op = Op::Put { kind: PutKind::from(&condition), staged };
        let admitted = self.admit(op, key, Some(&value));
        let len = value.len() as u64;
        self.perform(
            admitted,
            len,
            |_| 0,
            || async move {
                match staged {
                    true => self.inner.put_staged(key, value, condition).await,
                    false => self.inner.put(key, value, condition).await,
                }
            },
        )
        .await
    }
}

fn versioned_len(v: &Option<Versioned>) -> u64 {
    v.as_ref().map_or(0, |v| v.value.len() as u64)
}

#[async_trait(?Send)]
impl<K: Kv> Kv for InstrumentedKv<K> {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        let admitted = self.admit(Op::Get, key, None);
        self.perform(admitted, 0, versioned_len, || self.inner.get(key)).await
    }
    async fn get_if_changed(&self, key: &str, known: &VersionToken) -> Result<GetIfChanged, KvError> {
        let admitted = self.admit(Op::GetIfChanged, key, None);
        let changed_len = |g: &GetIfChanged| match g {
            GetIfChanged::Changed(v) => v.value.len() as u64,
            _ => 0,
        };
        self.perform(admitted, 0, changed_len, || self.inner.get_if_changed(key, known)).await
    }
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>, KvError> {
        let admitted = self.admit(Op::GetRange { start, len }, key, None);
        let got = |v: &Option<Vec<u8>>| v.as_ref().map_or(0, |v| v.len() as u64);
        self.perform(admitted, 0, got, || self.inner.get_range(key, start, len)).await
    }
    fn supports_ranges(&self) -> bool {
        self.inner.supports_ranges()
    }
    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        self.write(key, value, condition, false).await
    }
    async fn put_staged(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        self.write(key, value, condition, true).await
    }
    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let admitted = self.admit(Op::Delete, key, None);
        self.perform(admitted, 0, |_| 0, || self.inner.delete(key)).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let admitted = self.admit(Op::List, prefix, None);
        self.perform(admitted, 0, |_| 0, || self.inner.list(prefix)).await
    }
    fn close(&self) {
        self.inner.close()
    }
}
