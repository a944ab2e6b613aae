#!/usr/bin/env python3
"""nanoGPT in plain PyTorch, to move weights between it and mpt's Gpt through safetensors.

A manual tool: nothing in mpt's build or tests runs it (they use the fixture it wrote). Needs
PyTorch (Debian's python3-torch; /usr/bin/python3) and numpy; the safetensors format is read and
written here by hand (an 8-byte little-endian header length, a JSON header, raw little-endian
data), so the `safetensors` package is not needed.

The modules are nanoGPT's (Karpathy, model.py) with bias=True, in eval mode (dropout off; its
dropout layers, on embeddings, attention weights and both residual branches, default to p = 0 here
and torch_steps.py's gpt case trains with p = 0.1), with one deliberate difference: the MLP's GELU is the tanh form (GPT-2's, and mpt's), where nanoGPT
writes nn.GELU() (the erf form); the two differ by up to about 2e-4 per activation. The causal
mask is built per forward (nanoGPT's non-flash path keeps it as a buffer `attn.bias`, which is
not a weight and which mpt does not need). State-dict names are nanoGPT's:
transformer.wte.weight, transformer.wpe.weight, transformer.h.<i>.{ln_1,attn.c_attn,attn.c_proj,
ln_2,mlp.c_fc,mlp.c_proj}.{weight,bias}, transformer.ln_f.{weight,bias}, and lm_head.weight,
which is transformer.wte.weight (tied; written twice, as torch.save would).

Commands:
  fixture DIR   writes the JUnit fixture of mpt-nn (GptPyTorchFixtureTest): a tiny randomly
                initialized model (vocab 11, context 6, width 8, 2 layers, 2 heads; normal weights
                with standard deviation 1.5 for positions, 0.5 for tokens, 0.3 for c_attn, 0.1 for
                the other matrices, 0.05 for biases, gains 1 +- 0.2: attention that matters, in a
                model conditioned well enough that the test's worst-case FP32 error bound stays
                below the effect of a wrong mapping) as DIR/nanogpt-tiny.safetensors,
                and fixed token ids [2, 6] with this model's FP32 logits [2, 6, 11] as
                DIR/nanogpt-tiny-logits.safetensors (tensors `ids`, `logits`). Used as
                  /usr/bin/python3 mpt-bench/peer/gpt_roundtrip.py fixture mpt-nn/src/test/resources/dev/mpt/nn
  check DIR     the round trip with mpt (see the README, "Attention and transformers"): reads
                DIR/mpt-gpt.safetensors (weights mpt wrote under nanoGPT's names) and
                DIR/mpt-logits.safetensors (`ids`, mpt's `logits`, and `bound`, the error bound of
                an FP32 forward per logit, derived by mpt's test from the arithmetic), runs the
                forward, checks |torch - mpt| <= 2 * bound for every logit (each side within
                `bound` of the exact value), and writes its state_dict to DIR/torch-gpt.safetensors
                and its logits to DIR/torch-logits.safetensors for mpt's check.
"""

import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

TINY = dict(vocab=11, context=6, width=8, layers=2, heads=2)
SEED = 20260412


