"""training/model/model.py: shapes, causality, KV cache, masks, positional encoding."""
import math

import pytest
import torch

from training.model.model import GPT, GPTConfig, HAS_SDPA, masked_lm_loss, sinusoidal_table

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=300, block_size=64, n_layer=2, n_head=4, n_embd=32)).eval()
    with torch.no_grad():  # livelier weights than the init, so differences show
        for n, p in m.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.15)
    return m


def ids(B, T, seed=0):
    return torch.randint(6, 300, (B, T), generator=torch.Generator().manual_seed(seed))


def test_shapes(model):
    x = ids(2, 10)
    logits, presents, attns = model(x, output_attentions=True)
    assert logits.shape == (2, 10, 300)
    assert len(presents) == 2 and presents[0][0].shape == (2, 4, 10, 8) and presents[0][1].shape == (2, 4, 10, 8)
    assert len(attns) == 2 and attns[1].shape == (2, 4, 10, 10)
    assert model(x)[2] is None
    # tied output head
    assert model.lm_head.weight.data_ptr() == model.wte.weight.data_ptr()


def test_causal(model):
    x = ids(1, 12)
    y = x.clone()
    y[0, 8] = (y[0, 8] + 1) % 300
    with torch.no_grad():
        a, b = model(x)[0], model(y)[0]
    assert torch.allclose(a[:, :8], b[:, :8], atol=1e-6)
    assert not torch.allclose(a[:, 8:], b[:, 8:], atol=1e-3)


def test_kv_cache_equals_full_forward(model):
    x = ids(2, 14)
    with torch.no_grad():
        full = model(x)[0]
        # prefill 9 tokens, then 1 + 4 tokens with the cache
        l1, past, _ = model(x[:, :9], attention_mask=torch.ones(2, 9, dtype=torch.long))
        l2, past, _ = model(x[:, 9:10], attention_mask=torch.ones(2, 10, dtype=torch.long),
                            position_ids=torch.tensor([[9], [9]]), past_key_values=past)
        l3, past, _ = model(x[:, 10:], attention_mask=torch.ones(2, 14, dtype=torch.long),
                            position_ids=torch.arange(10, 14)[None].expand(2, 4), past_key_values=past)
    inc = torch.cat([l1, l2, l3], dim=1)
    assert torch.allclose(full, inc, atol=1e-5), (full - inc).abs().max()
    assert past[0][0].shape == (2, 4, 14, 8)


def test_greedy_with_cache_matches_recompute(model):
    prompt = ids(1, 6)[0].tolist()
    out = model.generate_greedy(prompt, 8)
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(8):
            seq.append(int(model(torch.tensor([seq]))[0][0, -1].argmax()))
    assert out == seq[len(prompt):]


def test_attention_rows_and_masks(model):
    x = ids(2, 7)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, :3] = 0  # left padding
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        _, _, attns = model(x, attention_mask=mask, position_ids=pos, output_attentions=True)
    for a in attns:  # [B, H, T, S]
        assert torch.allclose(a.sum(-1), torch.ones_like(a.sum(-1)), atol=1e-5)
        future = torch.ones(7, 7).triu(1).bool()
        assert (a[0][:, future] == 0).all()
        assert (a[1, :, 3:][:, future[3:]] == 0).all()  # real queries never see future keys ...
        assert (a[1, :, 3:, :3] == 0).all()             # ... nor padded keys
        assert torch.isfinite(a).all()                  # padded queries (all keys masked) stay finite


def test_left_padding_does_not_change_real_rows(model):
    x = ids(1, 5)
    pad = torch.cat([torch.zeros(1, 3, dtype=torch.long), x], dim=1)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1]])
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        a = model(x)[0]
        b = model(pad, attention_mask=mask, position_ids=pos)[0][:, 3:]
    assert torch.allclose(a, b, atol=1e-5)


def test_sinusoidal_formula():
    d, n = 16, 50
    pe = sinusoidal_table(n, d)
    for pos in (0, 1, 7, 49):
        for i in range(d // 2):
            ang = pos / (10000 ** (2 * i / d))
            assert math.isclose(pe[pos, 2 * i].item(), math.sin(ang), abs_tol=1e-6)
            assert math.isclose(pe[pos, 2 * i + 1].item(), math.cos(ang), abs_tol=1e-6)


def test_embedding_uses_position_table(model):
    # position_ids select rows of the table: same ids at shifted positions give different logits
    x = ids(1, 4)
    with torch.no_grad():
        a = model(x, position_ids=torch.arange(4)[None])[0]
        b = model(x, position_ids=torch.arange(10, 14)[None])[0]
    assert not torch.allclose(a, b, atol=1e-3)


def test_training_path_matches_masked_path(model):
    # the fast path (no masks, SDPA on torch >= 2) equals the explicit-mask path
    x = ids(2, 16)
    with torch.no_grad():
        fast = model(x)[0]
        slow = model(x, attention_mask=torch.ones(2, 16, dtype=torch.long), output_attentions=True)[0]
    assert torch.allclose(fast, slow, atol=1e-5)
    if HAS_SDPA:
        assert True


def test_masked_loss():
    logits = torch.randn(2, 3, 5)
    y = torch.randint(0, 5, (2, 3))
    m = torch.tensor([[1, 0, 1], [0, 0, 1]])
    full = torch.nn.functional.cross_entropy(logits.reshape(-1, 5), y.reshape(-1), reduction="none")
    assert torch.allclose(masked_lm_loss(logits, y, m), full[m.reshape(-1).bool()].mean())
    assert torch.allclose(masked_lm_loss(logits, y), full.mean())


def test_backward_and_bf16_autocast():
    torch.manual_seed(1)
    m = GPT(GPTConfig(vocab_size=64, block_size=32, n_layer=1, n_head=2, n_embd=16))
    x = torch.randint(0, 64, (2, 12))
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        logits = m(x)[0]
    loss = masked_lm_loss(logits, x)
    loss.backward()
    assert torch.isfinite(loss) and m.wte.weight.grad is not None
