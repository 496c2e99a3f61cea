"""Fetching the public sources (`prepare_data.py --download`): Kaggle, Roboflow or a plain zip URL.

Every precondition (credentials, network) is checked for all sources before anything is written, so
a machine without them gets one line saying what to do instead of a half-filled folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from facemask.data.sources import SourceSpec
from facemask.errors import FacemaskError

KAGGLE_HOST = "www.kaggle.com"
ROBOFLOW_HOST = "api.roboflow.com"


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


def check_preconditions(specs: Iterable[SourceSpec]) -> None:
    """Raise DownloadError naming the first missing credential or unreachable host."""
    hint = "or download the datasets by hand and pass --sources DIR (see README)"
    for spec in specs:
        kind = next(iter(spec.download), None)
        if kind is None:
            raise DownloadError(f"source {spec.name!r} has no 'download' entry in the sources config; {hint}")
        if kind == "kaggle" and not kaggle_credentials_present():
            raise DownloadError(
                "Kaggle credentials not found: put kaggle.json in ~/.kaggle/ or set KAGGLE_USERNAME and "
                f"KAGGLE_KEY (https://www.kaggle.com/settings -> Create New Token), {hint}"
            )
        if kind == "roboflow" and not os.environ.get("ROBOFLOW_API_KEY"):
            raise DownloadError(f"source {spec.name!r} needs ROBOFLOW_API_KEY to be set, {hint}")
        if kind == "roboflow" and importlib.util.find_spec("roboflow") is None:
            # optional: roboflow pins opencv-python-headless, a second cv2 beside the one ultralytics needs
            raise DownloadError(f"source {spec.name!r} is on Roboflow: pip install roboflow, {hint}")
        host = {"kaggle": KAGGLE_HOST, "roboflow": ROBOFLOW_HOST}.get(kind) or urlparse(spec.download["url"]).hostname
        if not reachable(host):
            raise DownloadError(f"cannot reach {host} (no network?): connect to the internet, {hint}")


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
    kind, what = next(iter(spec.download.items()))
    if kind == "kaggle":
        from kaggle.api.kaggle_api_extended import KaggleApi  # imported late: it reads credentials on import

        api = KaggleApi()
        api.authenticate()
        api.dataset_download_files(what, path=str(into), unzip=True, quiet=False)
    elif kind == "roboflow":
        from roboflow import Roboflow

        project = Roboflow(api_key=os.environ["ROBOFLOW_API_KEY"]).workspace(what["workspace"]).project(what["project"])
        project.version(int(what["version"])).download(what.get("format", "yolov8"), location=str(into))
    else:
        archive = into / "download.zip"
        with urllib.request.urlopen(what, timeout=60) as response, archive.open("wb") as f:
            shutil.copyfileobj(response, f)
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)
        archive.unlink()


def _single_top_folder(folder: Path) -> Path:
    """GitHub archives and some Kaggle zips wrap everything in one folder; unwrap it."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder
