import hashlib
import itertools
import json
import os
import random

import numpy as np
import pytest

from training.data import corpus, prepare
from training.data.bpe import BPETokenizer
from training.data.corpus import build_manifest, classify_licence, content_key, npm_packages, split_of


def test_classify_licence():
    assert classify_licence("Expat") == "MIT"
    assert classify_licence("MIT") == "MIT"
    assert classify_licence("BSD-3-clause") == "BSD-3-Clause"
    assert classify_licence("Apache-2.0") == "Apache-2.0"
    assert classify_licence("PSF-2") == "PSF-2.0"
    assert classify_licence("ISC") == "ISC"
    assert classify_licence("(MIT OR CC0-1.0)") == "MIT"
    for bad in ("GPL-2+", "LGPL-2.1+", "MPL-2.0", "BlueOak-1.0.0", "LGPL-2.1-only OR MPL-1.1", None, "", "HPND"):
        assert classify_licence(bad) is None, bad


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def test_filters_dedup_and_split(tmp_path):
    files = {
        "a.py": "def a():\n    return 1\n",
        "copy_of_a.py": "def a():\n        return 1\n\n",  # same code modulo whitespace: a duplicate
        "b.js": "function b() { return 2; }\n",
        "min.js": "var x=" + "1+" * 2000 + "1;\n",  # one enormous line: minified
        "evil.py": "# HumanEval/12\ndef f(): pass\n",
        "special.py": "s = '<|endoftext|>'\n",
        "empty.py": "\n\n",
    }
    cands = [(_write(tmp_path / n, t), "src", "MIT", False) for n, t in files.items()]
    cands.append((_write(tmp_path / "human_eval" / "x.py", "x = 1\n"), "src", "MIT", False))
    bin_path = tmp_path / "bin.py"
    bin_path.write_bytes(b"\xff\xfe\x00garbage")
    cands.append((str(bin_path), "src", "MIT", False))
    entries, skipped, _ = build_manifest(cands)
    kept = sorted(os.path.basename(e["path"]) for e in entries)
    assert kept == ["a.py", "b.js"]
    assert skipped["duplicate"] == 1 and skipped["long_lines"] == 1 and skipped["eval_set"] == 2
    assert skipped["special_tokens"] == 1 and skipped["empty"] == 1 and skipped["binary"] == 1
    langs = {os.path.basename(e["path"]): e["language"] for e in entries}
    assert langs == {"a.py": "python", "b.js": "javascript"}
    assert all(e["split"] == split_of(content_key(open(e["path"]).read())) for e in entries)


def test_split_is_by_content_and_about_two_percent():
    keys = [content_key(f"x = {i}\n") for i in range(20000)]
    frac = sum(split_of(k) == "val" for k in keys) / len(keys)
    assert 0.015 < frac < 0.025
    assert split_of(content_key("a  b\n")) == split_of(content_key("a b"))  # whitespace-insensitive


def test_npm_licences(tmp_path):
    nm = tmp_path / "node_modules"
    _write(nm / "ok" / "package.json", json.dumps({"name": "ok", "license": "MIT"}))
    _write(nm / "@s" / "scoped" / "package.json", json.dumps({"name": "@s/scoped", "license": {"type": "ISC"}}))
    _write(nm / "ok" / "node_modules" / "inner" / "package.json", json.dumps({"name": "inner", "license": "GPL-3.0"}))
    found = {name: lic for _, name, lic in npm_packages(str(nm))}
    assert found == {"ok": "MIT", "@s/scoped": "ISC", "inner": "GPL-3.0"}


def check_no_held_out_file_in_training(data_dir: str, manifest_path: str) -> list[dict]:
    """What prepare.py wrote in data_dir: no held-out file (by path, bytes or whitespace-normalised content) is
    among the manifest's training files, and train.bin is a well-formed stream. Returns the held-out docs."""
    train = [e for e in corpus.read_manifest(manifest_path) if e["split"] == "train"]
    with open(os.path.join(data_dir, "val_docs.jsonl"), encoding="utf-8") as f:
        val = [json.loads(line) for line in f]
    assert val
    assert not {v["path"] for v in val} & {e["path"] for e in train}
    assert not {hashlib.sha256(v["text"].encode()).hexdigest() for v in val} & {e["sha256"] for e in train}
    train_keys = {content_key(t) for t in map(corpus.read_doc, train) if t is not None}
    assert not {content_key(v["text"]) for v in val} & train_keys
    with open(os.path.join(data_dir, "meta.json")) as f:
        meta = json.load(f)
    ids = np.memmap(os.path.join(data_dir, "train.bin"), dtype=np.uint16, mode="r")
    assert len(ids) == meta["tokens"]["train"] and ids.max() < meta["vocab_size"] and ids[-1] == meta["eot_id"]
    return val


