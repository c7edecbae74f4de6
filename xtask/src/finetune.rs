//! `cargo xtask finetune-embed --texts FILE [--epochs N] [--batch N] [--lr X] [--out DIR]`:
//! fine-tunes the local embedding model (all-MiniLM-L6-v2 from `target/models/`, or
//! `PLOKE_EMBED_DIR`) on mined change requests, so that a request lands near the items its
//! change edited.
//!
//! The data is what `cargo xtask rank-features --texts-out FILE` writes: per request, the texts
//! (as ploke embeds them) of the target items among its candidates and of the best other
//! candidates. The loss is the usual contrastive one of sentence embedding models: in a batch,
//! each request must be most similar to its own target among every target and hard negative of
//! the batch (cross-entropy over cosine similarities / temperature). The model directory is
//! written whole (weights, config, tokenizer, pooling), so `PLOKE_EMBED_DIR=DIR` uses it; its
//! model id differs from the original's, so every index embeds its items again.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use serde_json::Value;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::repo_root;

struct Example {
    query: String,
    pos: String,
    neg: Option<String>,
}

/// Token ids of `texts`, truncated to `max` tokens, padded to the longest: (ids, mask).
fn encode(tk: &Tokenizer, texts: &[&str], dev: &Device) -> Result<(Tensor, Tensor)> {
    let enc = tk
        .encode_batch(texts.to_vec(), true)
        .map_err(|e| anyhow::anyhow!("tokenizing: {e}"))?;
    let seq = enc
        .iter()
        .map(|e| e.get_ids().len())
        .max()
        .unwrap_or(1)
        .max(1);
    let (mut ids, mut mask) = (vec![0u32; texts.len() * seq], vec![0u32; texts.len() * seq]);
    for (b, e) in enc.iter().enumerate() {
        let row = e.get_ids();
        ids[b * seq..b * seq + row.len()].copy_from_slice(row);
        mask[b * seq..b * seq + row.len()].fill(1);
    }
    Ok((
        Tensor::from_vec(ids, (texts.len(), seq), dev)?,
        Tensor::from_vec(mask, (texts.len(), seq), dev)?,
    ))
}

/// BERT's forward pass written with differentiable operations only. candle-transformers'
/// `BertModel` (which ploke serves with) uses fused layer-norm and softmax kernels that have
/// no backward pass, so no weight would get a gradient through it. The weights are the same
/// variables; `check_equivalent` compares the two on real text before training.
struct TrainBert {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    ln: (Tensor, Tensor),
    layers: Vec<Layer>,
    heads: usize,
    eps: f64,
}

struct Layer {
    q: (Tensor, Tensor),
    k: (Tensor, Tensor),
    v: (Tensor, Tensor),
    attn_out: (Tensor, Tensor),
    attn_ln: (Tensor, Tensor),
    inter: (Tensor, Tensor),
    out: (Tensor, Tensor),
    out_ln: (Tensor, Tensor),
}

impl Layer {
    fn frozen(self) -> Layer {
        let d = |(w, b): (Tensor, Tensor)| (w.detach(), b.detach());
        Layer {
            q: d(self.q),
            k: d(self.k),
            v: d(self.v),
            attn_out: d(self.attn_out),
            attn_ln: d(self.attn_ln),
            inter: d(self.inter),
            out: d(self.out),
            out_ln: d(self.out_ln),
        }
    }
}

