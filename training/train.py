"""
Train Attentive's code GPT, one command per stage, resumable.

    /usr/bin/python3 -m training.train --stage pretrain --config cpu|cuda|tiny \
        [--data training/.data] [--out training/runs/<name>] [--max-minutes M] [--resume]
    /usr/bin/python3 -m training.train --stage sft --config cuda \
        --init training/runs/<name>/pretrain [--out training/runs/<name>] [--max-minutes M]

Data (written by training/data/prepare.py): uint16 token streams train.bin / val.bin (pretraining, FIM
already applied, documents end with <|endoftext|> = 0) and sft_train.bin + sft_train_mask.bin /
sft_val.bin + sft_val_mask.bin (uint8 loss mask: 1 = this token is a target the loss counts).
Batches are random windows of block_size + 1 tokens (SFT: windows start at conversation starts).

The run directory <out>/<stage>/ receives:
    loss.csv          stage, step, tokens, train_loss, val_loss, lr, elapsed
    ckpt.json         model config, step, tokens, shard list
    ckpt-00.npz ...   the weights, split into shards of at most 15 MiB (numpy .npz: readable by any
                      torch / numpy version; the GPU machine returns files of at most 16 MiB)
    optim.pt          optimizer state and counters for --resume (not written with --no-optim-state)

Learning rate: linear warmup, then cosine decay to lr/10. The decay follows the fraction of the budget
spent: of steps (--max-steps / --max-tokens) or of wall-clock time (--max-minutes), so a timed run
always ends on a decayed learning rate.

Works unchanged on torch 1.13 CPU and torch 2.x CUDA (bf16 autocast, TF32, torch.compile when present).
"""

import argparse
import csv
import math
import os
import time
from dataclasses import asdict

import torch

from training.config import CONFIGS, TrainConfig
from training.data.token_stream import TokenStream, read_vocab_size
from training.malloc_env import reexec_with_malloc_env
from training.model.checkpoint import load_model, resolve_ckpt, save_shards
from training.model.model import GPT, GPTConfig, masked_lm_loss


# ----------------------------------------------------------------------------------------------
# Training: the steps of one stage (main() below lists them in order)
# ----------------------------------------------------------------------------------------------

def lr_at(tc: TrainConfig, step: int, progress: float) -> float:
    """Linear warmup over warmup_steps, then cosine from lr to lr*min_lr_ratio over progress in [0, 1]."""
    warm = min(1.0, (step + 1) / max(1, tc.warmup_steps))
    p = min(max(progress, 0.0), 1.0)
    cos = tc.min_lr_ratio + (1 - tc.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p))
    return tc.lr * warm * cos


def cpu_has_bf16():
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
        return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        return False


