//! The probed partitions of several segments that share a partitioning, laid out as one: every
//! entry (primary row or spill) of partition `p` of every member segment, contiguous, so a
//! query scans a probed partition with one kernel call however many segments list rows in it.
//! Without this, N segments cut each partition into N short runs and the per-call cost grows
//! with N (bench/ann/readme.mjs, the forced-segments rows). Built from the members' int8 codes
//! (copied, not re-quantised) and cached while the member segments live, so the snapshots that
//! follow a write (same indexed segments, a new small one) reuse it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use crate::kernels::quant::QuantizedMatrix;
use crate::segment::Segment;

/// One group's entries in partition-major order.
pub struct GroupCodes {
    /// int8 codes of every entry.
    pub codes: QuantizedMatrix,
    /// Entries of partition `p` are `starts[p]..starts[p + 1]`.
    pub starts: Vec<u32>,
    /// Member (position in the group) of each entry.
    pub member: Vec<u16>,
    /// Row in its segment of each entry.
    pub row: Vec<u32>,
}

/// Most segments one group layout covers (`member` is a u16); more are scanned one by one.
pub const MAX_MEMBERS: usize = u16::MAX as usize;

/// Member segments' `Rc` addresses, in snapshot order.
type Key = Vec<usize>;
/// Cached layouts with the member segments they were built from.
type Cache = HashMap<Key, (Vec<Weak<Segment>>, Rc<GroupCodes>)>;
thread_local! {
    static GROUPS: RefCell<Cache> = RefCell::new(HashMap::new());
}

/// The layout of `segs` (indexed under one partitioning of `parts` partitions, in snapshot
/// order) whose primary rows' codes are `rows[i]` and spill entries' codes `spills[i]`.
pub fn group_codes(
    segs: &[&Rc<Segment>],
    parts: usize,
    rows: &[&QuantizedMatrix],
    spills: &[&QuantizedMatrix],
) -> Rc<GroupCodes> {
    let key: Key = segs.iter().map(|s| Rc::as_ptr(s) as usize).collect();
    if let Some(g) = GROUPS
        .with(|m| m.borrow().get(&key).filter(|(w, _)| w.iter().all(|w| w.strong_count() > 0)).map(|(_, g)| g.clone()))
    {
        return g;
    }
    let dim = rows.first().map_or(0, |m| m.dim());
    let total: usize = segs.iter().zip(spills).map(|(s, sp)| s.len() + sp.len()).sum();
    let mut g = GroupCodes {
        codes: QuantizedMatrix::new(dim),
        starts: Vec::with_capacity(parts + 1),
        member: Vec::with_capacity(total),
        row: Vec::with_capacity(total),
    };
    g.starts.push(0);
    for p in 0..parts {
        for (m, seg) in segs.iter().enumerate() {
            let Some(index) = seg.index.as_ref() else { continue };
            for r in index.rows(p) {
                g.codes.push_row_of(rows[m], r);
                g.member.push(m as u16);
                g.row.push(r as u32);
            }
            for e in index.spill_starts[p] as usize..index.spill_starts[p + 1] as usize {
                g.codes.push_row_of(spills[m], e);
                g.member.push(m as u16);
                g.row.push(index.spills[e]);
            }
        }
        g.starts.push(g.member.len() as u32);
    }
    let g = Rc::new(g);
    GROUPS.with(|m| {
        let mut m = m.borrow_mut();
        m.retain(|_, (w, _)| w.iter().all(|w| w.strong_count() > 0));
        m.insert(key, (segs.iter().map(|s| Rc::downgrade(s)).collect(), g.clone()));
    });
    g
}

/// Whether a layout of exactly these segments (`Rc` addresses, in order) is cached.
#[cfg(test)]
pub fn cached(key: &[usize]) -> bool {
    GROUPS.with(|m| m.borrow().contains_key(key))
}
