//! Exactness and behaviour tests of `VectorIndex` against a brute-force model.

// `is_multiple_of` needs Rust 1.87; the workspace MSRV is 1.85.
#![allow(clippy::manual_is_multiple_of)]

use ploke_vector::{dot, VectorError, VectorIndex, BLOCK_LEN};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[path = "support/rng.rs"]
mod rng;
use rng::{normalize, Rng};

/// Reference: score everything with `dot`, best first, ties by id.
fn brute(
    model: &BTreeMap<u64, Vec<f32>>,
    q: &[f32],
    k: usize,
    keep: impl Fn(u64) -> bool,
) -> Vec<(u64, f32)> {
    let mut all: Vec<(u64, f32)> = model
        .iter()
        .filter(|(id, _)| keep(**id))
        .map(|(id, v)| (*id, dot(q, v)))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn assert_same(got: &[(u64, f32)], want: &[(u64, f32)]) {
    assert_eq!(got.len(), want.len(), "length differs");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.0 == w.0 && g.1.to_bits() == w.1.to_bits(),
            "rank {i}: got {g:?}, want {w:?}"
        );
    }
}

fn build(dims: usize, items: &[(u64, Vec<f32>)]) -> (VectorIndex, BTreeMap<u64, Vec<f32>>) {
    let mut idx = VectorIndex::new(dims);
    let mut model = BTreeMap::new();
    for (id, v) in items {
        idx.upsert(*id, v).unwrap();
        model.insert(*id, v.clone());
    }
    (idx, model)
}

fn check_queries(
    idx: &VectorIndex,
    model: &BTreeMap<u64, Vec<f32>>,
    queries: &[Vec<f32>],
    ks: &[usize],
) {
    for q in queries {
        for &k in ks {
            assert_same(&idx.search(q, k), &brute(model, q, k, |_| true));
        }
    }
}

#[test]
fn random_unit_vectors_exact() {
    let dims = 384;
    let mut rng = Rng(1);
    let items: Vec<_> = (0..3000u64)
        .map(|i| (i * 7 + 3, normalize(rng.gauss_vec(dims))))
        .collect();
    let (idx, model) = build(dims, &items);
    let queries: Vec<_> = (0..12).map(|_| normalize(rng.gauss_vec(dims))).collect();
    check_queries(&idx, &model, &queries, &[1, 20, 100]);
    // The same through brute_force() (the public reference).
    for q in &queries {
        assert_same(&idx.search(q, 20), &idx.brute_force(q, 20));
    }
}

#[test]
fn clustered_near_duplicates_exact() {
    // 40 tight clusters: members differ by ~1e-4 per component, far below the
    // int8 resolution (~1.6e-3), plus exact duplicates (ties broken by id).
    let dims = 384;
    let mut rng = Rng(2);
    let centers: Vec<_> = (0..40).map(|_| normalize(rng.gauss_vec(dims))).collect();
    let mut items = Vec::new();
    for i in 0..4000u64 {
        let c = &centers[(i % 40) as usize];
        let v = if i % 10 == 0 {
            c.clone()
        } else {
            normalize(c.iter().map(|x| x + 1e-4 * rng.gauss()).collect())
        };
        items.push((1_000_000 - i, v));
    }
    let (idx, model) = build(dims, &items);
    let mut queries: Vec<_> = centers.iter().take(6).cloned().collect();
    queries.extend(
        (0..6).map(|j| normalize(centers[j].iter().map(|x| x + 1e-3 * rng.gauss()).collect())),
    );
    check_queries(&idx, &model, &queries, &[1, 20, 150]);
}

#[test]
fn outlier_dimension_exact() {
    // Like real sentence embeddings: one dimension much larger than the rest, which
    // makes per-vector int8 scales coarse.
    let dims = 384;
    let mut rng = Rng(3);
    let items: Vec<_> = (0..3000u64)
        .map(|i| {
            let mut v = rng.gauss_vec(dims);
            v[17] = 40.0 + rng.gauss();
            (i, normalize(v))
        })
        .collect();
    let (idx, model) = build(dims, &items);
    let queries: Vec<_> = (0..12)
        .map(|i| {
            if i % 2 == 0 {
                items[i * 97].1.clone()
            } else {
                normalize(rng.gauss_vec(dims))
            }
        })
        .collect();
    check_queries(&idx, &model, &queries, &[1, 20]);
}