class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm (weight and bias, eps 1e-5)."""

    def __init__(self, ndim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads, dropout=0.0):
        super().__init__()
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head = heads
        self.n_embd = width

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.tril(torch.ones(t, t)).view(1, 1, t, t)
        att = att.masked_fill(mask == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, width, dropout=0.0):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.gelu = nn.GELU(approximate="tanh")  # nanoGPT: nn.GELU() (erf); mpt and GPT-2: tanh
        self.c_proj = nn.Linear(4 * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, width, heads, dropout=0.0):
        super().__init__()
        self.ln_1 = LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, dropout)
        self.ln_2 = LayerNorm(width)
        self.mlp = MLP(width, dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, width, layers, heads, dropout=0.0):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, width),
            wpe=nn.Embedding(context, width),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList([Block(width, heads, dropout) for _ in range(layers)]),
            ln_f=LayerNorm(width),
        ))
        self.lm_head = nn.Linear(width, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied, as nanoGPT

    def forward(self, idx):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: float32 array} as safetensors (F32 only), names in the given order."""
    header = {}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = dict(dtype="F32", shape=list(arr.shape), data_offsets=[offset, offset + len(data)])
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reads a safetensors file of F32 tensors: ({name: float32 array}, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {h['dtype']}; this tool reads F32 only")
        b, e = h["data_offsets"]
        out[name] = np.frombuffer(raw[base + b:base + e], dtype="<f4").reshape(h["shape"]).copy()
    return out, metadata


def state_arrays(model):
    """The state_dict as float32 arrays (lm_head.weight included, a copy of the tied table)."""
    return {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}


def load_state(model, arrays):
    sd = model.state_dict()
    missing = sorted(set(sd) - set(arrays))
    extra = sorted(set(arrays) - set(sd))
    if missing or extra:
        raise SystemExit(f"state dict mismatch: missing {missing}, unexpected {extra}")
    if not np.array_equal(arrays["lm_head.weight"], arrays["transformer.wte.weight"]):
        raise SystemExit("lm_head.weight differs from transformer.wte.weight; they are one tied tensor")
    with torch.no_grad():
        for k, v in arrays.items():
            if tuple(sd[k].shape) != v.shape:
                raise SystemExit(f"{k}: shape {v.shape}, the model has {tuple(sd[k].shape)}")
            sd[k].copy_(torch.from_numpy(v))


def config_of(arrays, metadata):
    vocab, width = arrays["transformer.wte.weight"].shape
    context = arrays["transformer.wpe.weight"].shape[0]
    layers = len({k.split(".")[2] for k in arrays if k.startswith("transformer.h.")})
    return dict(vocab=vocab, context=context, width=width, layers=layers, heads=int(metadata["heads"]))


def fixture(out_dir):
    torch.manual_seed(SEED)
    model = GPT(**TINY).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif ".wpe." in name:
                p.copy_(1.5 * torch.randn_like(p))
            elif ".wte." in name:
                p.copy_(0.5 * torch.randn_like(p))
            elif "c_attn" in name:
                p.copy_(0.3 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    ids = torch.randint(0, TINY["vocab"], (2, TINY["context"]))
    with torch.no_grad():
        logits = model(ids)
    meta = dict(TINY, generator="mpt-bench/peer/gpt_roundtrip.py fixture", torch=torch.__version__, seed=SEED)
    write_safetensors(f"{out_dir}/nanogpt-tiny.safetensors", state_arrays(model), meta)
    write_safetensors(f"{out_dir}/nanogpt-tiny-logits.safetensors",
                      {"ids": ids.numpy().astype(np.float32), "logits": logits.numpy()}, meta)
    print(f"wrote {out_dir}/nanogpt-tiny.safetensors and nanogpt-tiny-logits.safetensors (torch {torch.__version__})")


def check(directory):
    arrays, meta = read_safetensors(f"{directory}/mpt-gpt.safetensors")
    expected, _ = read_safetensors(f"{directory}/mpt-logits.safetensors")
    cfg = config_of(arrays, meta)
    model = GPT(**cfg).eval()
    load_state(model, arrays)
    ids = torch.from_numpy(expected["ids"].astype(np.int64))
    with torch.no_grad():
        logits = model(ids).numpy()
    diff = np.abs(logits.astype(np.float64) - expected["logits"].astype(np.float64))
    allowed = 2 * expected["bound"].astype(np.float64)
    worst = float(np.max(diff / allowed))
    print(f"model {cfg}; ids {tuple(ids.shape)}; torch {torch.__version__}")
    print(f"max |torch - mpt| = {diff.max():.3e}; max |torch - mpt| / (2 bound) = {worst:.2e} (must be <= 1); "
          f"max bound {expected['bound'].max():.3e}, max |logit| {np.abs(logits).max():.3f}")
    write_safetensors(f"{directory}/torch-gpt.safetensors", state_arrays(model), dict(meta, writer="gpt_roundtrip.py"))
    write_safetensors(f"{directory}/torch-logits.safetensors", {"ids": expected["ids"], "logits": logits})
    print(f"wrote {directory}/torch-gpt.safetensors and torch-logits.safetensors")
    if worst > 1:
        raise SystemExit("FAILED: a logit differs by more than the derived bound")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("fixture", "check"):
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    (fixture if argv[1] == "fixture" else check)(argv[2])


if __name__ == "__main__":
    main(sys.argv)
