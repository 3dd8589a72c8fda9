//! The fuzzer's mutations: byte-level (flips, boundary values, inserts, deletes, repeats,
//! truncation, splicing, dictionary tokens, numeric text), JSON tree mutations, and segment
//! header substitutions. The run loop that picks among them is in engine.rs.

use serde_json::Value;

use crate::engine::Rng;

const INTERESTING: &[u64] = &[
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x100,
    4095,
    4096,
    4097,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX - 1,
    u64::MAX,
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "255",
    "256",
    "4096",
    "4097",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1e308",
    "1.7976931348623157e308",
    "1e309",
    "-1e999",
    "4.9e-324",
    "1e-400",
    "123456789012345678901234567890",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    ".",
    "..",
    "a.b",
    "a..b",
    "[]",
    "a[].b",
    "\u{0}",
    "\u{7f}",
    "\u{feff}",
    "\u{fffd}",
    "\u{1F600}",
    "é",
    "e\u{301}",
    "/",
    "\\",
    "%",
    "&amp;",
    "<Key>",
    "null",
    "Active",
    "Sealed",
    "cosine",
    "0:0:0123456789ab4cde8f01000000000000",
    "0123456789ab4cde8f01000000000001",
];

/// Byte-level mutations (one of them).
pub fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>], dict: &[&[u8]], max_len: usize) {
    let len = data.len();
    match rng.below(14) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next_u64() as u8;
        }
        2 if len > 0 => {
            let v = *rng.pick(INTERESTING);
            let width = *rng.pick(&[1usize, 2, 4, 8]);
            let bytes = if rng.one_in(2) { v.to_le_bytes() } else { v.to_be_bytes() };
            let b = if rng.one_in(2) { &bytes[..width] } else { &bytes[8 - width..] };
            let at = rng.below(len);
            for (k, x) in b.iter().enumerate() {
                if at + k < data.len() {
                    data[at + k] = *x;
                }
            }
        }
        3 => {
            let n = 1 + rng.below(16);
            let at = rng.below(len + 1);
            let ins: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, ins);
        }
        4 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(64));
            data.drain(at..at + n);
        }
        5 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(256));
            let chunk = data[at..at + n].to_vec();
            let to = rng.below(data.len() + 1);
            data.splice(to..to, chunk);
        }
        6 if len > 0 => {
            data.truncate(rng.below(len));
        }
        7 if !corpus.is_empty() => {
            let other = rng.pick(corpus);
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        8 => {
            let tok = *rng.pick(dict);
            let at = rng.below(len + 1);
            data.splice(at..at, tok.iter().copied());
        }
        9 if len > 0 => {
            let tok = *rng.pick(dict);
            let at = rng.below(len);
            for (k, x) in tok.iter().enumerate() {
                if at + k < data.len() {
                    data[at + k] = *x;
                }
            }
        }
        10 => {
            // Replace a run of ASCII digits (or insert at a random place) with a boundary number.
            let num = rng.pick(NUMBERS).as_bytes();
            let start = rng.below(len + 1);
            match data[start..].iter().position(|b| b.is_ascii_digit()) {
                Some(p) => {
                    let s = start + p;
                    let mut e = s;
                    while e < data.len() && (data[e].is_ascii_digit() || b".eE+-".contains(&data[e])) {
                        e += 1;
                    }
                    let s = if s > 0 && data[s - 1] == b'-' { s - 1 } else { s };
                    data.splice(s..e, num.iter().copied());
                }
                None => {
                    data.splice(start..start, num.iter().copied());
                }
            }
        }
        11 if len > 0 => {
            // Repeat a chunk many times (long runs, deep nesting of brackets).
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(8));
            let chunk = data[at..at + n].to_vec();
            let times = *rng.pick(&[2usize, 16, 31, 32, 33, 127, 128, 129, 1000]);
            let extra: Vec<u8> = chunk.iter().copied().cycle().take(n * times).collect();
            data.splice(at..at, extra);
        }
        12 if len > 1 => {
            let a = rng.below(len);
            let b = rng.below(len);
            data.swap(a, b);
        }
        _ => {
            let n = 1 + rng.below(4);
            let at = rng.below(len + 1);
            data.splice(at..at, std::iter::repeat_n(*rng.pick(&[0u8, 0xff, b'"', b'\\', b'{', b'[', b'<', b'&']), n));
        }
    }
    data.truncate(max_len);
}

