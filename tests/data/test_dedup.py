import numpy as np
from PIL import Image

from facemask.data.dedup import min_distances, near_duplicate_groups, rotation_hashes
from tests.conftest import background


def test_resized_recompressed_and_rotated_copies_are_near(tmp_path) -> None:
    original = background(1, (200, 150))
    resized = original.resize((400, 300), Image.Resampling.BICUBIC)
    resized.save(tmp_path / "r.jpg", quality=60)
    rotated = original.transpose(Image.Transpose.ROTATE_90)
    others = [background(s, (200, 150)) for s in range(2, 8)]
    h = np.stack([rotation_hashes(im) for im in [original, Image.open(tmp_path / "r.jpg"), rotated, *others]])
    d = min_distances(h, 0)
    assert d[1] <= 4 and d[2] <= 4
    assert d[3:].min() > 12


def test_groups_are_transitive() -> None:
    h = np.zeros((4, 4), np.uint64)
    h[1] = 0b111  # 3 bits from 0
    h[2] = 0b111111  # 3 bits from 1, 6 from 0
    h[3] = np.uint64(2**64 - 1)
    g = near_duplicate_groups(h, 3)
    assert g[0] == g[1] == g[2] != g[3]