#[test]
fn odd_dims_non_unit_and_extreme_magnitudes_exact() {
    for (dims, mag) in [
        (1usize, 1.0f32),
        (7, 3.0),
        (33, 1e-20),
        (100, 1e15),
        (65, 1.0),
    ] {
        let mut rng = Rng(dims as u64);
        let items: Vec<_> = (0..(2 * BLOCK_LEN as u64 + 37))
            .map(|i| {
                let s = mag * (0.1 + rng.unif() as f32);
                (i, rng.gauss_vec(dims).iter().map(|x| x * s).collect())
            })
            .collect();
        let (idx, model) = build(dims, &items);
        let mut queries: Vec<_> = (0..8)
            .map(|_| {
                rng.gauss_vec(dims)
                    .iter()
                    .map(|x| x * mag)
                    .collect::<Vec<_>>()
            })
            .collect();
        queries.push(vec![0.0; dims]); // every score is 0: ties by id
        check_queries(&idx, &model, &queries, &[1, 20, 5000]);
    }
}

#[test]
fn parallel_scan_exact() {
    // Enough blocks for the rayon path (fold + merge of per-thread states).
    let dims = 24;
    let mut rng = Rng(11);
    let centers: Vec<_> = (0..50).map(|_| normalize(rng.gauss_vec(dims))).collect();
    let items: Vec<_> = (0..(70 * BLOCK_LEN as u64))
        .map(|i| {
            let c = &centers[(i % 50) as usize];
            (
                i,
                normalize(c.iter().map(|x| x + 0.05 * rng.gauss()).collect()),
            )
        })
        .collect();
    let (idx, model) = build(dims, &items);
    let queries: Vec<_> = (0..3)
        .map(|i| normalize(centers[i].iter().map(|x| x + 0.05 * rng.gauss()).collect()))
        .collect();
    check_queries(&idx, &model, &queries, &[1, 20, 300]);
    let keep = |id: u64| id % 3 == 0;
    for q in &queries {
        assert_same(
            &idx.search_filtered(q, 20, keep),
            &brute(&model, q, 20, keep),
        );
    }
}

#[test]
fn filtered_search_exact() {
    let dims = 64;
    let mut rng = Rng(5);
    let items: Vec<_> = (0..6000u64)
        .map(|i| (i, normalize(rng.gauss_vec(dims))))
        .collect();
    let (idx, model) = build(dims, &items);
    for modulus in [2u64, 7, 1000, 100_000] {
        let keep = move |id: u64| id % modulus == 1;
        for _ in 0..5 {
            let q = normalize(rng.gauss_vec(dims));
            for k in [1, 20, 50] {
                assert_same(
                    &idx.search_filtered(&q, k, keep),
                    &brute(&model, &q, k, keep),
                );
            }
        }
    }
    let q = normalize(rng.gauss_vec(dims));
    assert!(idx.search_filtered(&q, 10, |_| false).is_empty());
}

#[test]
fn upsert_replaces_and_remove_swaps() {
    let dims = 8;
    let mut idx = VectorIndex::new(dims);
    let e = |i: usize| {
        let mut v = vec![0.0f32; dims];
        v[i] = 1.0;
        v
    };
    idx.upsert(1, &e(0)).unwrap();
    idx.upsert(2, &e(1)).unwrap();
    idx.upsert(3, &e(2)).unwrap();
    assert_eq!(idx.len(), 3);
    assert_eq!(idx.search(&e(0), 1), vec![(1, 1.0)]);
    idx.upsert(1, &e(2)).unwrap(); // replace: id 1 moves next to id 3
    assert_eq!(idx.len(), 3);
    assert_eq!(idx.get(1), Some(&e(2)[..]));
    assert_eq!(idx.search(&e(2), 2), vec![(1, 1.0), (3, 1.0)]);
    assert_eq!(idx.search(&e(0), 1)[0].1, 0.0);
    assert!(idx.remove(1));
    assert!(!idx.remove(1));
    assert!(!idx.remove(42));
    assert_eq!(idx.len(), 2);
    assert!(!idx.contains(1) && idx.contains(2) && idx.contains(3));
    assert_eq!(idx.search(&e(2), 5), vec![(3, 1.0), (2, 0.0)]);
    assert!(idx.remove(3) && idx.remove(2));
    assert!(idx.is_empty());
    assert!(idx.search(&e(2), 5).is_empty());
    idx.upsert(9, &e(3)).unwrap();
    assert_eq!(idx.search(&e(3), 5), vec![(9, 1.0)]);
}