impl TrainBert {
    /// The weights of the embeddings and of every layer below the top `trained` layers are
    /// frozen (detached: no gradient, no backward pass through them).
    fn load(vb: &VarBuilder, c: &BertConfig, raw: &Value, trained: usize) -> Result<TrainBert> {
        let first_trained = c.num_hidden_layers.saturating_sub(trained);
        let h = c.hidden_size;
        let i = raw["intermediate_size"]
            .as_u64()
            .context("intermediate_size")? as usize;
        let lin = |p: &str, o: usize, n: usize| -> Result<(Tensor, Tensor)> {
            Ok((
                vb.get((o, n), &format!("{p}.weight"))?,
                vb.get(o, &format!("{p}.bias"))?,
            ))
        };
        let ln = |p: &str| -> Result<(Tensor, Tensor)> {
            Ok((
                vb.get(h, &format!("{p}.weight"))?,
                vb.get(h, &format!("{p}.bias"))?,
            ))
        };
        let layers = (0..c.num_hidden_layers)
            .map(|l| {
                let p = format!("encoder.layer.{l}");
                let layer = Layer {
                    q: lin(&format!("{p}.attention.self.query"), h, h)?,
                    k: lin(&format!("{p}.attention.self.key"), h, h)?,
                    v: lin(&format!("{p}.attention.self.value"), h, h)?,
                    attn_out: lin(&format!("{p}.attention.output.dense"), h, h)?,
                    attn_ln: ln(&format!("{p}.attention.output.LayerNorm"))?,
                    inter: lin(&format!("{p}.intermediate.dense"), i, h)?,
                    out: lin(&format!("{p}.output.dense"), h, i)?,
                    out_ln: ln(&format!("{p}.output.LayerNorm"))?,
                };
                Ok(if l < first_trained {
                    layer.frozen()
                } else {
                    layer
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ln0 = ln("embeddings.LayerNorm")?;
        Ok(TrainBert {
            word: vb
                .get((c.vocab_size, h), "embeddings.word_embeddings.weight")?
                .detach(),
            position: vb
                .get(
                    (c.max_position_embeddings, h),
                    "embeddings.position_embeddings.weight",
                )?
                .detach(),
            token_type: vb
                .get(
                    (c.type_vocab_size, h),
                    "embeddings.token_type_embeddings.weight",
                )?
                .detach(),
            ln: (ln0.0.detach(), ln0.1.detach()),
            layers,
            heads: c.num_attention_heads,
            eps: c.layer_norm_eps,
        })
    }

    fn linear(x: &Tensor, (w, b): &(Tensor, Tensor)) -> Result<Tensor> {
        Ok(x.broadcast_matmul(&w.t()?)?.broadcast_add(b)?)
    }

    fn layer_norm(&self, x: &Tensor, (w, b): &(Tensor, Tensor)) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        Ok(normed.broadcast_mul(w)?.broadcast_add(b)?)
    }

    /// Hidden states (batch, seq, hidden) of `ids` under `mask` (1 for real tokens).
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, seq) = ids.dims2()?;
        let h = self.word.dim(1)?;
        let dh = h / self.heads;
        let words = self
            .word
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, seq, h))?;
        let pos = self.position.narrow(0, 0, seq)?;
        let tt = self.token_type.narrow(0, 0, 1)?;
        let mut x = self.layer_norm(&words.broadcast_add(&pos)?.broadcast_add(&tt)?, &self.ln)?;
        // Padding gets a large negative score before the softmax.
        let bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?.reshape((b, 1, 1, seq))?;
        let scale = 1.0 / (dh as f64).sqrt();
        for l in &self.layers {
            let split = |t: Tensor| -> Result<Tensor> {
                Ok(t.reshape((b, seq, self.heads, dh))?
                    .transpose(1, 2)?
                    .contiguous()?)
            };
            let q = split(Self::linear(&x, &l.q)?)?;
            let k = split(Self::linear(&x, &l.k)?)?;
            let v = split(Self::linear(&x, &l.v)?)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&bias)?;
            let max = scores.max_keepdim(D::Minus1)?.detach();
            let e = scores.broadcast_sub(&max)?.exp()?;
            let probs = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, seq, h))?;
            let a = self.layer_norm(&(Self::linear(&ctx, &l.attn_out)? + &x)?, &l.attn_ln)?;
            let inter = Self::linear(&a, &l.inter)?.gelu_erf()?;
            x = self.layer_norm(&(Self::linear(&inter, &l.out)? + &a)?, &l.out_ln)?;
        }
        Ok(x)
    }
}

/// Mean-pooled, L2-normalised embeddings (batch, dims), differentiable.
fn embed(model: &TrainBert, tk: &Tokenizer, texts: &[&str], dev: &Device) -> Result<Tensor> {
    let (ids, mask) = encode(tk, texts, dev)?;
    let hidden = model.forward(&ids, &mask)?;
    pool(&hidden, &mask)
}

