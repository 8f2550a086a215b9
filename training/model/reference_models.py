"""
Tiny reference decoders of two public families, for the engine's test fixtures (training/fixtures/fixtures.py).

    LlamaTiny  Llama / Qwen2 style: RoPE (rotate-half, as in Hugging Face), RMSNorm, grouped-query attention
               (num_key_value_heads < num_attention_heads), SwiGLU feed-forward; untied lm_head and no biases
               unless the config asks for Qwen2's q/k/v biases and a tied lm_head (training/fixtures/shape_model.py).
    GPT2Tiny   GPT-2 style: learned absolute positions, LayerNorm, tanh-GELU ("gelu_new"), fused c_attn,
               tied lm_head. With position_ids=None and an attention_mask, positions are derived inside
               the graph from the mask (cumsum - 1), as exports without a position_ids input do.

Both follow the interface of model.GPT (training/model/model.py):
    forward(input_ids, attention_mask, position_ids, past_key_values, output_attentions)
        -> logits [batch, seq, vocab], presents [(key, value)] each [batch, kv_heads, past+seq, head_dim],
           attentions (list of [batch, heads, seq, past+seq]) or None
Attention is written out (MatMul -> Softmax -> MatMul) so the exported graphs contain no fused attention op.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = torch.finfo(torch.float32).min


def build_allowed(T, past_len, attention_mask, device):
    """bool [batch or 1, 1, T, past+T]: causal, and key not padding."""
    q_pos = torch.arange(T, device=device) + past_len                 # [T]
    k_pos = torch.arange(past_len + T, device=device)                 # [P+T]
    allowed = (k_pos[None, :] <= q_pos[:, None])[None, None]          # [1, 1, T, P+T]
    if attention_mask is not None:
        allowed = allowed & attention_mask[:, None, None, :].bool()   # [B, 1, T, P+T]
    return allowed


def attend(q, k, v, allowed):
    """softmax(q k^T / sqrt(d) masked) v; q [B, H, T, hd], k/v [B, H, S, hd] -> y [B, H, T, hd], probs."""
    att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))  # [B, H, T, S]
    att = att.masked_fill(~allowed, NEG)                                          # [B, H, T, S]
    probs = F.softmax(att, dim=-1)                                                # [B, H, T, S]
    return torch.matmul(probs, v), probs                                          # [B, H, T, hd]


# ----------------------------------------------------------------------------------------------
# Llama / Qwen2 style
# ----------------------------------------------------------------------------------------------

@dataclass
class LlamaConfig:
    vocab_size: int = 512
    hidden_size: int = 64
    intermediate_size: int = 176
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 256
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    attention_bias: bool = False       # Qwen2: biases on the q, k and v projections
    tie_word_embeddings: bool = False  # lm_head shares the token embedding
    init_std: float = 0.08             # large for the trained fixtures; HF's initializer_range is 0.02

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)                  # [B, T, 1]
        return self.weight * (x * torch.rsqrt(var + self.eps))  # [B, T, C]


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)          # [..., hd/2] each
    return torch.cat((-x2, x1), dim=-1)  # [..., hd]


class LlamaAttention(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.h, self.kvh, self.hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.h * self.hd, bias=c.attention_bias)
        self.k_proj = nn.Linear(c.hidden_size, self.kvh * self.hd, bias=c.attention_bias)
        self.v_proj = nn.Linear(c.hidden_size, self.kvh * self.hd, bias=c.attention_bias)
        self.o_proj = nn.Linear(self.h * self.hd, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, allowed, past_kv):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.h, self.hd).transpose(1, 2)     # [B, H, T, hd]
        k = self.k_proj(x).view(B, T, self.kvh, self.hd).transpose(1, 2)   # [B, KVH, T, hd]
        v = self.v_proj(x).view(B, T, self.kvh, self.hd).transpose(1, 2)   # [B, KVH, T, hd]
        q = q * cos + rotate_half(q) * sin                                 # [B, H, T, hd]
        k = k * cos + rotate_half(k) * sin                                 # [B, KVH, T, hd]
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)                          # [B, KVH, S, hd]
            v = torch.cat([past_kv[1], v], dim=2)                          # [B, KVH, S, hd]
        present = (k, v)
        rep = self.h // self.kvh
        S = k.size(2)
        kr = k[:, :, None].expand(B, self.kvh, rep, S, self.hd).reshape(B, self.h, S, self.hd)  # [B, H, S, hd]
        vr = v[:, :, None].expand(B, self.kvh, rep, S, self.hd).reshape(B, self.h, S, self.hd)  # [B, H, S, hd]
        y, probs = attend(q, kr, vr, allowed)                              # [B, H, T, hd]
        y = y.transpose(1, 2).reshape(B, T, self.h * self.hd)              # [B, T, C]
        return self.o_proj(y), present, probs


class LlamaMLP(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # [B, T, C]


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = LlamaMLP(c)

    def forward(self, x, cos, sin, allowed, past_kv):
        a, present, probs = self.self_attn(self.input_layernorm(x), cos, sin, allowed, past_kv)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present, probs


class LlamaTiny(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([LlamaLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)  # [hd/2]
        for p in self.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=c.init_std)
        if c.tie_word_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        for layer in self.layers:  # non-trivial norm weights so the fixture exercises them
            for norm in (layer.input_layernorm, layer.post_attention_layernorm):
                nn.init.uniform_(norm.weight, 0.6, 1.4)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                output_attentions=False):
        B, T = input_ids.shape
        past_len = past_key_values[0][0].size(2) if past_key_values is not None else 0
        if position_ids is None:
            position_ids = torch.arange(T, device=input_ids.device)[None, :] + past_len  # [1, T]
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]   # [B, T, hd/2]
        emb = torch.cat((freqs, freqs), dim=-1)                                   # [B, T, hd]
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]                         # [B, 1, T, hd]
        allowed = build_allowed(T, past_len, attention_mask, input_ids.device)
        x = self.embed_tokens(input_ids)                                          # [B, T, C]
        presents, attns = [], []
        for i, layer in enumerate(self.layers):
            x, present, probs = layer(x, cos, sin, allowed, past_key_values[i] if past_key_values else None)
            presents.append(present)
            attns.append(probs)
        return self.lm_head(self.norm(x)), presents, (attns if output_attentions else None)

    def hf_config(self, eos_token_id, bos_token_id, pad_token_id):
        c = self.config
        return {
            "model_type": "llama",
            "architectures": ["LlamaForCausalLM"],
            "vocab_size": c.vocab_size,
            "hidden_size": c.hidden_size,
            "intermediate_size": c.intermediate_size,
            "num_hidden_layers": c.num_hidden_layers,
            "num_attention_heads": c.num_attention_heads,
            "num_key_value_heads": c.num_key_value_heads,
            "head_dim": c.head_dim,
            "max_position_embeddings": c.max_position_embeddings,
            "rms_norm_eps": c.rms_norm_eps,
            "rope_theta": c.rope_theta,
            "rope_scaling": None,
            "hidden_act": "silu",
            "attention_bias": c.attention_bias,
            "mlp_bias": False,
            "tie_word_embeddings": c.tie_word_embeddings,
            "initializer_range": 0.02,
            "bos_token_id": bos_token_id,
            "eos_token_id": eos_token_id,
            "pad_token_id": pad_token_id,
            "use_cache": True,
            "torch_dtype": "float32",
            "transformers_version": "4.46.0",
        }


# ----------------------------------------------------------------------------------------------
# GPT-2 style
# ----------------------------------------------------------------------------------------------

@dataclass
class GPT2Config:
    vocab_size: int = 512
    n_positions: int = 256
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    layer_norm_epsilon: float = 1e-5

    @property
    def head_dim(self):
        return self.n_embd // self.n_head


class GPT2Block(nn.Module):
    def __init__(self, c: GPT2Config):
        super().__init__()
        self.n_head, self.hd = c.n_head, c.head_dim
        self.ln_1 = nn.LayerNorm(c.n_embd, eps=c.layer_norm_epsilon)
        self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.c_proj = nn.Linear(c.n_embd, c.n_embd)
        self.ln_2 = nn.LayerNorm(c.n_embd, eps=c.layer_norm_epsilon)
        self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd)
        self.mlp_proj = nn.Linear(4 * c.n_embd, c.n_embd)

    def forward(self, x, allowed, past_kv):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)                # 3 x [B, T, C]
        q = q.view(B, T, self.n_head, self.hd).transpose(1, 2)             # [B, H, T, hd]
        k = k.view(B, T, self.n_head, self.hd).transpose(1, 2)             # [B, H, T, hd]
        v = v.view(B, T, self.n_head, self.hd).transpose(1, 2)             # [B, H, T, hd]
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)                          # [B, H, S, hd]
            v = torch.cat([past_kv[1], v], dim=2)                          # [B, H, S, hd]
        y, probs = attend(q, k, v, allowed)                                # [B, H, T, hd]
        y = y.transpose(1, 2).reshape(B, T, C)                             # [B, T, C]
        x = x + self.c_proj(y)
        h = F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")            # [B, T, 4C]
        x = x + self.mlp_proj(h)
        return x, (k, v), probs


class GPT2Tiny(nn.Module):
    def __init__(self, c: GPT2Config):
        super().__init__()
        self.config = c
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.n_positions, c.n_embd)
        self.h = nn.ModuleList([GPT2Block(c) for _ in range(c.n_layer)])
        self.ln_f = nn.LayerNorm(c.n_embd, eps=c.layer_norm_epsilon)
        for n, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.08)
            elif n.endswith("bias"):
                nn.init.normal_(p, std=0.02)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                output_attentions=False):
        B, T = input_ids.shape
        past_len = past_key_values[0][0].size(2) if past_key_values is not None else 0
        if position_ids is None:
            if attention_mask is not None:  # left padding aware: position = number of real tokens before
                pos_all = (attention_mask.cumsum(-1) - 1).clamp(min=0)       # [B, P+T]
                position_ids = pos_all[:, past_len:]                          # [B, T]
            else:
                position_ids = torch.arange(T, device=input_ids.device)[None, :] + past_len  # [1, T]
        allowed = build_allowed(T, past_len, attention_mask, input_ids.device)
        x = self.wte(input_ids) + self.wpe(position_ids)                      # [B, T, C]
        presents, attns = [], []
        for i, block in enumerate(self.h):
            x, present, probs = block(x, allowed, past_key_values[i] if past_key_values else None)
            presents.append(present)
            attns.append(probs)
        logits = torch.matmul(self.ln_f(x), self.wte.weight.t())              # [B, T, vocab]  tied head
        return logits, presents, (attns if output_attentions else None)

    def hf_config(self, eos_token_id, bos_token_id, pad_token_id=None):
        c = self.config
        return {
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "vocab_size": c.vocab_size,
            "n_positions": c.n_positions,
            "n_ctx": c.n_positions,
            "n_embd": c.n_embd,
            "n_layer": c.n_layer,
            "n_head": c.n_head,
            "n_inner": None,
            "activation_function": "gelu_new",
            "layer_norm_epsilon": c.layer_norm_epsilon,
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
            "scale_attn_weights": True,
            "tie_word_embeddings": True,
            "initializer_range": 0.02,
            "bos_token_id": bos_token_id,
            "eos_token_id": eos_token_id,
            "pad_token_id": pad_token_id,
            "use_cache": True,
            "torch_dtype": "float32",
            "transformers_version": "4.46.0",
        }
