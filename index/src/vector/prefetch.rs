//! Asking the CPU to start fetching what a walk reads next: it knows the few
//! points it will score, so their loads can overlap rather than each wait its
//! turn on memory.
#![allow(unsafe_code)]

/// Bytes in one cache line.
const LINE_BYTES: usize = 64;

/// Starts loading every cache line of `values` into the cache.
#[inline(always)]
pub(crate) fn prefetch<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let start = values.as_ptr().cast::<i8>();
        for offset in (0..std::mem::size_of_val(values)).step_by(LINE_BYTES) {
            // SAFETY: a prefetch is only a hint: it never faults and changes no
            // memory, whatever the address (here one inside `values`), and SSE,
            // which provides it, is part of x86_64's baseline.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    start.wrapping_add(offset),
                );
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}
