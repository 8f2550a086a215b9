"""
Collect permissively licensed Python and JavaScript/TypeScript source reachable on this machine.

Writes training/.data/corpus/manifest.jsonl (one line per kept file: path, source, licence, language,
sha256, bytes, split) and training/.data/corpus_summary.json. Files are read on the fly from their
original paths (read_doc checks the sha256), so the corpus costs no extra disk.

    /usr/bin/python3 -m training.data.corpus

Rules: licence must be MIT/BSD/Apache-2.0/PSF/ISC (per Debian package or npm package); skip minified,
generated and non-UTF-8 files; deduplicate on whitespace-normalised content; 2% of FILES go to
validation, chosen by a hash of that content (so copies of a file can never straddle the split);
drop anything mentioning HumanEval/MBPP, and files containing our special-token strings (the JS
tokenizer would parse them as specials).
"""
import hashlib
import json
import os
import re
import subprocess
from collections import defaultdict

from training.paths import DATA as DATA_DIR, ROOT as REPO

MANIFEST = os.path.join(DATA_DIR, "corpus", "manifest.jsonl")
SUMMARY = os.path.join(DATA_DIR, "corpus_summary.json")

STDLIB = "/usr/lib/python3.11"
DIST_PACKAGES = "/usr/lib/python3/dist-packages"
NODE_MODULES = os.path.join(REPO, "node_modules")

VAL_PER_MILLE = 20  # 2% of files
MAX_FILE_BYTES = 1 << 20
MAX_SOURCE_BYTES = 14 << 20  # keep one huge package (sympy, torch) from dominating
MAX_LINE = 1000
MAX_AVG_LINE = 200
BIG_ALLOWED = {"typescript/lib/lib.dom.d.ts"}  # hand-written, just long (typescript.js, 9 MB, would swamp the JS share)

PY_EXT = (".py", ".pyi")
JS_EXT = (".js", ".mjs", ".cjs", ".jsx")
TS_EXT = (".ts", ".mts", ".cts", ".tsx")  # includes .d.ts
EVAL_SETS = re.compile(r"human_?eval|\bmbpp\b", re.I)
SPECIALS = ("<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|im_start|>", "<|im_end|>")


# --- licences ------------------------------------------------------------------------------------

_LICENCES = [  # (pattern on a short licence field, canonical name); first match wins
    (r"\blgpl|\bgpl|\bagpl|\bmpl|\bcc-by|\bepl|blueoak|unlicen[cs]ed|proprietary", None),
    (r"apache", "Apache-2.0"),
    (r"\bexpat\b|\bmit\b", "MIT"),
    (r"bsd-2|bsd 2|simplified", "BSD-2-Clause"),
    (r"bsd-3|bsd 3|new bsd|modified bsd", "BSD-3-Clause"),
    (r"\bbsd\b", "BSD"),
    (r"\bpsf|python software foundation|python-2\.0", "PSF-2.0"),
    (r"\bisc\b", "ISC"),
]


def classify_licence(field: str | None) -> str | None:
    """Canonical permissive licence name, or None when the licence is missing, copyleft or unknown."""
    if not field:
        return None
    f = field.lower()
    # SPDX "A OR B": take the first permissive alternative
    if " or " in f and " and " not in f:
        for alt in re.split(r"\s+or\s+", f.strip("() ")):
            lic = classify_licence(alt)
            if lic:
                return lic
        return None
    for pat, name in _LICENCES:
        if re.search(pat, f):
            return name
    return None


def debian_licence(pkg: str) -> str | None:
    """Licence of the `Files: *` stanza of a machine-readable Debian copyright file."""
    try:
        with open(f"/usr/share/doc/{pkg}/copyright", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    for stanza in re.split(r"\n\s*\n", text):
        if re.search(r"^Files:\s*\*\s*$", stanza, re.M):
            m = re.search(r"^License:\s*(\S.*)$", stanza, re.M)
            if m:
                return m.group(1)
    return None


def metadata_licence(pkg: str) -> str | None:
    """License field (or classifier) of the PKG-INFO/METADATA that a Debian package ships."""
    try:
        files = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True).stdout.split()
    except OSError:
        return None
    for path in files:
        if re.search(r"\.(egg|dist)-info/(PKG-INFO|METADATA)$", path) or re.search(r"\.egg-info$", path) and os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                meta = f.read()
            m = re.search(r"^License:\s*(\S.*)$", meta, re.M)
            if m and m.group(1).strip().upper() != "UNKNOWN" and len(m.group(1)) < 100:
                return m.group(1)
            m = re.search(r"^Classifier: License :: OSI Approved :: (.*)$", meta, re.M)
            if m:
                return m.group(1)
    return None


