//! The int8 codes of each decoded segment, computed once and shared by every snapshot that
//! lists the segment (segments are immutable), forgotten once the segment is dropped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use crate::kernels::quant::QuantizedMatrix;
use crate::segment::Segment;

/// int8 codes per segment: `Rc` address → (the segment, its codes).
type QuantizedCache = HashMap<usize, (Weak<Segment>, Rc<QuantizedMatrix>)>;

thread_local! {
    /// int8 codes per segment, keyed by the address of its `Rc`. The `Weak` keeps that
    /// allocation (not the segment's data) alive, so the address cannot be reused by another
    /// segment while the entry exists; entries of dropped segments are purged on insert.
    static QUANTIZED: RefCell<QuantizedCache> = RefCell::new(HashMap::new());
}

/// The int8 codes of `seg`, computed on first use and shared by every snapshot.
pub(super) fn quantized_segment(seg: &Rc<Segment>, dim: usize) -> Rc<QuantizedMatrix> {
    let key = Rc::as_ptr(seg) as usize;
    QUANTIZED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((weak, q)) = cache.get(&key) {
            if weak.strong_count() > 0 && q.dim() == dim && q.len() == seg.len() {
                return q.clone();
            }
        }
        let q = Rc::new(QuantizedMatrix::from_f32(&seg.vectors, dim));
        cache.retain(|_, (weak, _)| weak.strong_count() > 0);
        cache.insert(key, (Rc::downgrade(seg), q.clone()));
        q
    })
}

/// Whether the int8 codes of `seg` were already computed (by any snapshot).
pub(super) fn has_quantized(seg: &Rc<Segment>) -> bool {
    let key = Rc::as_ptr(seg) as usize;
    QUANTIZED.with(|cache| {
        cache.try_borrow().is_ok_and(|c| c.get(&key).is_some_and(|(w, q)| w.strong_count() > 0 && q.len() == seg.len()))
    })
}

/// Forgets the cached int8 codes of segments that no longer exist.
pub(super) fn purge_quantized() {
    QUANTIZED.with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            cache.retain(|_, (weak, _)| weak.strong_count() > 0);
        }
    });
}
