"""Speech to text: Whisper (base, tiny.en, or a configured model) on faster-whisper or openai-whisper,
with progressive segments, language detection, translation to English, word timestamps and subtitles."""
TAB_TITLE = "speech.tab"


def build_tab() -> None:
    from products.speech.tab import build_tab as build

    build()
