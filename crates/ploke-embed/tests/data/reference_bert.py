# Independent reference for tests/local_model.rs: BERT forward pass + mean pooling + L2 norm
# in plain numpy (no candle, no torch), written from the BERT paper / HF modeling_bert.py.
# Regenerate tests/data/minilm_reference.json, from crates/ploke-embed/, with:
#   python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy safetensors tokenizers
#   /tmp/v/bin/python tests/data/reference_bert.py ../../target/models/all-MiniLM-L6-v2 > tests/data/minilm_reference.json
import json, sys, numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer
d = sys.argv[1]  # the model directory
W = load_file(f"{d}/model.safetensors")
cfg = json.load(open(f"{d}/config.json"))
tok = Tokenizer.from_file(f"{d}/tokenizer.json"); tok.no_padding(); tok.enable_truncation(128)
def g(k):
    return W[k] if k in W else W["bert."+k]
def ln(x, p):
    m = x.mean(-1, keepdims=True); v = ((x-m)**2).mean(-1, keepdims=True)
    return (x-m)/np.sqrt(v+cfg["layer_norm_eps"]) * g(p+".weight") + g(p+".bias")
from math import erf
verf = np.vectorize(erf)
def gelu(x): return 0.5*x*(1+verf(x/np.sqrt(2)))
def lin(x, p): return x @ g(p+".weight").T + g(p+".bias")
def embed(text):
    ids = np.array(tok.encode(text).ids)
    L = len(ids); H = cfg["hidden_size"]; nh = cfg["num_attention_heads"]; hd = H//nh
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:L] + g("embeddings.token_type_embeddings.weight")[0]
    x = ln(x, "embeddings.LayerNorm")
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q = lin(x, p+"attention.self.query").reshape(L, nh, hd).transpose(1,0,2)
        k = lin(x, p+"attention.self.key").reshape(L, nh, hd).transpose(1,0,2)
        v = lin(x, p+"attention.self.value").reshape(L, nh, hd).transpose(1,0,2)
        s = q @ k.transpose(0,2,1) / np.sqrt(hd); s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1,0,2).reshape(L, H)
        x = ln(lin(a, p+"attention.output.dense") + x, p+"attention.output.LayerNorm")
        h = gelu(lin(x, p+"intermediate.dense"))
        x = ln(lin(h, p+"output.dense") + x, p+"output.LayerNorm")
    m = x.mean(0); return m/np.linalg.norm(m)
texts = [
    "how to spawn a task",
    "spawn a new asynchronous task",
    "parse a json number",
    'fn main() { println!("hi"); }',
    "pub struct Runtime { handle: Handle }",
    "impl<T> Sender<T> { pub async fn send(&self, value: T) -> Result<(), SendError<T>> }",
]
print(json.dumps([{"text": t, "embedding": embed(t).astype(float).round(7).tolist()} for t in texts]))
