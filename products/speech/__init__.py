"""Speech to text: Whisper (base, tiny.en, or a configured model) on faster-whisper or openai-whisper,
with progressive segments, language detection, translation to English, word timestamps and subtitles."""
from shared import feedback
from shared.artifacts import declared_in
from shared.descriptor import FeedbackKind, Measure, Product, Rating, Service

from products.speech import artifacts, service, strings  # noqa: F401  (strings: the tab title and messages)
from products.speech.settings import SpeechSettings


def build_tab() -> None:
    from products.speech.tab import build_tab as build

    build()


def score_transcript(rating: Rating) -> None:
    """A corrected transcript: the model's word error rate against it, told to the user."""
    feedback.score_correction(rating, rating.memo.get("transcript"), thanks_with_rate=True)


PRODUCT = Product(
    name="speech",
    title="speech.tab",
    build_tab=build_tab,
    actions=("speech_transcribe", "speech_stop"),
    rated=("speech_transcribe",),
    feedback=(FeedbackKind("correction", None, score_transcript),),
    measures=(Measure("audio_s", "seconds of audio"), Measure("tokens_out", "words transcribed")),
    settings=(SpeechSettings,),
    artifacts=declared_in(artifacts),
    services=(Service("transcription", "whisper-base", service.transcribe_base,
                      "Whisper base (74M, 99 languages): transcription and translation to English", default=True),
              Service("transcription", "whisper-tiny.en", service.transcribe_tiny_en,
                      "Whisper tiny.en (39M, English only, fastest)")),
    routes=service.routes,
)