def make_optimizer(model, tc, device):
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": tc.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    kw = dict(lr=tc.lr, betas=(tc.beta1, tc.beta2), eps=1e-8)
    if device == "cuda":
        try:
            return torch.optim.AdamW(groups, fused=True, **kw)
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(groups, **kw)


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=["pretrain", "sft"], default="pretrain")
    ap.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    ap.add_argument("--data", default="training/.data")
    ap.add_argument("--out", default=None, help="run directory (the stage writes into <out>/<stage>)")
    ap.add_argument("--init", default=None, help="checkpoint to start from (dir or ckpt.json): needed for sft; for "
                    "pretrain, continued pretraining (fresh optimizer, schedule from step 0)")
    ap.add_argument("--resume", action="store_true", help="continue <out>/<stage> from its checkpoint")
    ap.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget; lr follows time")
    ap.add_argument("--max-tokens", type=float, default=None, help="token budget (overrides max_steps)")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--max-epochs", type=float, default=None, help="cap on passes over the training data")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--block-size", type=int, default=None)
    ap.add_argument("--grad-accum", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--warmup-steps", type=int, default=None)
    ap.add_argument("--min-lr-ratio", type=float, default=None, help="final lr = lr * this")
    ap.add_argument("--mix-pretrain", type=float, default=None, help="sft: fraction of each batch from train.bin")
    ap.add_argument("--align-docs", action="store_true",
                    help="pretrain: windows start right after an <|endoftext|> (so a window holds a FIM example's "
                         "sentinels and suffix, not only its tail)")
    ap.add_argument("--dropout", type=float, default=None)
    ap.add_argument("--eval-seconds", type=float, default=None)
    ap.add_argument("--eval-interval", type=int, default=None)
    ap.add_argument("--compile", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--dtype", choices=["auto", "bf16", "fp32"], default="auto")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--shard-dtype", choices=["float32", "float16"], default="float32")
    ap.add_argument("--no-optim-state", action="store_true", help="do not write optim.pt (GPU transfer)")
    ap.add_argument("--csv", default=None, help="loss CSV path (default <out>/<stage>/loss.csv); appended")
    ap.add_argument("--seed", type=int, default=1337)
    return ap


def stage_config(args) -> TrainConfig:
    """The --config preset, with its sft overrides for --stage sft, then the command line's overrides."""
    tc = TrainConfig(**{k: (dict(v) if isinstance(v, dict) else v) for k, v in asdict(CONFIGS[args.config]).items()})
    if args.stage == "sft":
        for k, v in tc.sft.items():
            setattr(tc, k, v)
    for k in ("max_epochs", "max_steps", "batch_size", "grad_accum", "lr", "warmup_steps", "min_lr_ratio", "eval_seconds",
              "eval_interval", "mix_pretrain"):
        if getattr(args, k) is not None:
            setattr(tc, k, getattr(args, k))
    if args.compile != "auto":
        tc.compile = args.compile == "on"
    return tc


def setup_device(args):
    """-> (device, use_bf16): CPU threads, TF32 on CUDA, and bf16 autocast where the hardware has it."""
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        torch.set_num_threads(max(1, args.threads))
    if device == "cuda":  # TF32 for any float32 matmul left outside autocast
        if hasattr(torch, "set_float32_matmul_precision"):
            torch.set_float32_matmul_precision("high")
        else:
            torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    use_bf16 = args.dtype == "bf16" or (args.dtype == "auto" and (device == "cuda" or cpu_has_bf16()))
    return device, use_bf16


def init_model(args, tc, run_dir, resuming):
    """-> (model, info of the checkpoint it came from or None): run_dir's own checkpoint when resuming, else --init,
    else a new model (vocabulary size from the data); --dropout overrides the checkpoint's."""
    init_info = None
    if resuming:
        model, init_info = load_model(run_dir)
        print(f"resuming {run_dir} at step {init_info['step']}")
    elif args.init:
        model, init_info = load_model(args.init)
        print(f"initialised from {resolve_ckpt(args.init)} (step {init_info['step']})")
    else:
        mcfg = dict(tc.model)
        mcfg["vocab_size"] = read_vocab_size(args.data) or mcfg.get("vocab_size", 8192)
        model = GPT(GPTConfig.from_dict(mcfg))
    if args.dropout is not None:
        model.config.dropout = args.dropout
        for mod in model.modules():
            if isinstance(mod, torch.nn.Dropout):
                mod.p = args.dropout
        for blk in model.blocks:
            blk.attn.dropout = args.dropout
    return model, init_info


def open_streams(args, tc, device):
    """-> (train, val, pre): the stage's token streams, and for SFT with mix_pretrain the pretraining stream whose
    windows fill that share of every batch (else None)."""
    if args.stage == "pretrain":
        train = TokenStream(os.path.join(args.data, "train.bin"), device=device, align_docs=args.align_docs)
        val = TokenStream(os.path.join(args.data, "val.bin"), device=device, align_docs=args.align_docs)
    else:
        train = TokenStream(os.path.join(args.data, "sft_train.bin"), os.path.join(args.data, "sft_train_mask.bin"),
                            device=device, align_docs=True)
        val = TokenStream(os.path.join(args.data, "sft_val.bin"), os.path.join(args.data, "sft_val_mask.bin"),
                          device=device, align_docs=True)
    pre = None
    if args.stage == "sft" and tc.mix_pretrain > 0 and os.path.exists(os.path.join(args.data, "train.bin")):
        pre = TokenStream(os.path.join(args.data, "train.bin"), device=device, align_docs=args.align_docs)
        print(f"sft: {tc.mix_pretrain:.0%} of each batch from train.bin (full loss)")
    return train, val, pre


def step_budget(args, tc, train_tokens, block_size, tokens_per_step):
    """-> (budget_s, max_steps): the wall-clock budget (None without --max-minutes) and the step budget, capped by
    max_epochs passes over the training stream (10**12 steps when only time decides)."""
    budget_s = args.max_minutes * 60.0 if args.max_minutes else None
    max_steps = tc.max_steps
    if args.max_tokens:
        max_steps = max(1, int(args.max_tokens // tokens_per_step))
    if budget_s is not None and args.max_steps is None and not args.max_tokens:
        max_steps = 10 ** 12  # time decides
    if tc.max_epochs and tc.max_epochs > 0:
        sft_tokens_per_step = (tc.batch_size - (int(round(tc.batch_size * tc.mix_pretrain)) if args.stage == "sft"
                                                else 0)) * block_size * tc.grad_accum
        max_steps = min(max_steps, max(1, int(tc.max_epochs * train_tokens / max(1, sft_tokens_per_step))))
    print(f"budget: {'%.1f min' % args.max_minutes if budget_s else ''} "
          f"{'' if max_steps >= 10 ** 12 else '%d steps (%.1fM tokens)' % (max_steps, max_steps * tokens_per_step / 1e6)}")
    return budget_s, max_steps


def make_loss_fn(model, device, use_bf16):
    """The masked next-token loss of a batch (x, y, m), under bf16 autocast when use_bf16."""
    def loss_fn(x, y, m):
        if use_bf16:
            with torch.autocast(device_type=device, dtype=torch.bfloat16):
                logits = model(x)[0]                 # [B, T, vocab]
        else:
            logits = model(x)[0]                     # [B, T, vocab]
        return masked_lm_loss(logits, y, m)          # float32 scalar
    return loss_fn


class Stage:
    """The training loop of one stage and its state: step, tokens seen, time, the last validation loss, the best
    weights seen. run() trains until the budget is spent and writes the final checkpoint."""

    def __init__(self, args, tc, model, opt, gen, streams, block_size, budget_s, max_steps, device, use_bf16,
                 run_dir, csv_path):
        self.args, self.tc, self.model, self.opt, self.gen = args, tc, model, opt, gen
        self.train, self.val, self.pre = streams
        self.n_pre = int(round(tc.batch_size * tc.mix_pretrain)) if self.pre is not None else 0
        self.block_size, self.budget_s, self.max_steps, self.device = block_size, budget_s, max_steps, device
        self.tokens_per_step = tc.batch_size * block_size * tc.grad_accum
        self.run_dir, self.csv_path = run_dir, csv_path
        self.optim_path = os.path.join(run_dir, "optim.pt")
        self.loss_fn = make_loss_fn(model, device, use_bf16)  # eager; evaluation always uses it
        self.step_fn = self.loss_fn                           # the training step's (compiled by compile())
        self.step, self.tokens_seen, self.elapsed_before = 0, 0, 0.0
        self.t0 = time.time()
        self.last_val = None
        self.best = {"val": float("inf"), "step": 0, "state": None}
        self.restored_step = None  # set when the final weights are the best ones of an earlier step

    def resume(self, info):
        """Continue the counters of checkpoint info, and the optimizer and batch sampler of optim.pt if it is there."""
        self.step, self.tokens_seen = int(info["step"]), int(info["tokens"])
        self.elapsed_before = float(info.get("elapsed", 0.0))
        if os.path.exists(self.optim_path):
            st = torch.load(self.optim_path, map_location=self.device)
            self.opt.load_state_dict(st["optimizer"])
            if "gen_state" in st:
                self.gen.set_state(st["gen_state"])
        print(f"resumed at step {self.step}, {self.tokens_seen / 1e6:.2f}M tokens, {self.elapsed_before:.0f} s")

    def compile(self):
        """torch.compile the training step where the config asks for it and it exists (CUDA, torch >= 2)."""
        if self.tc.compile and self.device == "cuda" and hasattr(torch, "compile"):
            try:
                self.step_fn = torch.compile(self.loss_fn)
                print("torch.compile: on (the first step compiles, ~1 min)", flush=True)
            except Exception as e:  # noqa: BLE001
                print(f"torch.compile unavailable ({e!r}); eager")
                self.step_fn = self.loss_fn

    def train_batch(self):
        """x, y, m of the stage's stream; for SFT, the last n_pre rows are pretraining windows (full loss)."""
        x, y, m = self.train.batch(self.tc.batch_size - self.n_pre, self.block_size, self.gen)
        if self.n_pre:
            px, py, _ = self.pre.batch(self.n_pre, self.block_size, self.gen)
            x, y = torch.cat([x, px]), torch.cat([y, py])
            m = torch.cat([m, torch.ones_like(py, dtype=m.dtype)])
        return x, y, m

    @torch.no_grad()
    def evaluate(self):
        """Mean loss of eval_batches validation batches, the same windows every time."""
        g = torch.Generator().manual_seed(self.args.seed + 1)
        tot, n = 0.0, 0
        self.model.eval()
        for _ in range(self.tc.eval_batches):
            x, y, m = self.val.batch(self.tc.batch_size, self.block_size, g)
            tot += float(self.loss_fn(x, y, m))  # eager: no recompiles
            n += 1
        self.model.train()
        return tot / max(1, n)

    def remember_best(self):
        """Keep a copy of the weights with the lowest validation loss so far."""
        if self.last_val is not None and self.last_val < self.best["val"]:
            self.best.update(val=self.last_val, step=self.step,
                             state={k: v.detach().clone() for k, v in self.model.state_dict().items()})

    def progress(self):
        """Fraction of the budget spent: of the steps, or of the time when that runs out first."""
        progress = self.step / self.max_steps
        if self.budget_s:
            elapsed = self.elapsed_before + (time.time() - self.t0)
            progress = max(progress, elapsed / self.budget_s)
        return progress

    def optimizer_step(self, lr):
        """One optimizer step at learning rate lr over grad_accum micro-batches -> their mean loss."""
        tc = self.tc
        for gp in self.opt.param_groups:
            gp["lr"] = lr
        loss_val = 0.0
        for _ in range(tc.grad_accum):
            x, y, m = self.train_batch()
            try:
                loss = self.step_fn(x, y, m)
                (loss / tc.grad_accum).backward()
            except Exception as e:  # noqa: BLE001 - a compile failure shows up at the first call
                if self.step_fn is self.loss_fn:
                    raise
                print(f"compiled step failed ({type(e).__name__}: {str(e)[:500]}); falling back to eager",
                      flush=True)
                self.step_fn = self.loss_fn
                self.opt.zero_grad(set_to_none=True)
                loss = self.step_fn(x, y, m)
                (loss / tc.grad_accum).backward()
            loss_val += float(loss.detach()) / tc.grad_accum
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.step += 1
        self.tokens_seen += self.tokens_per_step
        return loss_val

    def checkpoint(self, final=False):
        """Weights as shards + ckpt.json in run_dir, and optim.pt (optimizer, batch sampler) for --resume."""
        args, tc = self.args, self.tc
        meta = dict(stage=args.stage, config=args.config, step=self.step, tokens=self.tokens_seen,
                    elapsed=self.elapsed_before + (time.time() - self.t0), model_config=self.model.config.to_dict(),
                    train_config=asdict(tc), block_size=self.block_size, final=final,
                    val_loss=self.last_val, restored_best_from_step=self.restored_step, torch=torch.__version__,
                    time=time.strftime("%Y-%m-%d %H:%M:%S"))
        save_shards(self.model, self.run_dir, meta, dtype=args.shard_dtype)
        if not args.no_optim_state:
            torch.save({"optimizer": self.opt.state_dict(), "gen_state": self.gen.get_state()}, self.optim_path + ".tmp")
            os.replace(self.optim_path + ".tmp", self.optim_path)
        print(f"checkpoint: {self.run_dir} (step {self.step}{', final' if final else ''})", flush=True)

    def run(self):
        """Validation loss at step 0, then steps until the budget is spent: a log line and a CSV row every
        log_interval steps (with a validation loss every eval_interval steps or eval_seconds), a checkpoint every
        ckpt_minutes; then finish()."""
        tc, stage = self.tc, self.args.stage
        csv_new = not os.path.exists(self.csv_path)
        csv_f = open(self.csv_path, "a", newline="")
        writer = csv.writer(csv_f)
        if csv_new:
            writer.writerow(["stage", "step", "tokens", "train_loss", "val_loss", "lr", "elapsed"])

        self.t0 = time.time()
        last_eval_t, last_ckpt_t = self.t0, self.t0
        log_t, log_tokens, loss_acc, loss_n = self.t0, self.tokens_seen, 0.0, 0
        start_step, start_tokens = self.step, self.tokens_seen
        if self.step == 0:
            self.last_val = self.evaluate()
            print(f"step 0: val {self.last_val:.4f}")
            writer.writerow([stage, 0, 0, "", f"{self.last_val:.5f}", 0.0, 0.0])
            csv_f.flush()
            self.t0 = time.time()
            last_eval_t, last_ckpt_t, log_t = self.t0, self.t0, self.t0

        while True:
            progress = self.progress()  # the schedule follows whichever budget runs out first
            if self.step >= self.max_steps or progress >= 1.0:
                break
            lr = lr_at(tc, self.step, progress)
            loss_acc += self.optimizer_step(lr)
            loss_n += 1
            step, tokens_seen = self.step, self.tokens_seen

            now = time.time()
            if step % tc.log_interval == 0 or step == start_step + 1 or step == start_step + 5:
                tps = (tokens_seen - log_tokens) / max(1e-9, now - log_t)
                print(f"step {step}: loss {loss_acc / loss_n:.4f}, lr {lr:.2e}, {tps:,.0f} tokens/s, "
                      f"{tokens_seen / 1e6:.1f}M tokens ({tokens_seen / self.train.n:.2f} epochs), "
                      f"{self.elapsed_before + now - self.t0:.0f} s", flush=True)
                log_t, log_tokens = now, tokens_seen
                train_loss = loss_acc / loss_n
                loss_acc, loss_n = 0.0, 0
                do_eval = step % tc.eval_interval == 0 or now - last_eval_t >= tc.eval_seconds
                if do_eval:
                    self.last_val = self.evaluate()
                    self.remember_best()
                    last_eval_t = time.time()
                    print(f"step {step}: val {self.last_val:.4f}", flush=True)
                writer.writerow([stage, step, tokens_seen, f"{train_loss:.5f}",
                                 f"{self.last_val:.5f}" if do_eval else "", f"{lr:.6g}",
                                 f"{self.elapsed_before + now - self.t0:.1f}"])
                csv_f.flush()
            if now - last_ckpt_t >= tc.ckpt_minutes * 60:
                self.checkpoint()
                last_ckpt_t = time.time()

        self.finish(writer, start_step, start_tokens)
        csv_f.close()
        self.checkpoint(final=True)
        return self.model

    def finish(self, writer, start_step, start_tokens):
        """The final validation loss; if it is worse than the best seen (overfitting: many epochs over small data),
        the best weights instead of the last. Prints the summary and writes the last CSV row."""
        self.last_val = self.evaluate()
        if self.best["state"] is not None and self.last_val > self.best["val"] * 1.002 and self.step > start_step:
            print(f"final val {self.last_val:.4f} is worse than {self.best['val']:.4f} at step {self.best['step']}: "
                  "keeping those weights")
            self.model.load_state_dict(self.best["state"])
            self.restored_step = self.best["step"]
            self.last_val = self.best["val"]
        elapsed = self.elapsed_before + time.time() - self.t0
        print(f"done: step {self.step}, {self.tokens_seen / 1e6:.1f}M tokens, val {self.last_val:.4f}, {elapsed:.0f} s, "
              f"{(self.tokens_seen - start_tokens) / max(1e-9, time.time() - self.t0):,.0f} tokens/s on average",
              flush=True)
        writer.writerow([self.args.stage, self.step, self.tokens_seen, "", f"{self.last_val:.5f}",
                         f"{lr_at(self.tc, self.step, 1.0):.6g}", f"{elapsed:.1f}"])


def main(argv=None):
    """One stage: configuration -> device -> model -> data -> budget -> optimizer (resumed) -> training loop."""
    ap = build_parser()
    args = ap.parse_args(argv)
    tc = stage_config(args)
    device, use_bf16 = setup_device(args)
    torch.manual_seed(args.seed)                     # the new model's initialisation
    gen = torch.Generator().manual_seed(args.seed)   # the training batches

    out = args.out or os.path.join("training", "runs", args.config)
    run_dir = os.path.join(out, args.stage)
    os.makedirs(run_dir, exist_ok=True)
    csv_path = args.csv or os.path.join(run_dir, "loss.csv")

    resuming = args.resume and os.path.exists(os.path.join(run_dir, "ckpt.json"))
    if not resuming and args.stage == "sft" and not args.init:
        ap.error("--stage sft needs --init <pretrain checkpoint>")
    model, init_info = init_model(args, tc, run_dir, resuming)
    cfg = model.config
    block_size = min(args.block_size or cfg.block_size, cfg.block_size)
    model.to(device).train()
    print(f"model: {model.num_params() / 1e6:.2f}M params, {cfg.n_layer} layers, d{cfg.n_embd}, "
          f"{cfg.n_head} heads, vocab {cfg.vocab_size}, block {block_size}; device {device}, "
          f"{'bf16 autocast' if use_bf16 else 'fp32'}, torch {torch.__version__}")

    train, val, pre = open_streams(args, tc, device)
    tok_max = int(train.tokens.max())
    assert tok_max < cfg.vocab_size, f"token id {tok_max} >= vocab_size {cfg.vocab_size}"
    tokens_per_step = tc.batch_size * block_size * tc.grad_accum
    print(f"data: train {train.n / 1e6:.2f}M tokens, val {val.n / 1e6:.3f}M tokens; "
          f"{tokens_per_step} tokens/step ({tc.batch_size} x {block_size} x {tc.grad_accum})")
    budget_s, max_steps = step_budget(args, tc, train.n, block_size, tokens_per_step)

    opt = make_optimizer(model, tc, device)
    stage = Stage(args, tc, model, opt, gen, (train, val, pre), block_size, budget_s, max_steps, device, use_bf16,
                  run_dir, csv_path)
    if args.resume and init_info is not None:
        stage.resume(init_info)
    stage.compile()
    return stage.run()


if __name__ == "__main__":
    reexec_with_malloc_env()
    main()
