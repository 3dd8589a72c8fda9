//! The structured fuzzer's command line (used by scripts/fuzz.sh when libFuzzer cannot be
//! built, or with `--engine structured`):
//!
//! ```text
//! structured <target> [--seconds N | --execs N] [--seed N] [--crashes DIR]
//! structured <target> --repro OUT_DIR FILE...
//! ```
//!
//! `--repro` runs each FILE (e.g. libFuzzer's crash artifacts) once, groups the panics by
//! location, minimizes one input per location into `OUT_DIR/<hash>` (with a `.txt` naming the
//! panic) and prints `distinct_crashes=N` followed by one line per location.
//!
//! Prints one line: `target=… execs=… secs=… execs_per_sec=… crashes=… slow=… corpus=…
//! signatures=…`, then one block per distinct crash. Exit code 0 even with crashes (the
//! caller reads the line); 2 on bad arguments.

use std::path::PathBuf;
use std::time::Duration;

use akidb_fuzz::engine::{fuzz, Budget, Config};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: structured <target> [--seconds N | --execs N] [--seed N] [--crashes DIR]");
        eprintln!("targets: {}", akidb_fuzz::checks::TARGETS.join(" "));
        std::process::exit(2)
    };
    let Some(target) = args.first().filter(|t| akidb_fuzz::checks::TARGETS.contains(&t.as_str())) else { usage() };
    if args.get(1).map(String::as_str) == Some("--repro") {
        let out = PathBuf::from(args.get(2).unwrap_or_else(|| usage()));
        repro(target, &out, &args[3..]);
        return;
    }
    let mut cfg = Config::new(target, 1, Budget::Time(Duration::from_secs(60)));
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).unwrap_or_else(|| usage());
        let num = || value.parse::<u64>().unwrap_or_else(|_| usage());
        match args[i].as_str() {
            "--seconds" => cfg.budget = Budget::Time(Duration::from_secs(num())),
            "--execs" => cfg.budget = Budget::Execs(num()),
            "--seed" => cfg.seed = num(),
            "--crashes" => cfg.crash_dir = Some(PathBuf::from(value)),
            _ => usage(),
        }
        i += 2;
    }
    let stats = fuzz(&cfg);
    println!(
        "target={} execs={} secs={:.1} execs_per_sec={:.0} crashes={} slow={} slowest_ms={} corpus={} signatures={}",
        target,
        stats.execs,
        stats.elapsed.as_secs_f64(),
        stats.execs_per_sec(),
        stats.crashes.len(),
        stats.slow,
        stats.slowest.as_millis(),
        stats.corpus,
        stats.signatures
    );
    for c in &stats.crashes {
        let first: String = c.message.lines().next().unwrap_or("").chars().take(300).collect();
        println!("crash at {} ({} hits): {first}", c.location, c.hits);
        println!("  minimized input ({} bytes): {:?}", c.minimized.len(), String::from_utf8_lossy(&c.minimized));
    }
}

/// Replays crash files: one minimized input per distinct panic location.
fn repro(target: &str, out: &std::path::Path, files: &[String]) {
    use akidb_fuzz::engine::{execute, hash, minimize};
    let mut seen: Vec<(String, String, Vec<u8>, usize)> = Vec::new();
    let mut not_reproduced = 0;
    for f in files {
        let Ok(data) = std::fs::read(f) else { continue };
        match execute(target, &data) {
            Ok(_) => not_reproduced += 1,
            Err((message, location)) => match seen.iter_mut().find(|s| s.1 == location) {
                Some(s) => s.3 += 1,
                None => seen.push((message, location, data, 1)),
            },
        }
    }
    println!("distinct_crashes={} not_reproduced={not_reproduced}", seen.len());
    for (message, location, data, n) in &seen {
        let small = minimize(target, data, location);
        let _ = std::fs::create_dir_all(out);
        let path = out.join(format!("{:016x}", hash(location.as_bytes())));
        let _ = std::fs::write(&path, &small);
        let _ = std::fs::write(path.with_extension("txt"), format!("target {target}\n{message}\n  at {location}\n"));
        let first: String = message.lines().next().unwrap_or("").chars().take(300).collect();
        println!("crash at {location} ({n} files): {first}");
        println!(
            "  minimized input ({} bytes, {}): {:?}",
            small.len(),
            path.display(),
            String::from_utf8_lossy(&small)
        );
    }
}