fn pool(hidden: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let sum = hidden.broadcast_mul(&mask)?.sum(1)?;
    let count = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
    let pooled = sum.broadcast_div(&count)?;
    let norm = pooled
        .sqr()?
        .sum_keepdim(1)?
        .sqrt()?
        .clamp(1e-9f32, f32::MAX)?;
    Ok(pooled.broadcast_div(&norm)?)
}

/// The training forward pass must give the vectors ploke's serving model gives.
fn check_equivalent(
    ours: &TrainBert,
    served: &BertModel,
    tk: &Tokenizer,
    texts: &[&str],
    dev: &Device,
) -> Result<f32> {
    let (ids, mask) = encode(tk, texts, dev)?;
    let a = pool(&ours.forward(&ids, &mask)?, &mask)?;
    let b = pool(
        &served.forward(&ids, &ids.zeros_like()?, Some(&mask))?,
        &mask,
    )?;
    Ok((a - b)?.abs()?.max_all()?.to_scalar::<f32>()?)
}

fn read_examples(path: &Path) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    for l in std::fs::read_to_string(path)
        .with_context(|| path.display().to_string())?
        .lines()
    {
        let v: Value = serde_json::from_str(l)?;
        let query = v["query"].as_str().unwrap_or_default().to_string();
        let neg = v["neg"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|x| x.as_str())
            .map(str::to_string);
        // One example per target, so a request with several targets teaches each.
        for p in v["pos"].as_array().into_iter().flatten().take(3) {
            if let Some(p) = p.as_str() {
                out.push(Example {
                    query: query.clone(),
                    pos: p.to_string(),
                    neg: neg.clone(),
                });
            }
        }
    }
    Ok(out)
}

