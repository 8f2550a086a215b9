"""
Attentive's code GPT: a small decoder-only Transformer, written to be read.

The architecture is the classic one ("Attention Is All You Need", Vaswani et al. 2017, decoder
side only, as in GPT-1/2), with pre-LayerNorm blocks (GPT-2):

    x0 = Embed(token) * sqrt(d_model) + PE(position)          sinusoidal positional encoding
    for each of the N blocks:
        x = x + W_O . concat_h( softmax(Q_h K_h^T / sqrt(d_k) + causal/padding mask) V_h )   (of LN_1(x))
        x = x + W_2 . GELU(W_1 . LN_2(x))                                                    (4x wider FFN)
    logits = LN_f(x) . Embed^T                                 output head tied to the token embedding

Why the sqrt(d_model) factor: embeddings are initialised with std 0.02 (their scale is set by the
tied output head); multiplied by sqrt(384) ~ 19.6 their per-coordinate RMS (~0.4) is of the same
order as the sinusoidal code (RMS ~0.7), so neither drowns the other at the start of training.

One forward() serves both uses:
  * training:   model(input_ids) -> full causal attention over the window (fast path, no masks built);
  * inference / ONNX export, the Hugging Face "decoder with past" interface:
        model(input_ids, attention_mask, position_ids, past_key_values, output_attentions=True)
          -> (logits, presents, attentions)
    attention_mask [batch, past+seq] (1 = real token, 0 = padding) is combined with the causal mask;
    positions come from position_ids (rows of a precomputed sinusoidal table);
    past_key_values / presents hold per-layer (key, value) of shape [batch, heads, past, head_dim];
    attentions hold per-layer probabilities [batch, heads, seq, past+seq] (rows sum to 1, exactly 0 on
    future and padded keys).

Runs on torch 1.13 (hand-written attention) and torch >= 2 (uses F.scaled_dot_product_attention for the
training fast path when no probabilities are requested; the two agree to float rounding).
"""

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------

@dataclass
class GPTConfig:
    vocab_size: int = 8192         # number of token ids (byte-level BPE, special tokens 0..5 included)
    block_size: int = 1024         # max_position_embeddings: longest past+seq the model is trained for
    n_layer: int = 6               # number of Transformer blocks (N)
    n_head: int = 6                # attention heads per block (h); head_dim = n_embd // n_head
    n_embd: int = 384              # d_model: width of the residual stream
    ffn_mult: int = 4              # feed-forward hidden width = ffn_mult * n_embd (d_ff = 4 d_model)
    dropout: float = 0.0           # dropout on attention probabilities and residual branches (training only)
    bias: bool = True              # biases in the Linear layers and LayerNorms
    layer_norm_eps: float = 1e-5   # epsilon of every LayerNorm
    scale_embedding: bool = True   # multiply token embeddings by sqrt(n_embd) before adding the PE
    pe_base: float = 10000.0       # base of the sinusoidal encoding: PE(pos, 2i) = sin(pos / base^(2i/d))

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GPTConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def sinusoidal_table(n_pos: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / base^(2i/d_model)),  PE(pos, 2i+1) = cos(pos / base^(2i/d_model))."""
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]             # [n_pos, 1]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)[None, :]   # [1, d_model/2]   (the "2i")
    angle = pos / torch.pow(torch.tensor(base, dtype=torch.float64), two_i / d_model)  # [n_pos, d_model/2]
    pe = torch.zeros(n_pos, d_model, dtype=torch.float64)               # [n_pos, d_model]
    pe[:, 0::2] = torch.sin(angle)                                      # even coordinates
    pe[:, 1::2] = torch.cos(angle)                                      # odd coordinates
    return pe.float()


# ----------------------------------------------------------------------------------------------
# Masked multi-head self-attention
# ----------------------------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0
        self.n_head = cfg.n_head
        self.head_dim = cfg.head_dim
        self.dropout = cfg.dropout
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)  # fused W^Q, W^K, W^V
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)      # W^O
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, allowed=None, past_kv=None, need_probs=False):
        """
        x:       [batch, seq, d_model]
        allowed: bool [batch or 1, 1, seq, past+seq], True where query may attend key; None = plain causal
        past_kv: (key, value), each [batch, heads, past, head_dim], or None
        returns  y [batch, seq, d_model], present (key, value) [batch, heads, past+seq, head_dim], probs or None
        """
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)                       # 3 x [B, T, C]
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)   # [B, H, T, hd]
        k = k.view(B, T, self.n_head, self.head_dim).transpose(1, 2)   # [B, H, T, hd]
        v = v.view(B, T, self.n_head, self.head_dim).transpose(1, 2)   # [B, H, T, hd]
        if past_kv is not None:
            k = torch.cat([past_kv[0].to(k.dtype), k], dim=2)          # [B, H, P+T, hd]
            v = torch.cat([past_kv[1].to(v.dtype), v], dim=2)          # [B, H, P+T, hd]
        present = (k, v)

        if allowed is None and not need_probs and HAS_SDPA:
            # torch >= 2 training fast path (flash / memory-efficient kernels), same math as below.
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)  # [B, H, T, hd]
            probs = None
        else:
            if allowed is None:  # plain causal mask (training on torch 1.13)
                allowed = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()[None, None]  # [1, 1, T, T]
            att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))  # [B, H, T, P+T]
            # Masked positions get the most negative float (not -inf): exp() makes them exactly 0 and a
            # row with no allowed key (a padding query) stays finite instead of turning into NaN.
            att = att.float().masked_fill(~allowed, torch.finfo(torch.float32).min)    # [B, H, T, P+T]
            probs = F.softmax(att, dim=-1)                                             # [B, H, T, P+T]
            y = torch.matmul(self.attn_dropout(probs).to(v.dtype), v)                  # [B, H, T, hd]

        y = y.transpose(1, 2).contiguous().view(B, T, C)   # [B, T, C]   heads concatenated
        y = self.resid_dropout(self.c_proj(y))             # [B, T, C]   W^O
        return y, present, probs


class MLP(nn.Module):
    """Position-wise feed-forward network: W_2 GELU(W_1 x)."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, cfg.ffn_mult * cfg.n_embd, bias=cfg.bias)    # W_1
        self.gelu = nn.GELU()                                                          # exact (erf) GELU
        self.c_proj = nn.Linear(cfg.ffn_mult * cfg.n_embd, cfg.n_embd, bias=cfg.bias)  # W_2
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        h = self.gelu(self.c_fc(x))           # [B, T, 4C]
        return self.dropout(self.c_proj(h))   # [B, T, C]