#[test]
fn removals_across_blocks_stay_consistent() {
    let dims = 16;
    let mut rng = Rng(6);
    let items: Vec<_> = (0..(3 * BLOCK_LEN as u64 + 11))
        .map(|i| (i, normalize(rng.gauss_vec(dims))))
        .collect();
    let (mut idx, mut model) = build(dims, &items);
    for round in 0..3 {
        let ids: Vec<u64> = model.keys().copied().collect();
        for id in ids {
            if rng.next_u64() % 3 == 0 {
                assert!(idx.remove(id));
                model.remove(&id);
            }
        }
        for i in 0..200u64 {
            let id = 10_000 * (round + 1) + i;
            let v = normalize(rng.gauss_vec(dims));
            idx.upsert(id, &v).unwrap();
            model.insert(id, v);
        }
        assert_eq!(idx.len(), model.len());
        for (id, v) in &model {
            assert_eq!(idx.get(*id), Some(&v[..]));
        }
        let mut seen: Vec<u64> = idx.iter().map(|(id, _)| id).collect();
        seen.sort_unstable();
        assert_eq!(seen, model.keys().copied().collect::<Vec<_>>());
        let queries: Vec<_> = (0..5).map(|_| normalize(rng.gauss_vec(dims))).collect();
        check_queries(&idx, &model, &queries, &[20]);
    }
    let ids: Vec<u64> = model.keys().copied().collect();
    for id in ids {
        assert!(idx.remove(id));
    }
    assert!(idx.is_empty());
    assert!(idx.memory_bytes() < 200 * 1024, "blocks released");
}

#[test]
fn invalid_vectors_are_rejected() {
    let mut idx = VectorIndex::new(4);
    assert_eq!(
        idx.upsert(1, &[1.0, 2.0, 3.0]),
        Err(VectorError::DimensionMismatch {
            expected: 4,
            got: 3
        })
    );
    assert_eq!(
        idx.upsert(1, &[1.0, f32::NAN, 3.0, 4.0]),
        Err(VectorError::NonFinite { index: 1 })
    );
    assert_eq!(
        idx.upsert(1, &[1.0, 0.0, f32::NEG_INFINITY, 4.0]),
        Err(VectorError::NonFinite { index: 2 })
    );
    assert_eq!(
        idx.upsert(1, &[1e30, 0.0, 0.0, 0.0]),
        Err(VectorError::NormTooLarge)
    );
    assert!(idx.is_empty());
    idx.upsert(1, &[1.0, 0.0, 0.0, 0.0]).unwrap();
    // A failed replace leaves the old vector.
    assert!(idx.upsert(1, &[f32::NAN; 4]).is_err());
    assert_eq!(idx.get(1), Some(&[1.0, 0.0, 0.0, 0.0][..]));
    // Invalid queries: empty result / explicit error.
    assert!(idx.search(&[1.0, 0.0], 3).is_empty());
    assert!(idx.search(&[f32::NAN, 0.0, 0.0, 0.0], 3).is_empty());
    assert_eq!(
        idx.try_search(&[1.0, 0.0], 3),
        Err(VectorError::DimensionMismatch {
            expected: 4,
            got: 2
        })
    );
}

#[test]
#[should_panic]
fn zero_dims_panics() {
    let _ = VectorIndex::new(0);
}

