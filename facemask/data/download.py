"""Fetching the public sources (`prepare_data.py --download`): Kaggle, Roboflow (its REST export), a
Hugging Face dataset repository or a plain zip URL. A source may name several; the first whose
credentials are at hand is used (Roboflow with ROBOFLOW_API_KEY, Kaggle with its token; Hugging Face
and URLs need none).

Every precondition (credentials, network) is checked for all sources before anything is written, so
a machine without them gets one line saying what to do instead of a half-filled folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from facemask.data.sources import SourceSpec
from facemask.errors import FacemaskError

KAGGLE_HOST = "www.kaggle.com"
ROBOFLOW_HOST = "api.roboflow.com"
ROBOFLOW_API = f"https://{ROBOFLOW_HOST}"
ROBOFLOW_KEY = "ROBOFLOW_API_KEY"
HF_HOST = "huggingface.co"


class DownloadError(FacemaskError, RuntimeError):
    """A download that cannot start or finish; the message says what the user can do."""


def kaggle_credentials_present() -> bool:
    """Kaggle's API reads KAGGLE_USERNAME + KAGGLE_KEY, KAGGLE_API_TOKEN, or kaggle.json."""
    if os.environ.get("KAGGLE_API_TOKEN") or (os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY")):
        return True
    config_dir = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle"))
    return (config_dir / "kaggle.json").is_file() or (config_dir / "access_token").is_file()


def reachable(host: str, port: int = 443, timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _usable(kind: str) -> bool:
    """Whether this machine holds what a download of `kind` needs."""
    return {"kaggle": kaggle_credentials_present, "roboflow": lambda: bool(os.environ.get(ROBOFLOW_KEY))}.get(
        kind, lambda: True
    )()


def chosen_kind(spec: SourceSpec) -> str:
    """The first of a source's download kinds whose credentials are here; DownloadError naming what is missing
    (for the first kind) when none is usable."""
    hint = "or download the datasets by hand and pass --sources DIR (see README)"
    if not spec.download:
        raise DownloadError(f"source {spec.name!r} has no 'download' entry in the sources config; {hint}")
    kind = next((k for k in spec.download if _usable(k)), None)
    if kind is not None:
        return kind
    first = next(iter(spec.download))
    if first == "kaggle":
        raise DownloadError(
            "Kaggle credentials not found: put kaggle.json in ~/.kaggle/ or set KAGGLE_USERNAME and "
            f"KAGGLE_KEY (https://www.kaggle.com/settings -> Create New Token), {hint}"
        )
    raise DownloadError(f"source {spec.name!r} needs {ROBOFLOW_KEY} to be set (app.roboflow.com -> Settings), {hint}")


def check_preconditions(specs: Iterable[SourceSpec]) -> None:
    """Raise DownloadError naming the first missing credential or unreachable host."""
    for spec in specs:
        kind = chosen_kind(spec)
        host = {"kaggle": KAGGLE_HOST, "roboflow": ROBOFLOW_HOST, "huggingface": HF_HOST}.get(kind)
        host = host or urlparse(spec.download["url"]).hostname
        if not reachable(host):
            raise DownloadError(
                f"cannot reach {host} (no network?): connect to the internet, or download the datasets by hand "
                "and pass --sources DIR (see README)"
            )


def download_sources(specs: list[SourceSpec], dest: Path) -> Path:
    """Fetch every source into dest/<folder> (skipping folders already there); returns dest."""
    check_preconditions(specs)
    dest.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        target = dest / spec.folder
        if target.is_dir() and any(target.iterdir()):
            print(f"{spec.name}: {target} already present, not downloaded again")
            continue
        with tempfile.TemporaryDirectory(dir=dest, prefix=f".{spec.folder}-", ignore_cleanup_errors=True) as tmp:
            _fetch(spec, Path(tmp))
            os.replace(_single_top_folder(Path(tmp)), target)
        print(f"{spec.name}: downloaded to {target}")
    return dest


def _fetch(spec: SourceSpec, into: Path) -> None:
    kind = chosen_kind(spec)
    what = spec.download[kind]
    if kind == "kaggle":
        from kaggle.api.kaggle_api_extended import KaggleApi  # imported late: it reads credentials on import

        api = KaggleApi()
        api.authenticate()
        api.dataset_download_files(what, path=str(into), unzip=True, quiet=False)
    elif kind == "huggingface":
        from huggingface_hub import snapshot_download

        snapshot_download(repo_id=what, repo_type="dataset", local_dir=str(into))
    else:
        url = roboflow_export_link(**what) if kind == "roboflow" else what
        archive = into / "download.zip"
        with urllib.request.urlopen(url, timeout=60) as response, archive.open("wb") as f:
            shutil.copyfileobj(response, f)
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)
        archive.unlink()


def roboflow_export_link(workspace: str, project: str, version: int, format: str = "coco", wait_s: float = 600) -> str:
    """The zip link of a Roboflow dataset version exported in `format` (coco, yolov8, voc, ...), waiting while
    Roboflow prepares it (it answers 202 until then)."""
    import requests

    url = f"{ROBOFLOW_API}/{workspace}/{project}/{version}/{format}"
    deadline = time.monotonic() + wait_s
    while True:
        response = requests.get(url, params={"api_key": os.environ[ROBOFLOW_KEY]}, timeout=60)
        if response.status_code not in (200, 202):
            raise DownloadError(
                f"Roboflow answered {response.status_code} for {workspace}/{project}/{version}: {response.text[:200]}"
            )
        body = response.json()
        if response.status_code == 200 and "export" in body:
            return body["export"]["link"]
        if time.monotonic() > deadline:
            raise DownloadError(f"Roboflow is still preparing {workspace}/{project}/{version} as {format}; try later")
        time.sleep(5)


def _single_top_folder(folder: Path) -> Path:
    """GitHub archives and some Kaggle zips wrap everything in one folder; unwrap it."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder
