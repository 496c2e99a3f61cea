"""The audit's review gallery: a crop of every candidate, boxed in its kind's colour, on static HTML
pages, and one overview PNG contact sheet. The pages open from disk to look at; served by
`audit_labels.py --review` (facemask.audit.review), their accept and reject buttons save each decision."""

from __future__ import annotations

import html
from pathlib import Path

import cv2
import numpy as np

from facemask.audit.candidates import KINDS, Candidate
from facemask.audit.review import candidate_key

KIND_COLOURS = {"missing": (0, 140, 255), "wrong_class": (255, 0, 200), "unfound": (255, 200, 0)}  # BGR
THUMB = 160  # longest side of a crop, pixels
PER_PAGE = 120
OVERVIEW_TILES = 64
OVERVIEW_COLUMNS = 8
GREY = (114, 114, 114)

STYLE = """body{font-family:sans-serif;margin:1em;background:#fafafa}
figure{display:inline-block;margin:4px;width:170px;vertical-align:top;text-align:center}
figure img{max-width:160px;max-height:160px}figcaption{font-size:11px;word-break:break-all}
nav a,nav b{margin:0 .3em}.key{display:inline-block;width:1em;height:1em;vertical-align:middle}
figure.accepted{outline:3px solid #2a2}figure.rejected{outline:3px solid #c22;opacity:.5}
figure button{font-size:11px;margin:2px}#review{font-weight:bold}
figure.accepted button[value=accepted]{background:#2a2;color:#fff}
figure.rejected button[value=rejected]{background:#c22;color:#fff}"""

# Accept/reject: POST decide {key, decision} to the --review server, which answers with every decision
# and their tally; clicking the decision a candidate has makes it undecided again.
SCRIPT = """const tally = document.getElementById("review");
function show(state) {
  for (const d of document.querySelectorAll("[data-key]")) {
    d.closest("figure").className = state.decisions[d.dataset.key] || "";
  }
  const t = state.tally;
  tally.textContent = `${t.accepted} accepted · ${t.rejected} rejected · ${t.undecided} undecided (in review.json)`;
}
async function call(url, options) {
  const r = await fetch(url, {cache: "no-store", ...options});
  if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
  show(await r.json());
}
const failed = (e) => { tally.textContent = `Not saved: ${e.message}. Is audit_labels.py --review still running?`; };
if (location.protocol === "file:") {
  tally.textContent = tally.dataset.offline;
  for (const b of document.querySelectorAll("figure button")) b.disabled = true;
} else {
  document.addEventListener("click", (e) => {
    const b = e.target.closest("[data-key] button");
    if (!b) return;
    const decided = b.closest("figure").classList.contains(b.value);
    const body = JSON.stringify({key: b.parentElement.dataset.key, decision: decided ? null : b.value});
    call("decide", {method: "POST", headers: {"Content-Type": "application/json"}, body}).catch(failed);
  });
  call("state").catch(failed);
}"""


def crop(image: np.ndarray, c: Candidate) -> np.ndarray:
    """The candidate's box with half a box of context around it, scaled to THUMB, box drawn."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = c.xyxy(width, height)
    pad = max(x2 - x1, y2 - y1) / 2 + 8
    left, top = int(max(0, x1 - pad)), int(max(0, y1 - pad))
    left, top = min(left, width - 1), min(top, height - 1)  # a box off the image still gets a crop
    right, bottom = int(min(width, max(x2 + pad + 1, left + 1))), int(min(height, max(y2 + pad + 1, top + 1)))
    region = image[top:bottom, left:right]
    scale = THUMB / max(region.shape[:2])
    size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
    tile = cv2.resize(region, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    p1 = (round((x1 - left) * scale), round((y1 - top) * scale))
    p2 = (round((x2 - left) * scale), round((y2 - top) * scale))
    return cv2.rectangle(tile, p1, p2, KIND_COLOURS[c.kind], 2)


def square(tile: np.ndarray, size: int = THUMB) -> np.ndarray:
    """A crop centred on a grey square, for the contact sheet's grid."""
    out = np.full((size, size, 3), GREY, np.uint8)
    h, w = tile.shape[:2]
    top, left = (size - h) // 2, (size - w) // 2
    out[top : top + h, left : left + w] = tile
    return out


def review_order(candidates: list[Candidate]) -> list[int]:
    """Indices by kind, most confident first: the likeliest label errors lead each kind."""
    return sorted(range(len(candidates)), key=lambda i: (KINDS.index(candidates[i].kind), -(candidates[i].conf or 0)))


def write_crops(candidates: list[Candidate], root: Path, folder: Path) -> None:
    """crops/000000.jpg, ... in candidate order; each image is read once (candidates come by image)."""
    folder.mkdir(parents=True, exist_ok=True)
    current, image = None, None
    for i, c in enumerate(candidates):
        if c.image != current:
            current, image = c.image, cv2.imread(str(root / c.image))
        cv2.imwrite(str(folder / f"{i:06d}.jpg"), crop(image, c))


