"""Accept or reject audit candidates in the browser: `audit_labels.py --review RUN` serves the run's
gallery on localhost and writes every click to RUN/gallery/review.json at once; `--review RUN --apply`
then applies the accepted candidates only.

Why a tiny local server rather than a static page with a "Save decisions" download or localStorage: a
download lands in the browser's Downloads folder, to be found and moved beside the gallery by hand, and
keeps nothing if the reviewer forgets to press it before closing the tab; the localStorage of a file://
page belongs to one browser profile and is lost with it. Served, each decision is on disk, where --apply
looks for it, the moment it is made, and reopening the page shows them all. The gallery still opens from
disk to look at, and then says how to serve it. The server listens on 127.0.0.1 only and takes JSON
posts for its own Host only (a web page elsewhere can neither send one without a CORS preflight, which
it never grants, nor reach it by DNS rebinding).

review.json: {"decisions": {"<key>": "accepted" | "rejected"}}, a key naming a candidate by image,
kind, class and box (candidate_key), so decisions outlive a re-audit that finds the same candidates.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from facemask.audit.apply import write_corrected
from facemask.audit.candidates import AuditError, AuditResult, Candidate
from facemask.data.dataset_files import load_dataset

DECISIONS = ("accepted", "rejected")
REVIEW_FILE = "review.json"
MAX_POST = 4096  # one decision is a key and a word


def candidate_key(c: Candidate) -> str:
    """'images/train/x.jpg missing 1 0.512000 0.300000 0.100000 0.120000': the box as candidates.csv
    writes it, so a candidate read back from the CSV has the key of the one the gallery showed."""
    return f"{c.image} {c.kind} {c.cls} {c.cx:.6f} {c.cy:.6f} {c.w:.6f} {c.h:.6f}"


def read_candidates(path: Path) -> list[Candidate]:
    """candidates.csv (candidates.write_csv) back as Candidates."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    box = ("cx", "cy", "w", "h")
    return [
        Candidate(
            r["image"],
            r["kind"],
            int(r["cls"]),
            float(r["conf"]) if r["conf"] else None,
            *(float(r[k]) for k in box),
            source=r.get("source") or "model",
        )
        for r in rows
    ]


