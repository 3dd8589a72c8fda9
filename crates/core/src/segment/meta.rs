//! The metadata column of a decoded segment. Every record's JSON metadata lives in a few flat
//! arrays shared by the whole segment (nodes, object members, array items, interned keys,
//! string bytes) instead of one `serde_json::Value` tree per record: a one-key object costs
//! ~40 bytes here against ~650 as a `Value` (a B-tree node per map). Filters read it in place
//! through [`MetaView`]; a `Value` is rebuilt only for the metadata a search returns.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

/// One JSON value; containers and strings point into the column's arrays.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str { start: u32, len: u32 },
    Arr { start: u32, len: u32 },
    Obj { start: u32, len: u32 },
}

/// Metadata per record of a segment, in record order; built by [`MetaBuilder`].
#[derive(Debug, Clone, Default)]
pub struct MetaColumn {
    /// One node per record; `Null` = no metadata.
    rows: Vec<Node>,
    /// Object members `(key index, value)`, each object's members contiguous, in key order.
    members: Vec<(u32, Node)>,
    /// Array elements, each array's elements contiguous.
    items: Vec<Node>,
    /// Distinct keys of the segment.
    keys: Vec<Box<str>>,
    /// Bytes of every string value.
    text: String,
}

/// Offsets into the column's arrays. Lengths fit: on wasm32 `usize` is 32 bits, and a native
/// segment holding 4 GiB of metadata strings is far beyond the object size limits.
fn off(n: usize) -> u32 {
    u32::try_from(n).expect("segment metadata exceeds 4 GiB")
}

impl MetaColumn {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the column holds no records.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Record `row`'s metadata for reading in place; `None` when it has none.
    pub fn row(&self, row: usize) -> Option<MetaRef<'_>> {
        match self.rows.get(row)? {
            Node::Null => None,
            &node => Some(MetaRef { col: self, node }),
        }
    }

    /// Record `row`'s metadata as a JSON value (allocates; for results and encoding).
    pub fn value(&self, row: usize) -> Option<Value> {
        self.row(row).map(|m| m.to_value())
    }

    /// Every record's metadata as JSON values.
    pub fn values(&self) -> Vec<Option<Value>> {
        (0..self.len()).map(|i| self.value(i)).collect()
    }

    /// Heap bytes held (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.rows.capacity() * size_of::<Node>()
            + self.members.capacity() * size_of::<(u32, Node)>()
            + self.items.capacity() * size_of::<Node>()
            + self.keys.capacity() * size_of::<Box<str>>()
            + self.keys.iter().map(|k| k.len()).sum::<usize>()
            + self.text.capacity()
    }

    fn str(&self, start: u32, len: u32) -> &str {
        &self.text[start as usize..(start + len) as usize]
    }
}

impl PartialEq for MetaColumn {
    /// Equal metadata record by record (key numbering may differ).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.value(i) == other.value(i))
    }
}

/// Builds a [`MetaColumn`] record by record, interning keys.
#[derive(Debug, Default)]
pub struct MetaBuilder {
    col: MetaColumn,
    key_ids: HashMap<Box<str>, u32>,
}

impl MetaBuilder {
    /// A builder with room for `rows` records.
    pub fn with_capacity(rows: usize) -> Self {
        MetaBuilder { col: MetaColumn { rows: Vec::with_capacity(rows), ..Default::default() }, ..Default::default() }
    }

    /// Appends one record's metadata (`None` and JSON `null` both mean none).
    pub fn push(&mut self, metadata: Option<&Value>) {
        let node = metadata.map_or(Node::Null, |v| self.node(v));
        self.col.rows.push(node);
    }

    /// Appends a copy of record `row` of `from`.
    pub fn push_from(&mut self, from: &MetaColumn, row: usize) {
        let node = from.rows.get(row).map_or(Node::Null, |n| self.copy(from, *n));
        self.col.rows.push(node);
    }

    /// The column, without spare capacity.
    pub fn finish(mut self) -> MetaColumn {
        let c = &mut self.col;
        c.rows.shrink_to_fit();
        c.members.shrink_to_fit();
        c.items.shrink_to_fit();
        c.keys.shrink_to_fit();
        c.text.shrink_to_fit();
        self.col
    }

