//! [`Precision`]: the arithmetic of the embedder's batch path, f32 or the opt-in int8
//! (see `int8_matmul`), and which kernels this CPU runs for each.

use super::int8_matmul::Kernel;
use crate::{Error, Result};

/// The arithmetic of the batch path's linear layers.
///
/// `F32` is the reference. `Int8` is opt-in, for bulk indexing: each linear layer's weight
/// is quantised per output column and its input per row, and the products are summed in
/// integers with VNNI (AVX-512 VNNI or AVX-VNNI). Its embeddings stay within cosine 0.995
/// of the reference; a query's few rows always run in f32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Precision {
    /// f32 matmuls.
    #[default]
    F32,
    /// int8 weights and inputs, i32 sums.
    Int8,
}

impl Precision {
    /// Whether this CPU runs this precision (`Int8` needs VNNI).
    pub fn supported(self) -> bool {
        match self {
            Precision::F32 => true,
            Precision::Int8 => Kernel::detect().is_some(),
        }
    }
}

/// Which kernels run on this CPU, for benchmark reports: e.g. `loops avx512, gemm
/// avx512, int8 avx512-vnni`. The f32 batch matmuls are gemm's, which dispatch on their
/// own: to AVX-512 only when built with the `avx512-gemm` feature, else to AVX2 + FMA.
pub fn kernels() -> String {
    let int8 = match Kernel::detect() {
        Some(Kernel::Avx512Vnni) => "avx512-vnni",
        Some(Kernel::AvxVnni) => "avx-vnni",
        Some(Kernel::Plain) | None => "none (no VNNI: int8 runs as f32)",
    };
    format!(
        "loops {}, gemm {}, int8 {int8}",
        super::simd::level_name(),
        gemm_level()
    )
}

/// The widest kernels gemm runs here.
fn gemm_level() -> &'static str {
    #[cfg(all(target_arch = "x86_64", feature = "avx512-gemm"))]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return "avx512";
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        return "avx2";
    }
    "baseline"
}

impl std::str::FromStr for Precision {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "f32" => Ok(Precision::F32),
            "int8" => Ok(Precision::Int8),
            other => Err(Error::Invalid(format!(
                "precision {other:?}: expected f32 or int8"
            ))),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
        })
    }
}
