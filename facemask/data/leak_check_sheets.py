"""The leak check's evidence, to look at: matches.csv (every verified pair, then those that failed on
spread and the other queries' best candidates) and contact sheets, each row a query beside its train
match with the inliers drawn: the strongest and the weakest matches, the pairs rejected for their
spread, the best candidates that are not copies, and synthetic copies."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from facemask.data.leak_check_features import Keys
from facemask.data.leak_check_match import Match, match
from facemask.data.leak_check_photos import augment, mirrored, read_bgr
from facemask.data.leak_check_result import Found, LeakResult

ROW_HEIGHT = 240  # px of each photo on a sheet
PER_PAGE = 6  # rows per sheet
SHOWN = 12  # rows of each kind other than the matches


def save(r: LeakResult, out: Path, sheet_rows: int = 36) -> list[Path]:
    """matches.csv and the contact sheets in `out` (at most `sheet_rows` matches shown); returns the sheets."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(r, out / "matches.csv")
    half = sheet_rows // 2
    shown = r.leaks if len(r.leaks) <= sheet_rows else r.leaks[:half] + r.leaks[-half:]  # strongest and weakest
    sheets = write_sheets(pair_rows(r, shown, ""), out, "matches")
    sheets += write_sheets(pair_rows(r, r.low_spread[:SHOWN], "LOW SPREAD: "), out, "low_spread")
    sheets += write_sheets(pair_rows(r, r.below[:SHOWN], "NOT VERIFIED: "), out, "below_threshold")
    return sheets + write_sheets(synthetic_rows(r), out, "synthetic")


def write_csv(r: LeakResult, path: Path) -> None:
    query_id, train_id = r.compared.query_id, r.compared.train_id
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query", "train", "inliers", "mirrored", "spread", "vote_rank", "cnn_rank", "verified"])
        for f in sorted(r.verified, key=lambda f: (f.query, -f.inliers)) + r.low_spread + r.below:
            w.writerow(
                [
                    query_id[f.query],
                    train_id[f.train],
                    f.inliers,
                    f.mirrored,
                    f"{f.spread:.3f}",
                    f.vote_rank,
                    f.cnn_rank,
                    r.copy(f),
                ]
            )


def pair_rows(r: LeakResult, found: list[Found], tag: str) -> list[np.ndarray]:
    out = []
    for f in found:
        qid, tid = r.compared.query_id[f.query], r.compared.train_id[f.train]
        a, b = r.keys[qid], r.keys[tid]
        m = match(a, b)
        lines = [
            f"{tag}{m.inliers} inliers{' (query mirrored)' if m.mirrored else ''}, spread {m.spread:.2f}; "
            f"ranks {f.vote_rank} (votes), {f.cnn_rank} (CNN)",
            f"left: {qid}",
            f"right: {tid}",
        ]
        out.append(
            sheet_row(read_bgr(r.compared.queries[f.query]), read_bgr(r.compared.train[f.train]), m, (a, b), lines)
        )
    return out


def synthetic_rows(r: LeakResult) -> list[np.ndarray]:
    """The first synthetic copies beside their query, made again from their seeds."""
    syn, rows = r.synthetic, []
    for n, i in enumerate(syn.of[:SHOWN]):
        query = read_bgr(r.compared.queries[i])
        image, notes = augment(query, np.random.default_rng(syn.seeds[n]))
        a, b = r.keys[r.compared.query_id[i]], r.keys[syn.ids[n]]
        m = match(a, b)
        lines = [
            f"SYNTHETIC: {m.inliers} inliers{' (query mirrored)' if m.mirrored else ''}, spread {m.spread:.2f}; "
            f"ranks {syn.ranks[n][0]} (votes), {syn.ranks[n][1]} (CNN)",
            f"left: {r.compared.query_id[i]}",
            f"right: its copy: {notes}",
        ]
        rows.append(sheet_row(query, image, m, (a, b), lines))
    return rows


def fit(bgr: np.ndarray, height: int) -> np.ndarray:
    width = max(1, round(bgr.shape[1] * height / bgr.shape[0]))
    return cv2.resize(bgr, (min(width, 2 * height), height), interpolation=cv2.INTER_AREA)


def sheet_row(
    query: np.ndarray, target: np.ndarray, m: Match, keys: tuple[Keys, Keys], lines: Sequence[str]
) -> np.ndarray:
    """The query (mirrored when it matched mirrored) beside the train photo, all inliers dotted and some
    joined by lines, under the lines of text."""
    height, gap, top = ROW_HEIGHT, 16, 6 + 16 * len(lines)
    left = fit(mirrored(query) if m.mirrored else query, height)
    right = fit(target, height)
    row = np.full((height + top, max(left.shape[1] + gap + right.shape[1], 760), 3), 255, np.uint8)
    row[top:, : left.shape[1]] = left
    x0 = left.shape[1] + gap
    row[top:, x0 : x0 + right.shape[1]] = right
    (wa, ha), (wb, hb) = keys[0].size, keys[1].size
    for n, ((xa, ya), (xb, yb)) in enumerate(zip(m.src, m.dst, strict=True)):
        pa = (int(xa / wa * left.shape[1]), top + int(ya / ha * height))
        pb = (x0 + int(xb / wb * right.shape[1]), top + int(yb / hb * height))
        if n % max(1, m.inliers // 25) == 0:  # about 25 lines: enough to see the map, few enough to see the photos
            cv2.line(row, pa, pb, (0, 200, 0), 1, cv2.LINE_AA)
        cv2.circle(row, pa, 2, (0, 255, 255), -1)
        cv2.circle(row, pb, 2, (0, 255, 255), -1)
    chars = row.shape[1] // 7  # what fits of a line at this font size
    for n, text in enumerate(lines):
        text = text if len(text) <= chars else text[: chars - 3] + "..."
        cv2.putText(row, text, (4, 14 + 16 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return row


def write_sheets(rows: list[np.ndarray], out: Path, stem: str, per_page: int = PER_PAGE) -> list[Path]:
    written = []
    for page, start in enumerate(range(0, len(rows), per_page), 1):
        chunk = rows[start : start + per_page]
        width = max(r.shape[1] for r in chunk)
        padded = [np.pad(r, ((0, 8), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in chunk]
        path = out / f"{stem}_{page:02d}.png"
        cv2.imwrite(str(path), np.vstack(padded))
        written.append(path)
    return written
