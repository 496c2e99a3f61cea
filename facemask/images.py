"""Reading images the way real downloads come (mislabelled formats, alpha, EXIF, 16-bit, huge) and
writing them back as plain RGB JPEG/PNG files with safe names. `load_image` is the one reader: the merge
takes images whole, detect.py and the app reduce huge ones and allow their own number of pixels."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pi_heif
from PIL import Image, ImageFile, UnidentifiedImageError

from facemask.geometry import EXIF_TRANSPOSE, transposed_size

pi_heif.register_heif_opener()  # HEIC/HEIF photos (phones) open like any other image

EXIF_ORIENTATION = 0x0112
JPEG_QUALITY = 95
#: Pillow's own limit (89 Mpx), read once: the merge refuses larger photos as likely decompression bombs.
PILLOW_MAX_PIXELS = Image.MAX_IMAGE_PIXELS


class UnreadableImage(ValueError):
    """A file that does not decode to a complete image (raised from the OSError when it cannot be opened)."""


class NotAnImage(UnreadableImage):
    """Bytes that no Pillow plugin takes for an image."""


class ImageTooLarge(UnreadableImage):
    """More pixels than the caller allows, found from the header before anything is decoded."""

    def __init__(self, size: tuple[int, int], limit: int):
        super().__init__(f"too large: {size[0]}x{size[1]} pixels; the limit is {limit / 1e6:g} megapixels")
        self.size = size


@dataclass
class LoadedImage:
    """An upright RGB image and what is needed to relate it to the file and its labels."""

    image: Image.Image
    format: str  # what the bytes are (JPEG, PNG, WEBP, ...), whatever the suffix says
    stored_size: tuple[int, int]  # width, height as stored, before EXIF orientation
    orientation: Image.Transpose | None  # transpose applied to show it upright
    is_plain: bool  # already an RGB JPEG/PNG needing no change: its bytes can be copied as they are
    scale: float = 1.0  # decoded pixels per original pixel (< 1 when read reduced to max_side)


def load_image(
    path: str | Path, max_pixels: int | None = PILLOW_MAX_PIXELS, max_side: int | None = None
) -> LoadedImage:
    """Decode fully (so truncated files fail here, not in training), apply EXIF orientation, flatten alpha
    onto white and scale 16-bit and float images to 8 bits. An image of more than `max_pixels` is refused
    from its header (ImageTooLarge); one longer than `max_side` is decoded reduced to it (JPEGs cheaply,
    with Pillow's draft mode): a 20000x20000 photo would otherwise take 1.2 GB, for a 640 px network input.
    Touches no process-wide state (Pillow's limit included), so threads can read with different limits."""
    try:
        with open(path, "rb") as fp:
            im = _identify(fp, str(path))
            stored = im.size
            if max_pixels is not None and stored[0] * stored[1] > max_pixels:
                raise ImageTooLarge(stored, max_pixels)
            orientation = EXIF_TRANSPOSE.get(im.getexif().get(EXIF_ORIENTATION, 1))
            side = max_side or max(stored)  # the longest side decoded
            if max(stored) > side:
                im.draft("RGB", (stored[0] * side // max(stored), stored[1] * side // max(stored)))
            im.load()
            fmt, is_rgb = im.format or "UNKNOWN", im.mode == "RGB"
            image = to_8bit(im if orientation is None else im.transpose(orientation))
            if max(image.size) > side:  # (to 8 bits first: Pillow cannot shrink 16-bit images)
                if image.mode != "L":  # grayscale shrinks as it is, at a third of RGB's memory
                    image = to_rgb(image)
                image.thumbnail((side, side))
            rgb = to_rgb(image)
    except UnreadableImage:
        raise
    except UnidentifiedImageError as e:
        raise NotAnImage("not an image, or a format Pillow cannot read") from e
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise UnreadableImage(str(e)) from e
    scale = rgb.width / transposed_size(*stored, orientation)[0]
    is_plain = fmt in ("JPEG", "PNG") and is_rgb and orientation is None and scale == 1 and ends_cleanly(path, fmt)
    return LoadedImage(rgb, fmt, stored, orientation, is_plain, scale)


def _identify(fp: BinaryIO, name: str) -> ImageFile.ImageFile:
    """`Image.open` without its decompression-bomb check, which reads the process-wide
    `Image.MAX_IMAGE_PIXELS`: raising that for one caller's huge image would raise it for every thread
    (and gradio's own decoding of uploads). The same search as Image.open: the first registered plugin
    that accepts the leading bytes and parses the header. (Pillow still checks TIFF tiles and GIF frames
    against that limit while decoding: above 179 Mpx those two formats stay unreadable.)"""
    Image.preinit()  # the common formats first, in Image.open's order
    Image.init()
    prefix = fp.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        try:
            accepted = accept is None or accept(prefix)
            if accepted and not isinstance(accepted, str):  # a str: recognised, but cannot be read
                fp.seek(0)
                return factory(fp, name)
        except (SyntaxError, IndexError, TypeError, struct.error):  # not this format: as Image.open
            continue
    raise UnidentifiedImageError(f"cannot identify image file {name!r}")


def ends_cleanly(path: str | Path, fmt: str) -> bool:
    """False for a JPEG with bytes after its end marker: ultralytics 'restores' such files in place,
    which would edit the merged dataset during training, so they are re-encoded instead of copied."""
    if fmt != "JPEG":
        return True
    with open(path, "rb") as f:
        f.seek(-2, os.SEEK_END)
        return f.read() == b"\xff\xd9"


def to_8bit(im: Image.Image) -> Image.Image:
    """Images of more than 8 bits a sample (16-bit grayscale PNG/TIFF: mode I;16 or I; 32-bit float:
    F) as 8-bit grayscale (L), scaled; other modes as they are. Pillow's own conversion clips every
    value above 255 instead, so such a photo turns white.

    A 16-bit image maps its full range linearly onto 8 bits (v / 257, rounded): what browsers and
    viewers show, and exact for an 8-bit photo saved as 16-bit. Its own min..max is not stretched
    instead: that would change the exposure the photographer chose, brighten a dark scene's noise,
    and make the result depend on a single stray pixel. Modes I and F say nothing of their range, so
    they take the smallest usual range that holds their values (0..1, 0..255, 0..65535), and only
    values beyond all of them their own min..max."""
    if im.mode.startswith("I;16"):
        im, lo, hi = im.convert("I"), 0, 65535
    elif im.mode in ("I", "F"):
        lo, hi = im.getextrema()
        top = next((t for t in (1, 255, 65535) if lo >= 0 and hi <= t), None)
        lo, hi = (0, top) if top else (lo, hi)
    else:
        return im
    scale = 255 / (hi - lo) if hi > lo else 0.0
    # point() maps I and F images linearly in C; +0.5 rounds, as converting to L truncates
    return im.point(lambda v: v * scale + (0.5 - lo * scale)).convert("L")


def to_rgb(im: Image.Image) -> Image.Image:
    """RGB, with transparency composited on white (plain `convert('RGB')` shows whatever colour hides
    under transparent pixels, often black); grayscale, CMYK and 16-bit or float images (see to_8bit)
    become plain RGB too."""
    im = to_8bit(im)
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im.convert("RGB")


def output_suffix(loaded: LoadedImage) -> str:
    """PNG stays lossless PNG; everything else (JPEG, WebP, BMP, ...) becomes JPEG."""
    return ".png" if loaded.format == "PNG" else ".jpg"


def write_image(loaded: LoadedImage, src: Path, dst: Path) -> None:
    """Copy the original bytes when they are already plain, else encode the normalised image."""
    if loaded.is_plain:  # output_suffix() kept its format, so the bytes are already right
        shutil.copyfile(src, dst)
    else:
        save_rgb(loaded.image, dst)


def save_rgb(image: Image.Image, dst: Path) -> None:
    """Save as PNG or high-quality JPEG according to the suffix, with no metadata carried over."""
    if dst.suffix == ".png":
        image.save(dst, format="PNG")
    else:
        image.save(dst, format="JPEG", quality=JPEG_QUALITY)


def safe_name(source: str, rel: str, max_len: int = 60) -> str:
    """A unique, portable file stem for an image: ASCII letters, digits, '_' and '-' only.

    Names like 'maxresdefault (3).jpg' or non-ASCII ones break shell scripts and some tools; the short
    hash of the original relative path keeps names unique when two originals slug to the same text.
    """
    stem = unicodedata.normalize("NFKD", Path(rel).stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")[:max_len] or "img"
    digest = hashlib.sha1(f"{source}/{rel}".encode()).hexdigest()[:8]
    return f"{source}_{stem}_{digest}"
