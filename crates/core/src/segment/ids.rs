//! The id column of a decoded segment: every id in one string, with end offsets. One
//! allocation per segment instead of one `String` (24 bytes plus a heap block) per record.

use std::ops::Index;

/// Record ids of a segment, in record order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdColumn {
    text: String,
    /// End of id `i` in `text`; id `i` starts where id `i - 1` ends.
    ends: Vec<u32>,
}

impl IdColumn {
    /// An empty column with room for `rows` ids of `bytes` bytes in total.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        IdColumn { text: String::with_capacity(bytes), ends: Vec::with_capacity(rows) }
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the column holds no ids.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends an id. Segments are bounded far below 4 GiB of ids (object and upsert limits).
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(u32::try_from(self.text.len()).expect("segment ids exceed 4 GiB"));
    }

    /// Id `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    /// The ids in record order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| &self[i])
    }

    /// Heap bytes held (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }

    /// Releases spare capacity (decoded and merged segments live long).
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl Index<usize> for IdColumn {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        self.get(i).unwrap_or_else(|| panic!("id {i} of a segment with {} records", self.len()))
    }
}

impl<S: AsRef<str>> FromIterator<S> for IdColumn {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut col = IdColumn::default();
        for id in iter {
            col.push(id.as_ref());
        }
        col
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn ids_round_trip_including_empty_and_unicode() {
        let ids = ["a", "", "ß-ünï", "doc-000123"];
        let col: IdColumn = ids.iter().collect();
        assert_eq!(col.len(), 4);
        assert_eq!(col.iter().collect::<Vec<_>>(), ids);
        assert_eq!(&col[2], "ß-ünï");
        assert_eq!(col.get(4), None);
    }
}
