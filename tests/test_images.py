import io

import numpy as np
import pytest
from PIL import Image

from facemask.images import UnreadableImage, load_image, output_suffix, safe_name, to_rgb


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
    with pytest.raises(UnreadableImage, match="not an image"):
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