#[test]
fn empty_index_and_k_edge_cases() {
    let idx = VectorIndex::new(3);
    assert!(idx.is_empty());
    assert!(idx.search(&[1.0, 0.0, 0.0], 10).is_empty());
    assert_eq!(idx.try_search(&[1.0, 0.0, 0.0], 10), Ok(vec![]));

    let mut idx = VectorIndex::new(3);
    for i in 0..5u64 {
        idx.upsert(i, &[i as f32, 1.0, 0.0]).unwrap();
    }
    assert!(idx.search(&[1.0, 0.0, 0.0], 0).is_empty());
    let all = idx.search(&[1.0, 0.0, 0.0], 100);
    assert_eq!(
        all.iter().map(|h| h.0).collect::<Vec<_>>(),
        vec![4, 3, 2, 1, 0]
    );
    let (hits, stats) = idx
        .search_with_stats(&[1.0, 0.0, 0.0], 2, |_| true)
        .unwrap();
    assert_eq!(hits, vec![(4, 4.0), (3, 3.0)]);
    assert_eq!(stats.scanned, 5);
    assert!(stats.reranked >= 2 && stats.reranked <= stats.candidates);
}

#[test]
fn pruning_keeps_reranking_small_on_random_data() {
    let dims = 384;
    let mut rng = Rng(7);
    let items: Vec<_> = (0..20_000u64)
        .map(|i| (i, normalize(rng.gauss_vec(dims))))
        .collect();
    let idx = VectorIndex::from_vectors(dims, items.iter().map(|(i, v)| (*i, &v[..]))).unwrap();
    for _ in 0..5 {
        let q = normalize(rng.gauss_vec(dims));
        let (hits, stats) = idx.search_with_stats(&q, 20, |_| true).unwrap();
        assert_same(&hits, &idx.brute_force(&q, 20));
        assert!(stats.reranked <= 2000, "{stats:?}");
    }
}

#[test]
fn from_vectors_matches_upserts() {
    let dims = 40;
    let mut rng = Rng(8);
    let mut items: Vec<_> = (0..2500u64)
        .map(|i| (i % 2400, rng.gauss_vec(dims)))
        .collect();
    items.push((5, rng.gauss_vec(dims)));
    let (upserted, _) = build(dims, &items);
    let built = VectorIndex::from_vectors(dims, items.iter().map(|(i, v)| (*i, &v[..]))).unwrap();
    assert_eq!(built.to_bytes(), upserted.to_bytes());
    let unique = &items[..2400];
    let (upserted, _) = build(dims, unique);
    let built = VectorIndex::from_vectors(dims, unique.iter().map(|(i, v)| (*i, &v[..]))).unwrap();
    assert_eq!(built.to_bytes(), upserted.to_bytes());
    assert!(VectorIndex::from_vectors(dims, [(1u64, &[0.0f32; 3][..])]).is_err());
}

#[test]
fn persistence_round_trip() {
    let dims = 48;
    let mut rng = Rng(9);
    let items: Vec<_> = (0..(BLOCK_LEN as u64 + 300))
        .map(|i| (i * 31, normalize(rng.gauss_vec(dims))))
        .collect();
    let (mut idx, mut model) = build(dims, &items);
    for i in 0..100u64 {
        idx.remove(i * 31 * 3);
        model.remove(&(i * 31 * 3));
    }
    let bytes = idx.to_bytes();
    assert_eq!(bytes.len(), idx.serialized_len());
    let mut streamed = Vec::new();
    idx.write_to(&mut streamed).unwrap();
    assert_eq!(streamed, bytes);
    let back = VectorIndex::from_bytes(&bytes).unwrap();
    assert_eq!(back.len(), idx.len());
    assert_eq!(back.dims(), dims);
    assert_eq!(back.to_bytes(), bytes);
    let queries: Vec<_> = (0..5).map(|_| normalize(rng.gauss_vec(dims))).collect();
    check_queries(&back, &model, &queries, &[20]);

    let empty = VectorIndex::new(5);
    let back = VectorIndex::from_bytes(&empty.to_bytes()).unwrap();
    assert!(back.is_empty() && back.dims() == 5);
}