class Block(nn.Module):
    """Pre-LayerNorm Transformer decoder block."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_eps, elementwise_affine=True)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_eps, elementwise_affine=True)
        self.mlp = MLP(cfg)
        if not cfg.bias:  # LayerNorm bias off too
            self.ln_1.bias = None
            self.ln_2.bias = None

    def forward(self, x, allowed=None, past_kv=None, need_probs=False):
        a, present, probs = self.attn(self.ln_1(x), allowed, past_kv, need_probs)  # [B, T, C]
        x = x + a                                                                  # [B, T, C]
        x = x + self.mlp(self.ln_2(x))                                             # [B, T, C]
        return x, present, probs


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------

class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.config = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)                       # token embedding E
        self.register_buffer("pe", sinusoidal_table(cfg.block_size, cfg.n_embd, cfg.pe_base),
                             persistent=False)                                     # [block_size, C]
        self.emb_scale = math.sqrt(cfg.n_embd) if cfg.scale_embedding else 1.0
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_eps)
        if not cfg.bias:
            self.ln_f.bias = None
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight                                      # tied: logits = h E^T

        # GPT-2 initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2N)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())  # tied weight counted once

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                output_attentions=False):
        """
        input_ids:       int64 [batch, seq]
        attention_mask:  int64 [batch, past+seq], 1 = real token, 0 = padding (None = all real)
        position_ids:    int64 [batch, seq] (None = past, past+1, ...)
        past_key_values: list of n_layer (key, value), each [batch, heads, past, head_dim], or None
        returns (logits [batch, seq, vocab], presents (list of (key, value)), attentions (list) or None)
        """
        B, T = input_ids.shape
        past_len = past_key_values[0][0].size(2) if past_key_values is not None else 0
        if position_ids is None:
            position_ids = torch.arange(T, device=input_ids.device)[None, :] + past_len  # [1, T]

        x = self.wte(input_ids) * self.emb_scale + self.pe[position_ids]   # [B, T, C]
        x = self.drop(x)                                                    # [B, T, C]

        # Masks are only built when needed: plain training (no past, no padding, no probabilities)
        # lets each attention layer use its causal fast path.
        allowed = None
        if attention_mask is not None or past_key_values is not None or output_attentions:
            q_pos = torch.arange(T, device=x.device) + past_len                  # [T]      absolute query index
            k_pos = torch.arange(past_len + T, device=x.device)                  # [P+T]    absolute key index
            allowed = (k_pos[None, :] <= q_pos[:, None])[None, None]             # [1, 1, T, P+T] causal
            if attention_mask is not None:
                allowed = allowed & attention_mask[:, None, None, :].bool()      # [B, 1, T, P+T] & padding

        presents, attentions = [], []
        for i, block in enumerate(self.blocks):
            past_kv = past_key_values[i] if past_key_values is not None else None
            x, present, probs = block(x, allowed, past_kv, output_attentions)   # [B, T, C]
            presents.append(present)
            attentions.append(probs)

        x = self.ln_f(x)           # [B, T, C]
        logits = self.lm_head(x)   # [B, T, vocab]
        return logits, presents, (attentions if output_attentions else None)

    # ------------------------------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------------------------------

    @torch.no_grad()
    def generate_greedy(self, input_ids, max_new_tokens, eos_id=None):
        """Greedy decoding with the KV cache (one prompt, batch 1). Returns the list of new token ids."""
        ids = torch.as_tensor(input_ids, dtype=torch.long).view(1, -1)  # [1, T]
        logits, past, _ = self(ids)
        out = []
        pos = ids.size(1)
        for _ in range(max_new_tokens):
            nxt = int(torch.argmax(logits[0, -1]))
            out.append(nxt)
            if eos_id is not None and nxt == eos_id:
                break
            if pos >= self.config.block_size:
                break
            step = torch.tensor([[nxt]], dtype=torch.long)                # [1, 1]
            mask = torch.ones(1, pos + 1, dtype=torch.long)               # [1, P+1]
            logits, past, _ = self(step, attention_mask=mask, position_ids=torch.tensor([[pos]]),
                                   past_key_values=past)
            pos += 1
        return out


def masked_lm_loss(logits, targets, mask=None):
    """Mean next-token cross-entropy (in float32) over positions where mask == 1 (all if mask is None)."""
    V = logits.size(-1)
    loss = F.cross_entropy(logits.float().reshape(-1, V), targets.reshape(-1), reduction="none")  # [B*T]
    if mask is None:
        return loss.mean()
    m = mask.reshape(-1).to(loss.dtype)                                                         # [B*T]
    return (loss * m).sum() / m.sum().clamp(min=1.0)