@dataclass
class Review:
    """An audit run's candidates and the decisions made on them so far."""

    folder: Path  # the run: candidates.csv, summary.json, gallery/
    candidates: list[Candidate]
    decisions: dict[str, str]

    @property
    def path(self) -> Path:
        return self.folder / "gallery" / REVIEW_FILE

    def tally(self) -> dict[str, int]:
        keys = [candidate_key(c) for c in self.candidates]
        counts = {d: sum(self.decisions.get(k) == d for k in keys) for d in DECISIONS}
        return {**counts, "undecided": len(keys) - sum(counts.values())}

    def accepted(self) -> list[Candidate]:
        return [c for c in self.candidates if self.decisions.get(candidate_key(c)) == "accepted"]

    def decide(self, key: str, decision: str | None) -> None:
        """Record one decision (None: undecided again) and rewrite review.json in one step."""
        if decision is None:
            self.decisions.pop(key, None)
        else:
            self.decisions[key] = decision
        tmp = self.path.with_name(f".{REVIEW_FILE}.{os.getpid()}")
        tmp.write_text(json.dumps({"decisions": self.decisions}, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.path)


def load_review(run: str | Path, gallery: bool = True) -> Review:
    """The audit run at `run` (or its gallery folder) with its review.json; no file: nothing decided.
    `gallery` False (applying, not serving): candidates.csv and summary.json alone will do, as in a run's
    candidates kept in the repository without its crops."""
    folder = Path(run)
    if folder.name == "gallery" and not (folder / "candidates.csv").is_file():
        folder = folder.parent
    if not (folder / "candidates.csv").is_file() or (gallery and not (folder / "gallery").is_dir()):
        raise AuditError(f"{run}: not an audit run folder (candidates.csv and gallery/, runs/audit/exp*)")
    review = Review(folder, read_candidates(folder / "candidates.csv"), {})
    if review.path.is_file():
        try:
            decisions = json.loads(review.path.read_text(encoding="utf-8"))["decisions"]
        except (ValueError, KeyError, TypeError) as e:
            raise AuditError(f"{review.path}: not a review file ({e}); delete it to start the review again") from e
        review.decisions = {str(k): v for k, v in decisions.items() if v in DECISIONS}
    return review


def ignore_regions(run: str | Path) -> dict[str, np.ndarray]:
    """The accepted `missing` candidates of a reviewed audit run, by image stem, as xyxy fractions of the
    image: faces a person saw unlabelled, for val.py --ignore to score as ignore regions."""
    review = load_review(run, gallery=False)
    regions: dict[str, list[np.ndarray]] = {}
    for c in review.accepted():
        if c.kind == "missing":
            regions.setdefault(Path(c.image).stem, []).append(c.xyxy(1, 1))
    if not regions:
        raise AuditError(f"--ignore {run}: no accepted missing faces in {review.path} (review them first)")
    return {stem: np.stack(boxes) for stem, boxes in regions.items()}


def tally_line(review: Review) -> str:
    t = review.tally()
    return f"{t['accepted']} accepted, {t['rejected']} rejected, {t['undecided']} undecided"


class ReviewHandler(SimpleHTTPRequestHandler):
    """The gallery's files, GET /state (the decisions and their tally) and POST /decide
    {"key": ..., "decision": "accepted" | "rejected" | null}, answered with the new state."""

    server: ReviewServer

    def do_GET(self) -> None:
        if self.path == "/state":
            self.send_json(self.server.state())
        else:
            super().do_GET()

    def do_POST(self) -> None:
        if self.path != "/decide":
            return self.send_error(HTTPStatus.NOT_FOUND)
        if self.headers.get("Host") not in self.server.hosts:
            return self.send_error(HTTPStatus.FORBIDDEN, "not this server's Host")
        if self.headers.get_content_type() != "application/json":
            return self.send_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "JSON only")
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_POST:
            return self.send_error(HTTPStatus.BAD_REQUEST, "a decision is one small JSON object")
        try:
            body = json.loads(self.rfile.read(length))
            key, decision = body["key"], body["decision"]
        except (ValueError, KeyError, TypeError):
            return self.send_error(HTTPStatus.BAD_REQUEST, 'expected {"key": ..., "decision": ...}')
        if key not in self.server.keys or decision not in (*DECISIONS, None):
            return self.send_error(HTTPStatus.BAD_REQUEST, "unknown candidate or decision")
        with self.server.lock:
            self.server.review.decide(key, decision)
            state = self.server.state()
        self.send_json(state)

    def send_json(self, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a page of crops is a hundred requests."""


class ReviewServer(ThreadingHTTPServer):
    """Serves one review on 127.0.0.1 (port 0: a free one)."""

    def __init__(self, review: Review, port: int = 0) -> None:
        self.review, self.lock = review, threading.Lock()
        self.keys = {candidate_key(c) for c in review.candidates}
        try:
            super().__init__(("127.0.0.1", port), partial(ReviewHandler, directory=str(review.folder / "gallery")))
        except OSError as e:
            raise AuditError(f"--port {port}: cannot listen there ({e.strerror}): pass --port with a free one") from e
        self.port = self.server_address[1]
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def state(self) -> dict[str, Any]:
        return {"decisions": self.review.decisions, "tally": self.review.tally()}


def serve_review(run: str | Path, port: int = 0) -> Review:
    """Serve the run's gallery for review until Ctrl-C; returns the review as it was left."""
    review = load_review(run)
    server = ReviewServer(review, port)
    print(
        f"Review {len(review.candidates)} candidates at http://127.0.0.1:{server.port}/ (accept or reject each; "
        f"saved to {review.path} as you click; Ctrl-C to stop)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print(f"Review of {review.folder}: {tally_line(review)}")
    return review


def apply_review(run: str | Path, mode: str, out: str | Path | None, exist_ok: bool = False) -> AuditResult:
    """`--review RUN --apply`: the corrected copy from the run's own candidates, with no new audit: the
    accepted ones when it has a review.json (told with the tally), else every missing one, as a plain
    --apply would. Like it, only training images change."""
    review = load_review(run, gallery=False)
    if out is None:
        raise AuditError("--apply needs --out: the folder of the corrected copy")
    summary = json.loads((review.folder / "summary.json").read_text(encoding="utf-8"))
    root, content = load_dataset(summary["data"])
    if review.path.is_file():
        chosen = review.accepted()
        train = f"{content.get('train')}/"
        elsewhere = sum(not c.image.startswith(train) for c in chosen)
        kept = f" (the {elsewhere} in val and test stay as they are)" if elsewhere else ""
        print(
            f"Review {review.path}: {tally_line(review)}; applying the {len(chosen) - elsewhere} accepted in "
            f"the train split{kept}"
        )
    else:
        chosen = [c for c in review.candidates if c.kind == "missing"]
        print(f"No review of {review.folder} ({review.path} is absent): applying every missing candidate")
    applied = write_corrected(root, content, chosen, mode, Path(out), exist_ok)
    return AuditResult(review.folder, review.candidates, {**summary, "review": review.tally(), "apply": applied})
