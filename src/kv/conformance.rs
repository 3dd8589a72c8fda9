//! The KV conformance suite: written once, run against every backend (memory natively and on
//! wasm, IndexedDB in Chromium, S3 against a real server). Each check returns a message naming
//! what broke instead of panicking, so it can run inside any harness.

use super::{GetIfChanged, Kv, KvError, PutCondition};

/// Options for [`run_all_with`].
#[derive(Debug, Clone)]
pub struct ConformanceOptions {
    /// How many keys the listing check writes (S3 backends pass > 1000 to cross a page).
    pub many_keys: usize,
}

impl Default for ConformanceOptions {
    fn default() -> Self {
        ConformanceOptions { many_keys: 50 }
    }
}

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn kv_err(step: &str) -> impl Fn(KvError) -> String + '_ {
    move |e| format!("{step}: unexpected error {e:?}")
}

/// How a backend's version tokens relate to the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenModel {
    /// Tokens never repeat for a key, even across delete and re-create (counters).
    Unique,
    /// Tokens are content hashes (S3 ETags): a key re-created with identical bytes gets its old
    /// token back. Overwrites with different bytes must still change the token, and a token
    /// from before a delete must not match a re-created key holding different bytes.
    ContentHash,
}

/// Runs every check with default options under `prefix` (which must be empty) and cleans up.
pub async fn run_all(kv: &dyn Kv, prefix: &str) -> Result<(), String> {
    run_all_with(kv, prefix, &ConformanceOptions::default()).await
}

/// Runs every check under `prefix` (which must be empty) and cleans up.
pub async fn run_all_with(kv: &dyn Kv, prefix: &str, opts: &ConformanceOptions) -> Result<(), String> {
    run_all_with_tokens(kv, prefix, opts, TokenModel::Unique).await
}

/// [`run_all_with`] for a backend whose tokens follow `tokens`.
pub async fn run_all_with_tokens(
    kv: &dyn Kv,
    prefix: &str,
    opts: &ConformanceOptions,
    tokens: TokenModel,
) -> Result<(), String> {
    check!(kv.list(prefix).await.map_err(kv_err("initial list"))?.is_empty(), "prefix '{prefix}' must start empty");
    get_put_round_trip(kv, prefix).await?;
    if_absent(kv, prefix).await?;
    if_version(kv, prefix).await?;
    conditional_get(kv, prefix).await?;
    delete_and_no_aba(kv, prefix, tokens).await?;
    listing(kv, prefix, opts.many_keys).await?;
    for k in kv.list(prefix).await.map_err(kv_err("cleanup list"))? {
        kv.delete(&k).await.map_err(kv_err("cleanup delete"))?;
    }
    check!(kv.list(prefix).await.map_err(kv_err("final list"))?.is_empty(), "cleanup left keys behind");
    Ok(())
}

async fn get_put_round_trip(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}rt/a");
    check!(kv.get(&key).await.map_err(kv_err("get missing"))?.is_none(), "get of a missing key returned a value");
    let bytes: Vec<u8> = (0..=255u8).collect();
    let t1 = kv.put(&key, bytes.clone(), PutCondition::Any).await.map_err(kv_err("put any"))?;
    let got = kv.get(&key).await.map_err(kv_err("get"))?.ok_or("value vanished after put")?;
    check!(got.value == bytes, "binary value did not round-trip");
    check!(got.version == t1, "get returned token {:?}, put returned {:?}", got.version, t1);
    let t2 = kv.put(&key, Vec::new(), PutCondition::Any).await.map_err(kv_err("overwrite"))?;
    check!(t2 != t1, "overwrite kept the same version token");
    let got = kv.get(&key).await.map_err(kv_err("get empty"))?.ok_or("empty value vanished")?;
    check!(got.value.is_empty(), "empty value did not round-trip");
    Ok(())
}

async fn if_absent(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}absent/x");
    kv.put(&key, b"first".to_vec(), PutCondition::IfAbsent).await.map_err(kv_err("create-only on new key"))?;
    let second = kv.put(&key, b"second".to_vec(), PutCondition::IfAbsent).await;
    check!(second == Err(KvError::PreconditionFailed), "create-only on existing key gave {second:?}");
    let got = kv.get(&key).await.map_err(kv_err("get"))?.ok_or("missing")?;
    check!(got.value == b"first", "failed create-only changed the value");
    Ok(())
}

