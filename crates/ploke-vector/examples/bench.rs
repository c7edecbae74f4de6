//! Latency / insert cost / memory / recall benchmark of `VectorIndex`.
//!
//! ```text
//! cargo run --release -p ploke-vector --example bench            # N = 10k, 50k, 200k
//! cargo run --release -p ploke-vector --example bench -- 20000   # custom N list
//! ```
//!
//! Two data sets of 384-dim unit vectors: `uniform` (isotropic Gaussian) and
//! `clustered` (embedding-like: a shared mean direction, 1000 topics, near
//! duplicates). 200 queries each: half perturbed stored vectors, half fresh
//! vectors from the same distribution. k = 20.

// An example prints what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// `is_multiple_of` needs Rust 1.87; the workspace MSRV is 1.85.
#![allow(clippy::manual_is_multiple_of)]

use ploke_vector::{force_portable_kernel, VectorIndex};
use std::time::{Duration, Instant};

const DIMS: usize = 384;
const K: usize = 20;
const QUERIES: usize = 200;

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::{normalize, Rng};

struct Data {
    vectors: Vec<Vec<f32>>,
    queries: Vec<Vec<f32>>,
}

fn uniform(n: usize, rng: &mut Rng) -> Data {
    let vectors: Vec<_> = (0..n).map(|_| normalize(rng.gauss_vec(DIMS))).collect();
    let queries = (0..QUERIES)
        .map(|i| {
            if i % 2 == 0 {
                let base = &vectors[rng.next_u64() as usize % n];
                normalize(base.iter().map(|x| x + 0.03 * rng.gauss()).collect())
            } else {
                normalize(rng.gauss_vec(DIMS))
            }
        })
        .collect();
    Data { vectors, queries }
}

fn clustered(n: usize, rng: &mut Rng) -> Data {
    let mean = normalize(rng.gauss_vec(DIMS));
    let topics: Vec<_> = (0..1000).map(|_| normalize(rng.gauss_vec(DIMS))).collect();
    let sample = |rng: &mut Rng| {
        let t = &topics[rng.next_u64() as usize % topics.len()];
        let noise = 0.9 + 0.6 * rng.unif() as f32;
        normalize(
            (0..DIMS)
                .map(|j| 0.6 * mean[j] + t[j] + noise * rng.gauss() / (DIMS as f32).sqrt())
                .collect(),
        )
    };
    let mut vectors: Vec<Vec<f32>> = Vec::with_capacity(n);
    for i in 0..n {
        // 5% near-duplicates of an earlier vector (copied code, re-exports…).
        if i > 0 && rng.next_u64() % 20 == 0 {
            let base = vectors[rng.next_u64() as usize % i].clone();
            vectors.push(normalize(
                base.iter().map(|x| x + 1e-3 * rng.gauss()).collect(),
            ));
        } else {
            vectors.push(sample(rng));
        }
    }
    let queries = (0..QUERIES)
        .map(|i| {
            if i % 2 == 0 {
                let base = &vectors[rng.next_u64() as usize % n];
                normalize(base.iter().map(|x| x + 0.02 * rng.gauss()).collect())
            } else {
                sample(rng)
            }
        })
        .collect();
    Data { vectors, queries }
}

fn pct(mut xs: Vec<f64>, p: f64) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median and p90 latency (ms) of `f` over the queries (after 5 warm-up queries).
fn time_queries(queries: &[Vec<f32>], mut f: impl FnMut(&[f32])) -> (f64, f64) {
    for q in queries.iter().take(5) {
        f(q);
    }
    let lat: Vec<f64> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            f(q);
            ms(t.elapsed())
        })
        .collect();
    (pct(lat.clone(), 0.5), pct(lat, 0.9))
}

