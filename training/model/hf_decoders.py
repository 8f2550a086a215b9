"""
Genuine Hugging Face transformers decoders (LlamaForCausalLM, Qwen2ForCausalLM, GPT2LMHeadModel) behind the interface
of our own GPT (training/model/model.py), so that the same training loop, reference code and ONNX export
(training/export/export.py) serve both:

    logits, presents, attentions = model(input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                                         output_attentions=False)
    logits [B, T, vocab]; presents: per layer (key, value), each [B, kv_heads, past + T, head_dim];
    attentions: per layer [B, heads, T, past + T] when asked for, else None.

Eager attention (MatMul -> Softmax -> MatMul once exported), as the exports the engine must expose attention for.
Needs transformers: run with .venv-serve/bin/python (scripts/setup-serve-venv.sh), not Debian's /usr/bin/python3.
"""

import torch
from torch import nn
from transformers import DynamicCache, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM


class HFDecoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.config = model.config

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, output_attentions=False):
        B, T = input_ids.shape
        past_len = past_key_values[0][0].size(2) if past_key_values else 0
        if attention_mask is None:
            attention_mask = torch.ones(B, past_len + T, dtype=torch.long, device=input_ids.device)
        if position_ids is None:
            # Left-padding aware: a position is the number of real tokens before it (what exports without a
            # position_ids input compute in the graph).
            position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, past_len:]  # [B, T]
        cache = DynamicCache()
        for i, (key, value) in enumerate(past_key_values or []):
            cache.update(key, value, i)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         past_key_values=cache, use_cache=True, output_attentions=output_attentions)
        presents = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
        return out.logits, presents, (list(out.attentions) if output_attentions else None)

    def hf_config(self, eos_token_id, bos_token_id, pad_token_id=None):
        """config.json as the class writes it, with the fixture tokenizer's special ids."""
        config = self.config.to_dict()
        config.update(eos_token_id=eos_token_id, bos_token_id=bos_token_id, pad_token_id=pad_token_id,
                      architectures=[type(self.model).__name__])
        return config


def llama(init_std=0.08, **config):
    """LlamaForCausalLM (RoPE, RMSNorm, GQA, SwiGLU); norm weights drawn from [0.6, 1.4] so that they matter."""
    model = LlamaForCausalLM(LlamaConfig(initializer_range=init_std, attn_implementation='eager', **config))
    for layer in model.model.layers:
        for norm in (layer.input_layernorm, layer.post_attention_layernorm):
            nn.init.uniform_(norm.weight, 0.6, 1.4)
    return HFDecoder(model)


def qwen2(init_std=0.02, **config):
    """Qwen2ForCausalLM (Qwen2.5-Coder: Llama's layout with q/k/v biases)."""
    return HFDecoder(Qwen2ForCausalLM(Qwen2Config(initializer_range=init_std, attn_implementation='eager', **config)))


def gpt2(init_std=0.08, **config):
    """GPT2LMHeadModel (learned positions, LayerNorm, tanh-GELU, tied head), without dropout."""
    return HFDecoder(GPT2LMHeadModel(GPT2Config(initializer_range=init_std, attn_implementation='eager', resid_pdrop=0.0,
                                                embd_pdrop=0.0, attn_pdrop=0.0, **config)))
