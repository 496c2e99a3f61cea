"""Alert rules, from a YAML file (`--alerts rules.yaml`):

```yaml
    cooldown_s: 300              # the least time between two alerts of a rule for one source (default 300)
    rules:
      - name: low-compliance
        unmasked_share: 0.25     # more than this share of the people settled ...
        window_s: 300            # ... in the last window_s seconds (default 300)
        min_people: 4            # and at least this many of them (default 1)
      - name: crowd-at-the-door
        unmasked_people: 10      # this many unmasked people in window_s seconds (default 60)
        zone: door               # only people counted in this zone (default: any)
      - name: camera-down
        camera_down_s: 30        # a camera that has sent no frame for 30 s since it was lost
        sources: [rtsp://cam1/stream]   # only these sources (default: all), as the .streams file or
                                        # --source names them; any rule takes it
        cooldown_s: 600          # a rule's own cooldown
```
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facemask.errors import FacemaskError
from facemask.files import source_label
from facemask.inference.sources import classify
from facemask.yaml_io import load_yaml

KINDS = {"unmasked_share": 300.0, "unmasked_people": 60.0, "camera_down_s": 0.0}  # the kind's key: default window
COMMON = {"name", "window_s", "min_people", "zone", "sources", "cooldown_s"}
DEFAULT_COOLDOWN_S = 300.0


class RulesError(FacemaskError, ValueError):
    """An alert rules file that cannot be used."""


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # unmasked_share, unmasked_people or camera_down
    threshold: float  # a share (0-1), a number of people, or seconds down
    window_s: float
    cooldown_s: float
    min_people: int = 1
    zone: str | None = None  # only people of this zone (None: any)
    sources: tuple[str, ...] = ()  # only these sources (empty: all)

    def applies(self, source: str, zone: str = "") -> bool:
        return (not self.sources or same_source(source) in self.sources) and (self.zone is None or self.zone == zone)


def same_source(source: str) -> str:
    """A source as rules compare it: a URL without its login, a file by its absolute path (a rule may
    name recordings/door.mp4 where the run has /site/recordings/door.mp4), a webcam by its number."""
    label = source_label(source)
    return label if classify(label).live else os.path.abspath(label)


def unmatched(rules: Sequence[Rule], sources: Sequence[str], zone: str) -> list[str]:
    """Warnings for the rules that cannot fire in a run over `sources` whose counting zone is called
    `zone` ('' for none): each source a rule names that the run does not read, each zone it does not count."""
    run = {same_source(s) for s in sources}
    warnings = [
        f"alert rule {r.name!r}: {s!r} is none of this run's sources, so the rule never fires for it"
        for r in rules
        for s in r.sources
        if s not in run
    ]
    said = f"{zone!r} (--zone-name)" if zone else "none (--zone)"
    warnings += [
        f"alert rule {r.name!r} counts zone {r.zone!r}, and this run's zone is {said}: it never fires"
        for r in rules
        if r.zone is not None and r.zone != zone
    ]
    return warnings


def load_rules(path: str | Path) -> list[Rule]:
    """The rules of a YAML file; RulesError naming the file and rule for anything wrong in it."""
    data = load_yaml(path, RulesError, "alert rules file")
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data["rules"]:
        raise RulesError(f"{path}: needs a list of rules under 'rules:' (see facemask/events/rules.py)")
    cooldown = _number(data.get("cooldown_s", DEFAULT_COOLDOWN_S), f"{path}: cooldown_s")
    rules = [parse_rule(r, i, cooldown, str(path)) for i, r in enumerate(data["rules"], 1)]
    names = [r.name for r in rules]
    if len(set(names)) < len(names):
        raise RulesError(f"{path}: two rules are named {next(n for n in names if names.count(n) > 1)!r}")
    return rules


def parse_rule(item: Any, number: int, cooldown_s: float, where: str) -> Rule:
    """The `number`-th rule of a file: exactly one of KINDS' keys says its kind and threshold."""
    if not isinstance(item, dict):
        raise RulesError(f"{where}: rule {number} is not a mapping")
    name = str(item.get("name") or f"rule{number}")
    at = f"{where}: rule {name!r}"
    kinds = [k for k in KINDS if k in item]
    if len(kinds) != 1:
        raise RulesError(f"{at} needs exactly one of {', '.join(KINDS)}")
    unknown = set(item) - COMMON - set(KINDS)
    if unknown:
        raise RulesError(f"{at}: unknown key {sorted(unknown)[0]!r}")
    kind = kinds[0]
    threshold = _number(item[kind], f"{at}: {kind}")
    if kind == "unmasked_share" and threshold >= 1:
        raise RulesError(f"{at}: unmasked_share is a share under 1 (0.25 for a quarter), not {threshold:g}")
    sources = item.get("sources") or []
    if not isinstance(sources, list):
        raise RulesError(f"{at}: sources must be a list")
    return Rule(
        name,
        kind.removesuffix("_s"),
        threshold,
        _number(item.get("window_s", KINDS[kind]), f"{at}: window_s"),
        _number(item.get("cooldown_s", cooldown_s), f"{at}: cooldown_s"),
        int(_number(item.get("min_people", 1), f"{at}: min_people")),
        None if item.get("zone") is None else str(item["zone"]),
        tuple(same_source(str(s)) for s in sources),
    )


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RulesError(f"{what} must be a number of 0 or more, not {value!r}")
    return float(value)
