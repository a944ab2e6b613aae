#!/usr/bin/env python3
"""PyTorch half of mpt's peer benchmark: the same training steps as mpt-bench's JMH benchmarks.

A measuring stick only: nothing in mpt's build or tests runs this. run.sh calls it with the
environment it measured best here (see there) and hands the results file to PeerBenchmark.

Models (each the same shapes, optimizer and loss as its mpt twin; synthetic data made once from
a fixed seed, the same every step):
  mlp   Flatten, Linear 784-1024, ReLU, Linear 1024-1024, ReLU, Linear 1024-10; batch 256,
        SGD lr 0.01 momentum 0.9, cross-entropy (TrainingStepBenchmark)
  cnn   fashion-cnn's model: 2 x (Conv 3x3 pad 1, BatchNorm, ReLU, MaxPool 2), 32 and 64
        channels, Flatten, Linear 3136-128, ReLU, Linear 128-10; batch 128 x 1 x 28 x 28,
        Adam lr 0.001, cross-entropy (PeerStepBenchmark cnn)
  lstm  char-lstm's model: Embedding 83-32, 2-layer LSTM 128 (batch first), Linear 128-83;
        batch 32 x 64 characters, Adam lr 0.002, gradient clipping to norm 5, cross-entropy
        over all 2048 positions (PeerStepBenchmark lstm)
  gpt   char-gpt's model: nanoGPT's modules from gpt_roundtrip.py (4 pre-norm blocks, 4 heads,
        width 128, context 128, GELU in the tanh form, read-out tied to the token table, naive
        causal attention as PyTorch 1.13 has no fused one) with dropout 0.1 on embeddings,
        attention weights and both residual branches; vocabulary 83, batch 32 x 128 characters;
        AdamW lr 0.001, betas (0.9, 0.99), eps 1e-8, weight decay 0.1 on the Linear weight matrices
        only (mpt's Gpt.decayGroups rule), no clipping; cross-entropy over all 4096 positions
        (CharGptStepBenchmark)
and SGEMM: torch.mm of two 1024 x 1024 matrices (GemmBenchmark n=1024).

Precisions: fp32, and bf16 under torch.autocast("cpu", torch.bfloat16) (forward and loss under
autocast, backward and optimizer step outside it, as PyTorch documents; PyTorch 1.13's CPU
autocast runs Linear and Conv2d in bf16 and leaves the LSTM in fp32).

Each case: --warmup untimed steps, then --steps steps each timed with perf_counter; it prints
the median and mean and the minor page faults per timed step (near 0 when the allocator reuses
its memory), and the results file gets one tab-separated line per case: case, precision, median
ms, mean ms, timed steps.
"""

import argparse
import ctypes
import os
import platform
import resource
import statistics
import sys
import time

