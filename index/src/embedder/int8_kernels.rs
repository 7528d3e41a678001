//! The x86 kernels of the int8 matmul ([`super::int8_matmul`]): one tile of a few input
//! rows by one [`PANEL`]-column panel, summed in i32 registers over every input quad with
//! `vpdpbusd` (AVX-512 VNNI on 16 lanes, AVX-VNNI on 8).
//!
//! These are written with `std::arch` intrinsics: LLVM does not form `vpdpbusd` from
//! plain loops. Each public function checks that the CPU has its
//! features before it calls its `#[target_feature]` body (the check is a cached load), and
//! falls back to the plain loop otherwise, so every function here is safe to call
//! anywhere. The remaining unsafe operations are the loads of whole aligned [`Block`]s and
//! the stores of whole rows of sums, each bounds-checked by its types.
#![allow(unsafe_code)]

use std::arch::is_x86_feature_detected as has;
use std::arch::x86_64::{
    __m256i, __m512i, _mm256_dpbusd_avx_epi32, _mm256_load_si256, _mm256_set1_epi32,
    _mm256_setzero_si256, _mm256_storeu_si256, _mm512_dpbusd_epi32, _mm512_load_si512,
    _mm512_set1_epi32, _mm512_setzero_si512, _mm512_storeu_si512,
};

use super::int8_matmul::{Block, PANEL, plain};

/// Blocks per panel and input quad.
const BLOCKS: usize = PANEL / 16;

