import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile

import pytest

from training.data import corpus, sources

METADATA = """Metadata-Version: 2.4
Name: tidy
Version: {version}
License: Copyright (c) 2020 someone, all rights reserved in a long licence text that goes on and on and on and on
License-Expression: {expression}
Classifier: License :: OSI Approved :: MIT License

Long description. License: GPL (a description may say anything)
"""


def make_wheel(folder, name, version, expression="BSD-3-Clause"):
    path = os.path.join(folder, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}-{version}.dist-info/METADATA", METADATA.format(version=version, expression=expression))
        z.writestr(f"{name}/__init__.py", f"VERSION = '{version}'\n")
        z.writestr(f"{name}/core.pyi", "def f() -> int: ...\n")
        z.writestr(f"{name}/data.json", "{}")
        z.writestr("../escape.py", "x = 1\n")
    return path


def test_wheel_licences_most_specific_first():
    fields = sources.wheel_licences(METADATA.format(version="1", expression="Apache-2.0"))
    assert fields == ["Apache-2.0", "MIT License"]  # the long License text is no licence name; the description is not read
    assert sources.wheel_licences("Name: x\nLicense: UNKNOWN\n") == []


def test_newest_wheel_extracted_once(tmp_path):
    house = tmp_path / "house"
    house.mkdir()
    for version in ("1.9.0", "1.10.0", "1.2.0"):
        make_wheel(str(house), "tidy", version)
    make_wheel(str(house), "Other_Pkg", "0.1")
    wheels = sources.newest_wheels([str(house)])
    assert sorted(wheels) == ["other-pkg", "tidy"] and wheels["tidy"].endswith("tidy-1.10.0-py3-none-any.whl")

    root = str(tmp_path / "sources")
    assert sources.fetch_pypi([str(house)], root) == 2
    folder = os.path.join(root, "pypi", "tidy")
    assert sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs) == \
        [sources.ORIGIN, "tidy/__init__.py", "tidy/core.pyi"]  # no data file, nothing outside the folder
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "sources" / "pypi" / "escape.py").exists()
    assert sources.read_origin(folder) == {"source": "pypi:tidy", "version": "1.10.0",
                                           "licences": ["BSD-3-Clause", "MIT License"],
                                           "origin": "tidy-1.10.0-py3-none-any.whl"}
    assert sources.fetch_pypi([str(house)], root) == 0  # idempotent


def make_npm_tarball(path, pkg_json, top="package"):
    with tarfile.open(path, "w:gz") as t:
        for name, text in ((f"{top}/package.json", json.dumps(pkg_json)), (f"{top}/src/index.ts", "export const a = 1;\n"),
                           (f"{top}/lib/index.js", "module.exports = 1;\n"), (f"{top}/README.md", "# readme\n"),
                           (f"{top}/test/fixtures/package.json", "{}"), ("../evil.js", "boom();\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def test_npm_tarball_keeps_code_and_manifest_only(tmp_path):
    tgz = str(tmp_path / "p.tgz")
    make_npm_tarball(tgz, {"name": "p", "license": {"type": "ISC"}})
    folder = tmp_path / "out"
    assert sources.extract_npm_tarball(tgz, str(folder)) == "ISC"
    kept = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)
    assert kept == ["package/lib/index.js", "package/package.json", "package/src/index.ts"]
    assert not (tmp_path / "evil.js").exists()
    make_npm_tarball(tgz, {"name": "@types/p", "license": "MIT"}, top="p")  # @types tarballs name their top folder
    assert sources.extract_npm_tarball(tgz, str(tmp_path / "types")) == "MIT"


def test_copyright_licence():
    text = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
            "Files: debian/*\nLicense: GPL-2+\n\nFiles: *\nCopyright: 2020 x\nLicense: Expat\n")
    assert sources.copyright_licence(text) == "Expat"
    assert sources.copyright_licence("This package is public domain.\n") is None


def test_corpus_reads_fetched_packages_with_their_licence(tmp_path):
    root = str(tmp_path / "sources")
    house = tmp_path / "house"
    house.mkdir()
    make_wheel(str(house), "tidy", "1.0", expression="GPL-3.0-only")  # its MIT classifier is not the licence
    make_wheel(str(house), "neat", "1.0", expression="Dual License")  # unreadable: the classifier decides
    sources.fetch_pypi([str(house)], root)
    npm = os.path.join(root, "npm", "@s__p")
    tgz = str(tmp_path / "p.tgz")
    make_npm_tarball(tgz, {"name": "@s/p", "license": "MIT"})
    sources.extract_npm_tarball(tgz, npm)
    sources.write_origin(npm, "npm:@s/p", "1.0.0", ["MIT"], "s-p-1.0.0.tgz")
    deb = os.path.join(root, "debian", "python3-x")
    os.makedirs(os.path.join(deb, "dist-packages", "x"))
    with open(os.path.join(deb, "dist-packages", "x", "__init__.py"), "w") as f:
        f.write("A = 1\n")
    sources.write_origin(deb, "python3-x", "1.0-1", ["Expat"], "python3-x_1.0-1_all.deb")

    found = {os.path.relpath(p, root): (source, lic) for p, source, lic, _ in corpus.fetched_candidates(root)}
    assert found == {
        "pypi/neat/neat/__init__.py": ("pypi:neat", "MIT"), "pypi/neat/neat/core.pyi": ("pypi:neat", "MIT"),
        "pypi/tidy/tidy/__init__.py": ("pypi:tidy", "REJECTED:GPL-3.0-only | MIT License"),
        "pypi/tidy/tidy/core.pyi": ("pypi:tidy", "REJECTED:GPL-3.0-only | MIT License"),
        "npm/@s__p/package/lib/index.js": ("npm:@s/p", "MIT"), "npm/@s__p/package/src/index.ts": ("npm:@s/p", "MIT"),
        "debian/python3-x/dist-packages/x/__init__.py": ("python3-x", "MIT"),
    }
    assert {corpus.origin_of(os.path.join(root, p), root) for p in found} == {"pypi", "npm", "debian"}


@pytest.mark.skipif(shutil.which("npm") is None, reason="no npm")
def test_fetch_npm_from_the_registry(tmp_path):
    """A real `npm pack` of a tiny package (the registry is reachable wherever the project installs)."""
    if subprocess.run(["npm", "view", "is-number@7.0.0", "version"], capture_output=True, timeout=60).returncode != 0:
        pytest.skip("npm registry not reachable")
    root = str(tmp_path)
    assert sources.fetch_npm(["is-number@7.0.0", "is-number@7.0.0-no-such-version"], root) == 1
    folder = os.path.join(root, "npm", "is-number")
    assert sources.read_origin(folder) == {"source": "npm:is-number", "version": "7.0.0", "licences": ["MIT"],
                                           "origin": "is-number-7.0.0.tgz"}
    with open(os.path.join(folder, "package", "index.js")) as f:
        assert "module.exports = function(num)" in f.read()
    assert sources.fetch_npm(["is-number@7.0.0"], root) == 0
