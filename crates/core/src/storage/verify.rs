//! Verifying what a collection's current manifest lists against the objects in the store: every
//! listed segment object exists, has its descriptor's size and checksum, decodes (every CRC in
//! it, the per-partition block CRCs of an indexed segment included) with its descriptor's record
//! count and dimension, and its partition index lists every row exactly once with spill copies
//! equal to the rows they copy. Objects under the collection's key prefix that nothing lists are
//! counted as orphans (GC deletes them), segments compaction retired as retired; neither is a
//! problem. Read-only: nothing is written, so it is safe beside any writer.

use uuid::Uuid;

use super::gc::{classify, KeyKind};
use super::Storage;
use crate::error::{Error, Result};
use crate::manifest::{CollectionManifest, SegmentDescriptor};
use crate::segment::{self, v2, Segment};

/// How much [`Storage::verify_collection`] reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Only check that listed objects exist (in the store's listing) and read each one's fixed
    /// header by range (format, record count, dimension, partitions): a few bytes per segment
    /// instead of every byte. Sizes, checksums, records and the index are then not checked.
    pub headers_only: bool,
}

/// What is wrong with one object (or the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The manifest itself does not parse or breaks the format's rules.
    ManifestCorrupt,
    /// The manifest parses but contradicts itself (a segment listed twice, `total_vectors`
    /// not the sum of the segments' record counts).
    ManifestInconsistent,
    /// A listed segment object is not in the store.
    Missing,
    /// A listed segment object's length differs from its descriptor's `size_bytes`.
    SizeMismatch,
    /// A listed segment object's CRC-32 differs from its descriptor's `checksum`.
    ChecksumMismatch,
    /// A listed segment object does not decode (bad magic, format, an internal CRC, truncation).
    Undecodable,
    /// A segment object decodes but holds another record count or dimension than its descriptor.
    DescriptorMismatch,
    /// A segment's partition index does not agree with its rows.
    IndexInconsistent,
}

impl ProblemKind {
    /// A stable snake_case name (`missing`, `checksum_mismatch`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            ProblemKind::ManifestCorrupt => "manifest_corrupt",
            ProblemKind::ManifestInconsistent => "manifest_inconsistent",
            ProblemKind::Missing => "missing",
            ProblemKind::SizeMismatch => "size_mismatch",
            ProblemKind::ChecksumMismatch => "checksum_mismatch",
            ProblemKind::Undecodable => "undecodable",
            ProblemKind::DescriptorMismatch => "descriptor_mismatch",
            ProblemKind::IndexInconsistent => "index_inconsistent",
        }
    }
}

/// One problem, named by the store key of the object it is about (with the store prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The object's key (the manifest's key for manifest problems).
    pub key: String,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// What exactly, for people.
    pub message: String,
}

/// What was found out about one listed segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentCheck {
    /// The segment id.
    pub id: Uuid,
    /// Its object key.
    pub key: String,
    /// The object's segment format (1 plain, 2 and 3 with a partition index), when readable.
    pub format: Option<u16>,
    /// Partitions of its index (`None`: no index, or unreadable).
    pub partitions: Option<u32>,
    /// No problem was found with it.
    pub ok: bool,
}

