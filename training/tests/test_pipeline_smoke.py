"""The whole v2 pipeline at toy scale, each stage on what the previous one wrote: fetched packages (a wheel from a
wheelhouse, an npm tarball) -> corpus manifest -> prepare (tokenizer, editor FIM streams and their held-out streams
per hole kind, chat data and the held-out chat set) -> pretraining -> chat fine-tuning -> ONNX export -> the FIM
loss by hole kind and the chat scores. Real source files (this machine's Python standard library and node_modules)
stand in for the packages; the tiny model's scores mean nothing, the test checks every stage ran on its
predecessor's output."""
import glob
import io
import json
import os
import tarfile
import zipfile

import pytest

from training import train
from training.data import chat_data, corpus, prepare, sources
from training.data.corpus import content_key, reject_reason, split_of
from training.data.fim import EDITOR_KINDS
from training.model.checkpoint import load_model
from training.paths import ROOT

MAX_BYTES = 16000


def pick_files(pattern: str, train_files: int, val_files: int, val_ok=lambda text: True) -> dict[str, str]:
    """Small real files that pass the corpus filters: the first train_files of the training split and the first
    val_files of the held-out split (val_ok: a further condition on those)."""
    picked, counts = {}, {"train": 0, "val": 0}
    for path in sorted(glob.glob(pattern, recursive=True)):
        if os.path.getsize(path) > MAX_BYTES:
            continue
        with open(path, "rb") as f:
            reason, text = reject_reason(path, f.read())
        if reason:
            continue
        split = split_of(content_key(text))
        if counts[split] < (train_files if split == "train" else val_files) and (split == "train" or val_ok(text)):
            picked[path] = text
            counts[split] += 1
        if counts == {"train": train_files, "val": val_files}:
            return picked
    pytest.skip(f"not enough small files for {pattern}")


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """A sources root as sources.py leaves it: one wheel of the wheelhouse extracted, one npm tarball."""
    tmp = tmp_path_factory.mktemp("fetched")
    documented = lambda text: bool(chat_data.python_functions(text))  # noqa: E731  held-out chat prompts need some
    python = pick_files("/usr/lib/python3.11/**/*.py", 30, 2, documented)
    javascript = pick_files(os.path.join(ROOT, "node_modules", "**", "*.js"), 30, 2)
    house = tmp / "wheelhouse"
    house.mkdir()
    with zipfile.ZipFile(house / "toolkit-1.0-py3-none-any.whl", "w") as z:
        z.writestr("toolkit-1.0.dist-info/METADATA", "Metadata-Version: 2.4\nName: toolkit\nLicense-Expression: MIT\n")
        for n, text in enumerate(python.values()):
            z.writestr(f"toolkit/module_{n}.py", text)
    root = str(tmp / "sources")
    assert sources.fetch_pypi([str(house)], root) == 1
    tgz = tmp / "web-1.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as t:
        files = {"package/package.json": json.dumps({"name": "web", "license": "ISC"}),
                 **{f"package/lib/part_{n}.js": text for n, text in enumerate(javascript.values())}}
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    folder = os.path.join(root, "npm", "web")
    sources.write_origin(folder, "npm:web", "1.0.0", [sources.extract_npm_tarball(str(tgz), folder)], tgz.name)
    return root


def test_sources_to_corpus_to_data_to_model_to_scores(fetched, tmp_path, monkeypatch):
    data = tmp_path / "data"
    manifest = str(data / "corpus" / "manifest.jsonl")
    corpus.main(list(corpus.fetched_candidates(fetched)), manifest=manifest, summary_path=str(data / "corpus_summary.json"))
    summary = json.loads((data / "corpus_summary.json").read_text())
    assert summary["language_licence_bytes"].keys() == {"python", "javascript"}
    assert set(summary["language_licence_bytes"]["python"]) == {"MIT"}
    assert set(summary["language_licence_bytes"]["javascript"]) == {"ISC"}

    monkeypatch.setattr(prepare, "DATA", prepare.DATA)  # main() points the module's DATA at --out: restore it after
    prepare.main(["--out", str(data), "--manifest", manifest, "--vocab-size", "320", "--fim-mode", "editor",
                  "--fim-eval-examples", "4", "--chat-eval-examples", "4",
                  "--editor-prefix-chars", "120", "--editor-suffix-chars", "60"])  # examples within the tiny context
    meta = json.loads((data / "meta.json").read_text())
    assert meta["fim"]["level"] == "editor" and set(meta["fim_eval"]) == set(EDITOR_KINDS)
    assert meta["chat_eval"]["examples"] >= 1 and meta["sft_train"]["conversations"] >= 1

    run = str(tmp_path / "run")
    common = ["--config", "tiny", "--data", str(data), "--out", run, "--threads", "2"]
    train.main(["--stage", "pretrain", *common, "--max-steps", "30"])
    log = [line.split(",") for line in open(os.path.join(run, "pretrain", "loss.csv")).read().splitlines()]
    header = log[0]
    val_losses = [float(row[header.index("val_loss")]) for row in log[1:] if row[header.index("val_loss")]]
    assert val_losses[-1] < val_losses[0]  # learned something of the real tokens
    train.main(["--stage", "sft", *common, "--init", os.path.join(run, "pretrain"), "--max-steps", "5"])

    from training.export.export import main as export_main
    exported = tmp_path / "model"
    export_main(["--ckpt", os.path.join(run, "sft"), "--tokenizer", str(data / "tokenizer.json"), "--out", str(exported),
                 "--quantize", "--q4"])
    config = json.loads((exported / "config.json").read_text())
    assert config["attentive"]["trained"]["stage"] == "sft" and config["vocab_size"] == 320
    assert {"model.onnx", "model_quantized.onnx", "model_q4.onnx"} <= set(os.listdir(exported / "onnx"))

    from training.eval import eval_chat, eval_fim_stream
    by_kind = eval_fim_stream.score_kinds(load_model(os.path.join(run, "sft"))[0].eval(), str(data), 3)
    assert set(by_kind) == set(EDITOR_KINDS)
    assert all(0 < part["first_middle_token"] < 20 for modes in by_kind.values() for part in modes.values())
    report = eval_chat.main(["--ckpt", os.path.join(run, "sft"), "--tokenizer", str(data / "tokenizer.json"),
                             "--data", str(data), "--max-new-tokens", "12", "--out", str(tmp_path / "chat.json")])
    assert report["examples"] == meta["chat_eval"]["examples"] == len(report["results"])
    assert report["summary"]["overall"]["examples"] == report["examples"]