MLP = dict(batch=256, features=784, hidden=1024, classes=10)
CNN = dict(batch=128, channels=32, classes=10)
# The bundled Moby-Dick's vocabulary (83 distinct characters), as char-lstm reports it.
LSTM = dict(batch=32, seq=64, vocab=83, embedding=32, hidden=128, layers=2, clip=5.0)
GPT = dict(batch=32, context=128, vocab=83, width=128, layers=4, heads=4, dropout=0.1, lr=0.001,
           betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
GEMM_N = 1024


def blas_report(torch):
    """Which BLAS the process loaded (from /proc/self/maps) and, for OpenBLAS, its kernel."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded and used
    libs = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                name = os.path.basename(path)
                if any(k in name for k in ("blas", "mkl", "blis", "lapack")):
                    libs.add(path)
    except OSError as e:
        libs.add("(cannot read /proc/self/maps: %s)" % e)
    print("BLAS libraries loaded: %s" % (", ".join(sorted(libs)) or "none found"))
    for path in sorted(libs):
        if "openblas" not in path and "libblas" not in path:
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            print("OpenBLAS: %s; kernel %s; %d threads" % (lib.openblas_get_config().decode(),
                  lib.openblas_get_corename().decode(), lib.openblas_get_num_threads()))
            return
        except (OSError, AttributeError):
            pass


def step_mlp(torch, nn, bf16):
    g = torch.Generator().manual_seed(42)
    x = torch.rand(MLP["batch"], MLP["features"], generator=g)
    y = torch.randint(MLP["classes"], (MLP["batch"],), generator=g)
    model = nn.Sequential(nn.Flatten(), nn.Linear(MLP["features"], MLP["hidden"]), nn.ReLU(),
                          nn.Linear(MLP["hidden"], MLP["hidden"]), nn.ReLU(),
                          nn.Linear(MLP["hidden"], MLP["classes"]))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return lambda: classifier_step(torch, model, opt, x, y, bf16, None)


def step_cnn(torch, nn, bf16):
    g = torch.Generator().manual_seed(42)
    c = CNN["channels"]
    x = torch.randn(CNN["batch"], 1, 28, 28, generator=g)  # standardized pixels
    y = torch.randint(CNN["classes"], (CNN["batch"],), generator=g)
    model = nn.Sequential(
        nn.Conv2d(1, c, 3, 1, 1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c, 2 * c, 3, 1, 1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * c * 7 * 7, 128), nn.ReLU(), nn.Linear(128, CNN["classes"]))
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    return lambda: classifier_step(torch, model, opt, x, y, bf16, None)


class CharModel(object):
    """Embedding, LSTM (batch first), and a linear read-out of every position."""

    def __init__(self, nn):
        self.embedding = nn.Embedding(LSTM["vocab"], LSTM["embedding"])
        self.lstm = nn.LSTM(LSTM["embedding"], LSTM["hidden"], LSTM["layers"], batch_first=True)
        self.readout = nn.Linear(LSTM["hidden"], LSTM["vocab"])
        self.modules = nn.ModuleList([self.embedding, self.lstm, self.readout])

    def __call__(self, ids):
        h, _ = self.lstm(self.embedding(ids))
        return self.readout(h.reshape(-1, LSTM["hidden"]))


def step_lstm(torch, nn, bf16):
    g = torch.Generator().manual_seed(42)
    ids = torch.randint(LSTM["vocab"], (LSTM["batch"], LSTM["seq"]), generator=g)
    targets = torch.randint(LSTM["vocab"], (LSTM["batch"] * LSTM["seq"],), generator=g)
    model = CharModel(nn)
    opt = torch.optim.Adam(model.modules.parameters(), lr=0.002)
    return lambda: classifier_step(torch, model, opt, ids, targets, bf16, model.modules)


def step_gpt(torch, bf16):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gpt_roundtrip  # nanoGPT's modules in plain torch, next to this script
    g = torch.Generator().manual_seed(42)
    ids = torch.randint(GPT["vocab"], (GPT["batch"], GPT["context"]), generator=g)
    targets = torch.randint(GPT["vocab"], (GPT["batch"] * GPT["context"],), generator=g)
    model = gpt_roundtrip.GPT(GPT["vocab"], GPT["context"], GPT["width"], GPT["layers"], GPT["heads"], GPT["dropout"])
    model.train()
    # mpt's rule: weight decay on the Linear weight matrices only (not the tied token table, not positions)
    decay, no_decay = [], []
    for name, p in model.named_parameters():  # the tied table is listed once
        embedding = ".wte." in name or ".wpe." in name or name.startswith("lm_head.")
        (decay if p.dim() == 2 and not embedding else no_decay).append(p)
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=GPT["weight_decay"]),
                             dict(params=no_decay, weight_decay=0.0)],
                            lr=GPT["lr"], betas=GPT["betas"], eps=GPT["eps"])
    vocab = GPT["vocab"]
    return lambda: classifier_step(torch, lambda x: model(x).view(-1, vocab), opt, ids, targets, bf16, None)


def classifier_step(torch, model, opt, x, y, bf16, clip_modules):
    opt.zero_grad()
    if bf16:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x), y)
    else:
        loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.item()
    loss.backward()
    if clip_modules is not None:
        torch.nn.utils.clip_grad_norm_(clip_modules.parameters(), LSTM["clip"])
    opt.step()


def step_gemm(torch, bf16):
    g = torch.Generator().manual_seed(42)
    dtype = torch.bfloat16 if bf16 else torch.float32
    a = (torch.rand(GEMM_N, GEMM_N, generator=g) * 2 - 1).to(dtype)
    b = (torch.rand(GEMM_N, GEMM_N, generator=g) * 2 - 1).to(dtype)
    c = torch.empty(GEMM_N, GEMM_N, dtype=dtype)
    return lambda: torch.mm(a, b, out=c)


def measure(step, warmup, steps):
    """Median and mean ms per step, and minor page faults per step (fresh memory touched)."""
    for _ in range(warmup):
        step()
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return statistics.median(times), statistics.fmean(times), faults / steps


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps per case (default 10)")
    p.add_argument("--steps", type=int, default=40, help="timed steps per case (default 40)")
    p.add_argument("--cases", default="mlp,cnn,lstm,gpt,gemm", help="comma-separated (default all)")
    p.add_argument("--out", help="tab-separated results file (default: none)")
    args = p.parse_args()

    print("Python %s" % platform.python_version())
    try:
        import torch
        import torch.nn as nn
    except ImportError as e:
        print("PyTorch is not available (%s): install Debian's python3-torch "
              "(apt-get install python3-torch) for the PyTorch columns; mpt's half runs without it." % e)
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    config = torch.__config__.show()
    print("PyTorch %s, %d threads (interop %d)" % (torch.__version__, torch.get_num_threads(),
                                                     torch.get_num_interop_threads()))
    for line in config.splitlines():
        line = line.strip()
        if "CPU capability" in line or "MKL-DNN" in line or "OpenMP" in line:
            print("  " + line)
        elif line.startswith("- Build settings"):
            print("  " + ", ".join(s.strip() for s in line.split(",") if "BLAS_INFO" in s or "LAPACK_INFO" in s))
    blas_report(torch)
    print("warm-up %d steps, then %d timed steps per case" % (args.warmup, args.steps))

    builders = dict(mlp=lambda bf16: step_mlp(torch, nn, bf16), cnn=lambda bf16: step_cnn(torch, nn, bf16),
                    lstm=lambda bf16: step_lstm(torch, nn, bf16), gpt=lambda bf16: step_gpt(torch, bf16),
                    gemm=lambda bf16: step_gemm(torch, bf16))
    rows = []
    for case in args.cases.split(","):
        if case not in builders:
            p.error("unknown case %r; expected some of %s" % (case, ",".join(builders)))
        for precision in ("fp32", "bf16"):
            median, mean, faults = measure(builders[case](precision == "bf16"), args.warmup, args.steps)
            print("%-5s %-5s median %8.2f ms  mean %8.2f ms  %6.0f page faults/step" % (case, precision, median, mean,
                                                                                      faults))
            sys.stdout.flush()
            rows.append("%s\t%s\t%.4f\t%.4f\t%d" % (case, precision, median, mean, args.steps))
    if args.out:
        with open(args.out, "w") as f:
            f.write("# case\tprecision\tmedian_ms\tmean_ms\tsteps\n")
            f.write("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
