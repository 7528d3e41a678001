//! Runtime CPU-feature dispatch for the forward pass's hand-written loops.
//!
//! The loops are plain safe Rust written so that LLVM vectorises them. The crate is built
//! for the baseline x86-64 target (SSE2), so [`simd_dispatch!`] compiles each loop three
//! times: for AVX-512, for AVX2 + FMA and for the baseline, and picks one at run time from
//! what the CPU reports. Calling a `#[target_feature]` function is `unsafe` only because
//! the CPU must support the features; the macro checks that right before each call. That
//! and the register loads and stores of the intrinsics kernels (`attention_kernels`,
//! `int8_kernels`, `f16_kernels`) and the vector index's prefetch hints are the crate's
//! only unsafe code.
//!
//! `DROPLY_SIMD=avx2` (or `baseline`) caps the level at start-up, VNNI included, so the
//! kernels an AVX2-only CPU runs can be measured and tested on a wider one; it never
//! raises the level above what the CPU reports. Any other value caps nothing and is
//! reported once with a `tracing` warning.

/// Defines a function whose body is compiled for AVX-512, AVX2 + FMA and the baseline,
/// and which runs the best version the CPU supports.
macro_rules! simd_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        #[allow(unsafe_code)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    generic($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    generic($($arg),*)
                }
                if $crate::embedder::simd::has_avx512() {
                    // SAFETY: the CPU supports every feature `avx512` is compiled for
                    // (checked by `has_avx512` just above).
                    return unsafe { avx512($($arg),*) };
                }
                if $crate::embedder::simd::has_avx2_fma() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            generic($($arg),*)
        }
    };
}

pub(crate) use simd_dispatch;

/// The name of the versions the dispatched functions run here: `avx512`, `avx2` or
/// `baseline`.
pub(crate) fn level_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            return "avx512";
        }
        if has_avx2_fma() {
            return "avx2";
        }
    }
    "baseline"
}

/// Whether the CPU runs the AVX-512 versions (F, VL, BW, DQ, plus AVX2 and FMA).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx512() -> bool {
    level() == Level::Avx512 as u8
}

/// Whether the CPU runs the AVX2 + FMA versions.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    level() >= Level::Avx2Fma as u8
}

/// The widest set of features the dispatched functions may use here.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
enum Level {
    Baseline = 1,
    Avx2Fma = 2,
    Avx512 = 3,
}

/// The CPU's [`Level`] (capped by `DROPLY_SIMD`), detected once and then read with one
/// relaxed load (dispatched functions as small as a dot product are called millions of
/// times).
#[cfg(target_arch = "x86_64")]
#[inline]
fn level() -> u8 {
    use std::sync::atomic::{AtomicU8, Ordering};
    static LEVEL: AtomicU8 = AtomicU8::new(0);
    let known = LEVEL.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    let detected = detected_level();
    let level = cap_from_env().map_or(detected as u8, |cap| (detected as u8).min(cap as u8));
    LEVEL.store(level, Ordering::Relaxed);
    level
}

/// What the CPU itself supports.
#[cfg(target_arch = "x86_64")]
fn detected_level() -> Level {
    let avx2_fma =
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
    let avx512 = avx2_fma
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512dq");
    if avx512 {
        Level::Avx512
    } else if avx2_fma {
        Level::Avx2Fma
    } else {
        Level::Baseline
    }
}

/// The cap `DROPLY_SIMD` sets, if any. A value that names no level caps nothing (the
/// binary keeps running with the CPU's own level) but is reported once with a warning, so
/// a typo such as `avx-2` does not pass silently for a capped run.
#[cfg(target_arch = "x86_64")]
fn cap_from_env() -> Option<Level> {
    let value = std::env::var("DROPLY_SIMD").ok()?;
    if value.trim().is_empty() {
        return None;
    }
    let cap = parse_cap(&value);
    if cap.is_none() {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
                value = %value,
                "DROPLY_SIMD names no level (avx512, avx2 or baseline); the dispatch is not capped"
            );
        });
    }
    cap
}

/// The level a `DROPLY_SIMD` value names (`avx512`, `avx2` or `baseline`, any case);
/// anything else is `None`.
#[cfg(target_arch = "x86_64")]
fn parse_cap(name: &str) -> Option<Level> {
    match name.trim().to_ascii_lowercase().as_str() {
        "avx512" => Some(Level::Avx512),
        "avx2" => Some(Level::Avx2Fma),
        "baseline" => Some(Level::Baseline),
        _ => None,
    }
}

/// Whether the VNNI int8 kernels may run: the CPU's level is not capped below what it
/// supports (an AVX2-only CPU has no VNNI of either width).
#[cfg(target_arch = "x86_64")]
pub(crate) fn allows_vnni() -> bool {
    level() == detected_level() as u8
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn the_cap_names_each_level_and_ignores_anything_else() {
        assert!(matches!(parse_cap("avx2"), Some(Level::Avx2Fma)));
        assert!(matches!(parse_cap(" AVX512 "), Some(Level::Avx512)));
        assert!(matches!(parse_cap("baseline"), Some(Level::Baseline)));
        assert!(parse_cap("sse4").is_none());
        assert!(parse_cap("avx-2").is_none());
        assert!(parse_cap("").is_none());
    }

    #[test]
    fn the_level_run_is_the_cpus_capped_by_droply_simd() {
        let detected = detected_level() as u8;
        let run = level();
        match std::env::var("DROPLY_SIMD") {
            Ok(value) if !value.trim().is_empty() => {
                // A capped run (CI's "narrower kernels" step) must name a real level: a
                // value that caps nothing would run the widest kernels and test nothing new.
                let Some(cap) = parse_cap(&value) else {
                    panic!("DROPLY_SIMD={value:?} names no level (avx512, avx2 or baseline)");
                };
                let cap = cap as u8;
                println!(
                    "DROPLY_SIMD={value}: cap {cap}, CPU {detected}, run {run} ({})",
                    level_name()
                );
                assert_eq!(run, detected.min(cap), "the level run is the CPU's, capped");
            }
            _ => {
                println!(
                    "DROPLY_SIMD unset: CPU {detected}, run {run} ({})",
                    level_name()
                );
                assert_eq!(run, detected);
            }
        }
        assert!(run >= Level::Baseline as u8);
        assert_eq!(allows_vnni(), run == detected);
    }
}
