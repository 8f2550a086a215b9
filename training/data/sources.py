"""
The corpus's sources beyond the files installed on this machine, fetched once into training/.data/sources/:

    pypi     the newest wheel of every project in this machine's local Python wheelhouses (the `files/` folders
             beside pip's file:// indexes, and pip's find-links): their .py/.pyi files
    npm      the packages listed in training/data/npm_packages.txt (name@version), `npm pack`ed from the registry:
             their JavaScript and TypeScript files
    debian   the Debian packages listed in training/data/debian_packages.txt, `apt-get download`ed (not installed):
             the Python files of their dist-packages

    /usr/bin/python3 -m training.data.sources [--only pypi,npm,debian]

Each package lands in sources/<kind>/<name>/ with an ORIGIN file ({"source", "version", "licences", "origin"}): the
licence fields exactly as the package states them (wheel METADATA, package.json, the `Files: *` stanza of the Debian
copyright file). corpus.py decides on them (classify_licence) and filters the files as it does the machine's own.
Fetching is idempotent: a package whose folder holds an ORIGIN is not fetched again.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor

from training.paths import DATA, TRAINING

SOURCES = os.path.join(DATA, "sources")
NPM_LIST = os.path.join(TRAINING, "data", "npm_packages.txt")
DEBIAN_LIST = os.path.join(TRAINING, "data", "debian_packages.txt")
ORIGIN = ".origin.json"
KINDS = ("pypi", "npm", "debian")

PY_EXT = (".py", ".pyi")
JS_TS_EXT = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
NPM_BATCH = 40  # specs per `npm pack`; a batch that fails is retried one spec at a time


def write_origin(folder: str, source: str, version: str, licences: list[str], origin: str) -> None:
    """licences: the package's own licence fields, most specific first (corpus.py keeps the first permissive one)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ORIGIN), "w", encoding="utf-8") as f:
        json.dump({"source": source, "version": version, "licences": licences, "origin": origin}, f)


