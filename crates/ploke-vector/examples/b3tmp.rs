fn main(){ let v = vec![7u8; 300<<20]; for _ in 0..3 { let t=std::time::Instant::now(); let h=blake3::hash(&v); let a=t.elapsed(); let t=std::time::Instant::now(); let mut hh=blake3::Hasher::new(); hh.update_rayon(&v); let h2=hh.finalize(); println!("{} plain {:?} rayon {:?}", h==h2, a, t.elapsed()); }
 let t=std::time::Instant::now(); let b: Vec<u8> = v.clone(); println!("clone 300MB {:?} {}", t.elapsed(), b.len());
 let t=std::time::Instant::now(); let g: Vec<f32> = b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(); println!("decode {:?} {}", t.elapsed(), g[12345]);
}
