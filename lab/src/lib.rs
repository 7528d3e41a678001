//! Droply's laboratory: everything that makes or measures data rather than
//! serving it. [`demo`] generates a deterministic, realistic marketplace with
//! its ground truth (for `droply demo`, `droply serve --demo`, the benches and
//! the evaluation); [`eval`] measures ranking quality on a public BEIR
//! collection and on the demo marketplace (for `droply eval`). Both use only
//! the engine's public API; nothing in the engine depends on this crate.

pub mod demo;
pub mod eval;
