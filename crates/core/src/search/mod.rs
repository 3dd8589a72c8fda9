//! Query execution over a snapshot's segments: Qdrant-style metadata filters ([`filter`]) and
//! the exact and partition-index (ANN) scans that rank rows with the kernels of
//! [`crate::kernels`] ([`exec`]). Pure computation over decoded segments: no storage, no async.

pub mod exec;
pub mod filter;
