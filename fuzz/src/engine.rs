//! A structured, mutation-based fuzzer for when libFuzzer cannot be built, and for the
//! deterministic smoke run in `cargo test`. Not coverage-guided: its feedback is the outcome
//! signature each check returns (which branch rejected the input), so inputs that reach a new
//! error or success class join the corpus.
//!
//! Mutations: bit flips, random and boundary bytes/integers (LE and BE), inserts, deletes,
//! duplicated and repeated chunks, truncation, splicing with other corpus entries, dictionary
//! tokens, numeric-text substitution; for JSON inputs tree mutations (replace, delete,
//! duplicate, wrap, deep nesting around the limits, huge numbers, long and odd unicode
//! strings, keys from the dictionary, subtrees from other entries); for segments, header
//! field substitution (the checksum is fixed up by the target itself).
//!
//! Every call runs under `catch_unwind`; a panic is a crash, kept once per panic location,
//! minimized and (with a crash directory) saved as `crash-<hash>` with a `.txt` beside it.

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{checks, seeds};

/// splitmix64: small, fast, and the same sequence everywhere for a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How long a run lasts.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Wall-clock time.
    Time(Duration),
    /// A fixed number of executions (deterministic for a seed).
    Execs(u64),
}

/// One fuzzing run of one target.
#[derive(Debug, Clone)]
pub struct Config {
    /// Target name (see [`checks::TARGETS`]).
    pub target: String,
    /// Seed of the mutation sequence.
    pub seed: u64,
    /// When to stop.
    pub budget: Budget,
    /// Where crashing inputs go (`<dir>/crash-<hash>`), if anywhere.
    pub crash_dir: Option<PathBuf>,
    /// Longest input produced.
    pub max_len: usize,
    /// A single execution slower than this is recorded as slow.
    pub slow: Duration,
}

impl Config {
    /// Defaults for `target`: 64 KiB inputs, 1 s slow threshold, no crash directory.
    pub fn new(target: &str, seed: u64, budget: Budget) -> Self {
        Config { target: target.into(), seed, budget, crash_dir: None, max_len: 64 << 10, slow: Duration::from_secs(1) }
    }
}

/// A distinct crash (one per panic location).
#[derive(Debug, Clone)]
pub struct Crash {
    /// The panic message.
    pub message: String,
    /// `file:line:col` of the panic.
    pub location: String,
    /// The first input that hit it.
    pub input: Vec<u8>,
    /// A smaller input that still panics at the same location.
    pub minimized: Vec<u8>,
    /// How many executions hit this location.
    pub hits: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Executions of the target.
    pub execs: u64,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// Distinct crashes.
    pub crashes: Vec<Crash>,
    /// Corpus size at the end.
    pub corpus: usize,
    /// Distinct outcome signatures seen.
    pub signatures: usize,
    /// Executions slower than the threshold.
    pub slow: u64,
    /// The slowest execution.
    pub slowest: Duration,
}

impl Stats {
    /// Executions per second.
    pub fn execs_per_sec(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

thread_local! {
    static CAPTURING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: std::cell::RefCell<Option<(String, String)>> = const { std::cell::RefCell::new(None) };
}

/// Installs (once) a panic hook that records panics of threads running a target quietly and
/// leaves every other panic to the previous hook.
fn install_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(|c| c.get()) {
                let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                    s.to_string()
                } else if let Some(s) = info.payload().downcast_ref::<String>() {
                    s.clone()
                } else {
                    "(non-string panic payload)".to_string()
                };
                let loc =
                    info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())).unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some((msg, loc)));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `target` on `data`: `Ok(signature)` or `Err((message, location))` when it panicked.
pub fn execute(target: &str, data: &[u8]) -> Result<String, (String, String)> {
    install_hook();
    CAPTURING.with(|c| c.set(true));
    let r = panic::catch_unwind(AssertUnwindSafe(|| checks::run(target, data)));
    CAPTURING.with(|c| c.set(false));
    r.map_err(|_| LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| ("(no message)".into(), String::new())))
}