    fn key(&mut self, k: &str) -> u32 {
        if let Some(&id) = self.key_ids.get(k) {
            return id;
        }
        let id = off(self.col.keys.len());
        self.col.keys.push(k.into());
        self.key_ids.insert(k.into(), id);
        id
    }

    fn string(&mut self, s: &str) -> Node {
        let start = off(self.col.text.len());
        self.col.text.push_str(s);
        Node::Str { start, len: off(s.len()) }
    }

    // Recursion depth is that of the JSON: bounded by validation on write and by
    // serde_json's recursion limit on decode.
    fn node(&mut self, v: &Value) -> Node {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => number_node(n),
            Value::String(s) => self.string(s),
            Value::Array(a) => {
                let start = self.col.items.len();
                self.col.items.resize(start + a.len(), Node::Null);
                for (i, x) in a.iter().enumerate() {
                    self.col.items[start + i] = self.node(x);
                }
                Node::Arr { start: off(start), len: off(a.len()) }
            }
            Value::Object(m) => {
                let start = self.col.members.len();
                self.col.members.resize(start + m.len(), (0, Node::Null));
                for (i, (k, x)) in m.iter().enumerate() {
                    let member = (self.key(k), self.node(x));
                    self.col.members[start + i] = member;
                }
                Node::Obj { start: off(start), len: off(m.len()) }
            }
        }
    }

    fn copy(&mut self, from: &MetaColumn, n: Node) -> Node {
        match n {
            Node::Str { start, len } => self.string(from.str(start, len)),
            Node::Arr { start, len } => {
                let at = self.col.items.len();
                self.col.items.resize(at + len as usize, Node::Null);
                for i in 0..len as usize {
                    self.col.items[at + i] = self.copy(from, from.items[start as usize + i]);
                }
                Node::Arr { start: off(at), len }
            }
            Node::Obj { start, len } => {
                let at = self.col.members.len();
                self.col.members.resize(at + len as usize, (0, Node::Null));
                for i in 0..len as usize {
                    let (k, x) = from.members[start as usize + i];
                    let member = (self.key(&from.keys[k as usize]), self.copy(from, x));
                    self.col.members[at + i] = member;
                }
                Node::Obj { start: off(at), len }
            }
            scalar => scalar,
        }
    }
}

fn number_node(n: &Number) -> Node {
    if let Some(u) = n.as_u64() {
        Node::UInt(u)
    } else if let Some(i) = n.as_i64() {
        Node::Int(i)
    } else {
        // Without serde_json's arbitrary_precision every other number is an f64.
        Node::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// What a metadata value is, as filters see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leaf<'a> {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, as f64 (as `serde_json::Number::as_f64` gives it).
    Num(f64),
    /// A string.
    Str(&'a str),
    /// An array of this many elements.
    Array(usize),
    /// An object.
    Object,
}

/// Read access to one JSON value, whether a `serde_json::Value` or a value in a
/// [`MetaColumn`]: what filters need, nothing allocated.
pub trait MetaView<'a>: Copy + 'a {
    /// The kind of value (and its scalar).
    fn leaf(self) -> Leaf<'a>;
    /// Member `key` of an object (`None` for anything else or a missing key).
    fn member(self, key: &str) -> Option<Self>;
    /// Element `i` of an array (`i` below the length [`Leaf::Array`] gave).
    fn element(self, i: usize) -> Self;
}

impl<'a> MetaView<'a> for &'a Value {
    fn leaf(self) -> Leaf<'a> {
        match self {
            Value::Null => Leaf::Null,
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Number(n) => Leaf::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Leaf::Str(s),
            Value::Array(a) => Leaf::Array(a.len()),
            Value::Object(_) => Leaf::Object,
        }
    }

    fn member(self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }

    fn element(self, i: usize) -> Self {
        &self[i]
    }
}

/// A value inside a [`MetaColumn`].
#[derive(Debug, Clone, Copy)]
pub struct MetaRef<'a> {
    col: &'a MetaColumn,
    node: Node,
}

