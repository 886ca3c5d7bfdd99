"""openai-whisper's transcription loop as a generator of 30-second windows.

`whisper.transcribe` returns only when the whole file is done, and exposes a window's segments only
as a local variable. This is the same loop (openai-whisper 20250625, MIT, `whisper/transcribe.py`),
cut to the options this app passes, that yields each window's segments as soon as they exist, so
the Speech tab can stream them and a consumer that stops iterating stops the decoding at the next
window. Left out, because the app never sets them: clip_timestamps, carry_initial_prompt,
hallucination_silence_threshold and verbose printing. tests/test_speech.py checks that the segments
equal `whisper.transcribe`'s on the same audio and options.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # whisper.transcribe's defaults, and the thresholds below
COMPRESSION_RATIO_THRESHOLD = 2.4
LOGPROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


def decode_with_fallback(model, mel_segment, decode_options: dict):
    """Greedy (or beam) first; a higher temperature while the text is too repetitive or unlikely."""
    from whisper.decoding import DecodingOptions

    result = None
    for t in TEMPERATURES:
        kwargs = {**decode_options}
        if t > 0:  # sampling: no beam search
            kwargs.pop("beam_size", None)
            kwargs.pop("patience", None)
        else:
            kwargs.pop("best_of", None)
        result = model.decode(mel_segment, DecodingOptions(**kwargs, temperature=t))
        needs_fallback = (result.compression_ratio > COMPRESSION_RATIO_THRESHOLD
                          or result.avg_logprob < LOGPROB_THRESHOLD)
        if result.no_speech_prob > NO_SPEECH_THRESHOLD and result.avg_logprob < LOGPROB_THRESHOLD:
            needs_fallback = False  # silence
        if not needs_fallback:
            break
    return result


def single_timestamp_ending(tokens: torch.Tensor, tokenizer) -> bool:
    """The window's text ends with one timestamp: no speech after it."""
    return tokens.ge(tokenizer.timestamp_begin)[-2:].tolist() == [False, True]


def split_window(tokens: torch.Tensor, tokenizer, time_offset: float, segment_duration: float,
                 input_stride: int, time_precision: float) -> tuple[list[tuple[float, float, torch.Tensor]], int | None]:
    """A window's tokens cut into (start, end, tokens) at consecutive timestamp tokens, and how many
    frames to move on (None: the whole window)."""
    timestamp_tokens = tokens.ge(tokenizer.timestamp_begin)
    single_ending = single_timestamp_ending(tokens, tokenizer)
    consecutive = torch.where(timestamp_tokens[:-1] & timestamp_tokens[1:])[0]
    consecutive.add_(1)
    if len(consecutive) > 0:
        slices = consecutive.tolist()
        if single_ending:
            slices.append(len(tokens))
        pieces, last_slice = [], 0
        for current_slice in slices:
            sliced = tokens[last_slice:current_slice]
            start = sliced[0].item() - tokenizer.timestamp_begin
            end = sliced[-1].item() - tokenizer.timestamp_begin
            pieces.append((time_offset + start * time_precision, time_offset + end * time_precision, sliced))
            last_slice = current_slice
        if single_ending:  # no speech after the last timestamp
            return pieces, None
        # otherwise the unfinished segment is dropped and the next window starts at the last timestamp
        return pieces, (tokens[last_slice - 1].item() - tokenizer.timestamp_begin) * input_stride
    duration = segment_duration
    timestamps = tokens[timestamp_tokens.nonzero().flatten()]
    if len(timestamps) > 0 and timestamps[-1].item() != tokenizer.timestamp_begin:
        duration = (timestamps[-1].item() - tokenizer.timestamp_begin) * time_precision
    return [(time_offset, time_offset + duration, tokens)], None


