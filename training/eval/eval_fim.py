"""
Exact match of one held-out line: fill-in-the-middle (prefix + suffix) and plain next-line (prefix only).

    nice /usr/bin/python3 -m training.eval.eval_fim --onnx models/attentive-code-14m/onnx/model.onnx \
        [--onnx OTHER.onnx ...] [--modes fim,fim_eot,plain,plain_eot] [--cases 250,125,125] [--json out.json]

Cases: from training/.data/val_docs.jsonl (held-out files), for each language a fixed number of lines
(--cases: python, javascript, typescript) drawn with random.Random(--seed) uniformly among the
language's non-empty lines (line.strip() != "") other than a file's first line (which leaves the plain
prompt empty). A case is (prefix, middle, suffix) with
prefix = the whole file before the line (ending with the previous line's "\n"), middle = the line without
its "\n", suffix = the whole file after the line (starting with that "\n").

Prompts (pieces tokenized separately, sentinels inserted by id, as in training/data/fim.py):
    fim        <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>         (PSM, what the engine sends)
    spm        <|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>         (SPM, character-level training)
    spmv       <|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix minus its final "\n"}: the SPM variant
               of editor-mode training (the middle continues the prefix); like plain, the model writes "\n" + the line
    plain      {prefix minus its final "\n"}: the model must write "\n" + the line; token-level GPT-2
               pre-tokenization merges "\n" with the next line's indentation, so a prompt that stops right
               after "\n" would be a boundary the model never saw in plain text (see plain_raw)
    plain_raw  {prefix}: the prompt ends with "\n" (reported for the record)
    *_eot      the same with <|endoftext|> (id 0, the document separator before every training file) first
    *_ban      the FIM sentinels and <|im_start|> (ids 1-4) can never be generated (their logits set to
               -inf): a prefix-only prompt that ends in a lone "\n" inside an indented block looks like the
               end of a FIM prefix to the model, which then writes <|fim_middle|>
Context: the prompt plus --max-new tokens fit in --context (1024): the prefix keeps its last tokens, the
suffix its first; when both are long the suffix gets a quarter of the room and the prefix the rest.

Decoding: greedy with the KV cache (onnxruntime-node, evaluate.ORT_EVAL_JS), at most --max-new tokens,
until a special token (<|endoftext|> ends a middle) or a token containing "\n". The completion is the
decoded text cut at its first "\n" (plain: the text between the first and the second "\n"); a case is an
exact match when completion.strip() == middle.strip(). Scores per language, over all cases, and over the
"nontrivial" cases (lines of more than 2 visible characters: not just "}" or "])").
"""
import argparse
import math
import os
import random
import time

from training.eval.evaluate import LANGUAGES, load_docs, run_ort_eval, write_json
from training.paths import DATA, ROOT

EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = 0, 1, 2, 3
N_SPECIAL = 6
MODES = ("fim", "spm", "spmv", "plain", "plain_raw")  # each also with _eot and/or _ban, e.g. plain_raw_eot_ban
WRITES_NEWLINE_FIRST = ("plain", "spmv")  # prompts cut before the prefix's final "\n"


def parse_mode(mode):
    """'plain_raw_eot_ban' -> ('plain_raw', eot=True, ban=True)."""
    base, eot, ban = mode, False, False
    if base.endswith("_ban"):
        base, ban = base[:-4], True
    if base.endswith("_eot"):
        base, eot = base[:-4], True
    if base not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    return base, eot, ban


def sample_cases(docs, counts, seed=0):
    """counts: {language: n}. Returns [{language, doc, line, prefix, middle, suffix}], deterministic."""
    rng = random.Random(seed)
    cases = []
    for lang in LANGUAGES:
        if not counts.get(lang):
            continue
        pool = []  # (doc index, line index, char start)
        for di, d in enumerate(docs):
            if d["language"] != lang:
                continue
            pos = 0
            for li, line in enumerate(d["text"].split("\n")):
                if line.strip() and li > 0:
                    pool.append((di, li, pos))
                pos += len(line) + 1
        for di, li, start in sorted(rng.sample(pool, min(counts[lang], len(pool)))):
            text = docs[di]["text"]
            line = text.split("\n")[li]
            end = start + len(line)
            cases.append({"language": lang, "doc": di, "line": li, "path": docs[di].get("path"),
                          "prefix": text[:start], "middle": line, "suffix": text[end:]})
    return cases


