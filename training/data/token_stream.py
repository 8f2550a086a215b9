"""The prepared token streams (uint16 .bin files written by training/data/prepare.py) as random training windows."""

import json
import os

import numpy as np
import torch



class TokenStream:
    """A uint16 token file (and optional uint8 loss mask) held as tensors; samples random windows."""

    def __init__(self, path, mask_path=None, device="cpu", align_docs=False, eot_id=0):
        arr = np.fromfile(path, dtype=np.uint16)
        self.n = int(arr.shape[0])
        # uint16 -> int32 on the host (torch 1.13 has no uint16), -> int64 per batch on the device
        self.tokens = torch.from_numpy(arr.astype(np.int32)).to(device)
        self.mask = None
        if mask_path is not None:
            m = np.fromfile(mask_path, dtype=np.uint8)
            assert m.shape[0] == self.n, f"{mask_path}: {m.shape[0]} != {self.n} tokens"
            self.mask = torch.from_numpy(m.astype(np.uint8)).to(device)
        self.device = device
        self.starts = None
        if align_docs:  # windows begin right after an <|endoftext|> (conversation starts)
            ends = np.nonzero(arr == eot_id)[0]
            starts = np.concatenate([[0], ends + 1]).astype(np.int64)
            self.starts = torch.from_numpy(starts).to(device)

    def batch(self, batch_size, block_size, generator=None):
        """x, y int64 [B, T]; m float [B, T] or None (1 where the target y counts)."""
        hi = self.n - block_size - 1
        assert hi > 0, f"token stream of {self.n} tokens is shorter than a window of {block_size + 1}"
        if self.starts is not None:
            pick = torch.randint(0, len(self.starts), (batch_size,), generator=generator)
            starts = self.starts[pick.to(self.device)].clamp(max=hi)
        else:
            starts = torch.randint(0, hi + 1, (batch_size,), generator=generator).to(self.device)
        idx = starts[:, None] + torch.arange(block_size + 1, device=self.device)[None, :]  # [B, T+1]
        chunk = self.tokens[idx].long()                                                    # [B, T+1]
        x, y = chunk[:, :-1], chunk[:, 1:]                                                 # [B, T]
        m = self.mask[idx][:, 1:].float() if self.mask is not None else None              # [B, T]
        return x, y, m


def read_vocab_size(data_dir):
    meta = os.path.join(data_dir, "meta.json")
    if os.path.exists(meta):
        with open(meta) as f:
            d = json.load(f)
        for k in ("vocab_size", "n_vocab"):
            if k in d:
                return int(d[k])
    tok = os.path.join(data_dir, "tokenizer.json")
    if os.path.exists(tok):
        with open(tok) as f:
            d = json.load(f)
        ids = list(d["model"]["vocab"].values()) + [t["id"] for t in d.get("added_tokens", [])]
        return max(ids) + 1
    return None
