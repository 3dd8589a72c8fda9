//! The search engine's building blocks: distance kernels (SIMD128 on wasm, auto-vectorised
//! scalar code natively), int8 scalar quantisation for fast approximate scans, a bounded
//! top-k collector and Qdrant-style metadata filters. Everything here is pure computation:
//! no storage, no async, and no allocation in the per-vector hot paths.

pub mod exec;
pub mod filter;
pub mod kernels;
pub mod quant;
pub mod topk;
