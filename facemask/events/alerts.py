"""Alert rules at work: each settled person and camera status change is shown to the rules, which fire
an alert event when their condition holds, at most once per cooldown for a rule and source.

People rules (unmasked_share, unmasked_people) look at the people of a source settled in the last
`window_s` seconds of event time (when each was last seen), so a recorded clip alerts as it would
live. camera_down is checked by `tick` (a timer calls it every second), so a camera that has given up
sending frames still alerts. Called from the pipeline's thread and the timer's; one lock guards all.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from facemask.classes import MASK
from facemask.events.event import DOWN, Event, alert_event
from facemask.events.rules import Rule
from facemask.inference.counting import people_text


class AlertEngine:
    def __init__(self, rules: list[Rule], run_id: str, clock: Callable[[], float] = time.time):
        self.rules, self.run_id, self.clock = rules, run_id, clock
        self._people: dict[tuple[str, str], deque[tuple[float, bool]]] = {}  # (rule, source): (at, unmasked)
        self._fired: dict[tuple[str, str], float] = {}  # (rule, source): when it last fired
        self._down_since: dict[str, float] = {}  # source: when it went down
        self._lock = threading.Lock()

    @property
    def watches_cameras(self) -> bool:
        return any(r.kind == "camera_down" for r in self.rules)

    def observe(self, event: Event) -> list[Event]:
        """The alerts an event fires (none for intervals and alerts)."""
        with self._lock:
            if event.kind == "person":
                return [a for r in self.rules if r.kind != "camera_down" and (a := self._person(r, event))]
            if event.kind == "camera":
                if event.row["status"] in DOWN:
                    self._down_since.setdefault(event.source, event.at)
                else:  # opened again, or ended: not down
                    self._down_since.pop(event.source, None)
            return []

    def tick(self) -> list[Event]:
        """Alerts of cameras down for longer than a camera_down rule allows."""
        now, fired = self.clock(), []
        with self._lock:
            for source, since in self._down_since.items():
                for rule in self.rules:
                    if rule.kind == "camera_down" and rule.applies(source) and now - since >= rule.threshold:
                        message = f"{source}: no frames for {now - since:.0f} s"
                        alert = self._fire(rule, source, "", now, now - since, message)
                        fired += [alert] if alert else []
        return fired

    def _person(self, rule: Rule, event: Event) -> Event | None:
        row = event.row
        if not rule.applies(event.source, row["zone"]):
            return None
        seen = self._people.setdefault((rule.name, event.source), deque())
        seen.append((event.at, row["verdict"] != MASK))
        while seen and seen[0][0] < event.at - rule.window_s:
            seen.popleft()
        unmasked = sum(u for _, u in seen)
        window = f"in the last {rule.window_s:g} s"
        if rule.kind == "unmasked_share":
            share = unmasked / len(seen)
            if len(seen) < rule.min_people or share <= rule.threshold:
                return None
            message = (
                f"{event.source}: {share:.0%} of {people_text(len(seen))} unmasked {window} (over {rule.threshold:.0%})"
            )
            return self._fire(rule, event.source, row["zone"], event.at, share, message)
        if unmasked < max(rule.threshold, rule.min_people):
            return None
        where = f"{event.source}{' zone ' + row['zone'] if row['zone'] else ''}"
        message = f"{where}: {people_text(unmasked, 'unmasked')} {window}"
        return self._fire(rule, event.source, row["zone"], event.at, unmasked, message)

    def _fire(self, rule: Rule, source: str, zone: str, at: float, value: float, message: str) -> Event | None:
        last = self._fired.get((rule.name, source))
        if last is not None and at - last < rule.cooldown_s:
            return None
        self._fired[(rule.name, source)] = at
        return alert_event(self.run_id, rule.name, rule.kind, source, zone, at, value, message)