def py_file(i: int) -> str:  # documented, so chat_data mines a conversation from it too
    return (f"def scale_{i}(values):\n"
            f'    """Multiply each value by {i} and return the new list."""\n'
            f"    return [v * {i} for v in values]\n")


def js_file(i: int) -> str:
    return (f"/**\n * Add {i} to every number in the array.\n */\n"
            f"function shift{i}(xs) {{\n  return xs.map((x) => x + {i});\n}}\n")


def texts_in_split(make, split: str, n: int) -> list[str]:
    """The first n of make(0), make(1), ... that the content hash puts in split."""
    texts = (make(i) for i in itertools.count())
    return list(itertools.islice((t for t in texts if split_of(content_key(t)) == split), n))


def test_prepare_keeps_held_out_files_out_of_training(tmp_path, monkeypatch):
    """The real pipeline (corpus manifest -> prepare.py) on a small corpus that holds copies of its held-out files."""
    files = {}
    # val needs both languages too: prepare.py sizes the train sample by val's bytes/token per language
    for ext, make in ((".py", py_file), (".js", js_file)):
        for split, n in (("train", 12), ("val", 2)):
            files.update({f"pkg/{split}_{k}{ext}": text for k, text in enumerate(texts_in_split(make, split, n))})
    held_out = {path: text for path, text in files.items() if "/val_" in path}
    for path, text in held_out.items():  # what must not leak: copies, exact or reformatted, in other packages
        files["vendored/" + path] = text
        files["reformatted/" + path] = text.replace(" ", "  ").replace("\n", "\n\n")
    candidates = [(_write(tmp_path / "src" / path, text), path.split("/")[0], "MIT", False)
                  for path, text in files.items()]
    random.Random(0).shuffle(candidates)  # some copies come before their original

    data = tmp_path / "data"
    manifest = str(data / "corpus" / "manifest.jsonl")
    corpus.main(candidates, manifest=manifest, summary_path=str(data / "corpus_summary.json"))
    summary = json.loads((data / "corpus_summary.json").read_text())
    assert summary["skipped_files"] == {"duplicate": 2 * len(held_out)}  # every copy reached dedup
    monkeypatch.setattr(prepare, "DATA", prepare.DATA)  # main() points the module's DATA at --out: restore it after
    # tiny vocabulary for speed; no FIM, so train.bin decodes back to whole files
    prepare.main(["--out", str(data), "--manifest", manifest, "--vocab-size", "300", "--fim-rate", "0"])

    val = check_no_held_out_file_in_training(str(data), manifest)
    held_out_keys = {content_key(t) for t in held_out.values()}
    assert {content_key(v["text"]) for v in val} == held_out_keys  # one copy of each held-out file, in val
    tok = BPETokenizer.load_hf(str(data / "tokenizer.json"))
    train_bin = np.fromfile(data / "train.bin", dtype=np.uint16).tolist()
    train_docs = tok.decode(train_bin).split("<|endoftext|>")[:-1]
    # beyond the manifest: what reached train.bin is every training file and no held-out one
    assert len(train_docs) == len(files) - 3 * len(held_out)
    assert not {content_key(d) for d in train_docs} & held_out_keys

    # the held-out FIM streams, one per editor hole kind: windows of held-out files only, indexed as eval reads them
    from training.data.fim import EDITOR_KINDS
    eot, pre, mid, suf = (tok.token_to_id(t) for t in ("<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"))
    for kind in EDITOR_KINDS:
        stream = np.fromfile(data / f"val_fim_{kind}.bin", dtype=np.uint16).tolist()
        index = json.loads((data / f"val_fim_{kind}.json").read_text())
        assert index["kind"] == kind and 1 <= len(index["examples"]) <= len(val)
        starts = [e[0] for e in index["examples"]] + [len(stream)]
        for (start, first, mode), end in zip(index["examples"], starts[1:]):
            example = stream[start:end]
            assert example[0] == pre and example[-1] == eot and start < first < end
            if mode == "psm":
                assert example[first - start - 1] == mid
                prefix, rest = tok.decode(example[1:]).split("<|fim_suffix|>")
                suffix, middle = rest.split("<|fim_middle|>")
            else:
                assert example[1] == suf and mid in example[:first - start]
                suffix, prefix_middle = tok.decode(example[2:]).split("<|fim_middle|>")
                prefix, middle = prefix_middle, ""
            window = (prefix + middle + suffix).replace("<|endoftext|>", "")
            assert any(window in v["text"] for v in val), f"{kind}: not a window of a held-out file"


@pytest.mark.skipif(not all(os.path.exists(os.path.join(corpus.DATA_DIR, n)) for n in ("val_docs.jsonl", "meta.json")),
                    reason="training/.data not prepared")
def test_prepared_data_has_no_held_out_file_in_training():
    """On a machine where prepare.py ran, the same checks on the real corpus."""
    check_no_held_out_file_in_training(corpus.DATA_DIR, corpus.MANIFEST)
