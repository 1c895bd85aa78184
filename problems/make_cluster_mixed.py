"""Write problems/cluster-mixed.yaml from the assumptions stated in problems/README.md.

Run from the repository root: ``python problems/make_cluster_mixed.py``. The numbers are
derived, not typed: compute = 6 N D for training (2 N D for inference), memory from the
precision and optimizer, activations from the transformer shape.
"""

from __future__ import annotations

from pathlib import Path

GiB = 1024 ** 3

# name: (parameters, hidden size, layers)
MODELS = {
    "gpt-125m": (125e6, 768, 12),
    "gpt-350m": (350e6, 1024, 24),
    "gpt-1.3b": (1.3e9, 2048, 24),
    "gpt-2.7b": (2.7e9, 2560, 32),
    "llama-7b": (6.7e9, 4096, 32),
    "llama-13b": (13e9, 5120, 40),
}

# Bytes per parameter held on the device.
STATE = {
    "full-adam": 16,      # bf16 weights 2 + bf16 grads 2 + fp32 master 4 + Adam m, v 8
    "lora": 2,            # frozen bf16 weights; adapters and their Adam state are < 1 %
    "infer-bf16": 2,      # bf16 weights
    "infer-int8": 1,      # int8 weights
}


def transformer(name, model, mode, tokens, seq, micro_batch, **extra):
    n, h, layers = MODELS[model]
    train = mode in ("full-adam", "lora")
    compute = (6 if train else 2) * n * tokens
    weights = STATE[mode] * n
    if train:   # activations kept for backward, bf16, flash attention: ~34 s b h bytes/layer
        act = 34 * seq * micro_batch * h * layers
    else:       # KV cache: 2 (K, V) x layers x h x seq x batch x 2 bytes
        act = 4 * layers * h * seq * micro_batch
    memory = (weights + act) * 1.1          # +10 % for the framework, buffers, fragmentation
    return dict(name=name, model=model, mode=mode, tokens=tokens, seq=seq, batch=micro_batch,
                compute=compute, memory=memory, **extra)


def vision(name, params, gflop_per_image, images, epochs, batch, act_mb_per_image, **extra):
    compute = 3 * gflop_per_image * 1e9 * images * epochs   # forward + backward = 3 x forward
    memory = (16 * params + act_mb_per_image * 1e6 * batch) * 1.1
    return dict(name=name, model=f"{params / 1e6:.0f}M conv/ViT", mode="full-adam",
                tokens=images * epochs, seq="-", batch=batch, compute=compute, memory=memory,
                **extra)


def cpu_job(name, compute, memory_gib, what):
    return dict(name=name, model=what, mode="cpu", tokens="-", seq="-", batch="-",
                compute=compute, memory=memory_gib * GiB, allowed_kinds=["cpu"])


TASKS = [
    transformer("pretrain-125m", "gpt-125m", "full-adam", 10e9, 2048, 16),
    transformer("pretrain-350m", "gpt-350m", "full-adam", 7e9, 2048, 8),
    transformer("pretrain-1.3b", "gpt-1.3b", "full-adam", 5e9, 2048, 4),
    transformer("finetune-1.3b-chat", "gpt-1.3b", "full-adam", 1e9, 2048, 4),
    transformer("finetune-1.3b-code", "gpt-1.3b", "full-adam", 1.5e9, 2048, 4),
    transformer("finetune-2.7b-chat", "gpt-2.7b", "full-adam", 0.8e9, 2048, 2, allowed_kinds=["gpu"]),
    transformer("finetune-2.7b-sum", "gpt-2.7b", "full-adam", 0.5e9, 2048, 2, allowed_kinds=["gpu"]),
    transformer("lora-7b-support", "llama-7b", "lora", 0.4e9, 2048, 4, weight=2),
    transformer("lora-7b-legal", "llama-7b", "lora", 0.3e9, 4096, 2, weight=2),
    transformer("lora-7b-med", "llama-7b", "lora", 0.5e9, 2048, 4, weight=2),
    transformer("lora-7b-sql", "llama-7b", "lora", 0.2e9, 2048, 4),
    transformer("lora-13b-support", "llama-13b", "lora", 0.15e9, 2048, 2, weight=3, deadline="12h"),
    transformer("lora-13b-agent", "llama-13b", "lora", 0.2e9, 4096, 1, weight=2),
    transformer("sweep-125m-lr1", "gpt-125m", "full-adam", 2e9, 1024, 32),
    transformer("sweep-125m-lr2", "gpt-125m", "full-adam", 2e9, 1024, 32),
    transformer("sweep-125m-lr3", "gpt-125m", "full-adam", 2e9, 1024, 32),
    transformer("sweep-350m-wd1", "gpt-350m", "full-adam", 1.5e9, 1024, 16),
    transformer("sweep-350m-wd2", "gpt-350m", "full-adam", 1.5e9, 1024, 16),
    transformer("distill-350m", "gpt-350m", "full-adam", 3e9, 2048, 8),
    transformer("eval-7b-mmlu", "llama-7b", "infer-bf16", 0.3e9, 4096, 8, inference=True),
    transformer("eval-13b-mmlu", "llama-13b", "infer-bf16", 0.2e9, 4096, 4, inference=True),
    transformer("batch-infer-7b-int8", "llama-7b", "infer-int8", 1e9, 2048, 32, inference=True),
    transformer("embed-350m-corpus", "gpt-350m", "infer-bf16", 10e9, 512, 256, inference=True),
    transformer("rerank-1.3b", "gpt-1.3b", "infer-bf16", 3e9, 1024, 64, inference=True),
    vision("resnet50-imagenet", 25.6e6, 4.1, 1.28e6, 90, 256, 90),
    vision("vit-b16-finetune", 86e6, 17.6, 1.28e6, 10, 128, 160),
    vision("vit-l16-pretrain", 304e6, 61.6, 1.28e6, 30, 64, 300, allowed_kinds=["gpu", "tpu"]),
    vision("unet-segmentation", 31e6, 55.0, 0.2e6, 50, 16, 900),
    cpu_job("tokenize-corpus", 4e16, 96, "tokenizer over 500B tokens"),
    cpu_job("dedup-minhash", 6e16, 192, "MinHash dedup of 2B documents"),
    cpu_job("feature-etl", 2e16, 64, "feature ETL for ranking"),
    cpu_job("eval-aggregate", 0.5e16, 32, "metric aggregation"),
]