pub fn run(args: &[String]) -> Result<()> {
    let (mut texts, mut epochs, mut batch, mut lr, mut out) =
        (None, 1usize, 16usize, 5e-5f64, None);
    let (mut trained_layers, mut max_steps) = (2usize, usize::MAX);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--texts" => texts = Some(PathBuf::from(it.next().context("--texts FILE")?)),
            "--epochs" => epochs = it.next().context("--epochs N")?.parse()?,
            "--batch" => batch = it.next().context("--batch N")?.parse()?,
            "--lr" => lr = it.next().context("--lr X")?.parse()?,
            "--out" => out = Some(PathBuf::from(it.next().context("--out DIR")?)),
            "--layers" => trained_layers = it.next().context("--layers N")?.parse()?,
            "--max-steps" => max_steps = it.next().context("--max-steps N")?.parse()?,
            other => bail!("unknown option {other}; usage: cargo xtask finetune-embed --texts FILE [--epochs N] [--batch N] [--lr X] [--layers N] [--max-steps N] [--out DIR]"),
        }
    }
    let texts = texts
        .context("--texts FILE is required (from `cargo xtask rank-features --texts-out FILE`)")?;
    let base = crate::local_model_dir();
    let out = out.unwrap_or_else(|| repo_root().join("target/models/minilm-ploke"));
    let mut examples = read_examples(&texts)?;
    // A fixed shuffle (xorshift), so that a batch mixes repositories.
    let mut s = 0x9e3779b97f4a7c15u64;
    for i in (1..examples.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        examples.swap(i, (s % (i as u64 + 1)) as usize);
    }
    let dev = Device::Cpu;
    let config_text = std::fs::read_to_string(base.join("config.json"))?;
    let config: BertConfig = serde_json::from_str(&config_text)?;
    let raw_config: Value = serde_json::from_str(&config_text)?;
    let mut tk = Tokenizer::from_file(base.join("tokenizer.json"))
        .map_err(|e| anyhow::anyhow!("tokenizer.json: {e}"))?;
    tk.with_padding(None);
    tk.with_truncation(Some(TruncationParams {
        max_length: ploke_retrieve::embed_text::DEFAULT_MAX_TOKENS,
        strategy: TruncationStrategy::LongestFirst,
        stride: 0,
        direction: TruncationDirection::Right,
    }))
    .map_err(|e| anyhow::anyhow!("truncation: {e}"))?;
    let mut varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
    let model = TrainBert::load(&vb, &config, &raw_config, trained_layers)?;
    varmap.load(base.join("model.safetensors"))?;
    {
        // SAFETY: read-only map of a file nothing else writes meanwhile.
        #[allow(unsafe_code)]
        let served_vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[base.join("model.safetensors")],
                DType::F32,
                &dev,
            )?
        };
        let served = BertModel::load(served_vb, &config)?;
        let sample: Vec<&str> = examples.iter().take(8).map(|e| e.pos.as_str()).collect();
        let diff = check_equivalent(&model, &served, &tk, &sample, &dev)?;
        println!("training forward vs served model: max |Δ| {diff:.2e} over 8 texts");
        if diff > 1e-3 {
            bail!("the training forward pass differs from the served model by {diff}");
        }
    }
    let mut opt = candle_nn::AdamW::new(
        varmap.all_vars(),
        candle_nn::ParamsAdamW {
            lr,
            weight_decay: 0.01,
            ..Default::default()
        },
    )?;
    // One weight matrix kept aside, to report how far training moved it.
    let probe_name = format!(
        "encoder.layer.{}.attention.self.query.weight",
        config.num_hidden_layers.saturating_sub(1)
    );
    let probe = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("var map lock"))?
        .get(&probe_name)
        .with_context(|| format!("no {probe_name}"))?
        .clone();
    let before = probe.as_tensor().copy()?;
    let temperature = 0.05f64;
    println!(
        "{} examples from {}, batch {batch}, {epochs} epoch(s), lr {lr}",
        examples.len(),
        texts.display()
    );
    let t = Instant::now();
    let steps = (examples.len().div_ceil(batch) * epochs).min(max_steps);
    let mut step = 0usize;
    let mut recent = Vec::new();
    for _ in 0..epochs {
        for chunk in examples.chunks(batch) {
            if chunk.len() < 2 || step >= steps {
                continue;
            }
            let queries: Vec<&str> = chunk.iter().map(|e| e.query.as_str()).collect();
            // Candidates: every target of the batch, then its hard negatives.
            let mut docs: Vec<&str> = chunk.iter().map(|e| e.pos.as_str()).collect();
            docs.extend(chunk.iter().filter_map(|e| e.neg.as_deref()));
            let q = embed(&model, &tk, &queries, &dev)?;
            let d = embed(&model, &tk, &docs, &dev)?;
            let logits = (q.matmul(&d.t()?)? / temperature)?;
            let labels = Tensor::arange(0u32, chunk.len() as u32, &dev)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &labels)?;
            let grads = loss.backward()?;
            if step == 0 {
                let vars = varmap.all_vars();
                let with = vars
                    .iter()
                    .filter(|v| grads.get(v.as_tensor()).is_some())
                    .count();
                println!(
                    "{with}/{} weights get a gradient (the top {trained_layers} layers)",
                    vars.len()
                );
                if with == 0 {
                    bail!("no weight gets a gradient: the model is not trainable this way");
                }
            }
            opt.step(&grads)?;
            recent.push(loss.to_scalar::<f32>()?);
            step += 1;
            if step.is_multiple_of(25) || step == steps {
                let mean = recent.iter().sum::<f32>() / recent.len() as f32;
                recent.clear();
                println!(
                    "step {step}/{steps}: loss {mean:.3} ({:.0} s)",
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    let moved = (probe.as_tensor() - &before)?
        .abs()?
        .mean_all()?
        .to_scalar::<f32>()?;
    let scale = before.abs()?.mean_all()?.to_scalar::<f32>()?;
    println!("the last layer's query weights moved by {moved:.2e} on average (their mean magnitude {scale:.2e})");
    if moved == 0.0 {
        bail!("training did not change the weights");
    }
    std::fs::create_dir_all(&out)?;
    varmap.save(out.join("model.safetensors"))?;
    for entry in std::fs::read_dir(&base)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "model.safetensors" {
            continue;
        }
        let dst = out.join(&name);
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&dst)?;
            for f in std::fs::read_dir(entry.path())? {
                let f = f?;
                std::fs::copy(f.path(), dst.join(f.file_name()))?;
            }
        } else {
            std::fs::copy(entry.path(), dst)?;
        }
    }
    println!(
        "fine-tuned model: {} ({:.0} s); use it with PLOKE_EMBED_DIR={}",
        out.display(),
        t.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