def build_prompt(encode, case, mode, context=1024, max_new=48):
    """Token ids of the prompt for one case and mode (see the module docstring)."""
    base, eot, _ = parse_mode(mode)
    budget = context - max_new - int(eot) - (3 if base in ("fim", "spm", "spmv") else 0)
    if base in ("fim", "spm", "spmv"):
        prefix = case["prefix"][:-1] if base == "spmv" and case["prefix"].endswith("\n") else case["prefix"]
        pre, suf = encode(prefix), encode(case["suffix"])
        n_suf = min(len(suf), max(budget - len(pre), budget // 4))
        n_pre = min(len(pre), budget - n_suf)
        pre, suf = pre[len(pre) - n_pre:], suf[:n_suf]
        if base == "fim":
            ids = [FIM_PREFIX] + pre + [FIM_SUFFIX] + suf + [FIM_MIDDLE]
        elif base == "spmv":
            ids = [FIM_PREFIX, FIM_SUFFIX] + suf + [FIM_MIDDLE] + pre
        else:
            ids = [FIM_SUFFIX] + suf + [FIM_PREFIX] + pre + [FIM_MIDDLE]
    elif base == "plain":
        prefix = case["prefix"][:-1] if case["prefix"].endswith("\n") else case["prefix"]
        pre = encode(prefix)
        ids = pre[max(0, len(pre) - budget):]
    elif base == "plain_raw":
        pre = encode(case["prefix"])
        ids = pre[max(0, len(pre) - budget):]
    return ([EOT] if eot else []) + ids


def newline_ids(tok):
    """Ids of the tokens whose bytes contain a newline."""
    return [i for i in range(N_SPECIAL, tok.vocab_size) if b"\n" in tok.token_bytes[i]]


def completion(decode, out_ids, mode):
    """The predicted line from the generated ids: up to the first special token, cut at the first "\n";
    in the plain modes (prompt without the final "\n") the line after the first "\n"."""
    ids = []
    for i in out_ids:
        if i < N_SPECIAL:
            break
        ids.append(i)
    text = decode(ids)
    if parse_mode(mode)[0] in WRITES_NEWLINE_FIRST:
        if "\n" not in text:
            return text  # the model went on with the previous line: no line written (compared as is)
        text = text.split("\n", 1)[1]
    return text.split("\n", 1)[0]


def exact(pred, case):
    return pred.strip() == case["middle"].strip()


def stop_spec(mode, nl_ids):
    """Generation stops: any special token at once; newline tokens after the first (fim, plain_raw) or
    the second (plain: its first newline ends the prompt's last line) one."""
    base, _, ban = parse_mode(mode)
    spec = {"stop": list(range(N_SPECIAL)), "stop_soft": nl_ids, "stop_after": 2 if base in WRITES_NEWLINE_FIRST else 1}
    if ban:
        spec["ban"] = [FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, 4]
    return spec


def binom_se(k, n):
    p = k / max(n, 1)
    return math.sqrt(p * (1 - p) / max(n, 1))


def trivial(case):
    """A line of at most 2 visible characters ("}", "])", ...): easy to guess, reported apart."""
    return len(case["middle"].strip()) <= 2


def score(cases, preds):
    out = {}
    for lang in list(LANGUAGES) + ["all", "nontrivial"]:
        idx = [i for i, c in enumerate(cases)
               if lang == "all" or c["language"] == lang or (lang == "nontrivial" and not trivial(c))]
        if not idx:
            continue
        k = sum(exact(preds[i], cases[i]) for i in idx)
        out[lang] = {"n": len(idx), "exact": k, "em": k / len(idx), "se": binom_se(k, len(idx))}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", action="append", required=True, help="ONNX decoder file (repeatable)")
    ap.add_argument("--modes", default="fim,fim_eot,plain,plain_eot")
    ap.add_argument("--docs", default=os.path.join(DATA, "val_docs.jsonl"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "attentive-code-14m", "tokenizer.json"))
    ap.add_argument("--cases", default="250,125,125", help="cases per language: python,javascript,typescript")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--max-new", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--whole-prefix", action="store_true",
                    help="keep only the cases whose whole prefix fits in the plain prompt (so that with _eot, "
                         "<|endoftext|> comes right before the file's first token, as in training)")
    ap.add_argument("--json", default=None, help="summary (and, with --cases-out, every prediction)")
    ap.add_argument("--cases-out", default=None, help="write every case and prediction (JSON lines) here")
    args = ap.parse_args(argv)

    from training.data.bpe import BPETokenizer
    tok = BPETokenizer.load_hf(args.tokenizer)
    docs = load_docs(args.docs)
    counts = dict(zip(LANGUAGES, (int(x) for x in args.cases.split(","))))
    cases = sample_cases(docs, counts, args.seed)
    if args.whole_prefix:
        cases = [c for c in cases if len(tok.encode(c["prefix"])) <= args.context - args.max_new - 1]
    modes = args.modes.split(",")
    nl = newline_ids(tok)
    print(f"{len(cases)} cases ({counts}), modes {modes}")
    result = {"method": {"cases": counts, "whole_prefix_only": args.whole_prefix, "n": len(cases), "seed": args.seed,
                         "context": args.context, "max_new": args.max_new,
                         "decoding": "greedy, KV cache, onnxruntime-node; stop at a special token or a newline",
                         "match": "completion.strip() == line.strip()"},
              "trivial_lines": sum(trivial(c) for c in cases), "runs": {}}
    rows = [dict(c) for c in cases]
    for path in args.onnx:
        jobs = [{"cmd": "generate", "model": path, "max_new": args.max_new, "context": args.context,
                 **stop_spec(m, nl), "prompts": [build_prompt(tok.encode, c, m, args.context, args.max_new)
                                                       for c in cases]} for m in modes]
        t0 = time.time()
        res = run_ort_eval(jobs, threads=args.threads, timeout=7200)
        for m, r in zip(modes, res):
            preds = [completion(tok.decode, o, m) for o in r["outputs"]]
            s = score(cases, preds)
            key = f"{os.path.relpath(path)}:{m}"
            first = [o[0] if o else None for o in r["outputs"]]
            result["runs"][key] = {"model": os.path.relpath(path), "mode": m, **s,
                                   # how often the very first generated token is a FIM sentinel / <|im_start|>,
                                   # or <|endoftext|> (an empty completion)
                                   "first_token_sentinel": sum(f in (1, 2, 3, 4) for f in first) / len(cases),
                                   "first_token_eot": sum(f == EOT for f in first) / len(cases),
                                   "prefill_ms_median": sorted(r["prefill_ms"])[len(cases) // 2]}
            for row, p in zip(rows, preds):
                row[key] = p
            print(f"{os.path.basename(path)} {m:10s}: " + ", ".join(
                f"{lang} {v['em']:.1%} ({v['exact']}/{v['n']})" for lang, v in s.items())
                + f"; first token a sentinel {result['runs'][key]['first_token_sentinel']:.1%}, "
                  f"<|endoftext|> {result['runs'][key]['first_token_eot']:.1%}", flush=True)
        print(f"  {time.time() - t0:.0f} s")
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    if args.cases_out:
        import json
        with open(args.cases_out, "w", encoding="utf-8") as f:
            for row in rows:
                row = {k: v for k, v in row.items() if k not in ("prefix", "suffix")}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":
    main()
