"""The working confidence, one number for every stage: detect.py's and the app's default (the Detector's
PredictOptions.conf) and the confidence at which val.py counts a face as found. It lives among the shared
modules because facemask.model (the evaluation) sits below facemask.inference and may not import it."""

from __future__ import annotations

DEFAULT_CONF = 0.25