async fn if_version(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}cas/m");
    let t1 = kv.put(&key, b"v1".to_vec(), PutCondition::Any).await.map_err(kv_err("seed"))?;
    let t2 = kv
        .put(&key, b"v2".to_vec(), PutCondition::IfVersion(t1.clone()))
        .await
        .map_err(kv_err("cas with current token"))?;
    check!(t2 != t1, "cas returned the old token");
    let stale = kv.put(&key, b"v3".to_vec(), PutCondition::IfVersion(t1)).await;
    check!(stale == Err(KvError::PreconditionFailed), "cas with stale token gave {stale:?}");
    let got = kv.get(&key).await.map_err(kv_err("get"))?.ok_or("missing")?;
    check!(got.value == b"v2" && got.version == t2, "stale cas changed the value");
    let missing = kv.put(&format!("{p}cas/none"), b"x".to_vec(), PutCondition::IfVersion(t2)).await;
    check!(missing == Err(KvError::PreconditionFailed), "cas on a missing key gave {missing:?}");
    check!(kv.get(&format!("{p}cas/none")).await.map_err(kv_err("get"))?.is_none(), "cas on a missing key created it");
    Ok(())
}

async fn conditional_get(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}cond/m");
    let t1 = kv.put(&key, b"one".to_vec(), PutCondition::Any).await.map_err(kv_err("seed"))?;
    let r = kv.get_if_changed(&key, &t1).await.map_err(kv_err("get_if_changed"))?;
    check!(r == GetIfChanged::Unchanged, "unchanged key reported {r:?}");
    let t2 = kv.put(&key, b"two".to_vec(), PutCondition::IfVersion(t1.clone())).await.map_err(kv_err("cas"))?;
    match kv.get_if_changed(&key, &t1).await.map_err(kv_err("get_if_changed"))? {
        GetIfChanged::Changed(v) => check!(v.value == b"two" && v.version == t2, "changed read returned stale data"),
        other => return Err(format!("changed key reported {other:?}")),
    }
    kv.delete(&key).await.map_err(kv_err("delete"))?;
    let r = kv.get_if_changed(&key, &t2).await.map_err(kv_err("get_if_changed"))?;
    check!(r == GetIfChanged::Missing, "deleted key reported {r:?}");
    Ok(())
}

async fn delete_and_no_aba(kv: &dyn Kv, p: &str, tokens: TokenModel) -> Result<(), String> {
    let key = format!("{p}del/k");
    let old = kv.put(&key, b"same".to_vec(), PutCondition::Any).await.map_err(kv_err("seed"))?;
    kv.delete(&key).await.map_err(kv_err("delete"))?;
    check!(kv.get(&key).await.map_err(kv_err("get"))?.is_none(), "deleted key still readable");
    kv.delete(&key).await.map_err(kv_err("delete missing key"))?;
    let again: &[u8] = match tokens {
        TokenModel::Unique => b"same",
        TokenModel::ContentHash => b"different",
    };
    kv.put(&key, again.to_vec(), PutCondition::IfAbsent).await.map_err(kv_err("re-create"))?;
    let aba = kv.put(&key, b"x".to_vec(), PutCondition::IfVersion(old)).await;
    check!(aba == Err(KvError::PreconditionFailed), "token from before a delete still matched (ABA): {aba:?}");
    Ok(())
}

async fn listing(kv: &dyn Kv, p: &str, many: usize) -> Result<(), String> {
    let base = format!("{p}list/");
    let mut expected: Vec<String> = (0..many).map(|i| format!("{base}k{i:05}")).collect();
    for k in &expected {
        kv.put(k, b"v".to_vec(), PutCondition::Any).await.map_err(kv_err("put for list"))?;
    }
    kv.put(&format!("{p}lisx"), b"v".to_vec(), PutCondition::Any).await.map_err(kv_err("put sibling"))?;
    expected.sort();
    let got = kv.list(&base).await.map_err(kv_err("list"))?;
    check!(got.len() == expected.len(), "list returned {} keys, expected {}", got.len(), expected.len());
    check!(got == expected, "list returned the wrong keys or order");
    Ok(())
}