/// FNV-1a, for crash file names.
pub fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Greedy minimization: drops chunks (halving sizes down to one byte) while the input still
/// panics at `location`; bounded to a few thousand executions.
pub fn minimize(target: &str, input: &[u8], location: &str) -> Vec<u8> {
    let still = |d: &[u8]| matches!(execute(target, d), Err((_, l)) if l == location);
    let mut best = input.to_vec();
    let mut tries = 0;
    let mut chunk = best.len().div_ceil(2).max(1);
    while chunk >= 1 && tries < 4000 {
        let mut i = 0;
        let mut changed = false;
        while i < best.len() && tries < 4000 {
            let end = (i + chunk).min(best.len());
            let mut cand = best[..i].to_vec();
            cand.extend_from_slice(&best[end..]);
            tries += 1;
            if still(&cand) {
                best = cand;
                changed = true;
            } else {
                i += chunk;
            }
        }
        if !changed {
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    best
}

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
fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>], dict: &[&[u8]], max_len: usize) {
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
fn mutate_json(rng: &mut Rng, data: &[u8], corpus: &[Vec<u8>], dict_keys: &[String]) -> Option<Vec<u8>> {
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
fn mutate_segment(rng: &mut Rng, data: &[u8]) -> Option<Vec<u8>> {
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

/// Runs one fuzzing campaign.
pub fn fuzz(cfg: &Config) -> Stats {
    let target = cfg.target.as_str();
    let mut rng = Rng::new(cfg.seed);
    let dict = seeds::dictionary(target);
    let dict_keys: Vec<String> = dict
        .iter()
        .filter_map(|t| std::str::from_utf8(t).ok())
        .filter(|t| t.len() > 2 && t.starts_with('"') && t.ends_with('"') && !t.contains('\\'))
        .map(|t| t[1..t.len() - 1].to_string())
        .collect();
    let json_target = matches!(target, "manifest_parse" | "filter_parse");
    let mut corpus: Vec<Vec<u8>> = seeds::for_target(target);
    let mut signatures = BTreeSet::new();
    let mut stats = Stats::default();
    let start = Instant::now();
    let mut crash_locations = Vec::<String>::new();

    let mut run_one = |input: &[u8], stats: &mut Stats, corpus: &mut Vec<Vec<u8>>, rng: &mut Rng| {
        let t0 = Instant::now();
        let r = execute(target, input);
        let dt = t0.elapsed();
        stats.execs += 1;
        stats.slowest = stats.slowest.max(dt);
        if dt > cfg.slow {
            stats.slow += 1;
            save(cfg, "slow", input, &format!("{} ms", dt.as_millis()));
        }
        match r {
            Ok(sig) => {
                if signatures.insert(sig) {
                    if corpus.len() < 4096 {
                        corpus.push(input.to_vec());
                    } else {
                        let k = rng.below(corpus.len());
                        corpus[k] = input.to_vec();
                    }
                }
            }
            Err((message, location)) => {
                if let Some(k) = crash_locations.iter().position(|l| *l == location) {
                    stats.crashes[k].hits += 1;
                } else {
                    let minimized = minimize(target, input, &location);
                    save(cfg, "crash", input, &format!("{message}\n  at {location}"));
                    save(cfg, "minimized", &minimized, &format!("{message}\n  at {location}"));
                    crash_locations.push(location.clone());
                    stats.crashes.push(Crash { message, location, input: input.to_vec(), minimized, hits: 1 });
                }
            }
        }
    };

    for s in corpus.clone() {
        run_one(&s, &mut stats, &mut corpus, &mut rng);
    }
    loop {
        let done = match cfg.budget {
            Budget::Execs(n) => stats.execs >= n,
            Budget::Time(t) => stats.execs % 64 == 0 && start.elapsed() >= t,
        };
        if done {
            break;
        }
        let mut input = rng.pick(&corpus).clone();
        let structured = match target {
            _ if !rng.one_in(3) => None,
            "segment_decode" => mutate_segment(&mut rng, &input),
            _ if json_target => mutate_json(&mut rng, &input, &corpus, &dict_keys),
            _ => None,
        };
        match structured {
            Some(s) => input = s,
            None => {
                let most = if rng.one_in(2) { 2 } else { 8 };
                for _ in 0..1 + rng.below(most) {
                    mutate_bytes(&mut rng, &mut input, &corpus, &dict, cfg.max_len);
                }
            }
        }
        input.truncate(cfg.max_len);
        run_one(&input, &mut stats, &mut corpus, &mut rng);
    }
    stats.elapsed = start.elapsed();
    stats.corpus = corpus.len();
    stats.signatures = signatures.len();
    stats
}

/// Writes `<crash_dir>/<kind>-<hash>` and a `.txt` with `note`, when there is a crash directory.
fn save(cfg: &Config, kind: &str, input: &[u8], note: &str) {
    let Some(dir) = &cfg.crash_dir else { return };
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{kind}-{:016x}", hash(input)));
    let _ = std::fs::write(&path, input);
    let _ = std::fs::write(path.with_extension("txt"), format!("target {}\n{note}\n", cfg.target));
}
