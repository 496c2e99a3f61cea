from pathlib import Path

import pytest

from facemask.data.sources import ConfigError, iter_samples, load_sources

ROOT = Path(__file__).resolve().parents[2]


def test_project_config_declares_the_three_sources() -> None:
    specs = {s.name: s for s in load_sources(ROOT / "configs/datasets.yaml")}
    assert specs["andrewmvd"].download == {"kaggle": "andrewmvd/face-mask-detection"}
    assert specs["aditya276"].download == {"kaggle": "aditya276/face-mask-dataset-yolo-format"}
    assert specs["aditya276"].classes == {"0": "No Mask", "1": "Mask"}
    assert specs["sergiovirahonda"].classes == {"0": "Mask", "1": "No Mask"}


def test_a_class_mapped_to_an_unknown_meaning_names_class_and_file(tmp_path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("sources:\n  x:\n    folder: x\n    format: yolo\n    images: i\n    classes: {0: Mask, 1: Masked}\n")
    with pytest.raises(ConfigError, match=r"s\.yaml.*class '1' maps to 'Masked'"):
        load_sources(p)


def test_samples_pair_images_with_mirrored_label_paths(sources) -> None:
    spec = next(s for s in load_sources(sources.config) if s.name == "split")
    samples = {s.rel: s for s in iter_samples(spec, sources.root / spec.folder)}
    s = samples["images/val/0.jpg"]
    assert s.label == sources.root / "split-set" / "labels" / "val" / "0.txt"
