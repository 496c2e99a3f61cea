"""The project's class vocabulary, shared by every stage so that ids never drift apart."""

from __future__ import annotations

from collections.abc import Iterable

from facemask.errors import FacemaskError

MASK = "Mask"
NO_MASK = "No Mask"
INCORRECT = "Incorrect"

#: Every meaning a source's class may be mapped to in configs/datasets.yaml.
CANONICAL = (MASK, NO_MASK, INCORRECT)

#: What to do with incorrectly worn masks: drop their images (the convention of the project this
#: replaces), count them as No Mask, or keep a third class.
INCORRECT_POLICIES = ("drop", "no-mask", "class")


def output_names(incorrect: str = "drop") -> list[str]:
    """Class names of the merged dataset, in id order, for an `--incorrect` policy."""
    if incorrect not in INCORRECT_POLICIES:
        raise ValueError(f"--incorrect must be one of {', '.join(INCORRECT_POLICIES)}, not {incorrect!r}")
    return [MASK, NO_MASK, INCORRECT] if incorrect == "class" else [MASK, NO_MASK]


class ClassMapError(FacemaskError, ValueError):
    """A dataset's class name that cannot be given a meaning without the user saying which."""


#: Names datasets use for each meaning. Matched ignoring case and separators ("No-Mask" = "no_mask" = "nomask").
VOCABULARY = {
    MASK: (
        "with_mask",
        "mask",
        "masked",
        "face_mask",
        "facemask",
        "with mask",
        "wearing_mask",
        "mask_on",
        "mask_worn",
        "mask_correct",
        "correct_mask",
        "mask_worn_correctly",
        "good_mask",
        "yes_mask",
    ),
    NO_MASK: (
        "without_mask",
        "no_mask",
        "no-mask",
        "nomask",
        "face_no_mask",
        "no_face_mask",
        "unmasked",
        "not_masked",
        "without mask",
        "mask_off",
        "bare_face",
        "no mask",
    ),
    INCORRECT: (
        "mask_weared_incorrect",
        "mask_worn_incorrectly",
        "mask_worn_incorrect",
        "incorrect_mask",
        "incorrectly_worn_mask",
        "mask_incorrect",
        "improper_mask",
        "mask_incorrectly_worn",
        "mask_not_in_position",
        "partial_mask",
        "wrong_mask",
        "mask_below_nose",
        "mask_under_nose",
        "mask_chin",
    ),
}
#: Names that mean one thing in one set and another elsewhere (a "face" is unmasked in one, any face in
#: another): never guessed.
AMBIGUOUS = frozenset({"face", "faces", "person", "people", "head", "human", "object", "other"})


def name_key(name: str) -> str:
    """A class name without case and separators: what the vocabulary is matched on."""
    return "".join(ch for ch in str(name).casefold() if ch.isalnum())


_MEANINGS = {name_key(n): meaning for meaning, names in VOCABULARY.items() for n in names}
_CANONICAL_KEYS = {name_key(m): m for m in CANONICAL}


def meaning_of(name: str, overrides: dict[str, str] | None = None, flag: str = "--class-map") -> str:
    """The meaning (Mask, No Mask, Incorrect) of a dataset's class name: the user's `overrides` first (keyed
    like the vocabulary), then the project's own names, then the vocabulary. Raises ClassMapError naming the
    class and the flag that settles it."""
    key = name_key(name)
    for given, meaning in (overrides or {}).items():
        if name_key(given) == key:
            return meaning
    if key in _CANONICAL_KEYS:
        return _CANONICAL_KEYS[key]
    if key in _MEANINGS:
        return _MEANINGS[key]
    why = "can mean a masked or an unmasked face" if key in AMBIGUOUS else "is not a name of the vocabulary"
    raise ClassMapError(f'class {name!r} {why}; say what it is with {flag} "{name}=No Mask" (or Mask, Incorrect)')


def parse_class_map(text: str) -> tuple[str, str]:
    """`NAME=MEANING` of --class-map (`face="No Mask"`, `helmet=Mask`), the meaning matched like names."""
    name, sep, meaning = text.partition("=")
    canonical = _CANONICAL_KEYS.get(name_key(meaning.strip().strip("\"'")))
    if not sep or not name.strip() or canonical is None:
        raise ValueError(f"expected NAME=MEANING with MEANING one of {', '.join(CANONICAL)}, not {text!r}")
    return name.strip(), canonical


def class_map_of(given: dict[str, str] | Iterable[str | tuple[str, str]]) -> dict[str, str]:
    """--class-map as a dict (from NAME=MEANING texts, pairs or a dict), every meaning checked."""
    items = given.items() if isinstance(given, dict) else given
    return dict(parse_class_map(item if isinstance(item, str) else "=".join(item)) for item in items)
