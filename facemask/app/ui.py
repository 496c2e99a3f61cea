"""Pieces of the app's page that every tab shares: the model and threshold controls, a photo input that
lets our code word its refusals, the counts as a sentence, and UserErrors shown as messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr

from facemask.app.errors import UserError
from facemask.inference.detector import PredictOptions


def lenient(component: gr.Image) -> gr.Image:
    """Hand a file that gradio cannot decode to our code as it is, so the user gets our message ('not an
    image', 'damaged', 'too large') instead of gradio's generic processing error. (Wrapping the instance:
    a gr.Image subclass would make gradio write a .pyi stub beside this file.)"""
    strict = component.preprocess

    def preprocess(payload):
        try:
            return strict(payload)
        except Exception:
            return payload.path if payload is not None else None

    component.preprocess = preprocess
    return component


def user_errors(fn: Callable) -> Callable:
    """Show UserErrors as a message in the UI (and a clean error to API clients), never a trace."""

    @functools.wraps(fn)  # gradio reads the parameter names (and gradio_client's view_api shows them)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            raise gr.Error(str(e), print_exception=False) from None

    return wrapped


def headline(counts: dict) -> str:
    """The counts as a sentence for people: '7 faces: 2 Mask, 5 No Mask · 29% masked'."""
    if not counts.get("faces"):
        return "### No faces found"
    parts = ", ".join(f"{counts[c]} {c}" for c in ("Mask", "No Mask", "Incorrect") if counts.get(c))
    faces = "1 face" if counts["faces"] == 1 else f"{counts['faces']} faces"
    return f"### {faces}: {parts} · {counts['compliance_rate']:.0%} masked"


def controls(models: list[str], default: str | None) -> list[gr.components.Component]:
    """A tab's model, thresholds (detect.py's defaults) and blur switch, in the order its handler takes them."""
    with gr.Row():
        model = gr.Dropdown(models, value=default, label="Model", scale=2)
        conf = gr.Slider(0.05, 0.95, value=PredictOptions.conf, step=0.05, label="Confidence threshold")
        iou = gr.Slider(0.1, 0.9, value=PredictOptions.iou, step=0.05, label="IoU threshold (NMS)")
        blur = gr.Checkbox(False, label="Blur faces")
    return [model, conf, iou, blur]
