//! Bounded top-k collection for scans.
//!
//! A binary min-heap of at most `k` entries whose root is the worst kept candidate: a new
//! candidate is compared against the root only (O(1) rejection, O(log k) admission), and
//! nothing is allocated after construction.
//!
//! Ordering is total and deterministic: a higher score is better, and on equal scores the
//! lower index is better. NaN scores are ignored.

/// Largest capacity reserved up front. A `k` beyond this (a caller asking for "everything")
/// grows the buffer on demand instead of reserving memory that may never be used.
const MAX_PREALLOC: usize = 1 << 16;

/// The best `k` `(score, index)` pairs seen so far.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    /// Min-heap by [`better`]: `heap[0]` is the worst kept entry.
    heap: Vec<(f32, u32)>,
}

/// Whether `a` ranks strictly before `b` (higher score, then lower index).
#[inline(always)]
fn better(a: (f32, u32), b: (f32, u32)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

impl TopK {
    /// An empty collector that keeps at most `k` entries.
    pub fn new(k: usize) -> Self {
        TopK { k, heap: Vec::with_capacity(k.min(MAX_PREALLOC)) }
    }

    /// The configured capacity `k`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of entries currently kept (at most `k`).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing has been kept yet.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Whether `k` entries are kept, so new candidates must beat [`threshold`](Self::threshold).
    pub fn is_full(&self) -> bool {
        self.heap.len() >= self.k
    }

    /// Forgets all entries, keeping the buffer (reuse across queries).
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// The score a candidate must reach to be admitted: the worst kept score once full,
    /// `-inf` while not full, `+inf` when `k == 0`.
    ///
    /// A scan can skip any candidate with `score < threshold()` without calling
    /// [`push`](Self::push). A candidate with `score == threshold()` is admitted only if its
    /// index is lower than the worst kept entry's.
    #[inline]
    pub fn threshold(&self) -> f32 {
        if self.k == 0 {
            f32::INFINITY
        } else if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap[0].0
        }
    }

    /// Offers a candidate. Kept if fewer than `k` entries are held or it ranks before the
    /// current worst one (which it then replaces). NaN scores are ignored.
    #[inline]
    pub fn push(&mut self, score: f32, index: u32) {
        if score.is_nan() || self.k == 0 {
            return;
        }
        let item = (score, index);
        if self.heap.len() < self.k {
            self.heap.push(item);
            self.sift_up(self.heap.len() - 1);
        } else if better(item, self.heap[0]) {
            self.heap[0] = item;
            self.sift_down(0, self.heap.len());
        }
    }

    /// The kept entries, best first (descending score, ascending index on ties).
    pub fn into_sorted(mut self) -> Vec<(f32, u32)> {
        // In-place heapsort: moving the worst entry to the end each round leaves the buffer
        // ordered best first, with no extra allocation or comparison closure.
        let mut end = self.heap.len();
        while end > 1 {
            end -= 1;
            self.heap.swap(0, end);
            self.sift_down(0, end);
        }
        self.heap
    }

    /// Restores the heap property upwards from `i` (a newly appended entry).
    fn sift_up(&mut self, mut i: usize) {
        let h = &mut self.heap;
        while i > 0 {
            let parent = (i - 1) / 2;
            if better(h[parent], h[i]) {
                h.swap(parent, i);
                i = parent;
            } else {
                break;
            }
        }
    }

    /// Restores the heap property downwards from `i` within `heap[..len]`.
    fn sift_down(&mut self, mut i: usize, len: usize) {
        let h = &mut self.heap[..len];
        loop {
            let left = 2 * i + 1;
            if left >= len {
                break;
            }
            // Descend towards the worse child: it must become the parent.
            let right = left + 1;
            let child = if right < len && better(h[left], h[right]) { right } else { left };
            if better(h[i], h[child]) {
                h.swap(i, child);
                i = child;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    /// The reference: full sort of all non-NaN candidates, truncated to k.
    fn reference(items: &[(f32, u32)], k: usize) -> Vec<(f32, u32)> {
        let mut v: Vec<(f32, u32)> = items.iter().copied().filter(|x| !x.0.is_nan()).collect();
        v.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
        v.truncate(k);
        v
    }

    fn collect(items: &[(f32, u32)], k: usize) -> Vec<(f32, u32)> {
        let mut t = TopK::new(k);
        for &(s, i) in items {
            t.push(s, i);
        }
        t.into_sorted()
    }

    #[test]
    fn keeps_best_k_in_order() {
        let items = [(0.5, 0), (0.9, 1), (0.1, 2), (0.7, 3), (0.3, 4)];
        assert_eq!(collect(&items, 3), vec![(0.9, 1), (0.7, 3), (0.5, 0)]);
        assert_eq!(collect(&items, 10), reference(&items, 10));
        assert_eq!(collect(&items, 1), vec![(0.9, 1)]);
    }

    #[test]
    fn k_zero_is_empty() {
        let mut t = TopK::new(0);
        t.push(1.0, 1);
        assert!(t.is_empty());
        assert_eq!(t.threshold(), f32::INFINITY);
        assert!(t.into_sorted().is_empty());
    }

    #[test]
    fn ties_prefer_lower_index_regardless_of_order() {
        let fwd: Vec<(f32, u32)> = (0..10).map(|i| (1.0, i)).collect();
        let rev: Vec<(f32, u32)> = fwd.iter().rev().copied().collect();
        let want = vec![(1.0, 0), (1.0, 1), (1.0, 2)];
        assert_eq!(collect(&fwd, 3), want);
        assert_eq!(collect(&rev, 3), want);
    }

    #[test]
    fn nan_ignored_infinities_kept() {
        let items = [(f32::NAN, 0), (f32::NEG_INFINITY, 1), (f32::INFINITY, 2), (f32::NAN, 3), (0.0, 4)];
        assert_eq!(collect(&items, 5), vec![(f32::INFINITY, 2), (0.0, 4), (f32::NEG_INFINITY, 1)]);
    }

    #[test]
    fn threshold_tracks_worst_kept() {
        let mut t = TopK::new(2);
        assert_eq!(t.threshold(), f32::NEG_INFINITY);
        t.push(3.0, 0);
        assert_eq!(t.threshold(), f32::NEG_INFINITY);
        assert!(!t.is_full());
        t.push(1.0, 1);
        assert!(t.is_full());
        assert_eq!(t.threshold(), 1.0);
        t.push(2.0, 2);
        assert_eq!(t.threshold(), 2.0);
        t.push(0.5, 3); // below threshold: rejected
        assert_eq!(t.len(), 2);
        t.push(2.0, 1); // equal score, lower index: admitted
        assert_eq!(t.clone().into_sorted(), vec![(3.0, 0), (2.0, 1)]);
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.k(), 2);
    }

    #[test]
    fn matches_full_sort_on_pseudo_random_data() {
        let mut rng = crate::testkit::XorShift(0x2545_F491_4F6C_DD1D);
        let mut items = Vec::new();
        for i in 0..2000u32 {
            // Few distinct scores, so ties are common.
            items.push(((rng.next_u64() % 50) as f32 / 7.0, i));
        }
        for k in [1, 2, 5, 10, 100, 1999, 2000, 5000] {
            assert_eq!(collect(&items, k), reference(&items, k), "k={k}");
        }
    }

    #[test]
    fn huge_k_does_not_preallocate() {
        let mut t = TopK::new(usize::MAX);
        t.push(1.0, 0);
        assert_eq!(t.threshold(), f32::NEG_INFINITY);
        assert_eq!(t.into_sorted(), vec![(1.0, 0)]);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn score() -> impl Strategy<Value = f32> {
        prop_oneof![
            8 => -1000.0f32..1000.0,
            // Small integers: many exact ties.
            4 => (-5i32..5).prop_map(|v| v as f32),
            1 => Just(f32::NAN),
            1 => Just(f32::INFINITY),
            1 => Just(f32::NEG_INFINITY),
        ]
    }

    /// Scores paired with a shuffled permutation of indices, so ties are offered in any order.
    fn candidates() -> impl Strategy<Value = Vec<(f32, u32)>> {
        prop::collection::vec(score(), 0..500).prop_flat_map(|scores| {
            let idx: Vec<u32> = (0..scores.len() as u32).collect();
            (Just(scores), Just(idx).prop_shuffle()).prop_map(|(s, i)| s.into_iter().zip(i).collect())
        })
    }

    proptest! {
        #[test]
        fn topk_equals_sorted_prefix(items in candidates(), k in 0usize..60) {
            let mut t = TopK::new(k);
            for &(s, i) in &items {
                t.push(s, i);
            }
            let mut sorted: Vec<(f32, u32)> = items.into_iter().filter(|x| !x.0.is_nan()).collect();
            // partial_cmp (not total_cmp) so that -0.0 ties with 0.0, as in `better`.
            sorted.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
            sorted.truncate(k);
            let got = t.into_sorted();
            prop_assert_eq!(got.len(), sorted.len());
            for (g, w) in got.iter().zip(&sorted) {
                prop_assert!(g.0 == w.0 && g.1 == w.1, "got {:?} want {:?}", g, w);
            }
        }
    }
}
