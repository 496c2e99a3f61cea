import io
import threading

import numpy as np
import pytest
from PIL import Image

from facemask.images import (
    ImageTooLarge,
    NotAnImage,
    UnreadableImage,
    load_image,
    output_suffix,
    safe_name,
    to_rgb,
)


def test_webp_named_jpg_is_read_and_becomes_jpeg(tmp_path) -> None:
    p = tmp_path / "x.jpg"
    Image.new("RGB", (30, 20), (10, 20, 30)).save(p, format="WEBP")
    loaded = load_image(p)
    assert loaded.format == "WEBP" and not loaded.is_plain and output_suffix(loaded) == ".jpg"


def test_palette_and_alpha_images_become_rgb_on_white(tmp_path) -> None:
    p = tmp_path / "a.png"
    Image.new("RGBA", (4, 4), (255, 0, 0, 0)).save(p)
    loaded = load_image(p)
    assert loaded.image.mode == "RGB" and loaded.image.getpixel((0, 0)) == (255, 255, 255)
    assert output_suffix(loaded) == ".png"


def test_exif_orientation_is_applied(tmp_path) -> None:
    p = tmp_path / "e.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (30, 20)).save(p, exif=exif)
    loaded = load_image(p)
    assert loaded.stored_size == (30, 20) and loaded.image.size == (20, 30) and not loaded.is_plain


def test_plain_rgb_jpeg_is_copied_as_is(tmp_path) -> None:
    p = tmp_path / "p.jpg"
    Image.new("RGB", (8, 8)).save(p)
    assert load_image(p).is_plain


@pytest.mark.parametrize("content", [b"hello, I am text", b""])
def test_non_images_are_unreadable(tmp_path, content) -> None:
    p = tmp_path / "t.jpg"
    p.write_bytes(content)
    with pytest.raises(NotAnImage, match="not an image"):
        load_image(p)


def test_truncated_jpeg_is_unreadable(tmp_path) -> None:
    buf = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buf, format="JPEG")
    p = tmp_path / "cut.jpg"
    p.write_bytes(buf.getvalue()[:300])
    with pytest.raises(UnreadableImage):
        load_image(p)


def test_safe_names_are_ascii_and_unique() -> None:
    a = safe_name("aditya276", "images/train/maxresdefault (1).jpg")
    b = safe_name("aditya276", "images/valid/maxresdefault (1).jpg")
    c = safe_name("aditya276", "images/train/café déjà vu.jpeg")
    assert a != b
    assert c.startswith("aditya276_cafe_deja_vu_")
    assert all(n.replace("_", "").replace("-", "").isalnum() and n.isascii() for n in (a, b, c))


def test_16_bit_float_cmyk_and_gray_images_become_8_bit_rgb() -> None:
    """Pillow's own convert('RGB') clips 16-bit and float values above 255: the image turns white."""
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)  # every 16-bit value
    rgb = np.asarray(to_rgb(Image.fromarray(ramp)))  # mode I;16
    assert rgb.dtype == np.uint8 and (rgb[..., 0].astype(int) == (ramp.astype(int) + 128) // 257).all()
    assert (np.asarray(to_rgb(Image.fromarray(ramp).convert("I")))[..., 0] == rgb[..., 0]).all()
    unit = np.asarray(to_rgb(Image.fromarray(np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10))))
    assert (unit.min(), unit.max()) == (0, 255)  # floats in 0..1: the usual range of float images
    wide = np.asarray(to_rgb(Image.fromarray(np.linspace(-5, 3e5, 100, dtype=np.float32).reshape(10, 10))))
    assert (wide.min(), wide.max()) == (0, 255)  # beyond every usual range: its own min..max
    assert to_rgb(Image.new("CMYK", (2, 2))).getpixel((0, 0)) == (255, 255, 255)
    assert to_rgb(Image.new("L", (2, 2), 7)).getpixel((0, 0)) == (7, 7, 7)


def test_large_images_are_read_reduced_upright_with_their_scale(tmp_path) -> None:
    p = tmp_path / "big.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways
    Image.new("RGB", (3000, 2000), (200, 10, 10)).save(p, exif=exif)
    loaded = load_image(p, max_side=1000)
    assert loaded.image.size == (667, 1000) and loaded.stored_size == (3000, 2000)
    assert loaded.scale == pytest.approx(667 / 2000) and not loaded.is_plain  # re-encoded, not copied
    assert load_image(p).image.size == (2000, 3000) and load_image(p).scale == 1  # whole unless asked


def test_too_many_pixels_are_refused_from_the_header(tmp_path) -> None:
    p = tmp_path / "cut.png"
    buf = io.BytesIO()
    Image.new("L", (3000, 2000)).save(buf, format="PNG")
    p.write_bytes(buf.getvalue()[:100])  # a header and no image: refused before decoding, not as truncated
    with pytest.raises(ImageTooLarge, match="too large: 3000x2000 pixels; the limit is 5 megapixels") as e:
        load_image(p, max_pixels=5_000_000)
    assert e.value.size == (3000, 2000)


def test_pillows_process_wide_limit_is_neither_read_nor_changed(tmp_path, monkeypatch) -> None:
    """The app reads uploads on several threads at once: a reader that raised Image.MAX_IMAGE_PIXELS for
    its own huge image would raise it for every other thread's decode (gradio's included) meanwhile."""
    p = tmp_path / "big.png"
    Image.effect_noise((2000, 2000), 50).save(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Image.open would refuse this photo
    seen, done = set(), threading.Event()

    def read() -> None:
        for _ in range(3):
            assert load_image(p, max_pixels=10**9, max_side=500).image.size == (500, 500)
        done.set()

    reader = threading.Thread(target=read)
    reader.start()
    while not done.is_set():
        seen.add(Image.MAX_IMAGE_PIXELS)
    reader.join()
    assert seen == {1000} and done.is_set()
