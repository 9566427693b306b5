#!/usr/bin/env python3
"""Distribution checks that need no network and no conda (run by workflows/ci/run-workflows.sh
distribution):

1. One version: every place that names agemark's version (the conda recipe, the conda
   environments of the Nextflow modules, the Snakemake workflow and wrapper, the container
   addresses of the modules and CWL tools, the CWL SoftwareRequirement, CITATION.cff) names
   Cargo.toml's [workspace.package] version, which every crate of the workspace inherits and
   the internal dependencies ([workspace.dependencies]) require; the recipe's Rust pin is
   Cargo.toml's rust-version.
2. A lint of recipes/agemark/meta.yaml, as far as it can go without conda-build (which is on no
   registry these machines reach): the Jinja rendered with stand-ins for conda-build's
   compiler() and pin_subpackage(), line selectors applied for linux-64, the YAML parsed, and
   the sections bioconda's linter requires checked (source with a sha256, build number,
   run_exports, compilers, tests that run agemark, about with home/licence/licence files).
   NOT checked: that conda resolves the requirements and builds it (no conda channel here).

    python check_distribution.py REPO
"""
import re
import sys
import tomllib
from pathlib import Path

import jinja2
import yaml

repo = Path(sys.argv[1])
problems, notes = [], []
manifest = tomllib.loads((repo / "Cargo.toml").read_text())
cargo = manifest["workspace"]["package"]
VERSION, RUST, LICENSE = cargo["version"], cargo["rust-version"], cargo["license"]
for member in manifest["workspace"]["members"]:
    package = tomllib.loads((repo / member / "Cargo.toml").read_text())["package"]
    for field in ("version", "rust-version", "license"):
        if package.get(field) != {"workspace": True}:
            problems.append(f"{member}/Cargo.toml: {field} is not inherited from [workspace.package]")
for name, dep in manifest["workspace"]["dependencies"].items():
    if name.startswith("agemark") and dep.get("version") != VERSION:
        problems.append(f"Cargo.toml: [workspace.dependencies] {name} requires {dep.get('version')}, the workspace is {VERSION}")

# 1. One version -----------------------------------------------------------------------------
PATTERNS = [
    (re.compile(r"localhost/agemark:(\d+\.\d+\.\d+)"), "container address"),
    (re.compile(r"\bagemark=(\d+\.\d+\.\d+)"), "conda dependency"),
    (re.compile(r'^\s*version: \["(\d+\.\d+\.\d+)"\]'), "CWL SoftwareRequirement"),
    (re.compile(r'^\{% set version = "(\d+\.\d+\.\d+)" %\}'), "recipe version"),
    (re.compile(r"^version: (\d+\.\d+\.\d+)$"), "CITATION.cff version"),
]
files = [repo / "CITATION.cff"] + sorted(
    p for d in ("workflows", "recipes") for p in (repo / d).rglob("*")
    if p.is_file() and p.suffix in {".nf", ".yml", ".yaml", ".cwl", ".config", ".smk", ".def", ""}
    and "modules-repo" not in p.parts
)
seen = 0
for path in files:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for pat, what in PATTERNS:
            for m in pat.finditer(line):
                seen += 1
                if m.group(1) != VERSION:
                    problems.append(f"{path.relative_to(repo)}:{n}: {what} {m.group(1)}, Cargo.toml says {VERSION}")
if seen < 20:
    problems.append(f"only {seen} version mentions found: the patterns no longer match the files")
if not problems:
    print(f"version {VERSION} (Cargo.toml): {seen} mentions in the recipe, workflows and CITATION.cff agree")

# 2. The recipe ------------------------------------------------------------------------------
recipe_dir = repo / "recipes" / "agemark"
raw = (recipe_dir / "meta.yaml").read_text()
# conda-build selectors, for linux-64: keep [linux]/[unix]/[linux64]/[x86_64], drop the others.
TRUE = {"linux", "unix", "linux64", "x86_64", "not win", "not osx"}
FALSE = {"win", "osx", "not linux", "not unix", "aarch64", "arm64"}
lines = []
for line in raw.splitlines():
    m = re.search(r"#\s*\[([^\]]+)\]\s*$", line)
    if m:
        sel = m.group(1).strip()
        if sel in FALSE:
            continue
        if sel not in TRUE:
            problems.append(f"meta.yaml: selector [{sel}] not understood by this lint")
    lines.append(line)
env = jinja2.Environment(undefined=jinja2.StrictUndefined)
rendered = env.from_string("\n".join(lines)).render(
    compiler=lambda lang: f"{lang}_compiler_stub",
    pin_subpackage=lambda name, max_pin="x": f"{name} (pin_subpackage max_pin={max_pin})",
)
meta = yaml.safe_load(rendered)
build_sh = (recipe_dir / "build.sh").read_text()
cbc = yaml.safe_load((recipe_dir / "conda_build_config.yaml").read_text())


def need(cond, msg):
    if not cond:
        problems.append(f"meta.yaml: {msg}")


need(meta["package"]["name"] == manifest["package"]["name"], f"package name {meta['package']['name']} != {manifest['package']['name']}")
need(str(meta["package"]["version"]) == VERSION, f"version {meta['package']['version']} != Cargo.toml {VERSION}")
src = meta.get("source", {})
need(f"v{VERSION}" in src.get("url", ""), "source url does not name the v<version> tag")
sha = src.get("sha256") or ""
if sha == "":
    notes.append("source sha256 is empty: fill it in when the release tarball exists (bioconda refuses a recipe without it)")
else:
    need(re.fullmatch(r"[0-9a-f]{64}", sha), f"sha256 is not 64 hex digits: {sha}")
need(isinstance(meta.get("build", {}).get("number"), int), "build number missing")
need(any("pin_subpackage" in str(x) for x in meta["build"].get("run_exports", [])), "no run_exports with pin_subpackage (bioconda requires it)")
reqs = meta.get("requirements", {}).get("build", [])
need("rust_compiler_stub" in reqs, "no {{ compiler('rust') }} in requirements/build")
need("c_compiler_stub" in reqs, "no {{ compiler('c') }} in requirements/build (libdeflate is C)")
need("cargo-bundle-licenses" in reqs and "cargo-bundle-licenses" in build_sh, "no cargo-bundle-licenses")
cmds = meta.get("test", {}).get("commands", [])
need("agemark --version" in cmds, "no `agemark --version` test")
need(any(c.startswith("agemark demo") for c in cmds), "no demo run in the tests")
about = meta.get("about", {})
for key in ("home", "license", "summary", "license_file", "dev_url", "doc_url"):
    need(about.get(key), f"about/{key} missing")
need(about.get("license") == LICENSE, f"about/license {about.get('license')} != Cargo.toml {LICENSE}")
for lf in about.get("license_file", []):
    need((repo / lf).is_file() or (lf in build_sh), f"license_file {lf} is neither in the source nor written by build.sh")
need("--locked" in build_sh and "${PREFIX}" in build_sh, "build.sh must build --locked into ${PREFIX}")
pin = str(cbc["rust_compiler_version"][0])
need(pin == RUST or pin.startswith(RUST + "."), f"conda_build_config.yaml pins Rust {pin}, Cargo.toml rust-version is {RUST}")
if not problems:
    print(f"recipes/agemark: renders for linux-64 and has what bioconda's lint requires (Rust {pin} pinned = rust-version {RUST})")
for note in notes:
    print(f"note: {note}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
