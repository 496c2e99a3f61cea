"""The events facemask reports: a settled person, an interval's tally, a camera's status change, an alert.

Each is a kind and a row (the columns of its table) with a stable key made of what identifies it in its
run (run id, source, the counter's segment, track id or interval start, kind), so the store, the spool,
MQTT and the webhook all carry the same thing, and a replay inserts nothing twice. Times in a row are
UNIX seconds (floats), as the spool keeps them; `message` gives them as ISO 8601 for other systems.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

KINDS = ("person", "interval", "camera", "alert")
TIME_FIELDS = ("first_seen", "last_seen", "start_at", "end_at", "at")
WHEN = {"person": "last_seen", "interval": "end_at", "camera": "at", "alert": "at"}  # an event's own time
DOWN = ("lost", "retried", "given_up")  # camera statuses that mean no frames come
UP, ENDED = "opened", "ended"


@dataclass
class Event:
    kind: str  # one of KINDS
    row: dict[str, Any]  # the table's columns, key included
    submitted: float = field(default_factory=time.monotonic, compare=False)  # when made: write latency

    @property
    def key(self) -> str:
        return self.row["key"]

    @property
    def source(self) -> str:
        return self.row["source"]

    @property
    def at(self) -> float:
        """When it happened: a person when last seen, an interval at its end, the others at their time."""
        return self.row[WHEN[self.kind]]

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "row": self.row}, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str | bytes) -> Event:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("kind") not in KINDS or not isinstance(data.get("row"), dict):
            raise ValueError("not an event")
        return cls(data["kind"], data["row"])

    def message(self) -> dict[str, Any]:
        """The row as other systems take it (MQTT, webhooks): its kind, times in ISO 8601 (UTC)."""
        return {"kind": self.kind, **{k: iso(v) if k in TIME_FIELDS else v for k, v in self.row.items()}}


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    """A run's id: when it started (UTC) and a few random letters, unique across machines writing one store."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def make_key(*parts: Any) -> str:
    """A short stable key from what identifies an event."""
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def person_event(
    run_id: str, segment: int, source: str, zone: str, row: dict[str, Any], origin: float, snapshot: str | None = None
) -> Event:
    """A settled person from a people-counter row (facemask.inference.tracking), its stream seconds made
    wall-clock times from `origin`, the wall time of the source's stream second 0."""
    return Event(
        "person",
        {
            "key": make_key(run_id, source, segment, "person", row["track_id"]),
            "run_id": run_id,
            "source": source,
            "zone": zone,
            "track_id": int(row["track_id"]),
            "first_seen": origin + row["first_seen_s"],
            "last_seen": origin + row["last_seen_s"],
            "frames": int(row["frames_seen"]),
            "verdict": row["verdict"],
            "confidence": float(row["confidence"]),
            "snapshot": snapshot,
        },
    )


def interval_event(run_id: str, segment: int, source: str, zone: str, row: dict[str, Any], origin: float) -> Event:
    """An interval's tally from a people-counter interval row."""
    return Event(
        "interval",
        {
            "key": make_key(run_id, source, segment, "interval", row["start_s"]),
            "run_id": run_id,
            "source": source,
            "zone": zone,
            "start_at": origin + row["start_s"],
            "end_at": origin + row["end_s"],
            "frames": row["frames"],
            "people": row["people"],
            "masked": row["masked"],
            "unmasked": row["unmasked"],
            "compliance_rate": row["compliance_rate"],
        },
    )


def camera_event(run_id: str, source: str, seq: int, status: str, detail: str = "", at: float | None = None) -> Event:
    """The `seq`-th status change of a source in this run: opened, lost, retried, given_up or ended."""
    at = time.time() if at is None else at
    return Event(
        "camera",
        {
            "key": make_key(run_id, source, "camera", seq),
            "run_id": run_id,
            "source": source,
            "status": status,
            "detail": detail,
            "at": at,
        },
    )


def alert_event(
    run_id: str, rule: str, rule_kind: str, source: str, zone: str, at: float, value: float, message: str
) -> Event:
    return Event(
        "alert",
        {
            "key": make_key(run_id, rule, source, "alert", round(at, 3)),
            "run_id": run_id,
            "rule": rule,
            "rule_kind": rule_kind,
            "source": source,
            "zone": zone,
            "at": at,
            "value": round(value, 4),
            "message": message,
        },
    )
