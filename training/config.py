"""Training configurations: one per machine kind (cpu, cuda) plus tiny for tests, and cuda-v2 for the next bundled
model."""

from dataclasses import dataclass, field



@dataclass
class TrainConfig:
    model: dict                      # GPTConfig fields (vocab_size is taken from the data)
    batch_size: int = 16             # sequences per micro-batch
    grad_accum: int = 1              # micro-batches per optimizer step
    lr: float = 1e-3                 # peak learning rate
    min_lr_ratio: float = 0.1        # final lr = lr * min_lr_ratio
    warmup_steps: int = 100          # linear warmup steps
    weight_decay: float = 0.1        # AdamW decoupled weight decay (matrices only)
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0           # global gradient-norm clip
    max_steps: int = 1000            # step budget when neither --max-minutes nor --max-tokens is given
    eval_interval: int = 200         # evaluate every N steps ...
    eval_seconds: float = 120.0      # ... or every S seconds, whichever comes first
    eval_batches: int = 10           # validation batches per evaluation
    log_interval: int = 10           # print every N steps
    ckpt_minutes: float = 5.0        # write a checkpoint every M minutes (and at the end)
    compile: bool = False            # torch.compile (CUDA and torch >= 2 only)
    max_epochs: float = 0.0          # if > 0: also stop after this many passes over the training tokens
    mix_pretrain: float = 0.0        # sft: fraction of each batch drawn from train.bin (full loss), against
                                     # forgetting plain / FIM completion while learning chat
    sft: dict = field(default_factory=dict)  # overrides for --stage sft


CONFIGS = {
    # smoke tests: seconds on a laptop CPU
    "tiny": TrainConfig(
        model=dict(n_layer=2, n_head=2, n_embd=64, block_size=128),
        batch_size=8, lr=3e-3, warmup_steps=5, max_steps=50, eval_interval=25, eval_batches=2,
        log_interval=5, ckpt_minutes=1.0,
        sft=dict(lr=1e-3, warmup_steps=2, max_steps=20, mix_pretrain=0.25),
    ),
    # a fallback model trained on 2 CPU cores in ~2.5 h (~25M tokens at ~3k tokens/s with bf16)
    "cpu": TrainConfig(
        model=dict(n_layer=4, n_head=4, n_embd=256, block_size=512),
        batch_size=8, lr=2e-3, warmup_steps=100, max_steps=6000, eval_interval=250, eval_batches=8,
        eval_seconds=600, log_interval=10, ckpt_minutes=10.0,
        sft=dict(lr=5e-4, warmup_steps=20, max_steps=400, mix_pretrain=0.25),
    ),
    # the shipped model, trained on one H200 for ~7 minutes (bf16, compiled)
    "cuda": TrainConfig(
        model=dict(n_layer=6, n_head=6, n_embd=384, block_size=1024, dropout=0.1),
        batch_size=128, lr=1.5e-3, warmup_steps=150, max_steps=5000, eval_interval=100000,
        eval_seconds=45, eval_batches=8, log_interval=25, ckpt_minutes=3.0, compile=True,
        sft=dict(lr=5e-4, warmup_steps=20, max_steps=600, batch_size=64, compile=False, max_epochs=3.0,
                 mix_pretrain=0.25,
                 eval_seconds=20),
    ),
    # the next bundled model (issue 20): 6 x 512, 8 heads, 23.1M parameters, the largest shape that keeps 4-bit
    # decode near 300 tokens/s and completion p95 under 200 ms on 2 cores (docs/PERFORMANCE.md "Model shapes").
    # The v2 corpus (~1.2 GB) is more than ~10 GPU minutes can pass over twice, so no dropout.
    "cuda-v2": TrainConfig(
        model=dict(n_layer=6, n_head=8, n_embd=512, block_size=1024, dropout=0.0),
        batch_size=128, lr=1e-3, warmup_steps=200, max_steps=8000, eval_interval=100000,
        eval_seconds=60, eval_batches=8, log_interval=25, ckpt_minutes=3.0, compile=True,
        sft=dict(lr=3e-4, warmup_steps=20, max_steps=1000, batch_size=64, compile=False, max_epochs=3.0,
                 mix_pretrain=0.25, eval_seconds=20),
    ),
}
