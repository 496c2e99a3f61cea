"""Which files a request may make the app read: only those Gradio itself put in its upload and cache folders.

Gradio's own check is not enough: it looks at a file object's path only when the object carries Gradio's
marker (`"meta": {"_type": "gradio.FileData"}`). An object without it (`{"path": "/etc/passwd"}`, sent with
plain HTTP or gradio_client) reaches the component as it is, and gr.Image opens that path: any image on the
server came back annotated, and the answer told whether any other file existed. And a marked object that
Gradio refuses costs a traceback in the server log per request. So every request's inputs are checked here,
before Gradio reads any of them, whatever their form: a file's path must be absolute and, links and `..`
resolved, inside those folders; URLs (which Gradio would download) are refused too. A refusal is one message
to the client and one line in the log. The app's own code calling `demo(...)` is not a request (Gradio does
not check it either).

An uploaded image is then read only within the app's limits (read_upload, check_pixels): refused in words
when it is not an image, is damaged, or has more pixels than MAX_PIXELS (seen from its header, before it
is decoded).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder
from pydantic import ValidationError

from facemask.app.errors import UserError
from facemask.images import ImageTooLarge, NotAnImage, UnreadableImage, load_image
from facemask.inference.media import MAX_SIDE

MAX_UPLOAD = "25mb"  # per file, enforced by gradio before our code runs
MAX_PIXELS = 40_000_000  # per image or webcam frame: more would take seconds and GBs

REFUSED = "That file was not uploaded to this app: send the file itself (with gradio_client: handle_file(path))"
MALFORMED = "That input is not what this endpoint takes: see the API page (footer: 'Use via API')"


class Refused(ValueError):
    """A file object that names something other than an upload; its message is for the log."""


def upload_roots(demo: gr.Blocks) -> list[str]:
    """The folders Gradio puts uploads in: its upload folder and each component's cache (the same by default)."""
    folders = {get_upload_folder(), *(getattr(b, "GRADIO_CACHE", None) for b in demo.blocks.values())}
    return sorted(os.path.realpath(f) for f in folders if f)


def is_upload(path: str, roots: list[str]) -> bool:
    """Whether `path` is a file in one of `roots`: absolute, and inside once links and `..` are resolved."""
    if not os.path.isabs(path) or "\0" in path:  # relative paths, URLs (http://, file://)
        return False
    real = os.path.realpath(path)
    return any(real != root and os.path.commonpath([real, root]) == root for root in roots)


def file_objects(value: Any) -> Iterator[dict]:
    """Every file object in a request's input, at any depth: a dict with a `path` or a `url`."""
    if isinstance(value, dict):
        if "path" in value or "url" in value:
            yield value
        for item in value.values():
            yield from file_objects(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from file_objects(item)


def check_inputs(inputs: list[Any], roots: list[str]) -> None:
    """Raise Refused for a file object that names anything but an upload. One with no path at all is let
    through only with a base64 `data:` URL (the image is in the request; nothing is read)."""
    for obj in file_objects(inputs):
        path, url = obj.get("path"), obj.get("url")
        if path is None and (url is None or (isinstance(url, str) and url.startswith("data:"))):
            continue
        if not isinstance(path, str) or not is_upload(path, roots):
            raise Refused(f"{path if path is not None else url!r:.120} is not an upload")


def _log(block_fn: Any, why: str) -> None:
    """One line in the server log (never the client's text unquoted: repr keeps it on one line)."""
    print(f"facemask app: refused a request to /{block_fn.api_name}: {why}", file=sys.stderr, flush=True)


def only_uploads(demo: gr.Blocks) -> gr.Blocks:
    """Make every request to `demo`, on any endpoint and route, pass check_inputs before Gradio reads its
    inputs (Blocks.preprocess_data is where every request's inputs go first); an input Gradio cannot even
    parse is one line too, not a traceback."""
    preprocess = demo.preprocess_data

    @functools.wraps(preprocess)
    async def checked(block_fn, inputs, state, explicit_call: bool = False):
        if not explicit_call:
            try:
                check_inputs(inputs, upload_roots(demo))
            except Refused as e:
                _log(block_fn, str(e))
                raise gr.Error(REFUSED, print_exception=False) from None
        try:
            return await preprocess(block_fn, inputs, state, explicit_call)
        except ValidationError as e:
            _log(block_fn, f"malformed input ({e.error_count()} errors)")
            raise gr.Error(MALFORMED, print_exception=False) from None

    demo.preprocess_data = checked
    return demo


def _refusal(e: UnreadableImage) -> UserError:
    """Why an image is refused, in the app's words."""
    if isinstance(e, ImageTooLarge):
        return UserError(f"Image {e}")
    if isinstance(e, NotAnImage):
        return UserError("That file is not an image this app can read (JPEG, PNG, WebP, BMP, HEIC, ...)")
    return UserError("That image is damaged or truncated and cannot be read")


def check_pixels(width: int, height: int, limit: int = MAX_PIXELS) -> None:
    """A UserError for an image or frame of more than `limit` pixels, before any work is spent on it."""
    if width * height > limit:
        raise _refusal(ImageTooLarge((width, height), limit))


def read_upload(path: str | None) -> np.ndarray:
    """An uploaded image as RGB, read as detect.py reads files (huge ones reduced); a UserError when it is
    not an image, is damaged, or is too large (checked from the header, before decoding)."""
    if not path:
        raise UserError("No image received: upload, paste or take a photo first")
    try:
        return np.asarray(load_image(path, MAX_PIXELS, MAX_SIDE).image)
    except UnreadableImage as e:
        raise _refusal(e) from None
