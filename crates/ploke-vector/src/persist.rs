//! Binary persistence of a [`VectorIndex`].
//!
//! Format (all integers and floats little-endian):
//!
//! | offset | size            | content                                   |
//! |--------|-----------------|-------------------------------------------|
//! | 0      | 8               | magic `b"PLKVECIX"`                       |
//! | 8      | 4               | format version (`1`)                      |
//! | 12     | 4               | dims                                      |
//! | 16     | 8               | count `n`                                 |
//! | 24     | 8               | reserved, must be 0                       |
//! | 32     | 8·n             | ids (u64), in slot order                  |
//! | …      | 4·dims·n        | vectors (f32), in slot order              |
//! | end−32 | 32              | BLAKE3 hash of every preceding byte       |
//!
//! Only the canonical data (ids and f32 vectors) is stored; the int8 codes are
//! recomputed on load (deterministically, in parallel), so a file can never hold
//! codes inconsistent with its vectors. Slot order is preserved, so a round trip
//! yields an identical index.

use crate::{validate, VectorError, VectorIndex, BLOCK_LEN, MAX_DIMS};
use std::io::{self, Write};

const MAGIC: &[u8; 8] = b"PLKVECIX";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 32;
const HASH_LEN: usize = 32;
/// Inputs at least this long are hashed with both threads.
const PAR_HASH_MIN: usize = 256 * 1024;

/// Writer adaptor hashing everything written through it.
struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if n >= PAR_HASH_MIN {
            self.hasher.update_rayon(&buf[..n]);
        } else {
            self.hasher.update(&buf[..n]);
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Plain-old-data numbers that can be viewed as their little-endian bytes.
trait Pod: Copy {}
impl Pod for u64 {}
impl Pod for f32 {}

/// Write `xs` as little-endian bytes.
fn write_le<W: Write, T: Pod, const N: usize>(
    w: &mut W,
    xs: &[T],
    to_le: fn(T) -> [u8; N],
) -> io::Result<()> {
    if cfg!(target_endian = "little") {
        // SAFETY: `T` is u64 or f32 (no padding, every byte initialised); on a
        // little-endian target their memory is exactly their LE encoding.
        #[allow(unsafe_code)]
        let bytes = unsafe {
            std::slice::from_raw_parts(xs.as_ptr() as *const u8, std::mem::size_of_val(xs))
        };
        w.write_all(bytes)
    } else {
        let mut buf = Vec::with_capacity(64 * 1024);
        for chunk in xs.chunks(8 * 1024) {
            buf.clear();
            chunk.iter().for_each(|&x| buf.extend_from_slice(&to_le(x)));
            w.write_all(&buf)?;
        }
        Ok(())
    }
}

impl VectorIndex {
    /// Size in bytes of [`VectorIndex::to_bytes`]'s output.
    pub fn serialized_len(&self) -> usize {
        HEADER_LEN + self.len * (8 + 4 * self.dims) + HASH_LEN
    }

    /// Serialize the index (see the format in the `persist` module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.serialized_len());
        self.write_to(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// Stream the serialized index into `w` (same bytes as [`VectorIndex::to_bytes`]).
    pub fn write_to<W: Write>(&self, w: W) -> io::Result<()> {
        let mut w = HashingWriter {
            inner: w,
            hasher: blake3::Hasher::new(),
        };
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&(self.dims as u32).to_le_bytes());
        header[16..24].copy_from_slice(&(self.len as u64).to_le_bytes());
        w.write_all(&header)?;
        for block in &self.blocks {
            write_le(&mut w, &block.ids, u64::to_le_bytes)?;
        }
        for block in &self.blocks {
            write_le(&mut w, &block.data, f32::to_le_bytes)?;
        }
        let hash = w.hasher.finalize();
        w.inner.write_all(hash.as_bytes())?;
        w.inner.flush()
    }

    /// Deserialize bytes produced by [`VectorIndex::to_bytes`]. Any truncation,
    /// trailing data, bit flip (checked by the BLAKE3 checksum), unknown version,
    /// duplicate id or invalid vector is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VectorError> {
        use VectorError::Corrupt;
        if bytes.len() < HEADER_LEN + HASH_LEN {
            return Err(Corrupt("too short"));
        }
        if &bytes[..8] != MAGIC {
            return Err(Corrupt("bad magic"));
        }
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
        let version = u32_at(8);
        if version != VERSION {
            return Err(VectorError::UnsupportedVersion(version));
        }
        let dims = u32_at(12) as usize;
        let count = u64_at(16);
        if u64_at(24) != 0 {
            return Err(Corrupt("reserved header field is not zero"));
        }
        if !(1..=MAX_DIMS).contains(&dims) {
            return Err(Corrupt("dims out of range"));
        }
        let body = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(8 + 4 * dims))
            .ok_or(Corrupt("count out of range"))?;
        if bytes.len() != HEADER_LEN + body + HASH_LEN {
            return Err(Corrupt("length does not match header"));
        }
        let (payload, hash) = bytes.split_at(bytes.len() - HASH_LEN);
        let mut hasher = blake3::Hasher::new();
        if payload.len() >= PAR_HASH_MIN {
            hasher.update_rayon(payload);
        } else {
            hasher.update(payload);
        }
        if hasher.finalize().as_bytes() != hash {
            return Err(Corrupt("checksum mismatch"));
        }
        let n = count as usize;
        let id_bytes = &payload[HEADER_LEN..HEADER_LEN + 8 * n];
        let vec_bytes = &payload[HEADER_LEN + 8 * n..];
        let ids: Vec<u64> = id_bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        if n > u32::MAX as usize {
            return Err(Corrupt("count out of range"));
        }
        let chunk = BLOCK_LEN * dims * 4;
        let idx = VectorIndex::from_parts(dims, ids, |b| {
            let bytes = &vec_bytes[b * chunk..((b + 1) * chunk).min(vec_bytes.len())];
            let data: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            data.chunks_exact(dims)
                .all(|v| validate(dims, v).is_ok())
                .then_some(data)
        })
        .ok_or(Corrupt("invalid vector"))?;
        if idx.slots.len() != idx.len {
            return Err(Corrupt("duplicate id"));
        }
        Ok(idx)
    }
}
