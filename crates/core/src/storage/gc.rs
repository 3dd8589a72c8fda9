//! Garbage collection by generation fence: no clocks compared across machines.
//!
//! Segment keys carry the GC generation (`gc_gen`) of the manifest their writer read, and a
//! commit may list a segment only while `segment gen + 1 >= manifest gc_gen`. A GC pass first
//! raises `gc_gen` to G with one commit through the CAS loop, then deletes only unlisted
//! objects of generation `<= G - 2`: no commit can list those any more (the fence rejects them
//! in every manifest from G on, and every commit is a CAS on the latest manifest), so deleting
//! them cannot lose an acknowledged write, however slow, suspended or clock-skewed its writer.
//! A writer whose segment was fenced re-uploads it under the current generation. Objects of
//! dead incarnations (dropped collections) are deleted too; keys GC does not understand (a
//! newer layout) are kept. Segments that compaction replaced stay listed under `retired` until
//! the fence passes their retirement generation + 2 (two GC passes), so readers of older
//! snapshots can finish; then they are orphans like any other.

use log::debug;

use super::commit::Operation;
use super::Storage;
use crate::error::Result;

/// What a garbage-collection pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// The generation this pass raised the fence to (unchanged for a dropped collection).
    pub generation: u64,
    /// Keys deleted: fenced-off orphans and objects of dead incarnations.
    pub deleted: Vec<String>,
    /// Unlisted objects kept because a commit may still list them (generation >= G - 1).
    pub kept_recent: usize,
    /// Keys kept because this build does not recognise their layout.
    pub kept_unknown: usize,
}

/// What a key under `collections/{name}/` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Manifest,
    Segment {
        incarnation: u64,
        gen: u64,
        id: uuid::Uuid,
    },
    /// Anything else under a numbered incarnation directory.
    OtherInIncarnation(u64),
    Unknown,
}

/// Parses a key relative to `collections/{name}/` (the layout written by
/// [`Storage::segment_key`]).
pub(crate) fn classify(rel: &str) -> KeyKind {
    if rel == "manifest.json" {
        return KeyKind::Manifest;
    }
    let (incarnation, rest) = match rel.split_once('/') {
        Some(("segments", _)) => (0, rel),
        Some((inc, rest)) if !inc.is_empty() && inc.bytes().all(|b| b.is_ascii_digit()) => match inc.parse() {
            Ok(i) => (i, rest),
            Err(_) => return KeyKind::Unknown,
        },
        _ => return KeyKind::Unknown,
    };
    let Some(file) = rest.strip_prefix("segments/").and_then(|f| f.strip_suffix(".seg")) else {
        return if incarnation > 0 { KeyKind::OtherInIncarnation(incarnation) } else { KeyKind::Unknown };
    };
    // Legacy objects are `{uuid}.seg` (generation 0); others `{gen}-{uuid}.seg`.
    if let Ok(id) = uuid::Uuid::parse_str(file) {
        return KeyKind::Segment { incarnation, gen: 0, id };
    }
    match file.split_once('-') {
        Some((g, id)) if !g.is_empty() && g.len() < 20 && g.bytes().all(|b| b.is_ascii_digit()) => {
            match (g.parse(), uuid::Uuid::parse_str(id)) {
                (Ok(gen), Ok(id)) => KeyKind::Segment { incarnation, gen, id },
                _ => KeyKind::Unknown,
            }
        }
        _ => KeyKind::Unknown,
    }
}

impl Storage {
    /// One GC pass over collection `name`: raise the fence (one commit), then delete unlisted
    /// segment objects the fence now rejects and every object of a dead incarnation. Run it as
    /// often as you like; an object becomes deletable after two passes (the fence accepts one
    /// generation back, so a write in flight during one pass is never affected).
    pub async fn collect_garbage(&self, name: &str) -> Result<GcReport> {
        crate::validate::collection_name(name)?;
        let (mut manifest, _) =
            self.load_raw(name).await?.ok_or_else(|| crate::error::Error::NotFound(format!("collection '{name}'")))?;
        if !manifest.is_dropped() {
            let op = Operation::new();
            let out = self
                .commit_op(name, &op, |m| {
                    m.gc_gen =
                        m.gc_gen.checked_add(1).ok_or_else(|| crate::error::Error::corrupt("gc_gen overflow"))?;
                    // Compacted-away segments past their retention become ordinary orphans
                    // (their key generation is <= the retirement generation <= G - 2).
                    let gen = m.gc_gen;
                    m.retired.retain(|r| r.retired_at_gen.saturating_add(2) > gen);
                    Ok(true)
                })
                .await?;
            manifest = out.manifest;
        }
        // Listed segments, and retired ones still within their retention (older snapshots read them).
        let listed: std::collections::HashSet<uuid::Uuid> =
            manifest.segments.iter().map(|d| d.id).chain(manifest.retired.iter().map(|r| r.id)).collect();
        let dead = |inc: u64| inc < manifest.incarnation || (manifest.is_dropped() && inc == manifest.incarnation);
        let base = self.collection_dir(name);
        let mut report = GcReport { generation: manifest.gc_gen, ..Default::default() };
        for key in self.kv().list(&base).await? {
            let Some(rel) = key.strip_prefix(&base) else { continue };
            let delete = match classify(rel) {
                KeyKind::Manifest => false,
                KeyKind::Segment { incarnation, .. } | KeyKind::OtherInIncarnation(incarnation)
                    if dead(incarnation) =>
                {
                    true
                }
                KeyKind::Segment { incarnation, gen, id } if incarnation == manifest.incarnation => {
                    if listed.contains(&id) {
                        false
                    } else if gen.saturating_add(2) <= manifest.gc_gen {
                        true
                    } else {
                        report.kept_recent += 1;
                        false
                    }
                }
                // A newer incarnation than the manifest we read, or a layout we do not know.
                _ => {
                    report.kept_unknown += 1;
                    false
                }
            };
            if delete {
                self.kv().delete(&key).await?;
                report.deleted.push(key);
            }
        }
        debug!("gc of '{name}' at generation {}: {} deleted", report.generation, report.deleted.len());
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn keys_are_classified() {
        let id = crate::runtime::new_uuid();
        assert_eq!(classify("manifest.json"), KeyKind::Manifest);
        assert_eq!(classify(&format!("segments/{id}.seg")), KeyKind::Segment { incarnation: 0, gen: 0, id });
        assert_eq!(classify(&format!("segments/7-{id}.seg")), KeyKind::Segment { incarnation: 0, gen: 7, id });
        assert_eq!(classify(&format!("3/segments/7-{id}.seg")), KeyKind::Segment { incarnation: 3, gen: 7, id });
        let digits = uuid::Uuid::parse_str("12345678-1234-4234-8234-123456789012").unwrap();
        assert_eq!(
            classify(&format!("segments/{digits}.seg")),
            KeyKind::Segment { incarnation: 0, gen: 0, id: digits }
        );
        assert_eq!(classify("3/index/whatever.bin"), KeyKind::OtherInIncarnation(3));
        for unknown in ["segments/x.seg", "segments/7-x.seg", "v2/segments/a.seg", "notes.txt", "segments/a.parquet"] {
            assert_eq!(classify(unknown), KeyKind::Unknown, "{unknown}");
        }
    }
}
