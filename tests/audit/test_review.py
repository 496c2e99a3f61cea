"""audit_labels.py --review: a reviewer accepts and rejects candidates in the served gallery (headless
Chromium, tests/browser.py), then `--review RUN --apply` writes a copy with only the accepted ones,
checked label file by label file, box by box. The audit run is made from a written candidates.csv on
the tiny dataset (what each candidate is must be known), with the audit's own writers."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

import audit_labels
from facemask.audit.candidates import AuditError, Candidate, write_csv
from facemask.audit.gallery import write_gallery
from facemask.audit.review import ReviewServer, candidate_key, ignore_regions, load_review
from tests.scripts import run_script, start_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "audit_labels.py"


@dataclass
class Run:
    """An audit run of the tiny dataset, and what the reviewer is to decide on each of its candidates."""

    folder: Path
    root: Path  # the dataset
    decide: dict[str, str]  # candidate key -> accepted | rejected (absent: left undecided)


def label_of(root: Path, image: str) -> Path:
    return (root / image.replace("images/", "labels/", 1)).with_suffix(".txt")


def boxes(label: Path) -> list[tuple[int, ...]]:
    """A label's boxes as (class, cx, cy, w, h in millionths), sorted: box for box, whatever the format."""
    lines = label.read_text().splitlines() if label.is_file() else []
    return sorted((int(c), *(round(float(v) * 1e6) for v in box)) for c, *box in (ln.split() for ln in lines))


def label_box(root: Path, image: str, kind: str, cls: int | None = None) -> Candidate:
    """A candidate on the first box of the image's label (wrong_class: called `cls` by the model)."""
    line = label_of(root, image).read_text().splitlines()[0].split()
    return Candidate(
        image,
        kind,
        int(line[0]) if cls is None else cls,
        None if kind == "unfound" else 0.8,
        *(float(v) for v in line[1:]),
    )


@pytest.fixture
def audit_run(tiny_data: Path, tmp_path: Path) -> Run:
    root = Path(yaml.safe_load(tiny_data.read_text())["path"])
    train = sorted(p.relative_to(root).as_posix() for p in (root / "images" / "train").iterdir())
    val = sorted(p.relative_to(root).as_posix() for p in (root / "images" / "val").iterdir())
    first_cls = int(label_of(root, train[2]).read_text().split()[0])
    plan = [
        (Candidate(train[0], "missing", 1, 0.9, 0.9, 0.1, 0.1, 0.12), "accepted"),
        (Candidate(train[1], "missing", 0, 0.7, 0.1, 0.9, 0.1, 0.1), "rejected"),
        (label_box(root, train[2], "wrong_class", 1 - first_cls), "accepted"),
        (label_box(root, train[3], "unfound"), "accepted"),
        (label_box(root, train[4], "unfound"), "rejected"),
        (Candidate(train[5], "missing", 0, 0.6, 0.85, 0.85, 0.1, 0.1), None),  # left undecided
        (Candidate(val[0], "missing", 1, 0.9, 0.9, 0.9, 0.1, 0.1), "accepted"),  # val: stays as it is
    ]
    folder = tmp_path / "runs" / "exp"
    (folder / "gallery").mkdir(parents=True)
    candidates = [c for c, _ in plan]
    write_csv(candidates, folder / "candidates.csv")
    write_gallery(candidates, root, {0: "Mask", 1: "No Mask"}, folder / "gallery")
    (folder / "summary.json").write_text(json.dumps({"data": str(tiny_data), "splits": ["train", "val"]}))
    return Run(folder, root, {candidate_key(c): d for c, d in plan if d})


