//! Writes each target's seed inputs to `<dir>/<target>/seed-N` and its dictionary to
//! `<dir>/<target>.dict` (libFuzzer's `-dict` format), for scripts/fuzz.sh.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".into()));
    for target in akidb_fuzz::checks::TARGETS {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).expect("seed dir");
        for (i, s) in akidb_fuzz::seeds::for_target(target).iter().enumerate() {
            std::fs::write(d.join(format!("seed-{i}")), s).expect("seed");
        }
        let mut dict = String::new();
        for tok in akidb_fuzz::seeds::dictionary(target) {
            let mut esc = String::new();
            for b in tok {
                if b.is_ascii_graphic() && *b != b'"' && *b != b'\\' || *b == b' ' {
                    esc.push(*b as char);
                } else {
                    let _ = write!(esc, "\\x{b:02X}");
                }
            }
            let _ = writeln!(dict, "\"{esc}\"");
        }
        std::fs::write(dir.join(format!("{target}.dict")), dict).expect("dict");
    }
}