def dist_package_sources() -> list[tuple[str, str, str]]:
    """(path of a top-level module/package in dist-packages, Debian package, raw licence field)."""
    tops = sorted(os.path.join(DIST_PACKAGES, n) for n in os.listdir(DIST_PACKAGES)
                  if not n.endswith(("-info", ".pth")) and n != "__pycache__"
                  and (n.endswith(".py") or os.path.isdir(os.path.join(DIST_PACKAGES, n))))
    out = subprocess.run(["dpkg", "-S", *tops], capture_output=True, text=True).stdout
    owner = {}
    for line in out.splitlines():
        pkgs, _, path = line.partition(": ")
        owner[path.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    result = []
    licences = {}
    for top in tops:
        pkg = owner.get(top)
        if pkg is None:
            continue  # not from a Debian package (e.g. something pip-installed): licence unknown
        if pkg not in licences:
            licences[pkg] = debian_licence(pkg) or metadata_licence(pkg)
            if not classify_licence(licences[pkg]):  # e.g. matplotlib's empty DEP-5 field
                licences[pkg] = metadata_licence(pkg) or licences[pkg]
        result.append((top, pkg, licences[pkg]))
    return result


def npm_licence(pkg_json: dict) -> str | None:
    lic = pkg_json.get("license") or pkg_json.get("licenses")
    if isinstance(lic, list):
        lic = lic[0] if lic else None
    if isinstance(lic, dict):
        lic = lic.get("type")
    return lic if isinstance(lic, str) else None


def npm_packages(root: str):
    """Yield (package dir, name, licence field) for every package in node_modules, nested ones included."""
    for entry in sorted(os.listdir(root)):
        d = os.path.join(root, entry)
        if entry.startswith(".") or not os.path.isdir(d):
            continue
        dirs = [os.path.join(d, e) for e in sorted(os.listdir(d))] if entry.startswith("@") else [d]
        for pdir in dirs:
            try:
                with open(os.path.join(pdir, "package.json"), encoding="utf-8") as f:
                    pj = json.load(f)
            except (OSError, ValueError):
                continue
            yield pdir, pj.get("name", os.path.basename(pdir)), npm_licence(pj)
            nested = os.path.join(pdir, "node_modules")
            if os.path.isdir(nested):
                yield from npm_packages(nested)


# --- files ------------------------------------------------------------------------------------------

def walk_files(top: str, exts: tuple[str, ...]):
    if os.path.isfile(top):
        if top.endswith(exts):
            yield top
        return
    for dirpath, dirnames, filenames in os.walk(top):
        # nested node_modules are their own packages (own licence); caches and hidden dirs are noise
        dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", "__pycache__") and not d.startswith("."))
        for fn in sorted(filenames):
            if fn.endswith(exts) and not fn.endswith((".min.js", ".min.mjs", ".min.cjs")):
                yield os.path.join(dirpath, fn)


def language_of(path: str) -> str:
    if path.endswith(PY_EXT):
        return "python"
    return "typescript" if path.endswith(TS_EXT) else "javascript"


def reject_reason(path: str, raw: bytes, big_ok: bool = False) -> tuple[str | None, str | None]:
    """(reason to skip, decoded text)."""
    if len(raw) > MAX_FILE_BYTES and not big_ok:
        return "too_big", None
    if not raw.strip():
        return "empty", None
    if b"\0" in raw:
        return "binary", None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8", None
    lines = text.splitlines() or [""]
    long_bytes = sum(len(line) for line in lines if len(line) > MAX_LINE)
    if long_bytes > 0.01 * len(text) or len(text) / len(lines) > MAX_AVG_LINE:
        return "long_lines", None  # minified, generated or embedded data
    if EVAL_SETS.search(path) or EVAL_SETS.search(text):
        return "eval_set", None
    if any(s in text for s in SPECIALS):
        return "special_tokens", None
    if "sourceMappingURL=data:" in text:
        return "generated", None
    return None, text


def content_key(text: str) -> str:
    """Hash of whitespace-normalised content: dedup key and split key."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def split_of(key: str) -> str:
    return "val" if int(key[:8], 16) % 1000 < VAL_PER_MILLE else "train"


def candidate_files():
    """Yield (path, source, licence) in a fixed order: stdlib, dist-packages, node_modules."""
    for path in walk_files(STDLIB, PY_EXT):
        if "/site-packages/" in path or "/dist-packages/" in path:
            continue
        yield path, "python3.11-stdlib", "PSF-2.0", False
    for top, pkg, lic_field in dist_package_sources():
        lic = classify_licence(lic_field)
        for path in walk_files(top, PY_EXT):
            yield path, pkg, lic or f"REJECTED:{lic_field}", False
    for pdir, name, lic_field in npm_packages(NODE_MODULES):
        lic = classify_licence(lic_field)
        for path in walk_files(pdir, JS_EXT + TS_EXT):
            rel = os.path.relpath(path, NODE_MODULES)
            big_ok = rel in BIG_ALLOWED
            if rel.startswith("typescript/lib/") and rel.endswith(".js") and not big_ok:
                continue  # _tsc.js etc. are other bundles of the same compiler source
            yield path, "npm:" + name, lic or f"REJECTED:{lic_field}", big_ok


def build_manifest(candidates=None) -> tuple[list[dict], dict, dict]:
    """Filter, deduplicate and split candidates ((path, source, licence, big_ok), default: this machine's)."""
    seen = set()
    per_source = defaultdict(int)
    skipped = defaultdict(int)
    rejected_licences = defaultdict(int)
    entries = []
    for path, source, lic, big_ok in candidates if candidates is not None else candidate_files():
        if lic.startswith("REJECTED"):
            rejected_licences[f"{source} ({lic[9:]})"] += 1
            continue
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            skipped["unreadable"] += 1
            continue
        reason, text = reject_reason(path, raw, big_ok)
        if reason:
            skipped[reason] += 1
            continue
        key = content_key(text)
        if key in seen:
            skipped["duplicate"] += 1
            continue
        if per_source[source] + len(raw) > MAX_SOURCE_BYTES:
            skipped["source_cap"] += 1
            continue
        seen.add(key)
        per_source[source] += len(raw)
        entries.append({"path": path, "source": source, "licence": lic, "language": language_of(path),
                        "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw), "split": split_of(key)})
    return entries, dict(skipped), dict(rejected_licences)


def summarize(entries, skipped, rejected) -> dict:
    rows = {}
    for e in entries:
        r = rows.setdefault(e["source"], {"source": e["source"], "licence": e["licence"], "language": e["language"],
                                          "train_files": 0, "train_bytes": 0, "val_files": 0, "val_bytes": 0})
        r[e["split"] + "_files"] += 1
        r[e["split"] + "_bytes"] += e["bytes"]
    langs = {}
    for e in entries:
        lang = langs.setdefault(e["language"], {"train_files": 0, "train_bytes": 0, "val_files": 0, "val_bytes": 0})
        lang[e["split"] + "_files"] += 1
        lang[e["split"] + "_bytes"] += e["bytes"]
    total = sum(e["bytes"] for e in entries)
    return {"total_files": len(entries), "total_bytes": total,
            "languages": langs,
            "licences": {lic: sum(e["bytes"] for e in entries if e["licence"] == lic)
                         for lic in sorted({e["licence"] for e in entries})},
            "sources": sorted(rows.values(), key=lambda r: -(r["train_bytes"] + r["val_bytes"])),
            "skipped_files": skipped, "rejected_licence_files": rejected}


def print_summary(s: dict, top: int = 40) -> None:
    print(f"{'source':40s} {'licence':13s} {'lang':10s} {'files':>6s} {'MB':>7s} {'val files':>9s} {'val MB':>7s}")
    for r in s["sources"][:top]:
        print(f"{r['source'][:40]:40s} {r['licence']:13s} {r['language']:10s} {r['train_files']:6d} "
              f"{r['train_bytes'] / 1e6:7.2f} {r['val_files']:9d} {r['val_bytes'] / 1e6:7.2f}")
    if len(s["sources"]) > top:
        print(f"... and {len(s['sources']) - top} more sources")
    for lang, l in s["languages"].items():
        print(f"{lang:12s} train {l['train_files']:6d} files {l['train_bytes'] / 1e6:7.2f} MB | "
              f"val {l['val_files']:4d} files {l['val_bytes'] / 1e6:6.2f} MB | "
              f"{(l['train_bytes'] + l['val_bytes']) / s['total_bytes']:.1%}")
    print(f"total {s['total_files']} files, {s['total_bytes'] / 1e6:.1f} MB; licences (MB): "
          + ", ".join(f"{k} {v / 1e6:.1f}" for k, v in s["licences"].items()))
    print("skipped:", s["skipped_files"])
    print("rejected licences:", s["rejected_licence_files"])


def read_manifest(path: str = MANIFEST) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def read_doc(entry: dict) -> str | None:
    """The file's text, or None if it changed since the manifest was written."""
    try:
        with open(entry["path"], "rb") as f:
            raw = f.read()
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
        return None
    return raw.decode("utf-8")


def main(candidates=None, manifest: str = MANIFEST, summary_path: str = SUMMARY) -> list[dict]:
    """Write the manifest of candidates (default: this machine's files) and its summary."""
    entries, skipped, rejected = build_manifest(candidates)
    os.makedirs(os.path.dirname(manifest), exist_ok=True)
    with open(manifest, "w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    summary = summarize(entries, skipped, rejected)
    with open(summary_path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    print_summary(summary)
    return entries


if __name__ == "__main__":
    main()
