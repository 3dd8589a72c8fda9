//! What [`super::InstrumentedKv`] sees of a call, keeps of it, counts, and can do with it.

use futures::future::LocalBoxFuture;

use crate::kv::{KvError, PutCondition};

/// The condition of a put, without its version token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutKind {
    /// [`PutCondition::Any`].
    Any,
    /// [`PutCondition::IfAbsent`].
    IfAbsent,
    /// [`PutCondition::IfVersion`] (a compare-and-swap).
    IfVersion,
}

impl From<&PutCondition> for PutKind {
    fn from(c: &PutCondition) -> Self {
        match c {
            PutCondition::Any => PutKind::Any,
            PutCondition::IfAbsent => PutKind::IfAbsent,
            PutCondition::IfVersion(_) => PutKind::IfVersion,
        }
    }
}

/// Which [`crate::kv::Kv`] operation a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// [`crate::kv::Kv::get`].
    Get,
    /// [`crate::kv::Kv::get_if_changed`].
    GetIfChanged,
    /// [`crate::kv::Kv::get_range`] of `len` bytes from `start`.
    GetRange {
        /// First byte asked for.
        start: u64,
        /// Bytes asked for.
        len: u64,
    },
    /// [`crate::kv::Kv::put`], or [`crate::kv::Kv::put_staged`] when `staged`.
    Put {
        /// Its condition.
        kind: PutKind,
        /// Written with `put_staged`.
        staged: bool,
    },
    /// [`crate::kv::Kv::delete`].
    Delete,
    /// [`crate::kv::Kv::list`] (the key is the prefix).
    List,
}

impl Op {
    /// Any of the three reads.
    pub fn is_read(self) -> bool {
        matches!(self, Op::Get | Op::GetIfChanged | Op::GetRange { .. })
    }

    /// A put, staged or not.
    pub fn is_put(self) -> bool {
        matches!(self, Op::Put { .. })
    }
}

/// One call as a script sees it, before it reaches the store.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The operation.
    pub op: Op,
    /// Its key (the prefix of a listing).
    pub key: &'a str,
    /// The value of a put (`None` for every other operation, and in [`Entry::call`]).
    pub value: Option<&'a [u8]>,
}

impl Call<'_> {
    /// A put (any condition, staged or not) of a collection's manifest.
    pub fn is_manifest_put(&self) -> bool {
        self.op.is_put() && self.key.ends_with("manifest.json")
    }

    /// A whole read of a manifest: a `get`, or the `get_if_changed` a refresh makes (the
    /// trait's default runs that as a `get`, so scripts treat them alike).
    pub fn is_manifest_get(&self) -> bool {
        matches!(self.op, Op::Get | Op::GetIfChanged) && self.key.ends_with("manifest.json")
    }

    /// A put of a segment object.
    pub fn is_segment_put(&self) -> bool {
        self.op.is_put() && self.key.ends_with(".seg")
    }
}

/// One call in the log, in the order the calls were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The operation.
    pub op: Op,
    /// Its key (the prefix of a listing).
    pub key: String,
    /// Bytes it carried: the value of a put, or what a read returned once it answered
    /// (0 while it has not, or when it failed).
    pub bytes: u64,
}

impl Entry {
    /// The entry as a [`Call`] (without the value), for its predicates.
    pub fn call(&self) -> Call<'_> {
        Call { op: self.op, key: &self.key, value: None }
    }
}

/// Calls per operation and bytes moved, since creation or the last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `get` calls.
    pub gets: u64,
    /// `get_if_changed` calls.
    pub gets_if_changed: u64,
    /// `get_range` calls.
    pub range_gets: u64,
    /// Unconditional puts (staged or not).
    pub puts_any: u64,
    /// Create-only puts (staged or not).
    pub puts_if_absent: u64,
    /// Compare-and-swap puts (staged or not).
    pub puts_if_version: u64,
    /// Of all those puts, the ones made with `put_staged`.
    pub staged_puts: u64,
    /// `delete` calls.
    pub deletes: u64,
    /// `list` calls.
    pub lists: u64,
    /// Value bytes the reads returned.
    pub bytes_read: u64,
    /// Value bytes of the puts the store applied.
    pub bytes_written: u64,
}

impl Counts {
    /// Read calls of every kind.
    pub fn reads(&self) -> u64 {
        self.gets + self.gets_if_changed + self.range_gets
    }

    /// Put calls of every condition.
    pub fn puts(&self) -> u64 {
        self.puts_any + self.puts_if_absent + self.puts_if_version
    }

    pub(super) fn count(&mut self, op: Op) {
        let n = match op {
            Op::Get => &mut self.gets,
            Op::GetIfChanged => &mut self.gets_if_changed,
            Op::GetRange { .. } => &mut self.range_gets,
            Op::Put { kind, staged } => {
                self.staged_puts += u64::from(staged);
                match kind {
                    PutKind::Any => &mut self.puts_any,
                    PutKind::IfAbsent => &mut self.puts_if_absent,
                    PutKind::IfVersion => &mut self.puts_if_version,
                }
            }
            Op::Delete => &mut self.deletes,
            Op::List => &mut self.lists,
        };
        *n += 1;
    }
}

/// What the store does with a call, as its script decides.
pub enum Action {
    /// Perform it.
    Pass,
    /// Fail with this error without performing it.
    Fail(KvError),
    /// Perform it, then answer with this error (the answer was lost).
    LoseAnswer(KvError),
    /// Never answer (a request whose caller was cancelled).
    Hang,
    /// Run this first (other writers, GC, waiting on a signal), then perform the call.
    RunFirst(LocalBoxFuture<'static, ()>),
}

/// An ambiguous transient error, as S3 gives for a 503 after the write went through.
pub fn lost_answer() -> KvError {
    KvError::Transient { message: "HTTP 503 SlowDown (injected after the write was applied)".into(), ambiguous: true }
}

/// A plain transient failure (nothing was done).
pub fn unavailable() -> KvError {
    KvError::Transient { message: "connection reset (injected)".into(), ambiguous: false }
}
