//! Numeric kernels: the exact f32 dot product used for final scores and the
//! integer dot products of the quantized scan.
//!
//! The integer kernels are exact (no rounding), so the AVX2 path and the
//! portable path return bit-identical results. The f32 kernel uses a fixed
//! 16-lane accumulation order with separate multiply and add (Rust never
//! fuses them), so it returns the same bits on every x86_64/aarch64 machine
//! whatever instructions the compiler picks.

// SIMD intrinsics are unsafe functions: this module is where the crate's unsafe code lives,
// each block with the reason it is sound.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Benchmark knob: use the portable integer kernel even where AVX2 exists.
static FORCE_PORTABLE: AtomicBool = AtomicBool::new(false);

/// Force (or stop forcing) the portable scan kernel, for benchmarks. Results are
/// identical either way (the integer kernels are exact).
#[doc(hidden)]
pub fn force_portable_kernel(on: bool) {
    FORCE_PORTABLE.store(on, Relaxed);
}

/// Number of f32 lanes of the exact dot product.
const F32_LANES: usize = 16;

/// Exact f32 dot product: the score function of [`crate::VectorIndex`].
///
/// Deterministic: 16 independent lane accumulators (in element order), then a
/// fixed pairwise reduction. `-0.0` is normalised to `+0.0` so that scores can be
/// ordered with [`f32::total_cmp`] without surprises.
///
/// # Panics
/// If the slices differ in length.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot: length mismatch");
    let mut acc = [0f32; F32_LANES];
    let ca = a.chunks_exact(F32_LANES);
    let cb = b.chunks_exact(F32_LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..F32_LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] += x * y;
    }
    let mut w = F32_LANES / 2;
    while w > 0 {
        for l in 0..w {
            acc[l] += acc[l + w];
        }
        w /= 2;
    }
    acc[0] + 0.0
}

/// `out[r] = Σ_j q[j] * codes[r * pd + j]` for every row `r`, exactly in i32.
///
/// Callers guarantee `q.len() == pd`, `pd % 32 == 0`, `codes.len() == out.len() * pd`
/// and that no partial sum can overflow i32 (see `query_code_max`).
#[inline]
pub(crate) fn dots_i16_i8(q: &[i16], codes: &[i8], pd: usize, out: &mut [i32]) {
    assert!(q.len() == pd && pd % 32 == 0 && codes.len() == out.len() * pd);
    #[cfg(target_arch = "x86_64")]
    {
        if !FORCE_PORTABLE.load(Relaxed) && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is available (checked at runtime); shapes asserted above.
            unsafe { avx2::dots(q, codes, pd, out) };
            return;
        }
    }
    portable::dots(q, codes, pd, out)
}

pub(crate) mod portable {
    /// Portable kernel; LLVM vectorises the 16-lane inner loop
    /// (`pmaddwd` on SSE2), but it is ~2-3x slower than the AVX2 kernel.
    pub(crate) fn dots(q: &[i16], codes: &[i8], pd: usize, out: &mut [i32]) {
        for (row, o) in codes.chunks_exact(pd).zip(out.iter_mut()) {
            let mut acc = [0i32; 16];
            for (qc, cc) in q.chunks_exact(16).zip(row.chunks_exact(16)) {
                for l in 0..16 {
                    acc[l] += qc[l] as i32 * cc[l] as i32;
                }
            }
            *o = acc.iter().sum();
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;

    /// AVX2 kernel: sign-extend 16 codes to i16 (`vpmovsxbw`), multiply with the
    /// i16 query and add adjacent pairs (`vpmaddwd`), accumulate in i32.
    ///
    /// # Safety
    /// The CPU must support AVX2; `q.len() == pd`, `pd % 32 == 0`,
    /// `codes.len() == out.len() * pd`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn dots(q: &[i16], codes: &[i8], pd: usize, out: &mut [i32]) {
        let qp = q.as_ptr();
        for (row, o) in codes.chunks_exact(pd).zip(out.iter_mut()) {
            let rp = row.as_ptr();
            let mut acc0 = _mm256_setzero_si256();
            let mut acc1 = _mm256_setzero_si256();
            let mut j = 0;
            while j < pd {
                let c0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(rp.add(j) as *const __m128i));
                let c1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(rp.add(j + 16) as *const __m128i));
                let q0 = _mm256_loadu_si256(qp.add(j) as *const __m256i);
                let q1 = _mm256_loadu_si256(qp.add(j + 16) as *const __m256i);
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, q0));
                acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(c1, q1));
                j += 32;
            }
            let acc = _mm256_add_epi32(acc0, acc1);
            let s = _mm_add_epi32(
                _mm256_castsi256_si128(acc),
                _mm256_extracti128_si256::<1>(acc),
            );
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
            *o = _mm_cvtsi128_si32(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn int_kernels_agree_and_are_exact() {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for pd in [32usize, 64, 384, 1024] {
            let rows = 37;
            let q: Vec<i16> = (0..pd).map(|_| (xorshift(&mut s) % 65535) as i16).collect();
            // Extreme values to exercise the widest products.
            let mut codes: Vec<i8> = (0..rows * pd)
                .map(|_| ((xorshift(&mut s) % 255) as i32 - 127) as i8)
                .collect();
            codes[..pd].fill(127);
            codes[pd..2 * pd].fill(-127);
            let q: Vec<i16> = q.iter().map(|&x| x.clamp(-1000, 1000)).collect();
            let mut a = vec![0; rows];
            portable::dots(&q, &codes, pd, &mut a);
            let want: Vec<i32> = codes
                .chunks_exact(pd)
                .map(|r| {
                    r.iter()
                        .zip(&q)
                        .map(|(&c, &x)| c as i64 * x as i64)
                        .sum::<i64>() as i32
                })
                .collect();
            assert_eq!(a, want);
            let mut b = vec![0; rows];
            dots_i16_i8(&q, &codes, pd, &mut b);
            assert_eq!(b, want);
        }
    }

    #[test]
    fn f32_dot_matches_f64_closely_and_normalises_negative_zero() {
        let a: Vec<f32> = (0..391)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let b: Vec<f32> = (0..391)
            .map(|i| ((i * 104729) % 997) as f32 / 997.0 - 0.5)
            .collect();
        let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
        assert!((dot(&a, &b) as f64 - exact).abs() < 1e-4);
        let z = dot(&[-0.0, 0.0], &[1.0, -1.0]);
        assert_eq!(z.to_bits(), 0.0f32.to_bits());
        assert_eq!(dot(&[], &[]).to_bits(), 0.0f32.to_bits());
    }
}
