"""Class maps of sets known by their own class names (`prepare_data.py --add`, `classes: vocabulary`):
the names a set's labels use, each given a meaning by `--class-map` or the vocabulary (facemask.classes),
and the map said in one line before anything is written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from facemask.classes import ClassMapError, meaning_of, name_key
from facemask.data.formats.yolo import names_listing, read_names
from facemask.data.labels import LabelError
from facemask.data.prelabel_marks import MARK, REVIEW, unreviewed
from facemask.data.sources import ConfigError, SourceSpec, iter_samples
from facemask.errors import warn

FORMAT_NAMES = {
    "voc": "Pascal VOC",
    "yolo": "YOLO",
    "coco": "COCO JSON",
    "labelstudio": "Label Studio JSON",
    "cvat": "CVAT XML",
}
#: What an unlabelled set of each format usually is: prelabel.py's files, imported but not yet exported.
UNLABELLED_HINT = {
    "labelstudio": (
        " (its tasks hold only the model's pre-labels, which nobody has reviewed): correct them in Label Studio"
        " and export the project as JSON into this folder"
    ),
}


def keys_used(spec: SourceSpec, root: Path) -> tuple[list[str], int]:
    """Every class key (a name, or a YOLO id) that the set's labels use, sorted, and how many photos have a
    label at all; unreadable labels are skipped here (the merge reports them)."""
    used: set[str] = set()
    labelled = 0
    for sample in iter_samples(spec, root):
        try:
            used.update(sample.read_label(spec.format).keys)
        except (LabelError, OSError):
            continue
        labelled += 1
    return sorted(used, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k)), labelled


def with_class_map(spec: SourceSpec, root: Path, overrides: dict[str, str], where: str) -> tuple[SourceSpec, str]:
    """`spec` with a class map for the names its labels use, and the line that says it. A YOLO id is known
    by the name its data.yaml, classes.txt or obj.names gives it (or is its own name, without one). Raises
    ClassMapError, prefixed with `where`, for the first name nobody has given a meaning, and ConfigError for
    a set none of whose photos is labelled (a Label Studio folder of pre-labels nobody reviewed, say) or
    whose labels are all prelabel.py's, unchanged."""
    names, names_file = (read_names(root) if spec.format == "yolo" else None) or ({}, None)
    classes, shown = {}, []
    keys, labelled = keys_used(spec, root)
    if not labelled:
        raise ConfigError(
            f"{where} ({FORMAT_NAMES[spec.format]}): no photo is labelled{UNLABELLED_HINT.get(spec.format, '')}"
        )
    _check_reviewed(spec, root, where, labelled)
    for key in keys:
        name = names.get(key, key)
        if names_file and key not in names and key.isdigit() and key not in overrides:
            raise ClassMapError(
                f"{where}: class id {key} is in its labels but not in {names_file.name} ({names_listing(names)}); "
                "correct the labels or the names file"
            )
        try:
            meaning = overrides.get(key) or meaning_of(name, overrides)
        except ClassMapError as e:
            raise ClassMapError(f"{where}: {e}") from None
        classes[key] = meaning
        shown.append(f"{key} {name} -> {meaning}" if name != key else f"{name} -> {meaning}")
    told = f", names from {names_file.name}" if names_file else ""
    line = f"{where} ({FORMAT_NAMES[spec.format]}{told}): {', '.join(shown) or 'no boxes'}"
    return replace(spec, classes=classes, by_vocabulary=False), line


def _check_reviewed(spec: SourceSpec, root: Path, where: str, labelled: int) -> None:
    """Refuse a folder of prelabel.py's boxes that nobody has changed (and no photo labelled besides them),
    and warn of one partly reviewed."""
    u = unreviewed(root)
    if u.written and u.same == u.written and labelled <= u.photos:
        raise ConfigError(
            f"{where} ({FORMAT_NAMES[spec.format]}): every label is as prelabel.py wrote it, so nobody has reviewed "
            f"the model's boxes: {REVIEW.get(spec.format, 'correct them in a labelling tool')}, then merge (if "
            f"every box is right as it is, delete {MARK} there to say so)"
        )
    if u.same:
        unchanged = f"{u.same} of its {u.written} label files are as prelabel.py wrote them"
        warn(f"{where}: {unchanged} (unreviewed); merged as labels")


def unused_names(overrides: dict[str, str], specs: list[SourceSpec]) -> list[str]:
    """The names of `overrides` that no class of `specs` (sets read by their own names) has: a typo in
    --class-map would otherwise change nothing without a word."""
    used = set()
    for spec in specs:
        names = (read_names(Path(spec.folder)) if spec.format == "yolo" else None) or ({}, None)
        used |= {name_key(names[0].get(k, k)) for k in spec.classes} | set(spec.classes)
    return [given for given in overrides if name_key(given) not in used and given not in used]