fn run(name: &str, n: usize, data: &Data) {
    println!("\n== {name}, N = {n}, dims = {DIMS}, k = {K}");

    // Insert cost: one-by-one upserts into a fresh index (includes block allocation).
    let mut idx = VectorIndex::new(DIMS);
    let t = Instant::now();
    for (i, v) in data.vectors.iter().enumerate() {
        idx.upsert(i as u64, v).unwrap();
    }
    let upsert = t.elapsed();
    // Worst single upsert while adding another 1000 vectors.
    let mut worst = Duration::ZERO;
    let mut extra = Vec::new();
    for i in 0..1000 {
        let v = &data.vectors[i];
        let t = Instant::now();
        idx.upsert((n + i) as u64, v).unwrap();
        worst = worst.max(t.elapsed());
        extra.push((n + i) as u64);
    }
    let t = Instant::now();
    for id in &extra {
        idx.remove(*id);
    }
    let remove = t.elapsed();
    // Steady-state replace (no allocation, no page faults).
    let m = n.min(20_000);
    let t = Instant::now();
    for i in 0..m {
        idx.upsert(i as u64, &data.vectors[(i + 1) % n]).unwrap();
    }
    let replace = t.elapsed();
    for i in 0..m {
        idx.upsert(i as u64, &data.vectors[i]).unwrap();
    }
    let t = Instant::now();
    let bulk = VectorIndex::from_vectors(
        DIMS,
        data.vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (i as u64, &v[..])),
    )
    .unwrap();
    let bulk_t = t.elapsed();
    drop(bulk);
    println!(
        "insert: upsert {:.2} us/vector (worst single {:.1} us), replace {:.2} us, remove {:.2} us, from_vectors (parallel) {:.2} us/vector",
        upsert.as_secs_f64() * 1e6 / n as f64,
        worst.as_secs_f64() * 1e6,
        replace.as_secs_f64() * 1e6 / m as f64,
        remove.as_secs_f64() * 1e6 / extra.len() as f64,
        bulk_t.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "memory: {:.0} bytes/vector ({:.1} MiB total; f32 data alone = {} B/vector)",
        idx.memory_bytes() as f64 / n as f64,
        idx.memory_bytes() as f64 / (1 << 20) as f64,
        4 * DIMS
    );

    // Exactness / recall vs brute-force f32.
    let (mut same, mut recall_hits, mut cands, mut rer) = (0, 0, Vec::new(), Vec::new());
    for q in &data.queries {
        let (hits, stats) = idx.search_with_stats(q, K, |_| true).unwrap();
        let exact = idx.brute_force(q, K);
        same += (hits.len() == exact.len()
            && hits
                .iter()
                .zip(&exact)
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits()))
            as usize;
        recall_hits += hits
            .iter()
            .filter(|h| exact.iter().any(|e| e.0 == h.0))
            .count();
        cands.push(stats.candidates as f64);
        rer.push(stats.reranked as f64);
    }
    println!(
        "recall@{K} vs brute-force f32: {:.4} ({same}/{} result lists bit-identical); candidates median {:.0} / p90 {:.0} / max {:.0}, re-ranked median {:.0} / max {:.0}",
        recall_hits as f64 / (K * data.queries.len()) as f64,
        data.queries.len(),
        pct(cands.clone(), 0.5),
        pct(cands.clone(), 0.9),
        pct(cands, 1.0),
        pct(rer.clone(), 0.5),
        pct(rer, 1.0),
    );

    let (m, p) = time_queries(&data.queries, |q| {
        std::hint::black_box(idx.search(q, K));
    });
    println!("search (default; rayon if >= 64 blocks): median {m:.3} ms, p90 {p:.3} ms");
    let pool1 = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (m, p) = pool1.install(|| {
        time_queries(&data.queries, |q| {
            std::hint::black_box(idx.search(q, K));
        })
    });
    println!("search (inside a 1-thread pool):         median {m:.3} ms, p90 {p:.3} ms");
    force_portable_kernel(true);
    let (m, p) = time_queries(&data.queries, |q| {
        std::hint::black_box(idx.search(q, K));
    });
    force_portable_kernel(false);
    println!("search (default, portable kernel):       median {m:.3} ms, p90 {p:.3} ms");
    let (m, p) = time_queries(&data.queries, |q| {
        std::hint::black_box(idx.brute_force(q, K));
    });
    println!("brute-force f32 (2 threads), reference:  median {m:.3} ms, p90 {p:.3} ms");
    let (m, p) = time_queries(&data.queries, |q| {
        std::hint::black_box(idx.search_filtered(q, K, |id| id % 10 == 0));
    });
    println!("search_filtered (default, keep 10%):     median {m:.3} ms, p90 {p:.3} ms");

    let t = Instant::now();
    let bytes = idx.to_bytes();
    let ser = t.elapsed();
    let t = Instant::now();
    let back = VectorIndex::from_bytes(&bytes).unwrap();
    let de = t.elapsed();
    assert_eq!(back.len(), idx.len());
    println!(
        "persistence: {:.1} MiB, to_bytes {:.1} ms, from_bytes (checksum + validate + quantize) {:.1} ms",
        bytes.len() as f64 / (1 << 20) as f64,
        ms(ser),
        ms(de)
    );
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

fn main() {
    let ns: Vec<usize> = {
        let args: Vec<usize> = std::env::args()
            .skip(1)
            .map(|a| a.parse().unwrap())
            .collect();
        if args.is_empty() {
            vec![10_000, 50_000, 200_000]
        } else {
            args
        }
    };
    println!(
        "threads: {}, avx2: {}",
        rayon::current_num_threads(),
        has_avx2()
    );
    for &n in &ns {
        let mut rng = Rng(42 + n as u64);
        let data = uniform(n, &mut rng);
        run("uniform", n, &data);
        drop(data);
        let data = clustered(n, &mut rng);
        run("clustered", n, &data);
    }
}
