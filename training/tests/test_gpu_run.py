"""gpu_run.sh as the GPU machine runs it, on the CPU with the tiny config: the data folder packed into several xz
parts, joined again where the run finds no train.bin, both stages trained, and checkpoints over the return limits
rewritten as int8 rows that load back."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

from training.model import checkpoint
from training.paths import ROOT
from training.tests.test_train_smoke import data_dir  # noqa: F401  (the fixture)


def test_packed_data_runs_both_stages_and_returns_int8_when_over_the_limits(data_dir, tmp_path):  # noqa: F811
    data = tmp_path / "data"
    shutil.copytree(data_dir, data)
    env = dict(os.environ, PART_SIZE="2k", PYTHON=sys.executable)
    # by default a part is what a device call has left beside the repository's own files (64 MiB a call)
    auto = subprocess.run(["bash", "training/gpu_run.sh", "--pack", str(data)], cwd=ROOT, check=True,
                          capture_output=True, text=True, env={k: v for k, v in env.items() if k != "PART_SIZE"}).stdout
    tree_mib, part_mib = map(int, re.search(r"repository files: (\d+) MiB; parts of (\d+) MiB", auto).groups())
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert tree_mib >= sum(os.path.getsize(os.path.join(ROOT, f)) for f in tracked.split("\0") if f) >> 20
    assert 62 <= tree_mib + part_mib <= 63

    subprocess.run(["bash", "training/gpu_run.sh", "--pack", str(data)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    parts = sorted(os.listdir(data / "gpu"))
    assert len(parts) > 2 and all(p.startswith("data.tar.xz.part-") for p in parts)
    assert all(os.path.getsize(data / "gpu" / p) <= 2 * 1024 for p in parts)

    carried = tmp_path / "carried"  # what the device machine gets: the parts only
    shutil.copytree(data / "gpu", carried / "gpu")
    out = tmp_path / "out"
    env.update(DATA=str(carried), CONFIG="tiny", RETURN_MAX_BYTES="1000")
    run = subprocess.run(["bash", "training/gpu_run.sh", str(out), "0.1", "0.05"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"joining {len(parts)} parts" in run.stdout and "packing the checkpoints as int8 rows" in run.stdout
    joined = "/tmp/attentive-data"
    for name in ("train.bin", "sft_train.bin", "sft_train_mask.bin", "meta.json"):
        assert open(os.path.join(joined, name), "rb").read() == open(data / name, "rb").read(), name
    for stage in ("pretrain", "sft"):
        info = json.load(open(out / stage / "ckpt.json"))
        assert info["dtype"] == "int8-rows" and info["stage"] == stage
        sd, _ = checkpoint.load_shards(str(out / stage))
        assert sd["wte.weight"].shape[0] == 256 and np.isfinite(sd["wte.weight"].numpy()).all()
    assert (out / "run.log").exists() and (out / "loss.csv").exists()