/// A random JSON value: scalars at the interesting boundaries, small containers.
fn random_value(rng: &mut Rng, dict_keys: &[String], depth: usize) -> Value {
    match rng.below(if depth > 3 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => serde_json::from_str(NUMBERS[rng.below(NUMBERS.len())]).unwrap_or(Value::Null),
        3 => Value::from(rng.next_u64() as i64 >> rng.below(64)),
        4 => Value::String(rng.pick(STRINGS).to_string()),
        5 => {
            let c = char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}');
            let n = *rng.pick(&[1usize, 2, 100, 5000, 70_000]);
            Value::String(std::iter::repeat_n(c, n).collect())
        }
        6 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, dict_keys, depth + 1)).collect()),
        7 if !dict_keys.is_empty() => {
            let mut m = serde_json::Map::new();
            for _ in 0..1 + rng.below(3) {
                m.insert(rng.pick(dict_keys).clone(), random_value(rng, dict_keys, depth + 1));
            }
            Value::Object(m)
        }
        _ => Value::String(format!("k{}", rng.below(100))),
    }
}

/// Number of nodes of `v` (preorder), without recursion.
fn node_count(v: &Value) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        n += 1;
        match x {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    n
}

/// The `i`-th node of `v` in preorder, mutably.
fn node_mut(v: &mut Value, mut i: usize) -> Option<&mut Value> {
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        if i == 0 {
            return Some(x);
        }
        i -= 1;
        match x {
            Value::Array(a) => stack.extend(a.iter_mut().rev()),
            Value::Object(m) => stack.extend(m.values_mut().rev()),
            _ => {}
        }
    }
    None
}

fn node(v: &Value, i: usize) -> Value {
    let mut c = v.clone();
    node_mut(&mut c, i).map(|n| n.clone()).unwrap_or(Value::Null)
}

