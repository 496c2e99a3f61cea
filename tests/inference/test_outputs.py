"""The names detect.py gives its outputs, at the scale of a big folder."""

from __future__ import annotations

import os

from facemask.inference.media import Frame
from facemask.inference.outputs import OutputWriter


def test_stems_stay_unique_over_20000_files_of_one_name(tmp_path) -> None:
    """The first free of name, name_2, name_3, ... in the order files come, each source keeping its stem;
    a file really called photo_3 takes that name first."""
    writer = OutputWriter(tmp_path, {0: "Mask"})
    first = writer.stem(Frame(source="x/photo_3.jpg", name="photo_3"))
    frames = [Frame(source=f"d{i}/photo.jpg", name="photo") for i in range(20_000)]
    stems = [writer.stem(f) for f in frames]
    assert first == "photo_3" and len({first, *stems}) == 1 + len(frames)  # all unique
    assert stems == ["photo", "photo_2", *(f"photo_{n}" for n in range(4, 20_002))]  # photo_3 is taken
    assert writer.stem(Frame(source="x/photo_3.jpg", name="photo_3")) == "photo_3"  # the same source, the same stem
    assert writer.stem(Frame(source="x/photo_2.jpg", name="photo_2")) == "photo_2_2"
    assert [writer.stem(f) for f in frames[::1000]] == stems[::1000]
    assert writer.stem(Frame(source="y", name=os.fsdecode(b"caf\xe9"))) == "caf\ufffd"  # not UTF-8: U+FFFD
