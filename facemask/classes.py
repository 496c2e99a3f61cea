"""The project's class vocabulary, shared by every stage so that ids never drift apart."""

from __future__ import annotations

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
