import pytest

from facemask.data.labels import LabelError, read_voc, read_yolo


def test_yolo_lines_become_normalised_corner_boxes(tmp_path) -> None:
    p = tmp_path / "a.txt"
    p.write_text("1 0.5 0.5 0.2 0.4\n\n0 0.1 0.2 0.2 0.2\n")
    label = read_yolo(p)
    assert label.keys == ["1", "0"] and label.normalized
    assert label.boxes[0] == pytest.approx((0.4, 0.3, 0.6, 0.7))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("1 0.5 0.5 0.2\n", "expected 'class cx cy w h'"),
        ("a b c d e\n", "not numbers"),
        ("1 0.5 0.5 0.2 0.2 0.9\n", "expected"),
        ("0 nan 0.5 0.1 0.1\n", "cx is nan, not a fraction"),  # what ultralytics would not train on ...
        ("0 0.5 inf 0.1 0.1\n", "cy is inf"),
        ("0 -0.5 0.5 0.1 0.1\n", "cx is -0.5"),
        ("1 0.5 0.5 5 0.1\n", "w is 5"),
        ("1.5 0.5 0.5 0.1 0.1\n", "class 1.5 is not a class id"),
        ("inf 0.5 0.5 0.1 0.1\n", "class inf is not a class id"),
        ("-1 0.5 0.5 0.1 0.1\n", "class -1 is not a class id"),
        ("7 0.5 0.5 0.1 0.1\n", "class 7 is not one of the dataset's classes (0, 1)"),  # ... nor in these classes
    ],
)
def test_malformed_yolo_lines_are_errors_that_name_the_line(tmp_path, text, needle) -> None:
    p = tmp_path / "bad.txt"
    p.write_text("0 0.5 0.5 0.1 0.1\n" + text)
    with pytest.raises(LabelError, match=r"bad\.txt:2: ") as e:
        read_yolo(p, classes=["0", "1"])
    assert needle in str(e.value)


def test_a_box_over_the_edge_and_any_class_id_are_kept_as_ultralytics_keeps_them(tmp_path) -> None:
    p = tmp_path / "edge.txt"
    p.write_text("1.0 0.95 0.5 0.2 0.2\n7 0.5 0.5 0.1 0.1\n")  # cx + w/2 = 1.05: ultralytics clips it
    label = read_yolo(p)  # without `classes`: a source's own ids, which its class map gives a meaning
    assert label.keys == ["1", "7"] and label.boxes[0] == pytest.approx((0.85, 0.4, 1.05, 0.6))


def test_voc_ignores_filename_and_reads_size_and_boxes(tmp_path) -> None:
    p = tmp_path / "x.xml"
    p.write_text(
        "<annotation><filename>x.png</filename><size><width>400</width><height>156</height></size>"
        "<object><name> with_mask </name><bndbox><xmin>321</xmin><ymin>34</ymin><xmax>354.0</xmax>"
        "<ymax>69</ymax></bndbox></object></annotation>"
    )
    label = read_voc(p)
    assert label.keys == ["with_mask"] and label.size == (400, 156) and label.boxes == [(321, 34, 354, 69)]


@pytest.mark.parametrize(
    "text",
    [
        "<annotation><object>",
        "<annotation><object><name>m</name></object></annotation>",
        "<annotation><object><name>m</name><bndbox><xmin>1</xmin><ymin>nan</ymin><xmax>9</xmax><ymax>inf</ymax>"
        "</bndbox></object></annotation>",
    ],
)
def test_malformed_voc_is_an_error(tmp_path, text) -> None:
    p = tmp_path / "bad.xml"
    p.write_text(text)
    with pytest.raises(LabelError, match=r"bad\.xml"):
        read_voc(p)