impl<'a> MetaView<'a> for MetaRef<'a> {
    fn leaf(self) -> Leaf<'a> {
        match self.node {
            Node::Null => Leaf::Null,
            Node::Bool(b) => Leaf::Bool(b),
            Node::Int(i) => Leaf::Num(i as f64),
            Node::UInt(u) => Leaf::Num(u as f64),
            Node::Float(f) => Leaf::Num(f),
            Node::Str { start, len } => Leaf::Str(self.col.str(start, len)),
            Node::Arr { len, .. } => Leaf::Array(len as usize),
            Node::Obj { .. } => Leaf::Object,
        }
    }

    fn member(self, key: &str) -> Option<Self> {
        let Node::Obj { start, len } = self.node else { return None };
        let members = &self.col.members[start as usize..(start + len) as usize];
        let col = self.col;
        members.iter().find(|(k, _)| &*col.keys[*k as usize] == key).map(|(_, node)| MetaRef { col, node: *node })
    }

    fn element(self, i: usize) -> Self {
        let Node::Arr { start, .. } = self.node else { return self };
        MetaRef { col: self.col, node: self.col.items[start as usize + i] }
    }
}

impl MetaRef<'_> {
    /// This value as a `serde_json::Value`.
    pub fn to_value(self) -> Value {
        let col = self.col;
        match self.node {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Int(i) => Value::from(i),
            Node::UInt(u) => Value::from(u),
            Node::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Node::Str { start, len } => Value::String(col.str(start, len).to_string()),
            Node::Arr { start, len } => {
                (start..start + len).map(|i| MetaRef { col, node: col.items[i as usize] }.to_value()).collect()
            }
            Node::Obj { start, len } => {
                let mut map = Map::new();
                for (k, node) in &col.members[start as usize..(start + len) as usize] {
                    map.insert(col.keys[*k as usize].to_string(), MetaRef { col, node: *node }.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn column(values: &[Option<Value>]) -> MetaColumn {
        let mut b = MetaBuilder::with_capacity(values.len());
        for v in values {
            b.push(v.as_ref());
        }
        b.finish()
    }

    #[test]
    fn every_json_shape_round_trips_exactly() {
        let values = vec![
            Some(json!({"section": "net", "n": 3, "neg": -7, "big": u64::MAX, "f": 0.1, "e": 1e300})),
            None,
            Some(json!({})),
            Some(json!({"a": [1, "x", null, true, {"b": [[], {}]}], "nested": {"deep": {"s": "ß"}}})),
            Some(json!(["top-level", "array"])),
            Some(json!("a string")),
        ];
        let col = column(&values);
        assert_eq!(col.values(), values);
    }

    #[test]
    fn views_agree_with_serde_values() {
        let v = json!({"a": {"b": [1, 2.5, "s"]}, "t": true});
        let col = column(&[Some(v.clone())]);
        let r = col.row(0).unwrap();
        for (path, want) in [("t", Leaf::Bool(true)), ("a", Leaf::Object)] {
            assert_eq!(r.member(path).unwrap().leaf(), (&v).member(path).unwrap().leaf());
            assert_eq!(r.member(path).unwrap().leaf(), want);
        }
        let arr = r.member("a").unwrap().member("b").unwrap();
        assert_eq!(arr.leaf(), Leaf::Array(3));
        assert_eq!(arr.element(1).leaf(), Leaf::Num(2.5));
        assert_eq!(arr.element(2).leaf(), Leaf::Str("s"));
        assert!(r.member("missing").is_none());
        assert!(arr.member("b").is_none());
    }

    #[test]
    fn copies_remap_keys_between_columns() {
        let a = column(&[Some(json!({"x": 1})), Some(json!({"y": {"x": [2]}}))]);
        let b = column(&[Some(json!({"y": 0}))]);
        let mut out = MetaBuilder::default();
        out.push_from(&b, 0);
        out.push_from(&a, 1);
        out.push_from(&a, 0);
        out.push_from(&a, 9);
        let out = out.finish();
        assert_eq!(
            out.values(),
            vec![Some(json!({"y": 0})), Some(json!({"y": {"x": [2]}})), Some(json!({"x": 1})), None]
        );
    }

    #[test]
    fn a_one_key_object_costs_tens_of_bytes() {
        let values: Vec<Option<Value>> = (0..1000).map(|i| Some(json!({ "group": i % 10 }))).collect();
        let col = column(&values);
        assert!(col.heap_bytes() / 1000 <= 48, "{} bytes per record", col.heap_bytes() / 1000);
    }
}
