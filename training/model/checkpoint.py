"""
Checkpoints: the model's weights in numpy .npz shards of at most 15 MiB (readable by any torch / numpy version; the
GPU machine returns files of at most 16 MiB), described by ckpt.json (model config, step, tokens, shard list).
"""

import json
import os

import numpy as np
import torch

from training.model.model import GPT, GPTConfig

SHARD_MAX_BYTES = 15 * 1024 * 1024
NPZ_ENTRY_OVERHEAD = 512  # bytes an array costs in an .npz beyond its data: .npy header, zip local + central headers
CKPT_FORMAT = "attentive-shards-v1"


def save_shards(model, out_dir, meta, dtype="float32", max_bytes=SHARD_MAX_BYTES):
    """Write the state dict as ckpt-XX.npz shards + ckpt.json. Tensors larger than a shard are split
    along dim 0 into parts named 'name@@k'."""
    np_dtype = {"float32": np.float32, "float16": np.float16}[dtype]
    sd = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}  # tied to wte.weight
    pieces = []  # (name, array)
    for name, t in sd.items():
        a = t.detach().float().cpu().numpy().astype(np_dtype)
        row_bytes = a.nbytes // a.shape[0] if a.ndim and a.shape[0] else a.nbytes
        pieces += [(part, a[rows]) for part, rows in row_parts(name, a.shape, row_bytes, max_bytes)]
    names = write_npz_shards(pieces, out_dir, max_bytes)
    info = dict(meta, format=CKPT_FORMAT, dtype=dtype, shards=names, tied={"lm_head.weight": "wte.weight"})
    tmp = os.path.join(out_dir, "ckpt.json.tmp")
    with open(tmp, "w") as f:
        json.dump(info, f, indent=1)
    os.replace(tmp, os.path.join(out_dir, "ckpt.json"))
    return info


def shard_capacity(max_bytes):
    """Bytes of arrays (each counted with NPZ_ENTRY_OVERHEAD) one shard holds: room is left for the zip's own."""
    return max_bytes - min(64 * 1024, max_bytes // 16)


def row_parts(name, shape, row_bytes, max_bytes):
    """[(name, ...)] for a tensor that fits a shard with room for a companion array (an int8 matrix's scales), else
    [('name@@k', rows slice)] parts of whole rows; row_bytes counts the companion's share of a row too."""
    budget = shard_capacity(max_bytes) - 2 * NPZ_ENTRY_OVERHEAD
    if not shape or shape[0] * row_bytes <= budget:
        return [(name, ...)]
    rows = max(1, budget // row_bytes)
    return [(f"{name}@@{k}", slice(s, s + rows)) for k, s in enumerate(range(0, shape[0], rows))]


def write_npz_shards(pieces, out_dir, max_bytes, compressed=False):
    """Group (name, array) pieces, in order, into ckpt-XX.npz files of at most max_bytes (each array counted with
    its .npz overhead, and room left for the zip's own), written atomically; shards of an earlier, larger
    checkpoint in out_dir are removed. -> the shard file names."""
    limit = shard_capacity(max_bytes)
    shards, cur, cur_bytes = [], {}, 0
    for name, a in pieces:
        size = a.nbytes + NPZ_ENTRY_OVERHEAD
        if cur and cur_bytes + size > limit:
            shards.append(cur)
            cur, cur_bytes = {}, 0
        cur[name] = a
        cur_bytes += size
    if cur:
        shards.append(cur)
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for i, shard in enumerate(shards):
        fn = f"ckpt-{i:02d}.npz"
        tmp = os.path.join(out_dir, fn + ".tmp")
        with open(tmp, "wb") as f:
            (np.savez_compressed if compressed else np.savez)(f, **shard)
        os.replace(tmp, os.path.join(out_dir, fn))
        names.append(fn)
    for fn in os.listdir(out_dir):
        if fn.startswith("ckpt-") and fn.endswith(".npz") and fn not in names:
            os.remove(os.path.join(out_dir, fn))
    return names


def resolve_ckpt(path):
    """A run directory, a stage directory or a ckpt.json path -> the ckpt.json path."""
    if os.path.isfile(path):
        return path
    for cand in (os.path.join(path, "ckpt.json"), os.path.join(path, "sft", "ckpt.json"),
                 os.path.join(path, "pretrain", "ckpt.json")):
        if os.path.isfile(cand):
            return cand
    raise FileNotFoundError(f"no ckpt.json in {path}")


def load_shards(path):
    """-> (state_dict of float32 tensors, info dict)."""
    jpath = resolve_ckpt(path)
    with open(jpath) as f:
        info = json.load(f)
    d = os.path.dirname(jpath)
    parts = {}
    for fn in info["shards"]:
        with np.load(os.path.join(d, fn)) as z:
            for k in z.files:
                parts[k] = z[k]
    for k in [k for k in parts if k.endswith(SCALE_SUFFIX)]:  # int8 rows (pack_int8): dequantize
        base = k[:-len(SCALE_SUFFIX)]
        parts[base] = parts[base].astype(np.float32) * parts.pop(k).astype(np.float32)
    sd = {}
    split = {}
    for k, a in parts.items():
        if "@@" in k:
            base, idx = k.split("@@")
            split.setdefault(base, []).append((int(idx), a))
        else:
            sd[k] = torch.from_numpy(np.ascontiguousarray(a).astype(np.float32))
    for base, lst in split.items():
        a = np.concatenate([x for _, x in sorted(lst, key=lambda t: t[0])], axis=0)
        sd[base] = torch.from_numpy(a.astype(np.float32))
    for dst, src in info.get("tied", {}).items():
        sd[dst] = sd[src]
    return sd, info


SCALE_SUFFIX = "::scale"


def pack_int8(src, dst, max_bytes=SHARD_MAX_BYTES):
    """Write checkpoint src as a compressed int8 copy at dst (~13 MB instead of ~28 MB in float16 for the 14M
    model), to carry a checkpoint to or from the GPU machine within its 64 MiB. Matrices become int8 rows with a
    float32 absmax scale per row (error < 0.4% of each row's largest weight); vectors stay float16. Shards hold at
    most max_bytes before compression. load_shards reads it like any checkpoint."""
    sd, info = load_shards(src)
    for dst_name in info.get("tied", {}):
        sd.pop(dst_name, None)
    pieces = []  # (name, array); an int8 matrix and its scales may land in different shards
    for k, t in sd.items():
        a = t.numpy()
        if a.ndim != 2:
            pieces.append((k, a.astype(np.float16)))
            continue
        scale = np.maximum(np.abs(a).max(axis=1, keepdims=True), 1e-12) / 127.0
        q = np.clip(np.round(a / scale), -127, 127).astype(np.int8)
        for name, rows in row_parts(k, q.shape, q.shape[1] + 4, max_bytes):  # int8 row + its float32 scale
            pieces += [(name, q[rows]), (name + SCALE_SUFFIX, scale[rows].astype(np.float32))]
    names = write_npz_shards(pieces, dst, max_bytes, compressed=True)
    meta = dict(info, dtype="int8-rows", shards=names, packed_from=os.path.abspath(resolve_ckpt(src)))
    with open(os.path.join(dst, "ckpt.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def load_model(path, device="cpu"):
    sd, info = load_shards(path)
    model = GPT(GPTConfig.from_dict(info["model_config"]))
    model.load_state_dict(sd, strict=True)
    return model.to(device), info