#[test]
fn corrupted_bytes_are_rejected() {
    let dims = 6;
    let mut rng = Rng(10);
    let items: Vec<_> = (0..50u64).map(|i| (i, rng.gauss_vec(dims))).collect();
    let (idx, _) = build(dims, &items);
    let bytes = idx.to_bytes();
    // Any single bit flip anywhere.
    for pos in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[pos] ^= 1 << (pos % 8);
        assert!(VectorIndex::from_bytes(&b).is_err(), "flip at {pos}");
    }
    assert!(VectorIndex::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(VectorIndex::from_bytes(&bytes[..40]).is_err());
    assert!(VectorIndex::from_bytes(&[]).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(VectorIndex::from_bytes(&longer).is_err());
    let mut v2 = bytes.clone();
    v2[8] = 2;
    assert_eq!(
        VectorIndex::from_bytes(&v2).err(),
        Some(VectorError::UnsupportedVersion(2))
    );
    // Well-formed checksum over invalid content: duplicate ids, NaN.
    let reseal = |mut b: Vec<u8>| {
        let n = b.len() - 32;
        let h = blake3_of(&b[..n]);
        b[n..].copy_from_slice(&h);
        b
    };
    let mut dup = bytes.clone();
    dup[32 + 8..32 + 16].copy_from_slice(&0u64.to_le_bytes());
    assert_eq!(
        VectorIndex::from_bytes(&reseal(dup)).err(),
        Some(VectorError::Corrupt("duplicate id"))
    );
    let mut nan = bytes.clone();
    let off = 32 + 8 * 50;
    nan[off..off + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(
        VectorIndex::from_bytes(&reseal(nan)).err(),
        Some(VectorError::Corrupt("invalid vector"))
    );
    assert_eq!(
        VectorIndex::from_bytes(&reseal(bytes.clone()))
            .unwrap()
            .len(),
        50
    );
}

/// The format's checksum (BLAKE3 of everything before it).
fn blake3_of(b: &[u8]) -> [u8; 32] {
    *blake3::hash(b).as_bytes()
}

#[test]
fn index_is_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<VectorIndex>();
}

#[derive(Debug, Clone)]
enum Op {
    Upsert(u64, Vec<f32>),
    Remove(u64),
    Search(Vec<f32>, usize, u64),
    RoundTrip,
}

const PDIMS: usize = 5;

fn op_strategy() -> impl Strategy<Value = Op> {
    // Few distinct ids (collisions, replaces) and few distinct component values
    // (ties, duplicates, zero vectors).
    let comp = prop_oneof![Just(0.0f32), Just(1.0), Just(-1.0), Just(0.5), -2.0f32..2.0,];
    let vec = proptest::collection::vec(comp, PDIMS);
    prop_oneof![
        5 => (0u64..40, vec.clone()).prop_map(|(i, v)| Op::Upsert(i, v)),
        2 => (0u64..40).prop_map(Op::Remove),
        2 => (vec, 0usize..12, 1u64..4).prop_map(|(q, k, m)| Op::Search(q, k, m)),
        1 => Just(Op::RoundTrip),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn ops_match_model(ops in proptest::collection::vec(op_strategy(), 1..120)) {
        let mut idx = VectorIndex::new(PDIMS);
        let mut model: BTreeMap<u64, Vec<f32>> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Upsert(id, v) => {
                    idx.upsert(id, &v).unwrap();
                    model.insert(id, v);
                }
                Op::Remove(id) => {
                    prop_assert_eq!(idx.remove(id), model.remove(&id).is_some());
                }
                Op::Search(q, k, m) => {
                    let keep = move |id: u64| id % m == 0;
                    let got = idx.search_filtered(&q, k, keep);
                    let want = brute(&model, &q, k, keep);
                    prop_assert_eq!(got.len(), want.len());
                    for (g, w) in got.iter().zip(&want) {
                        prop_assert!(g.0 == w.0 && g.1.to_bits() == w.1.to_bits(), "{:?} vs {:?}", got, want);
                    }
                }
                Op::RoundTrip => {
                    idx = VectorIndex::from_bytes(&idx.to_bytes()).unwrap();
                }
            }
            prop_assert_eq!(idx.len(), model.len());
        }
        for (id, v) in &model {
            prop_assert_eq!(idx.get(*id), Some(&v[..]));
        }
    }
}