def read_origin(folder: str) -> dict | None:
    try:
        with open(os.path.join(folder, ORIGIN), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fetched_packages(kind: str, root: str = SOURCES):
    """(folder, origin) of every package fetched of that kind, in name order."""
    top = os.path.join(root, kind)
    if not os.path.isdir(top):
        return
    for name in sorted(os.listdir(top)):
        origin = read_origin(os.path.join(top, name))
        if origin is not None:
            yield os.path.join(top, name), origin


def _safe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return not name.startswith("/") and ".." not in parts


# --- pypi: the local wheelhouses ----------------------------------------------------------------------

def wheelhouses() -> list[str]:
    """The wheel folders pip is configured with: `files/` beside each file:// index, and find-links."""
    def pip_config(key):
        try:
            return subprocess.run(["pip", "config", "get", key], capture_output=True, text=True).stdout.split()
        except OSError:
            return []
    dirs = []
    for url in pip_config("global.extra-index-url") + pip_config("global.index-url"):
        if url.startswith("file://"):
            dirs.append(os.path.join(os.path.dirname(url[len("file://"):].rstrip("/")), "files"))
    dirs += pip_config("global.find-links")
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


def _version_key(version: str):
    """Release numbers compared as numbers (a pre-release or local tag sorts after its release: rare here)."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.+-]", version)]


def newest_wheels(dirs: list[str]) -> dict[str, str]:
    """Project name (normalised) -> path of its newest wheel across the folders."""
    best: dict[str, tuple[list, str]] = {}
    for d in dirs:
        for fn in os.listdir(d):
            if not fn.endswith(".whl"):
                continue
            name, version = fn.split("-")[:2]
            name = re.sub(r"[-_.]+", "-", name).lower()
            key = _version_key(version)
            if name not in best or key > best[name][0]:
                best[name] = (key, os.path.join(d, fn))
    return {name: path for name, (_, path) in sorted(best.items())}


def wheel_licences(meta: str) -> list[str]:
    """The licence fields of a METADATA file, most specific first: License-Expression, License (when it is a short
    name, not a whole licence text), the OSI licence classifiers."""
    head = meta.split("\n\n")[0]  # the headers; the description follows the first blank line

    def field(name: str) -> list[str]:
        m = re.search(rf"^{name}:\s*(\S.*)$", head, re.M)
        value = m.group(1).strip() if m else ""
        return [value] if value and value.upper() != "UNKNOWN" and len(value) < 100 else []
    classifiers = [c.strip() for c in re.findall(r"^Classifier: License :: OSI Approved :: (.*)$", head, re.M)]
    return field("License-Expression") + field("License") + classifiers


def fetch_wheel(path: str, root: str = SOURCES) -> str | None:
    """Extract one wheel's Python files into sources/pypi/<project>/; None when it is already there."""
    fn = os.path.basename(path)
    name, version = fn.split("-")[:2]
    name = re.sub(r"[-_.]+", "-", name).lower()
    folder = os.path.join(root, "pypi", name)
    if read_origin(folder):
        return None
    with zipfile.ZipFile(path) as z:
        meta = next((i for i in z.namelist() if i.endswith(".dist-info/METADATA")), None)
        licences = wheel_licences(z.read(meta).decode("utf-8", "replace")) if meta else []
        for info in z.infolist():
            if info.filename.endswith(PY_EXT) and _safe_member(info.filename):
                z.extract(info, folder)
    write_origin(folder, "pypi:" + name, version, licences, fn)
    return folder


def fetch_pypi(dirs: list[str] | None = None, root: str = SOURCES) -> int:
    wheels = newest_wheels(dirs if dirs is not None else wheelhouses())
    return sum(fetch_wheel(path, root) is not None for path in wheels.values())


# --- npm: packages from the registry ----------------------------------------------------------------------

def read_list(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]


def _npm_folder(root: str, name: str) -> str:
    return os.path.join(root, "npm", name.replace("/", "__"))


def npm_licence(pkg_json: dict) -> str | None:
    lic = pkg_json.get("license") or pkg_json.get("licenses")
    if isinstance(lic, list):
        lic = lic[0] if lic else None
    if isinstance(lic, dict):
        lic = lic.get("type")
    return lic if isinstance(lic, str) else None


def extract_npm_tarball(tgz: str, folder: str) -> str | None:
    """Extract the JS/TS files and package.json of an npm tarball (its top folder is `package/`, or the package's
    own name in @types tarballs); returns package.json's licence field."""
    licence = None
    with tarfile.open(tgz) as t:
        for m in t.getmembers():
            if not m.isfile() or not _safe_member(m.name):
                continue
            manifest = m.name.count("/") == 1 and m.name.endswith("/package.json")
            if manifest:
                try:
                    licence = npm_licence(json.load(t.extractfile(m)))
                except ValueError:
                    pass
            if manifest or m.name.endswith(JS_TS_EXT):
                t.extract(m, folder, set_attrs=False)
    return licence


def fetch_npm(specs: list[str], root: str = SOURCES, jobs: int = 4) -> int:
    """`npm pack` the specs not fetched yet (batches in parallel: the registry, not the CPU, is the bottleneck)
    into a temporary folder, extract each, record its origin."""
    todo = [s for s in specs if not read_origin(_npm_folder(root, s.rsplit("@", 1)[0]))]
    batches = [todo[i:i + NPM_BATCH] for i in range(0, len(todo), NPM_BATCH)]
    fetched = 0
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(jobs) as pool:
        def pack(n_batch):
            n, batch = n_batch
            dest = os.path.join(tmp, str(n))  # one folder per batch: two batches may hold the same package
            os.makedirs(dest)
            packed = _npm_pack(batch, dest)
            if packed is None:  # one bad spec fails the whole command
                packed = [p for spec in batch for p in (_npm_pack([spec], dest) or [])]
            return dest, packed
        for done, (dest, packed) in enumerate(pool.map(pack, enumerate(batches)), 1):
            for entry in packed:
                folder = _npm_folder(root, entry["name"])
                licence = extract_npm_tarball(os.path.join(dest, entry["filename"]), folder)
                write_origin(folder, "npm:" + entry["name"], entry["version"], [licence] if licence else [], entry["filename"])
                fetched += 1
            shutil.rmtree(dest)
            print(f"npm: {done}/{len(batches)} batches, {fetched} packages", flush=True)
    return fetched


def _npm_pack(specs: list[str], dest: str) -> list[dict] | None:
    r = subprocess.run(["npm", "pack", "--json", "--ignore-scripts", "--pack-destination", dest, *specs],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"npm pack failed for {specs if len(specs) == 1 else f'a batch of {len(specs)}'}: "
              f"{r.stderr.strip().splitlines()[-1:] or r.returncode}", flush=True)
        return None
    return json.loads(r.stdout)


# --- debian: packages downloaded, not installed ------------------------------------------------------------

def copyright_licence(text: str) -> str | None:
    """Licence of the `Files: *` stanza of a machine-readable Debian copyright file."""
    for stanza in re.split(r"\n\s*\n", text):
        if re.search(r"^Files:\s*\*\s*$", stanza, re.M):
            m = re.search(r"^License:\s*(\S.*)$", stanza, re.M)
            if m:
                return m.group(1).strip()
    return None


def fetch_debian(packages: list[str], root: str = SOURCES, batch: int = 50) -> int:
    """`apt-get download` the packages not fetched yet (batches: one connection serves many), keep their Python."""
    todo = [p for p in packages if not read_origin(os.path.join(root, "debian", p))]
    fetched = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(0, len(todo), batch):
            names = todo[i:i + batch]
            if subprocess.run(["apt-get", "download", *names], cwd=tmp, capture_output=True).returncode != 0:
                for name in names:  # one unknown name fails the whole command
                    r = subprocess.run(["apt-get", "download", name], cwd=tmp, capture_output=True, text=True)
                    if r.returncode != 0:
                        print(f"apt-get download {name} failed: {r.stderr.strip().splitlines()[-1:]}", flush=True)
            for deb in sorted(f for f in os.listdir(tmp) if f.endswith(".deb")):
                keep_debian_python(os.path.join(tmp, deb), root)
                os.remove(os.path.join(tmp, deb))
                fetched += 1
            print(f"debian: {i + len(names)}/{len(todo)} packages", flush=True)
    return fetched


def keep_debian_python(deb: str, root: str) -> None:
    """Unpack a .deb; keep its dist-packages' Python files and its licence in sources/debian/<package>/."""
    pkg, version = os.path.basename(deb).split("_")[:2]
    with tempfile.TemporaryDirectory() as unpacked:
        subprocess.run(["dpkg-deb", "-x", deb, unpacked], check=True)
        try:
            with open(os.path.join(unpacked, "usr/share/doc", pkg, "copyright"), encoding="utf-8", errors="replace") as f:
                licence = copyright_licence(f.read())
        except OSError:
            licence = None
        folder = os.path.join(root, "debian", pkg)
        dist = os.path.join(unpacked, "usr/lib/python3/dist-packages")
        if os.path.isdir(dist):
            shutil.copytree(dist, os.path.join(folder, "dist-packages"), dirs_exist_ok=True,
                            ignore=lambda d, names: [n for n in names if not os.path.isdir(os.path.join(d, n))
                                                     and not n.endswith(PY_EXT)])
        write_origin(folder, pkg, version, [licence] if licence else [], os.path.basename(deb))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(KINDS), help="comma-separated kinds to fetch")
    args = ap.parse_args(argv)
    kinds = args.only.split(",")
    if "pypi" in kinds:
        print(f"pypi: {fetch_pypi()} wheels extracted", flush=True)
    if "npm" in kinds:
        print(f"npm: {fetch_npm(read_list(NPM_LIST))} packages fetched", flush=True)
    if "debian" in kinds:
        print(f"debian: {fetch_debian(read_list(DEBIAN_LIST))} packages fetched", flush=True)


if __name__ == "__main__":
    main()