def caption(c: Candidate, names: dict[int, str]) -> str:
    who = "label" if c.kind == "unfound" else c.source  # model, or a second opinion (mtcnn)
    conf = "" if c.conf is None else f" {c.conf:.2f}"
    return f"<b>{c.kind}</b> · {who}: {html.escape(names.get(c.cls, str(c.cls)))}{conf}<br>{html.escape(c.image)}"


def page_name(page: int) -> str:
    return "index.html" if page == 0 else f"page{page + 1}.html"


def legend(candidates: list[Candidate]) -> str:
    counts = {k: sum(c.kind == k for c in candidates) for k in KINDS}
    return " ".join(
        f'<span class="key" style="background:#{r:02x}{g:02x}{b:02x}"></span> {k}: {counts[k]}'
        for k, (b, g, r) in KIND_COLOURS.items()
    )


def nav(page: int, pages: int) -> str:
    links = [f"<b>{p + 1}</b>" if p == page else f'<a href="{page_name(p)}">{p + 1}</a>' for p in range(pages)]
    prev = f'<a href="{page_name(page - 1)}">&larr; prev</a>' if page else ""
    nxt = f'<a href="{page_name(page + 1)}">next &rarr;</a>' if page + 1 < pages else ""
    return f"<nav>{prev}{''.join(links)}{nxt}</nav>"


def figure(i: int, c: Candidate, names: dict[int, str]) -> str:
    buttons = '<button value="accepted">accept</button><button value="rejected">reject</button>'
    return (
        f'<figure><img src="crops/{i:06d}.jpg" loading="lazy"><figcaption>{caption(c, names)}</figcaption>'
        f'<div data-key="{html.escape(candidate_key(c))}">{buttons}</div></figure>'
    )


def write_pages(candidates: list[Candidate], names: dict[int, str], folder: Path, per_page: int = PER_PAGE) -> int:
    """index.html, page2.html, ...: crops in review order, each with accept and reject buttons;
    returns the number of pages."""
    order = review_order(candidates)
    pages = max(1, -(-len(order) // per_page))
    offline = f"To accept or reject candidates, serve this gallery: python audit_labels.py --review {folder.parent}"
    for page in range(pages):
        figures = "".join(figure(i, candidates[i], names) for i in order[page * per_page : (page + 1) * per_page])
        body = (
            f"<h1>Label audit: {len(candidates)} candidates</h1><p>{legend(candidates)} · "
            f'<a href="overview.png">overview</a></p><p id="review" data-offline="{html.escape(offline)}"></p>'
            f"{nav(page, pages)}<div>{figures or 'No candidates.'}</div>{nav(page, pages)}<script>{SCRIPT}</script>"
        )
        title = f"Label audit, page {page + 1} of {pages}"
        (folder / page_name(page)).write_text(
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style>'
            f"</head><body>{body}</body></html>\n",
            encoding="utf-8",
        )
    return pages


def overview_picks(candidates: list[Candidate], n: int = OVERVIEW_TILES) -> list[int]:
    """Up to n candidates taken in turn from each kind (in review order), so every kind shows."""
    queues = {k: [i for i in review_order(candidates) if candidates[i].kind == k] for k in KINDS}
    picks: list[int] = []
    while len(picks) < n and any(queues.values()):
        picks += [q.pop(0) for q in queues.values() if q][: n - len(picks)]
    return picks


def write_overview(candidates: list[Candidate], folder: Path) -> Path:
    """overview.png: a grid of crops under a header of the counts per kind, in their colours."""
    picks = overview_picks(candidates)
    rows = max(1, -(-len(picks) // OVERVIEW_COLUMNS))
    sheet = np.full((40 + rows * THUMB, OVERVIEW_COLUMNS * THUMB, 3), 255, np.uint8)
    x = 10
    for kind in KINDS:
        text = f"{kind}: {sum(c.kind == kind for c in candidates)}"
        cv2.putText(sheet, text, (x, 27), cv2.FONT_HERSHEY_SIMPLEX, 0.7, KIND_COLOURS[kind], 2, cv2.LINE_AA)
        x += cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.7, 2)[0][0] + 30
    for n, i in enumerate(picks):
        r, col = divmod(n, OVERVIEW_COLUMNS)
        tile = cv2.imread(str(folder / "crops" / f"{i:06d}.jpg"))
        sheet[40 + r * THUMB : 40 + (r + 1) * THUMB, col * THUMB : (col + 1) * THUMB] = square(tile)
    path = folder / "overview.png"
    cv2.imwrite(str(path), sheet)
    return path


def write_gallery(candidates: list[Candidate], root: Path, names: dict[int, str], folder: Path) -> Path:
    """The whole gallery in `folder`; returns its index.html."""
    write_crops(candidates, root, folder / "crops")
    write_pages(candidates, names, folder)
    write_overview(candidates, folder)
    return folder / "index.html"