def wait_for_url(cwd: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = (cwd / "script.stdout").read_text() if (cwd / "script.stdout").exists() else ""
        if found := re.search(r"http://127\.0\.0\.1:\d+/", out):
            return found.group()
        time.sleep(0.05)
    raise AssertionError(f"no review URL printed: {(cwd / 'script.stderr').read_text()}")


def review_in_browser(browser, url: str, run: Run) -> None:
    """Click as the plan says (one candidate accepted, then un-accepted, then rejected on the way), and
    see the decisions again after a reload."""
    from playwright.sync_api import expect

    page = browser.new_context().new_page()
    page.goto(url)
    status = page.locator("#review")
    expect(status).to_contain_text("0 accepted · 0 rejected · 7 undecided")
    for key, decision in run.decide.items():
        figure = page.locator(f'figure:has([data-key="{key}"])')
        if decision == "rejected":  # change of mind: accept, accept again (undecided), then reject
            figure.locator("button[value=accepted]").click()
            expect(figure).to_have_class("accepted")
            figure.locator("button[value=accepted]").click()
            expect(figure).to_have_class("")
        figure.locator(f"button[value={decision}]").click()
        expect(figure).to_have_class(decision)
    expect(status).to_contain_text("4 accepted · 2 rejected · 1 undecided")
    page.reload()
    for key, decision in run.decide.items():
        expect(page.locator(f'figure:has([data-key="{key}"])')).to_have_class(decision)
    expect(status).to_contain_text("4 accepted · 2 rejected · 1 undecided")

    page.goto((run.folder / "gallery" / "index.html").as_uri())  # from disk: says how to serve it
    expect(status).to_contain_text(f"python audit_labels.py --review {run.folder}")
    assert page.locator("figure button").first.is_disabled()
    page.context.close()


def test_review_in_the_browser_then_apply_only_the_accepted(audit_run: Run, browser, tmp_path: Path) -> None:
    server = start_script(SCRIPT, ["--review", audit_run.folder], tmp_path)
    try:
        review_in_browser(browser, wait_for_url(tmp_path), audit_run)
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(30) == 0
    assert "4 accepted, 2 rejected, 1 undecided" in (tmp_path / "script.stdout").read_text()
    saved = json.loads((audit_run.folder / "gallery" / "review.json").read_text())["decisions"]
    assert saved == audit_run.decide

    done = run_script(
        SCRIPT, ["--review", audit_run.folder, "--apply", "missing=add", "--out", tmp_path / "fixed"], tmp_path
    )
    assert done.code == 0, done.stderr
    assert "4 accepted, 2 rejected, 1 undecided; applying the 3 accepted in the train split (the 1 in" in done.stdout
    assert "1 faces, 1 boxes relabelled, 1 removed in 3 training images" in done.stdout
    assert labels(tmp_path / "fixed") == with_accepted(audit_run)


def labels(root: Path) -> dict[str, list[tuple[int, ...]]]:
    return {label.relative_to(root).as_posix(): boxes(label) for label in (root / "labels").rglob("*.txt")}


def with_accepted(run: Run) -> dict[str, list[tuple[int, ...]]]:
    """The dataset's labels as the accepted training candidates change them: a missing face added, a
    wrong_class box given the model's class, an unfound box gone."""
    expected = labels(run.root)
    for c in load_review(run.folder).accepted():
        if c.image.startswith("images/train/"):
            rel = label_of(run.root, c.image).relative_to(run.root).as_posix()
            box = (c.cls, *(round(v * 1e6) for v in (c.cx, c.cy, c.w, c.h)))
            rest = [b for b in expected[rel] if b[1:] != box[1:]]
            expected[rel] = sorted(rest if c.kind == "unfound" else [*rest, box])
    return expected


def post(port: int, body: bytes, content_type: str = "application/json", host: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/decide", body, {"Content-Type": content_type, "Host": host or f"127.0.0.1:{port}"})
    status = conn.getresponse().status
    conn.close()
    return status


def test_the_server_takes_only_its_own_pages_decisions(audit_run: Run) -> None:
    """A page elsewhere can post a form (no preflight) or reach 127.0.0.1 by a name of its own (DNS
    rebinding): neither is a decision."""
    import threading

    review = load_review(audit_run.folder)
    server = ReviewServer(review)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        key = next(iter(audit_run.decide))
        good = json.dumps({"key": key, "decision": "rejected"}).encode()
        assert post(server.port, good, "text/plain") == 415
        assert post(server.port, good, host=f"evil.example:{server.port}") == 403
        assert post(server.port, json.dumps({"key": "images/x.jpg", "decision": "accepted"}).encode()) == 400
        assert post(server.port, json.dumps({"key": key, "decision": "maybe"}).encode()) == 400
        assert not review.path.exists()
        assert post(server.port, good) == 200
        assert json.loads(review.path.read_text()) == {"decisions": {key: "rejected"}}
    finally:
        server.shutdown()
        server.server_close()


def test_apply_without_a_review_applies_every_missing_candidate(audit_run: Run, tmp_path: Path) -> None:
    result = audit_labels.run(review=audit_run.folder, apply="missing=add", out=tmp_path / "all")
    applied = result.summary["apply"]
    assert (applied["boxes"], applied["relabelled"], applied["removed"], applied["images_changed"]) == (3, 0, 0, 3)
    assert result.summary["review"] == {"accepted": 0, "rejected": 0, "undecided": 7}

    shutil.rmtree(audit_run.folder / "gallery")
    done = run_script(SCRIPT, ["--review", audit_run.folder], tmp_path)
    assert done.code == 2 and done.stderr.count("\n") == 1 and "not an audit run folder" in done.stderr


def test_candidates_kept_without_their_gallery_still_apply(audit_run: Run, tmp_path: Path) -> None:
    """A run's candidates.csv and summary.json kept in the repository (data/audits/) remake the corrected copy
    on another machine; only serving the review needs the gallery's crops."""
    with_gallery = audit_labels.run(review=audit_run.folder, apply="missing=add", out=tmp_path / "a")
    shutil.rmtree(audit_run.folder / "gallery")
    without = audit_labels.run(review=audit_run.folder, apply="missing=add", out=tmp_path / "b")
    assert without.summary["apply"]["boxes"] == with_gallery.summary["apply"]["boxes"] == 3
    assert labels(tmp_path / "a") == labels(tmp_path / "b")


def test_only_accepted_missing_faces_become_ignore_regions_for_val(audit_run: Run) -> None:
    with pytest.raises(AuditError, match="no accepted missing faces"):
        ignore_regions(audit_run.folder)  # nothing reviewed: no face has been checked by eye
    review = load_review(audit_run.folder)
    for key, decision in audit_run.decide.items():
        review.decide(key, decision)
    regions = ignore_regions(audit_run.folder)
    accepted = [c for c in review.accepted() if c.kind == "missing"]
    assert sorted(regions) == sorted(Path(c.image).stem for c in accepted) and len(accepted) == 2
    first = next(c for c in accepted if c.image.startswith("images/train"))
    assert np.allclose(regions[Path(first.image).stem], [[0.85, 0.04, 0.95, 0.16]])  # xyxy fractions