POOLS = [
    # name, kind, count, memory, sustained FLOP/s (about 40 % of bf16/fp16 dense peak), $/h
    ("h100", "gpu", 4, "80GiB", "400 TFLOP/s", 4.5, "989 TFLOP/s bf16 peak"),
    ("a100-40g", "gpu", 4, "40GiB", "125 TFLOP/s", 1.8, "312 TFLOP/s bf16 peak"),
    ("v100-16g", "gpu", 4, "16GiB", "40 TFLOP/s", 0.9, "125 TFLOP/s fp16 tensor peak, no bf16"),
    ("tpu-v4", "tpu", 4, "32GiB", "110 TFLOP/s", 3.2, "275 TFLOP/s bf16 peak per chip"),
    ("cpu-node", "cpu", 4, "512GiB", "1.5 TFLOP/s", 0.8, "2 x 32-core AVX-512 node"),
]

# Inference is memory-bandwidth bound: sustained throughput is far below the training figure.
INFER_RATE = {"h100": "150 TFLOP/s", "a100-40g": "60 TFLOP/s", "v100-16g": "20 TFLOP/s",
              "tpu-v4": "50 TFLOP/s", "cpu-node": "0.4 TFLOP/s"}


def main() -> None:
    root = Path(__file__).resolve().parent
    lines = ["# Generated by problems/make_cluster_mixed.py from the assumptions in",
             "# problems/README.md; edit those, not this file.",
             "name: cluster-mixed",
             "description: A mixed fleet (H100, A100-40GB, V100-16GB, TPU-like, CPU nodes) "
             "and 32 ML jobs.",
             "objective: makespan",
             "horizon: 72h",
             "pools:"]
    for name, kind, count, mem, rate, price, note in POOLS:
        lines.append(f"  - {{name: {name}, kind: {kind}, count: {count}, memory: {mem}, "
                     f"throughput: {rate}, cost_per_hour: {price}}}   # {note}")
    lines.append("tasks:")
    for t in TASKS:
        extra = ""
        if "allowed_kinds" in t:
            extra += f", allowed_kinds: [{', '.join(t['allowed_kinds'])}]"
        if "weight" in t:
            extra += f", weight: {t['weight']}"
        if "deadline" in t:
            extra += f", deadline: {t['deadline']}"
        lines.append(f"  - {{name: {t['name']}, compute: {t['compute']:.3e} FLOP, "
                     f"memory: {t['memory'] / GiB:.1f}GiB{extra}}}")
    lines.append("throughput:")
    for t in TASKS:
        if t.get("inference"):
            row = ", ".join(f"{p}: {r}" for p, r in INFER_RATE.items())
            lines.append(f"  {t['name']}: {{{row}}}")
    (root / "cluster-mixed.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    table = ["| task | model | regime | tokens / samples | seq | micro-batch | compute (FLOP) | memory |",
             "|---|---|---|---|---|---|---|---|"]
    for t in TASKS:
        tokens = t["tokens"] if isinstance(t["tokens"], str) else f"{t['tokens']:.3g}"
        table.append(f"| {t['name']} | {t['model']} | {t['mode']} | {tokens} | {t['seq']} | "
                     f"{t['batch']} | {t['compute']:.3g} | {t['memory'] / GiB:.1f} GiB |")
    print("\n".join(table))


if __name__ == "__main__":
    main()
