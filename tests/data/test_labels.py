import pytest

from facemask.data.labels import LabelError, read_voc, read_yolo


def test_yolo_lines_become_normalised_corner_boxes(tmp_path) -> None:
    p = tmp_path / "a.txt"
    p.write_text("1 0.5 0.5 0.2 0.4\n\n0 0.1 0.2 0.2 0.2\n")
    label = read_yolo(p)
    assert label.keys == ["1", "0"] and label.normalized
    assert label.boxes[0] == pytest.approx((0.4, 0.3, 0.6, 0.7))


@pytest.mark.parametrize("text", ["1 0.5 0.5 0.2\n", "a b c d e\n", "1 0.5 0.5 0.2 0.2 0.9\n"])
def test_malformed_yolo_lines_are_errors_that_name_the_line(tmp_path, text) -> None:
    p = tmp_path / "bad.txt"
    p.write_text("0 0.5 0.5 0.1 0.1\n" + text)
    with pytest.raises(LabelError, match=r"bad\.txt:2"):
        read_yolo(p)


def test_voc_ignores_filename_and_reads_size_and_boxes(tmp_path) -> None:
    p = tmp_path / "x.xml"
    p.write_text(
        "<annotation><filename>x.png</filename><size><width>400</width><height>156</height></size>"
        "<object><name> with_mask </name><bndbox><xmin>321</xmin><ymin>34</ymin><xmax>354.0</xmax>"
        "<ymax>69</ymax></bndbox></object></annotation>"
    )
    label = read_voc(p)
    assert label.keys == ["with_mask"] and label.size == (400, 156) and label.boxes == [(321, 34, 354, 69)]


@pytest.mark.parametrize("text", ["<annotation><object>", "<annotation><object><name>m</name></object></annotation>"])
def test_malformed_voc_is_an_error(tmp_path, text) -> None:
    p = tmp_path / "bad.xml"
    p.write_text(text)
    with pytest.raises(LabelError, match=r"bad\.xml"):
        read_voc(p)
