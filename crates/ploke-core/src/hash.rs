//! Content hashes (blake3, truncated to 128 bits) of files and item source text.

use std::fmt;

/// A 128-bit content hash. Used for files (to detect changes and stale edits) and for item
/// source text (to key embeddings and detect edited items).
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct ContentHash(pub u128);

impl ContentHash {
    pub fn of(bytes: &[u8]) -> Self {
        let h = blake3::hash(bytes);
        let mut b = [0u8; 16];
        b.copy_from_slice(&h.as_bytes()[..16]);
        ContentHash(u128::from_le_bytes(b))
    }

    /// Lower-case hex, 32 characters.
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        u128::from_str_radix(s, 16).ok().map(ContentHash)
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
