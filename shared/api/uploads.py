"""Uploaded files for the API: saved to a request folder with a size limit (AIPM_MAX_UPLOAD_MB, as the
UI), refused with a clear 413 when larger and 400 when empty; removed when the request ends."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from shared.api.errors import ApiError
from shared.config import settings
from shared.outputs import request_dir

_CHUNK = 1 << 20


@contextlib.contextmanager
def saved(upload, kind: str):
    limit = settings().max_upload_mb * 1_000_000
    folder = request_dir(f"api-{kind}")
    name = Path(upload.filename or "upload").name[-100:] or "upload"
    path = folder / name
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := upload.file.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, f"The file is larger than {settings().max_upload_mb} MB.", "file_too_large",
                                   "file")
                out.write(chunk)
        if size == 0:
            raise ApiError(400, "The file is empty.", "invalid_input", "file")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
