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

use crate::mutate::{mutate_bytes, mutate_json, mutate_segment};
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