/// The outcome of [`Storage::verify_collection`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// The collection.
    pub collection: String,
    /// The manifest version verified (0 when the manifest did not parse).
    pub version: u64,
    /// Its incarnation.
    pub incarnation: u64,
    /// Whether only headers were read ([`VerifyOptions::headers_only`]).
    pub headers_only: bool,
    /// One entry per listed segment, in manifest order.
    pub segments: Vec<SegmentCheck>,
    /// Records across listed segments (their descriptors' counts).
    pub records: u64,
    /// Bytes of segment objects read.
    pub bytes_read: u64,
    /// Keys under the collection's prefix in the store's listing (manifest included).
    pub objects: usize,
    /// Keys of unlisted segment objects of the current incarnation that are not retired, and
    /// every object of a dropped (older) incarnation: what GC deletes in time.
    pub orphaned: Vec<String>,
    /// Retired segments (replaced by compaction, kept for older snapshots) still in the store.
    pub retired: usize,
    /// Retired segments already gone from the store (harmless: no current snapshot lists them).
    pub retired_missing: usize,
    /// Keys of a layout this build does not recognise (e.g. a newer AkiDB's), left alone.
    pub unknown: Vec<String>,
    /// Every problem found; empty means the collection is clean.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// True when no problem was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Storage {
    /// Verifies collection `name`'s current manifest against the store (see the module doc).
    /// `progress(done, total)` is called after each listed segment. A manifest that does not
    /// parse is reported as a problem (under its key), not an error; a missing or dropped
    /// collection is NOT_FOUND; a store failure is the error it gave.
    pub async fn verify_collection(
        &self,
        name: &str,
        opts: &VerifyOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<VerifyReport> {
        crate::validate::collection_name(name)?;
        let manifest_key = self.manifest_key(name);
        let mut report =
            VerifyReport { collection: name.to_string(), headers_only: opts.headers_only, ..Default::default() };
        let m = match self.load_raw(name).await {
            Ok(Some((m, _))) if !m.is_dropped() => m,
            Ok(_) => return Err(Error::NotFound(format!("collection '{name}'"))),
            Err(Error::Corrupt(message)) => {
                report.problems.push(Problem { key: manifest_key, kind: ProblemKind::ManifestCorrupt, message });
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        report.version = m.version;
        report.incarnation = m.incarnation;
        report.records = m.segments.iter().map(|d| d.record_count).fold(0u64, u64::saturating_add);
        check_manifest(&m, &manifest_key, &mut report);

        // Listed after the manifest was read: every object it lists was written before it.
        let base = self.collection_dir(name);
        let stored = Keys::new(self.kv().list(&base).await?);
        report.objects = stored.0.len();
        self.count_unlisted(&m, &base, &stored, &mut report);

        let total = m.segments.len();
        for (i, d) in m.segments.iter().enumerate() {
            let key = self.segment_key(name, m.incarnation, d);
            let mut check = SegmentCheck { id: d.id, key: key.clone(), format: None, partitions: None, ok: false };
            let problem = if !stored.has(&key) {
                Some((ProblemKind::Missing, "listed in the manifest but not in the store".to_string()))
            } else if opts.headers_only {
                self.check_header(&key, d, &mut check, &mut report.bytes_read).await?
            } else {
                self.check_object(&key, d, &mut check, &mut report.bytes_read).await?
            };
            match problem {
                None => check.ok = true,
                Some((kind, message)) => report.problems.push(Problem { key, kind, message }),
            }
            report.segments.push(check);
            progress(i + 1, total);
        }
        self.drop_settled_missing(name, &mut report).await?;
        Ok(report)
    }

    /// Orphans, retired objects and unknown keys among `stored` (keys under `base`).
    fn count_unlisted(&self, m: &CollectionManifest, base: &str, stored: &Keys, report: &mut VerifyReport) {
        let name = &m.collection;
        let listed = Keys::new(m.segments.iter().map(|d| self.segment_key(name, m.incarnation, d)).collect());
        let retired =
            Keys::new(m.retired.iter().map(|r| self.segment_key(name, m.incarnation, &at(r.id, r.gen))).collect());
        report.retired = retired.0.iter().filter(|k| stored.has(k)).count();
        report.retired_missing = retired.0.len() - report.retired;
        for key in &stored.0 {
            let Some(rel) = key.strip_prefix(base) else { continue };
            match classify(rel) {
                KeyKind::Manifest => {}
                KeyKind::Segment { incarnation, .. } | KeyKind::OtherInIncarnation(incarnation)
                    if incarnation < m.incarnation =>
                {
                    report.orphaned.push(key.clone())
                }
                KeyKind::Segment { incarnation, .. } if incarnation == m.incarnation => {
                    if !listed.has(key) && !retired.has(key) {
                        report.orphaned.push(key.clone());
                    }
                }
                _ => report.unknown.push(key.clone()),
            }
        }
    }

    /// Headers-only check of one present object: its fixed header by range.
    async fn check_header(
        &self,
        key: &str,
        d: &SegmentDescriptor,
        check: &mut SegmentCheck,
        bytes_read: &mut u64,
    ) -> Result<Option<(ProblemKind, String)>> {
        let Some(head) = self.kv().get_range(key, 0, v2::FIXED_HEADER as u64).await? else {
            return Ok(Some((ProblemKind::Missing, "listed in the manifest but not in the store".into())));
        };
        *bytes_read += head.len() as u64;
        let Some(h) = FixedHeader::parse(&head) else {
            return Ok(Some((ProblemKind::Undecodable, format!("not a segment object ({} header bytes)", head.len()))));
        };
        check.format = Some(h.format);
        check.partitions = h.partitions;
        Ok(descriptor_mismatch(d, h.rows as u64, h.dimension))
    }

    /// Full check of one present object: size, checksum, decode, counts, index.
    async fn check_object(
        &self,
        key: &str,
        d: &SegmentDescriptor,
        check: &mut SegmentCheck,
        bytes_read: &mut u64,
    ) -> Result<Option<(ProblemKind, String)>> {
        let Some(v) = self.kv().get(key).await? else {
            return Ok(Some((ProblemKind::Missing, "listed in the manifest but not in the store".into())));
        };
        let bytes = v.value;
        *bytes_read += bytes.len() as u64;
        if let Some(h) = FixedHeader::parse(&bytes) {
            check.format = Some(h.format);
            check.partitions = h.partitions;
        }
        if bytes.len() as u64 != d.size_bytes {
            let msg = format!("{} bytes, the manifest says {}", bytes.len(), d.size_bytes);
            return Ok(Some((ProblemKind::SizeMismatch, msg)));
        }
        let crc = segment::checksum_hex(&bytes);
        if crc != d.checksum {
            let msg = format!("CRC-32 {crc}, the manifest says {}", d.checksum);
            return Ok(Some((ProblemKind::ChecksumMismatch, msg)));
        }
        let seg = match segment::decode(&bytes) {
            Ok(s) => s,
            Err(e) => return Ok(Some((ProblemKind::Undecodable, e.to_string()))),
        };
        if let Some(p) = descriptor_mismatch(d, seg.len() as u64, seg.dimension as u32) {
            return Ok(Some(p));
        }
        Ok(index_problem(&seg, &bytes).map(|m| (ProblemKind::IndexInconsistent, m)))
    }

    /// A segment found missing may have been retired by compaction and deleted by GC after the
    /// manifest was read: such problems are dropped when the latest manifest no longer lists it.
    async fn drop_settled_missing(&self, name: &str, report: &mut VerifyReport) -> Result<()> {
        if !report.problems.iter().any(|p| p.kind == ProblemKind::Missing) {
            return Ok(());
        }
        let Some((latest, _)) = self.load_raw(name).await? else { return Ok(()) };
        if latest.version == report.version {
            return Ok(());
        }
        let still = Keys::new(latest.segments.iter().map(|d| self.segment_key(name, latest.incarnation, d)).collect());
        let gone: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Missing && !still.has(&p.key))
            .map(|p| p.key.clone())
            .collect();
        report.problems.retain(|p| !gone.contains(&p.key));
        for s in report.segments.iter_mut().filter(|s| gone.contains(&s.key)) {
            s.ok = true;
        }
        Ok(())
    }
}

/// Store keys, sorted (a store's listing may come in any order), for membership tests.
struct Keys(Vec<String>);

impl Keys {
    fn new(mut keys: Vec<String>) -> Keys {
        keys.sort_unstable();
        Keys(keys)
    }

    fn has(&self, key: &str) -> bool {
        self.0.binary_search_by(|k| k.as_str().cmp(key)).is_ok()
    }
}

/// A descriptor with just the fields a key needs.
fn at(id: Uuid, gen: u64) -> SegmentDescriptor {
    SegmentDescriptor {
        id,
        state: crate::manifest::SegmentState::Sealed,
        record_count: 0,
        dimension: 0,
        size_bytes: 0,
        checksum: String::new(),
        seq: 0,
        gen,
    }
}

/// Manifest-level consistency: no segment listed twice, `total_vectors` the sum of the counts.
fn check_manifest(m: &CollectionManifest, key: &str, report: &mut VerifyReport) {
    for (i, d) in m.segments.iter().enumerate() {
        if m.segments[..i].iter().any(|e| e.id == d.id) {
            report.problems.push(Problem {
                key: key.to_string(),
                kind: ProblemKind::ManifestInconsistent,
                message: format!("segment {} is listed more than once", d.id),
            });
        }
    }
    if m.total_vectors != report.records {
        report.problems.push(Problem {
            key: key.to_string(),
            kind: ProblemKind::ManifestInconsistent,
            message: format!("total_vectors is {}, the listed segments hold {}", m.total_vectors, report.records),
        });
    }
}

fn descriptor_mismatch(d: &SegmentDescriptor, rows: u64, dimension: u32) -> Option<(ProblemKind, String)> {
    if rows != d.record_count || dimension != d.dimension as u32 {
        let msg = format!(
            "holds {rows} records of dimension {dimension}, the manifest says {} of dimension {}",
            d.record_count, d.dimension
        );
        return Some((ProblemKind::DescriptorMismatch, msg));
    }
    None
}

/// The fields every segment format keeps at the same offsets (docs/FORMAT.md).
struct FixedHeader {
    format: u16,
    dimension: u32,
    rows: u32,
    partitions: Option<u32>,
}

impl FixedHeader {
    fn parse(b: &[u8]) -> Option<FixedHeader> {
        if b.len() < 16 || &b[..4] != segment::MAGIC {
            return None;
        }
        let u32_at = |i: usize| b.get(i..i + 4).map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")));
        let format = u16::from_le_bytes([b[4], b[5]]);
        let partitions = if v2::is_indexed(b) { Some(u32_at(24)?) } else { None };
        Some(FixedHeader { format, dimension: u32_at(8)?, rows: u32_at(12)?, partitions })
    }
}

/// The first way `seg`'s partition index disagrees with its rows, if any: every row in exactly
/// one partition, spill lists without repeats or own rows, each block's CRC valid, its primary
/// rows those of the whole decode and its spill copies equal to the rows they copy.
fn index_problem(seg: &Segment, bytes: &[u8]) -> Option<String> {
    let index = seg.index.as_ref()?;
    if let Err(e) = index.validate(seg.len(), seg.dimension as usize) {
        return Some(e.to_string());
    }
    let mut seen = vec![0u8; seg.len()];
    for p in 0..index.partitions() {
        for r in index.rows(p) {
            seen[r] = seen[r].saturating_add(1);
        }
        let own = index.rows(p);
        let spilled = index.spilled(p);
        if spilled.windows(2).any(|w| w[0] >= w[1]) {
            return Some(format!("partition {p} lists a spilled row twice or out of order"));
        }
        if let Some(r) = spilled.iter().find(|&&r| own.contains(&(r as usize))) {
            return Some(format!("partition {p} spills its own row {r}"));
        }
    }
    if let Some(r) = seen.iter().position(|&n| n != 1) {
        return Some(format!("row {r} is in {} partitions, not exactly one", seen[r]));
    }
    // The blocks as a range read sees them (what cold queries read).
    let body = &bytes[..bytes.len() - 4];
    let h = match v2::decode_header(body) {
        Ok(h) => h,
        Err(e) => return Some(e.to_string()),
    };
    for (p, b) in h.blocks.iter().enumerate() {
        let Some(block) = body.get(b.offset as usize..(b.offset as usize).saturating_add(b.len as usize)) else {
            return Some(format!("partition {p}: block past the end"));
        };
        let part = match v2::decode_partition(&h, p, block) {
            Ok(part) => part,
            Err(e) => return Some(e.to_string()),
        };
        let own = index.rows(p);
        if part.rows != own.len() || part.spill_rows != index.spilled(p) {
            return Some(format!("partition {p}: its block disagrees with the index"));
        }
        let same = |i: usize, row: usize| {
            part.segment.ids[i] == seg.ids[row]
                && bits_equal(part.segment.vector(i), seg.vector(row))
                && part.segment.metadata.value(i) == seg.metadata.value(row)
        };
        if let Some(i) = (0..part.rows).find(|&i| !same(i, own.start + i)) {
            return Some(format!("partition {p}: block row {i} differs from segment row {}", own.start + i));
        }
        if let Some(j) = (0..part.spill_rows.len()).find(|&j| !same(part.rows + j, part.spill_rows[j] as usize)) {
            return Some(format!("partition {p}: spill copy {j} differs from row {}", part.spill_rows[j]));
        }
    }
    None
}

fn bits_equal(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}