def windows(model, audio, *, language: str | None, task: str = "transcribe", initial_prompt: str | None = None,
            word_timestamps: bool = False, condition_on_previous_text: bool = True, fp16: bool = False,
            **decode_options) -> Iterator[list[dict]]:
    """Yields each window's segments (whisper.transcribe's dicts, with "id" and "words" when asked)."""
    from whisper.audio import FRAMES_PER_SECOND, HOP_LENGTH, N_FRAMES, N_SAMPLES, SAMPLE_RATE
    from whisper.audio import log_mel_spectrogram, pad_or_trim
    from whisper.timing import add_word_timestamps
    from whisper.tokenizer import get_tokenizer
    from whisper.utils import exact_div, get_end

    dtype = torch.float16 if fp16 and model.device != torch.device("cpu") else torch.float32
    decode_options["fp16"] = dtype == torch.float16
    mel = log_mel_spectrogram(audio, model.dims.n_mels, padding=N_SAMPLES)  # 30 s of silence to slice into
    content_frames = mel.shape[-1] - N_FRAMES
    if language is None:
        if not model.is_multilingual:
            language = "en"
        else:
            _, probs = model.detect_language(pad_or_trim(mel, N_FRAMES).to(model.device).to(dtype))
            language = max(probs, key=probs.get)
    decode_options.update(language=language, task=task)
    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages, language=language, task=task)

    input_stride = exact_div(N_FRAMES, model.dims.n_audio_ctx)  # mel frames per output token: 2
    time_precision = input_stride * HOP_LENGTH / SAMPLE_RATE  # seconds per output token: 0.02
    all_tokens: list[int] = []
    initial_prompt_tokens = tokenizer.encode(" " + initial_prompt.strip()) if initial_prompt is not None else []
    all_tokens.extend(initial_prompt_tokens)
    prompt_reset_since = 0
    segment_count = 0
    seek = 0
    last_speech_timestamp = 0.0
    while seek < content_frames:
        time_offset = float(seek * HOP_LENGTH / SAMPLE_RATE)
        segment_size = min(N_FRAMES, content_frames - seek)
        mel_segment = pad_or_trim(mel[:, seek:seek + segment_size], N_FRAMES).to(model.device).to(dtype)
        segment_duration = segment_size * HOP_LENGTH / SAMPLE_RATE
        decode_options["prompt"] = all_tokens[prompt_reset_since:]
        result = decode_with_fallback(model, mel_segment, decode_options)
        tokens = torch.tensor(result.tokens)
        if result.no_speech_prob > NO_SPEECH_THRESHOLD and not result.avg_logprob > LOGPROB_THRESHOLD:
            seek += segment_size  # no voice in this window
            continue

        window_start = seek
        pieces, advance = split_window(tokens, tokenizer, time_offset, segment_duration, input_stride, time_precision)
        seek += segment_size if advance is None else advance
        current = [segment(start, end, piece, result, tokenizer, window_start) for start, end, piece in pieces]
        if word_timestamps:
            add_word_timestamps(segments=current, model=model, tokenizer=tokenizer, mel=mel_segment,
                                num_frames=segment_size, prepend_punctuations=PREPEND_PUNCTUATIONS,
                                append_punctuations=APPEND_PUNCTUATIONS, last_speech_timestamp=last_speech_timestamp)
            last_word_end = get_end(current)
            if not single_timestamp_ending(tokens, tokenizer) and last_word_end is not None \
                    and last_word_end > time_offset:
                seek = round(last_word_end * FRAMES_PER_SECOND)  # the next window starts after the last word
            if last_word_end is not None:
                last_speech_timestamp = last_word_end

        for seg in current:  # an instantaneous or empty segment is cleared
            if seg["start"] == seg["end"] or seg["text"].strip() == "":
                seg["text"], seg["tokens"], seg["words"] = "", [], []
        window = [{"id": i, **seg} for i, seg in enumerate(current, start=segment_count)]
        segment_count += len(window)
        all_tokens.extend(token for seg in current for token in seg["tokens"])
        if not condition_on_previous_text or result.temperature > 0.5:
            prompt_reset_since = len(all_tokens)  # a high temperature's text is no prompt
        yield window


def segment(start: float, end: float, tokens: torch.Tensor, result, tokenizer, seek_at: int) -> dict:
    tokens = tokens.tolist()
    return {"seek": seek_at, "start": start, "end": end,
            "text": tokenizer.decode([token for token in tokens if token < tokenizer.eot]), "tokens": tokens,
            "temperature": result.temperature, "avg_logprob": result.avg_logprob,
            "compression_ratio": result.compression_ratio, "no_speech_prob": result.no_speech_prob}
