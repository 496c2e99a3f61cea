"""Prometheus metrics of a running facemask (`GET /metrics`, prometheus_client's text format):

    facemask_frames_total{source}             frames processed (rate() of it: frames per second)
    facemask_fps{source}                      frames per second, over the last few seconds
    facemask_dropped_frames_total{source}     frames a live source sent that were never processed
    facemask_detector_ms{source}              detector time per frame (histogram, milliseconds)
    facemask_people_total{source,verdict}     people settled
    facemask_compliance_rate{source}          masked share of the people settled in this run
    facemask_camera_up{source}                1 while a source sends frames, 0 once lost or ended
    facemask_events_waiting                   events not in the event store yet (queued and spooled)
    facemask_event_write_seconds              time from an event settling to its commit (histogram)

The collectors live in their own registry, so several pipelines in one process share them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from facemask.events.auth import bearer_check
from facemask.events.event import Event

REGISTRY = CollectorRegistry()
FRAMES = Counter("facemask_frames", "Frames processed", ["source"], registry=REGISTRY)
FPS = Gauge("facemask_fps", "Frames per second over the last few seconds", ["source"], registry=REGISTRY)
DROPPED = Counter("facemask_dropped_frames", "Frames of a live source never processed", ["source"], registry=REGISTRY)
DETECTOR_MS = Histogram(
    "facemask_detector_ms",
    "Detector time per frame (ms)",
    ["source"],
    registry=REGISTRY,
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)
PEOPLE = Counter("facemask_people", "People settled", ["source", "verdict"], registry=REGISTRY)
COMPLIANCE = Gauge(
    "facemask_compliance_rate", "Masked share of the people settled this run", ["source"], registry=REGISTRY
)
CAMERA_UP = Gauge("facemask_camera_up", "1 while the source sends frames", ["source"], registry=REGISTRY)
WAITING = Gauge("facemask_events_waiting", "Events not in the event store yet", registry=REGISTRY)
WRITE_S = Histogram(
    "facemask_event_write_seconds",
    "From an event to its commit (s)",
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
FPS_SPAN_S = 5.0  # the frame rate is measured over about this long


class FrameMeter:
    """One source's frame rate and dropped frames, from the frames the pipeline hands on."""

    def __init__(self, source: str):
        self.source = source
        self._last_index: int | None = None
        self._times: deque[float] = deque()

    def frame(self, index: int, stride: int, live: bool, detector_ms: float) -> None:
        now = time.monotonic()
        FRAMES.labels(self.source).inc()
        DETECTOR_MS.labels(self.source).observe(detector_ms)
        if live and self._last_index is not None and index - self._last_index > stride:
            DROPPED.labels(self.source).inc((index - self._last_index - stride) // stride)
        self._last_index = index
        self._times.append(now)
        while self._times[0] < now - FPS_SPAN_S:
            self._times.popleft()
        span = now - self._times[0]
        FPS.labels(self.source).set((len(self._times) - 1) / span if span > 0 else 0.0)


def count_person(source: str, verdict: str, compliance_rate: float | None) -> None:
    PEOPLE.labels(source, verdict).inc()
    if compliance_rate is not None:
        COMPLIANCE.labels(source).set(compliance_rate)


def written(events: Sequence[Event]) -> None:
    """The writer's on_written: how long each event took to reach the store."""
    now = time.monotonic()
    for e in events:
        WRITE_S.observe(now - e.submitted)


def metrics_router(auth: Callable[..., None] | None = None) -> APIRouter:
    """GET /metrics, behind `auth` (default: the REST API's bearer check of FACEMASK_API_TOKEN)."""
    router = APIRouter(dependencies=[Depends(auth or bearer_check())])

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