/// `rows` (exactly `R` rows of `per_row` quads) times `panel` with AVX-512 VNNI: `R` rows by 64 columns of sums
/// in `4 R` registers.
pub(crate) fn avx512_vnni<const R: usize>(
    rows: &[u32],
    per_row: usize,
    panel: &[Block],
    sums: &mut [[i32; PANEL]],
) {
    if has!("avx512f") && has!("avx512bw") && has!("avx512vnni") {
        // SAFETY: the CPU has every feature the function is compiled for (just checked).
        unsafe { avx512_vnni_tile::<R>(rows, per_row, panel, sums) }
    } else {
        plain(rows, per_row, panel, sums);
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn avx512_vnni_tile<const R: usize>(
    rows: &[u32],
    per_row: usize,
    panel: &[Block],
    sums: &mut [[i32; PANEL]],
) {
    let rows = split_rows::<R>(rows, per_row);
    let mut acc = [[_mm512_setzero_si512(); BLOCKS]; R];
    for (q, blocks) in panel.as_chunks::<BLOCKS>().0.iter().enumerate() {
        let w = [
            load512(&blocks[0]),
            load512(&blocks[1]),
            load512(&blocks[2]),
            load512(&blocks[3]),
        ];
        for (row_acc, row) in acc.iter_mut().zip(&rows) {
            let x = _mm512_set1_epi32(row[q] as i32);
            for (a, w) in row_acc.iter_mut().zip(&w) {
                *a = _mm512_dpbusd_epi32(*a, x, *w);
            }
        }
    }
    for (row_acc, row_sums) in acc.iter().zip(sums.iter_mut()) {
        for (a, out) in row_acc.iter().zip(row_sums.as_chunks_mut::<16>().0) {
            // SAFETY: `out` is 16 i32, one register's worth; the store is unaligned.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), *a) };
        }
    }
}

#[target_feature(enable = "avx512f")]
fn load512(block: &Block) -> __m512i {
    // SAFETY: a block is 64 bytes aligned to 64.
    unsafe { _mm512_load_si512(block.0.as_ptr().cast()) }
}

/// `rows` (exactly `R` rows of `per_row` quads) times `panel` with AVX-VNNI, 32 columns at a time.
pub(crate) fn avx_vnni<const R: usize>(
    rows: &[u32],
    per_row: usize,
    panel: &[Block],
    sums: &mut [[i32; PANEL]],
) {
    if has!("avx2") && has!("avxvnni") {
        // SAFETY: the CPU has every feature the function is compiled for (just checked).
        unsafe { avx_vnni_tile::<R>(rows, per_row, panel, sums) }
    } else {
        plain(rows, per_row, panel, sums);
    }
}

#[target_feature(enable = "avx2,avxvnni")]
fn avx_vnni_tile<const R: usize>(
    rows: &[u32],
    per_row: usize,
    panel: &[Block],
    sums: &mut [[i32; PANEL]],
) {
    let rows = split_rows::<R>(rows, per_row);
    for half in 0..2 {
        let mut acc = [[_mm256_setzero_si256(); 4]; R];
        for (q, blocks) in panel.as_chunks::<BLOCKS>().0.iter().enumerate() {
            let w = halves(&blocks[2 * half], &blocks[2 * half + 1]);
            for (row_acc, row) in acc.iter_mut().zip(&rows) {
                let x = _mm256_set1_epi32(row[q] as i32);
                for (a, w) in row_acc.iter_mut().zip(&w) {
                    *a = _mm256_dpbusd_avx_epi32(*a, x, *w);
                }
            }
        }
        store256(&acc, sums, half);
    }
}

/// The first `R` rows of `per_row` quads of `rows`.
#[inline(always)]
fn split_rows<const R: usize>(rows: &[u32], per_row: usize) -> [&[u32]; R] {
    std::array::from_fn(|r| &rows[r * per_row..(r + 1) * per_row])
}

/// Two blocks as four 256-bit registers: columns 0-7, 8-15 of the first, then of the
/// second.
#[target_feature(enable = "avx2")]
fn halves(first: &Block, second: &Block) -> [__m256i; 4] {
    // SAFETY: a block is 64 bytes aligned to 64, so each half is 32 bytes aligned to 32.
    unsafe {
        [
            _mm256_load_si256(first.0.as_ptr().cast()),
            _mm256_load_si256(first.0[32..].as_ptr().cast()),
            _mm256_load_si256(second.0.as_ptr().cast()),
            _mm256_load_si256(second.0[32..].as_ptr().cast()),
        ]
    }
}

/// Stores 32 columns of sums per row into half `half` of each row of `sums`.
#[target_feature(enable = "avx2")]
fn store256<const R: usize>(acc: &[[__m256i; 4]; R], sums: &mut [[i32; PANEL]], half: usize) {
    for (row_acc, row_sums) in acc.iter().zip(sums.iter_mut()) {
        let columns = &mut row_sums[half * 32..(half + 1) * 32];
        for (a, out) in row_acc.iter().zip(columns.as_chunks_mut::<8>().0) {
            // SAFETY: `out` is 8 i32, one register's worth; the store is unaligned.
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), *a) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panel of 40 input quads of varied codes, extremes included.
    fn panel() -> Vec<Block> {
        (0..40 * BLOCKS)
            .map(|b| Block(std::array::from_fn(|i| ((b * 64 + i) * 37 % 255) as i8)))
            .collect()
    }

    /// Rows of quads of varied bytes, extremes included.
    fn rows(count: usize) -> Vec<u32> {
        (0..count * 40)
            .map(|i| {
                let byte = |k: u32| (i as u32 * 11 + k * 53) % 256;
                u32::from_le_bytes([0, 1, 2, 3].map(|k| byte(k) as u8))
            })
            .collect()
    }

    /// A tile kernel's signature.
    type Tile = fn(&[u32], usize, &[Block], &mut [[i32; PANEL]]);

    fn check(kernel: Tile, count: usize) {
        let (panel, rows) = (panel(), rows(count));
        let mut want = vec![[0; PANEL]; count];
        let mut got = vec![[1; PANEL]; count];
        plain(&rows, 40, &panel, &mut want);
        kernel(&rows, 40, &panel, &mut got);
        assert_eq!(got, want);
        assert!(want.iter().flatten().any(|&s| s != 0));
    }

    #[test]
    fn each_kernel_the_cpu_has_sums_exactly_what_the_plain_loop_sums() {
        if has!("avx512f") && has!("avx512bw") && has!("avx512vnni") {
            check(avx512_vnni::<6>, 6);
            check(avx512_vnni::<1>, 1);
        }
        if has!("avx2") && has!("avxvnni") {
            check(avx_vnni::<3>, 3);
            check(avx_vnni::<1>, 1);
        }
    }
}