/// Tree mutations of a JSON document; `None` when `data` is not JSON.
pub fn mutate_json(rng: &mut Rng, data: &[u8], corpus: &[Vec<u8>], dict_keys: &[String]) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(data).ok()?;
    let n = node_count(&v);
    let i = rng.below(n);
    let donor = if rng.one_in(2) {
        corpus.get(rng.below(corpus.len().max(1))).and_then(|d| serde_json::from_slice::<Value>(d).ok())
    } else {
        None
    };
    let op = rng.below(9);
    let target = node_mut(&mut v, i)?;
    match op {
        0 => *target = random_value(rng, dict_keys, 0),
        1 => match target {
            Value::Array(a) if !a.is_empty() => {
                let k = rng.below(a.len());
                a.remove(k);
            }
            Value::Object(m) if !m.is_empty() => {
                let k = m.keys().nth(rng.below(m.len())).cloned().expect("key");
                m.remove(&k);
            }
            other => *other = Value::Null,
        },
        2 => match target {
            Value::Array(a) if !a.is_empty() => {
                let x = a[rng.below(a.len())].clone();
                let times = *rng.pick(&[1usize, 2, 100, 1100]);
                a.extend(std::iter::repeat_n(x, times));
            }
            Value::Object(m) => {
                let k = if dict_keys.is_empty() { "k".to_string() } else { rng.pick(dict_keys).clone() };
                m.insert(k, random_value(rng, dict_keys, 0));
            }
            other => *other = Value::Array(vec![other.clone(), other.clone()]),
        },
        3 => {
            // Nest around the limits (filters: 32, decoder: 128).
            let depth = *rng.pick(&[2usize, 30, 31, 32, 33, 34, 63, 64, 126, 127, 128, 129, 200]);
            let key = if dict_keys.is_empty() { "k".to_string() } else { rng.pick(dict_keys).clone() };
            let arrays = rng.one_in(2);
            let mut x = std::mem::take(target);
            for _ in 0..depth {
                x = if arrays {
                    Value::Array(vec![x])
                } else {
                    Value::Object([(key.clone(), x)].into_iter().collect())
                };
            }
            *target = x;
        }
        4 => {
            if let Some(d) = &donor {
                *target = node(d, rng.below(node_count(d)));
            } else {
                *target = random_value(rng, dict_keys, 0);
            }
        }
        5 => {
            let s = rng.pick(NUMBERS);
            *target = serde_json::from_str(s).unwrap_or(Value::Null);
        }
        6 => {
            if let Value::Object(m) = target {
                // Rename a key to a dictionary key (or a near-miss of one).
                if let Some(k) = m.keys().nth(rng.below(m.len().max(1))).cloned() {
                    let x = m.remove(&k).expect("key");
                    let mut nk = if dict_keys.is_empty() { k } else { rng.pick(dict_keys).clone() };
                    if rng.one_in(4) {
                        nk.push('_');
                    }
                    m.insert(nk, x);
                }
            } else {
                *target = Value::String(rng.pick(STRINGS).to_string());
            }
        }
        7 => {
            let x = target.clone();
            *target = match rng.below(3) {
                0 => Value::Array(vec![x]),
                1 if !dict_keys.is_empty() => Value::Object([(rng.pick(dict_keys).clone(), x)].into_iter().collect()),
                _ => Value::Array(vec![]),
            };
        }
        _ => {
            if let Value::Array(a) = target {
                a.reverse();
            } else if let Value::String(s) = target {
                s.push_str(STRINGS[rng.below(STRINGS.len())]);
            } else {
                *target = Value::Object(serde_json::Map::new());
            }
        }
    }
    let mut out = serde_json::to_vec(&v).ok()?;
    // Text-level touch: numbers JSON values cannot hold, raw escapes, whitespace.
    if rng.one_in(4) {
        let tok = rng.pick(&[" ", "\n", "1e999", "\"\\ud800\"", "\"\\u0000\"", "-0", "18446744073709551616"]);
        let at = rng.below(out.len() + 1);
        out.splice(at..at, tok.bytes());
    }
    Some(out)
}

/// Segment header mutations: dimension, record count and time fields at their offsets, or a
/// record-level change through the codec.
pub fn mutate_segment(rng: &mut Rng, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 24 {
        return None;
    }
    if rng.one_in(2) {
        let seg = akidb_core::segment::decode(data).ok()?;
        // Decoded segments are immutable: mutate the records and build a new one.
        let (dim, mut created) = (seg.dimension, seg.created_at_ms);
        let mut recs = seg.to_records();
        match rng.below(5) {
            0 if !recs.is_empty() => {
                let i = rng.below(recs.len());
                recs[i].id = rng.pick(STRINGS).to_string();
            }
            1 if !recs.is_empty() => {
                let i = rng.below(recs.len());
                let j = rng.below(dim as usize);
                recs[i].vector[j] = f32::from_bits(rng.next_u64() as u32);
            }
            2 if !recs.is_empty() => {
                let i = rng.below(recs.len());
                let keys: Vec<String> = ["a", "b", "section"].iter().map(|s| s.to_string()).collect();
                recs[i].metadata = Some(random_value(rng, &keys, 0));
            }
            3 => {
                created = *rng.pick(INTERESTING);
            }
            _ if !recs.is_empty() => {
                let i = rng.below(recs.len());
                recs.push(recs[i].clone());
            }
            _ => {}
        }
        let seg = akidb_core::segment::Segment::from_records(&recs, dim, created);
        return Some(akidb_core::segment::encode(&seg));
    }
    let mut out = data.to_vec();
    let (at, width) = *rng.pick(&[(4usize, 2usize), (6, 2), (8, 4), (12, 4), (16, 8), (24, 4)]);
    if at + width > out.len() {
        return None;
    }
    let v = rng.pick(INTERESTING).to_le_bytes();
    out[at..at + width].copy_from_slice(&v[..width]);
    Some(out)
}
