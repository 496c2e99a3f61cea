"""A model shared on the Hugging Face Hub (`export.py --push-hub OWNER/NAME`): its weights, the exports of
the same run, and MODEL_CARD.md as the repository's README.md, whose front matter holds the metrics the
Hub shows (model-index). The token and the network are checked before anything is exported or sent."""

from __future__ import annotations

from pathlib import Path

from facemask.data.download import HF_HOST, reachable
from facemask.errors import FacemaskError
from facemask.paths import PROJECT_ROOT

MODEL_CARD = PROJECT_ROOT / "MODEL_CARD.md"


class HubError(FacemaskError, RuntimeError):
    """A push that cannot start; the message says what would be sent and where."""


def files_to_push(weights: Path, exports: dict[str, Path], card: Path = MODEL_CARD) -> list[tuple[str, Path]]:
    """(path in the repository, file) of the weights, each export (a folder's files under its name) and
    the card as README.md. The in-browser page (web) stays out: it is served, not downloaded."""
    files = [(Path(weights).name, Path(weights))]
    for fmt, path in exports.items():
        if fmt == "web":
            continue
        path = Path(path)
        inside = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        files += [(f"{path.name}/{p.relative_to(path).as_posix()}", p) for p in inside] or [(path.name, path)]
    return [*files, ("README.md", Path(card))]


def check_push(repo: str, what: str, card: Path = MODEL_CARD) -> str:
    """The repository's address once the card, a token and the network are there; else HubError saying
    what would be sent (`what`) and where, and that nothing was."""
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise HubError(f"--push-hub takes OWNER/NAME (as in huggingface.co/OWNER/NAME), not {repo!r}")
    url = f"https://{HF_HOST}/{repo}"
    if not Path(card).is_file():
        raise HubError(f"--push-hub sends {Path(card).name} as the model's card, and {card} is missing")
    from huggingface_hub import get_token

    if not get_token():
        raise HubError(
            f"--push-hub would upload {what} and {Path(card).name} (as README.md) to {url}, but no "
            "Hugging Face token is set (hf auth login, or HF_TOKEN); nothing was sent"
        )
    if not reachable(HF_HOST):
        raise HubError(
            f"--push-hub would upload {what} and {Path(card).name} (as README.md) to {url}, but "
            f"{HF_HOST} cannot be reached (no network?); nothing was sent"
        )
    return url


def push(repo: str, files: list[tuple[str, Path]]) -> str:
    """One commit with every file (the repository made if new); returns its address."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()
    api.create_repo(repo, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path)) for name, path in files]
    api.create_commit(repo, operations, commit_message=f"facemask: {', '.join(name for name, _ in files[:4])}")
    return f"https://{HF_HOST}/{repo}"
