"""The held-out editor FIM streams per hole kind (prepare.write_fim_eval) and their scoring
(eval_fim_stream.score_kinds): every kind written, and the first middle token's loss read at the right position."""
import json
import random

import numpy as np
import torch
import torch.nn.functional as F

from training.data import prepare
from training.data.bpe import SPECIAL_TOKENS, train_bpe
from training.data.fim import EDITOR_KINDS
from training.eval.eval_fim_stream import score_kinds
from training.model.model import GPT, GPTConfig

DOCS = [{"language": "python", "text": "".join(f"def f{i}_{k}(x):\n    y = x * {i}\n    if y > {k}:\n        return y - 1\n    return y\n\n\n"
                                              for i in range(12))} for k in range(30)]


def test_every_kind_written_and_scored_at_its_first_middle_token(tmp_path):
    tok = train_bpe([d["text"] for d in DOCS[:5]], 300, SPECIAL_TOKENS)
    for n, kind in enumerate(EDITOR_KINDS):
        stats = prepare.write_fim_eval(str(tmp_path / f"val_fim_{kind}"), DOCS, tok, 7 + n, kind, 6, spm_rate=0.5)
        assert stats["examples"] == 6
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=2048, n_layer=1, n_head=2, n_embd=32)).eval()
    scores = score_kinds(model, str(tmp_path), examples=6)
    assert set(scores) == set(EDITOR_KINDS)
    for kind in EDITOR_KINDS:
        assert sum(v["examples"] for v in scores[kind].values()) == 6
        # the first example of the kind, scored by hand: -log p(first middle token | everything before it)
        stream = np.fromfile(tmp_path / f"val_fim_{kind}.bin", dtype=np.uint16).astype(np.int64)
        index = json.loads((tmp_path / f"val_fim_{kind}.json").read_text())["examples"]
        (start, first, mode), end = index[0], index[1][0]
        ids = torch.tensor(np.concatenate([[0], stream[start:end]]))[None]
        with torch.no_grad():
            logits = model(ids)[0][0]                                          # [T, vocab]
        k = first - start + 1  # the first middle token's position in ids
        expected = float(-F.log_softmax(logits[k - 1], dim=-1)[ids[0, k]])
        if mode == "psm":
            assert int(ids[0, k - 1]) == tok.token_to_id("<|fim_middle|>")
        one = score_kinds(model, str(tmp_path), examples=1, kinds=[kind])[kind][mode]
        assert abs(one["first_middle_token"] - expected) < 1e-4
        if kind == "empty":
            assert int(ids[0, k]) == tok.token_to_id("<|endoftext|>") and one["rest_of_middle"] is None
