"""tutorial.ipynb: stored clean, and run top to bottom in a real kernel on a tiny dataset (papermill-style
parameters injected after its `parameters` cell), writing only to a temporary folder; its training cell
gets the shared tiny model, and trains for real only in the slow test."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from tests import scripts
from tests.conftest import build_sources

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tutorial.ipynb"
IMGSZ = 64


def load() -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    return nb


def parameters_index(nb: nbformat.NotebookNode) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    return tagged[0]


def assigned_names(source: str) -> set[str]:
    return {t.id for node in ast.parse(source).body if isinstance(node, ast.Assign) for t in node.targets}


def test_notebook_is_stored_without_outputs() -> None:
    nb = load()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert nb.metadata.kernelspec.name == "python3"


def test_parameter_cell_is_plain_assignments_and_the_full_recipe_is_one_switch() -> None:
    nb = load()
    cell = nb.cells[parameters_index(nb)]
    tree = ast.parse(cell.source)
    assert all(isinstance(node, ast.Assign) for node in tree.body)  # papermill can override each one
    params = {t.id: ast.literal_eval(n.value) for n in tree.body for t in n.targets}
    assert params["FULL"] is False and params["MODEL"].endswith(".yaml") and params["DEVICE"] == "cpu"
    setup = next(c.source for c in nb.cells[parameters_index(nb) + 1 :] if c.cell_type == "code")
    assert '"yolov5s.pt", 300, 640, 64, "0"' in setup and "%pip install" in setup


def run_notebook(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def stand_in_training(trained: Path, calls: Path) -> nbformat.NotebookNode:
    """A cell that replaces the kernel's train.run with a copy of the shared tiny run, put where the
    notebook's run would be, and writes down what the notebook asked for."""
    return nbformat.v4.new_code_cell(f"""\
import json as _json, shutil as _shutil
from pathlib import Path as _Path


def _trained(**kwargs):
    _json.dump({{k: str(v) for k, v in kwargs.items()}}, open({str(calls)!r}, "w"))
    run = _Path(kwargs["project"]) / kwargs["name"]
    _shutil.copytree({str(trained)!r}, run, ignore=_shutil.ignore_patterns("wandb"))
    return run


train.run = _trained""")


def test_notebook_runs_top_to_bottom_on_a_tiny_subset(tmp_path: Path, monkeypatch, trained_run: Path) -> None:
    """Every cell, with train.run standing in for the shared tiny model: what it was asked must be options
    train.run takes (train.py's long flag names), with the notebook's parameters.
    test_notebook_trains_for_real (slow) trains."""
    import train

    calls = tmp_path / "train_call.json"
    run_tutorial(tmp_path, monkeypatch, stand_in=stand_in_training(trained_run, calls))
    asked = json.loads(calls.read_text())
    assert set(asked) <= set(vars(train.parse_opt([])))
    assert asked == {
        "data": str(tmp_path / "work" / "dataset.yaml"),
        "epochs": "1",
        "imgsz": str(IMGSZ),
        "batch": "8",
        "device": "cpu",
        "workers": "0",
        "project": str(tmp_path / "work" / "train"),
        "name": "exp",
        "wandb": "disabled",
        "cfg": "yolov5n.yaml",
    }


@pytest.mark.slow
def test_notebook_trains_for_real(tmp_path: Path, monkeypatch) -> None:
    run_tutorial(tmp_path, monkeypatch)


def run_tutorial(tmp_path: Path, monkeypatch, stand_in: nbformat.NotebookNode | None = None) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")  # the kernel inherits it; WANDB below says the same
    # The kernel (`python -m ipykernel_launcher`) forked warm, as tests/scripts.py forks the scripts.
    monkeypatch.setattr("jupyter_client.provisioning.local_provisioner.launch_kernel", scripts.launch_kernel)
    src = build_sources(tmp_path / "in")
    work = tmp_path / "work"
    params = {
        "SOURCES": str(src.root),
        "SOURCES_CONFIG": str(src.config),
        "SUBSET": 16,
        "EPOCHS": 1,
        "IMGSZ": IMGSZ,
        "BATCH": 8,
        "MODEL": "yolov5n.yaml",
        "DEVICE": "cpu",
        "WORKERS": 0,
        "WANDB": "disabled",
        "WORKDIR": str(work),
        "PROJECT_DIR": str(ROOT),
    }
    nb = load()
    i = parameters_index(nb)
    assert set(params) <= assigned_names(nb.cells[i].source), "inject only names the notebook declares"
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in params.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(i + 1, injected)
    if stand_in is not None:  # after the cell that imports train
        nb.cells.insert(next(j for j, c in enumerate(nb.cells) if "import train\n" in c.source) + 1, stand_in)
    # A last cell hands the paths the notebook made back to the test.
    probe = {
        "weights": "best",
        "results": 'run_dir / "results.png"',
        "report": 'dataset / "report.png"',
        "annotated": "annotated",
        "example": "example",
        "onnx": "onnx",
        "metrics": 'metrics["save_dir"]',
    }
    entries = ", ".join(f"{k!r}: str({v})" for k, v in probe.items())
    out_json = tmp_path / "out.json"
    nb.cells.append(nbformat.v4.new_code_cell(f"import json\njson.dump({{{entries}}}, open({str(out_json)!r}, 'w'))"))
    data_yaml_before = (ROOT / "data" / "face_masks.yaml").read_bytes()

    run_notebook(nb, cwd=tmp_path)

    out = {k: Path(v) for k, v in json.loads(out_json.read_text()).items()}
    for key, path in out.items():
        assert path.exists(), key
        if key != "example":
            assert path.is_relative_to(work), f"{key} written outside WORKDIR: {path}"
    assert out["weights"].name == "best.pt" and out["weights"].stat().st_size > 100_000
    assert out["onnx"].suffix == ".onnx" and out["onnx"].parent == out["weights"].parent
    import onnxruntime

    (inp,) = onnxruntime.InferenceSession(str(out["onnx"]), providers=["CPUExecutionProvider"]).get_inputs()
    assert inp.shape == [1, 3, IMGSZ, IMGSZ]
    assert out["example"].is_relative_to(work / "dataset" / "images")  # a photo of the merged test (or val) split
    with Image.open(out["annotated"]) as annotated, Image.open(out["example"]) as example:
        assert annotated.size == example.size
    for picture in ("report", "results"):
        with Image.open(out[picture]) as im:
            assert im.format == "PNG" and min(im.size) > 200
    metrics = json.loads((out["metrics"] / "metrics.json").read_text())
    assert set(metrics["all"]) >= {"mAP50", "mAP50-95", "precision", "recall"}

    # The subset cap was applied (the nextto source has 20 images, capped at 16), and the merge saw it.
    assert (
        len(list((work / "sources" / "nextto-set").rglob("*.jpg")))
        + len(list((work / "sources" / "nextto-set").rglob("*.png")))
        == 16
    )
    # Pictures shown inline: the merge report, the training curves, the two detections.
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "display_data"]
    assert sum("image/png" in o.data or "image/jpeg" in o.data for o in shown) == 4
    assert (ROOT / "data" / "face_masks.yaml").read_bytes() == data_yaml_before  # the repo's dataset yaml untouched
