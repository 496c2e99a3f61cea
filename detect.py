"""Detect faces with and without masks in images, folders, videos, webcams and streams.

With no arguments it runs the shipped model (weights/face_masks.pt) on the bundled examples/.

Usage - sources:
    python detect.py --source img.jpg                 # image
                              photos/                 # folder
                              'photos/**/*.jpg'       # glob
                              list.txt                # text file listing paths
                              cams.streams            # several sources at once, one per line (files, URLs, 0)
                              clip.mp4                # video
                              0                       # webcam
                              rtsp://host/stream      # RTSP, RTMP, HTTP stream

Usage - outputs (to runs/detect/exp, exp2, ...):
    python detect.py --source photos/ --save-txt --save-conf --save-json --save-crop
    python detect.py --source clip.mp4 --blur-faces --vid-stride 2
    python detect.py --weights face_masks.onnx --source photos/ --imgsz 640 --conf-thres 0.4

Usage - small faces (crowds, wide shots):
    python detect.py --source crowd.jpg --tile        # overlapping tiles at the model's size (sahi)
    python detect.py --source crowd.jpg --augment     # test-time augmentation (flips and scales)

Usage - people over time (videos and streams):
    python detect.py --source entrance.mp4 --track                       # one verdict per person
    python detect.py --source rtsp://cam/1 --track --interval 60 --zone 0.1,0.5,0.9,0.5   # line crossers only
    python detect.py --source cams.streams --track    # every camera at once: per-camera and total compliance

Usage - events (facemask/events: each settled person, interval tally and camera status change, as it happens):
    python detect.py --source cams.streams --db       # into runs/facemask.db (SQLite), which app.py --db shows
    python detect.py --source cams.streams --db postgresql://user@host:5432/facemask --mqtt mqtt://host:1883
    python detect.py --source rtsp://cam/1 --db --alerts rules.yaml --webhook https://hooks.example/facemask
    python detect.py --source entrance.mp4 --db --snapshots raw --retain-days 30 --zone 0.1,0.5,0.9,0.5 --zone-name door
    (--db alone, or $FACEMASK_DB; an unreachable database is caught up from a spool on disk: nothing lost or twice)

Stopping: Ctrl-C and SIGTERM (docker stop, systemd, kill) both end a run after saving everything it has seen
(summary.json, the people and compliance files, the charts); the exit status is then 130 or 143.
Exit status: 0 done (files that could not be read are skipped, counted and named); 1 failed, to be started
again (systemd's Restart=on-failure): a single --source stream or webcam that cannot be opened, or that
stopped sending (after saving), or a folder, list or .streams file none of whose sources could be read;
2 refused before anything is made (a bad flag, path, file, model or URL); 130 or 143 stopped (above).

Python:
    from detect import run
    summary = run(source="photos/", save_json=True)
    summary.faces["No Mask"]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from facemask.inference import stopping  # the standard library only: in place before the imports below

if __name__ == "__main__":
    stopping.install()  # Ctrl-C and SIGTERM stop a run alike, and save what it saw (facemask.inference.stopping)

try:  # these load torch and OpenCV for seconds: a stop meanwhile is one line, not a traceback
    from facemask.cli import add_flags, fail, failed, script_parser
    from facemask.errors import FacemaskError, warn
    from facemask.events.options import EventOptions, add_event_flags, event_sink
    from facemask.events.rules import unmatched
    from facemask.events.sink import zone_label
    from facemask.files import shown
    from facemask.inference.annotate import Annotator
    from facemask.inference.console import ConsoleSink, WindowSink
    from facemask.inference.counting import RunSummary
    from facemask.inference.detect_options import DetectOptions
    from facemask.inference.detector import Detector
    from facemask.inference.media import Frame, SourceUnavailable
    from facemask.inference.outputs import OutputWriter
    from facemask.inference.people_files import PEOPLE_COLUMNS, RowWriter
    from facemask.inference.people_report import PeopleReport
    from facemask.inference.pipeline import Pipeline, Sink
    from facemask.inference.sources import SourceError, SourceKind, classify, resolve_source
    from facemask.inference.streams import iter_frames
    from facemask.inference.tracking import ComplianceCounter
    from facemask.inference.zones import Zone
    from facemask.owned_dirs import run_dir
except KeyboardInterrupt as e:
    stopping.exit_stopped("detect.py", e)


#: run()'s keywords that are the events' options: EventOptions' fields, with its defaults (and its flags).
EVENT_KEYWORDS = ("db", "mqtt", "webhook", "alerts", "snapshots", "retain_days", "zone_name")


def run(**kwargs: Any) -> RunSummary:
    """Detect, print a line per image, save what was asked; returns the run's totals. With `track`, faces in
    videos and streams are followed and counted as people (facemask.inference.tracking). A stop (Ctrl-C,
    SIGTERM) is raised again once what was seen is saved; a run that failed as a whole (its stream stopped
    sending, nothing could be read) returns, with why in the summary's `failure`. Defaults: DetectOptions'
    and EventOptions' fields.

    Args:
        weights (str | Path): the model, .pt or an export (.onnx, OpenVINO, TorchScript, ...)
        source (str | Path): image, folder, glob, list.txt, video, 0 (webcam), URL, or .streams (one a line)
        imgsz (int | None): input size; None: the size the model was trained or exported at
        large_img (int): photos longer than this on their long side run at this size when the model's own size
            is smaller and imgsz is None (crowds: more of their small faces); 0: every photo at one size
        conf_thres (float): confidence threshold (0-1)
        iou_thres (float): NMS IoU threshold (0-1): boxes of one class overlapping more are one face, tiled too
        max_det (int): most faces kept per image
        agnostic_nms (bool): NMS across classes, so a face gets one box (Mask or No Mask), not one of each
        device (str | None): cpu, 0, 1, ...; None: a GPU if there is one
        view_img (bool): show results in a window
        save_txt (bool): YOLO labels in labels/<stem>.txt (<stem>_<frame>.txt for a video's frames)
        save_conf (bool): a confidence at the end of each save_txt line
        save_json (bool): every detection in predictions.json
        save_crop (bool): face crops in crops/<class>/
        nosave (bool): do not save annotated images or videos
        classes (list[int] | None): keep only these class ids (0 Mask, 1 No Mask); None: all
        project (str | Path): save to project/name
        name (str): save to project/name
        exist_ok (bool): reuse project/name (only a detect run's folder) instead of name2, name3, ...
        line_thickness (int): box thickness in pixels
        hide_labels (bool): draw boxes without class names
        hide_conf (bool): draw boxes without confidences
        half (bool): FP16 inference (GPU)
        augment (bool): test-time augmentation (flips, scales), about 2x slower
        tile (bool): small faces: sliced inference (sahi) over overlapping tiles of the model's size
        tile_overlap (float): the share of a tile its neighbour overlaps
        vid_stride (int): use every n-th video frame
        stream_timeout (float): seconds a silent stream is waited for, opening or between frames
        blur_faces (bool): blur every detected face in saved images, videos and crops
        track (bool): videos and streams: follow faces, count people, one verdict each
        tracker (str): bytetrack.yaml, botsort.yaml or a tracker yaml of one's own
        min_track_frames (int): frames a face must be seen in to count as a person
        zone (str | None): count only people entering this polygon (x1,y1,x2,y2,x3,y3,...) or crossing this
            line (x1,y1,x2,y2); pixels, or fractions of the frame if all <= 1
        interval (float): seconds per row of the compliance CSV
        db (str | None): a database URL for events; "": SQLite facemask.db beside the `project` folder (runs/
            by default), where the spool and snapshots go too; None: $FACEMASK_DB if set
        mqtt (str | None): an mqtt:// broker for events; None: $FACEMASK_MQTT if set
        webhook (str | None): where alerts are POSTed as JSON
        alerts (str | Path | None): an alert rules file (facemask/events/rules.py)
        snapshots (str): unmasked people's snapshots with `db`: blur, raw or off
        retain_days (float | None): how long events and snapshots are kept; None: for good
        zone_name (str | None): what events call `zone`; None: its points

    Events are settled people, so asking for any turns `track` on rather than refusing: a site that sets
    FACEMASK_DB would otherwise see every plain run fail, and tracking photos changes nothing. A bad URL,
    rules file or source is a FacemaskError before a model is loaded or a folder made."""
    events = {k: kwargs.pop(k) for k in EVENT_KEYWORDS if k in kwargs}
    return _run(DetectOptions(**kwargs), events)


def _run(opt: DetectOptions, event_kwargs: dict[str, Any]) -> RunSummary:
    """detect.run's work: what can be refused is checked first, then the model, the folder, the sinks."""
    events = EventOptions(**event_kwargs, folder=Path(opt.project).parent)
    rules = events.check()
    asked_track, opt = opt.track, replace(opt, track=opt.track or events.wanted)
    counting_zone = Zone.parse(opt.zone) if opt.zone else None
    resolved = resolve_source(opt.source)
    zone_name = events.zone_name if events.zone_name is not None else zone_label(counting_zone)
    unusable = events.unused() + unmatched(rules, resolved.items, zone_name)
    _say_what_cannot_happen(opt, asked_track, resolved.items, unusable)
    frames = iter_frames(resolved, opt.vid_stride, opt.stream_timeout)
    first = _first_frame(frames, opt.source, resolved.kind)
    detector = Detector(opt.weights, opt.settings())
    print(f"Running {shown(str(opt.weights))} at {detector.size_note}")
    inputs = [*resolved.items, opt.source] if resolved.kind.files else []  # never written into
    save_dir = run_dir(opt.project, opt.name, opt.exist_ok, kind="detect", protected=[*inputs, opt.weights])
    concurrent = resolved.kind is SourceKind.STREAMS_FILE  # several sources at once, each tracked on its own
    writer = OutputWriter(save_dir, detector.names, opt.save(), concurrent=concurrent)
    console = ConsoleSink(opt.vid_stride, len(resolved.items) if concurrent else 0)
    report = PeopleReport(save_dir / "compliance.png" if concurrent else None) if opt.track else None
    sinks = [console, writer, *([report] if report is not None else []), *([WindowSink()] if opt.view_img else [])]
    shared_people = RowWriter(save_dir / "people.csv", PEOPLE_COLUMNS) if opt.track and concurrent else None
    pipeline = _pipeline(opt, detector, writer, counting_zone, shared_people)
    try:
        sinks += [event_sink(events)] if events.wanted else []  # last: nothing can fail before the pipeline closes it
        _detect(pipeline, itertools.chain([first], frames), sinks, save_dir, console, report)
    finally:
        frames.close()  # stops the reader threads of a .streams source
        if shared_people is not None:
            shared_people.close()
    return console.summary


def _first_frame(frames: Iterator[Frame], source: str | Path, kind: SourceKind) -> Frame:
    """The source's first frame, read now: a SourceError comes before a model is loaded or a folder made, for
    a lone file that cannot be read too (a folder's are skipped and counted)."""
    first = next(frames, None)
    if first is None:
        raise SourceError(f"nothing to read in {shown(str(source))}")
    if first.error and kind in (SourceKind.IMAGE, SourceKind.VIDEO):
        raise SourceError(f"{shown(str(source))}: {first.error}")
    return first


def _say_what_cannot_happen(opt: DetectOptions, asked_track: bool, items: list[str], events: list[str]) -> None:
    """A line for each thing asked that this run will not do, rather than silence: tracking photos, a zone
    without tracking, and `events`' (an events option nothing uses, an alert rule that cannot fire)."""
    if asked_track and all(classify(item) is SourceKind.IMAGE for item in items):
        print("Note: --track follows people through videos and streams; these photos are each detected on their own")
    if opt.zone and not opt.track:
        print("Note: --zone counts the people who cross it, so it needs --track; without it, it is not used")
    for warning in events:
        warn(warning)


def _pipeline(
    opt: DetectOptions, detector: Detector, writer: OutputWriter, zone: Zone | None, shared_people: RowWriter | None
) -> Pipeline:
    """The detector, what draws (when anything is shown or saved) and, with `track`, a people counter per source
    (its files beside the writer's, under the writer's stem of the source)."""

    def people(frame: Frame, names: dict[int, str]) -> ComplianceCounter:
        return ComplianceCounter(
            writer.dir,
            writer.stem(frame),
            names,
            frame.fps,
            frame.stride,
            opt.min_track_frames,
            opt.interval,
            zone,
            opt.tracker,
            source=frame.source,
            people_csv=shared_people,
        )

    annotator = Annotator(
        detector.names,
        line_thickness=opt.line_thickness,
        hide_labels=opt.hide_labels,
        hide_conf=opt.hide_conf,
        blur_faces=opt.blur_faces,
    )
    return Pipeline(
        detector,
        annotator=annotator if (not opt.nosave or opt.view_img) else None,
        people=people if opt.track else None,
        concurrent=writer.concurrent,
    )


def _detect(
    pipeline: Pipeline,
    frames: Iterable[Frame],
    sinks: list[Sink],
    save_dir: Path,
    console: ConsoleSink,
    report: PeopleReport | None,
) -> None:
    """Run the pipeline and, however it ends, write summary.json. A stop (Ctrl-C, SIGTERM) is raised again once
    every file is saved: the pipeline closes its sinks and people counters first, and a signal that comes while
    they are saved waits (facemask.inference.stopping)."""
    try:
        pipeline.run(frames, sinks)
    except KeyboardInterrupt:
        print("Stopped: saving what was seen so far", file=sys.stderr)
        console.summary.failure = None  # stopped, not failed: a camera down at the stop is in its own record
        raise
    finally:
        with stopping.held():
            summary = console.summary.to_dict() | ({"sources": console.per_source} if console.sources else {})
            summary |= {"people": report.to_dict()} if report is not None else {}
            summary |= {"stopped_by": stopping.stopped_by()} if stopping.stopped_by() else {}
            (save_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            print(console.summary.line())
            print(f"Results saved to {save_dir}")


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    """A flag for each DetectOptions field (its default and help), then the events' (EventOptions')."""
    p = script_parser(__doc__)
    add_flags(p, DetectOptions)
    add_event_flags(p)  # --db, --mqtt, --webhook, --alerts, --snapshots, --retain-days: as app.py's
    p.add_argument("--zone-name", default=EventOptions.zone_name, help="what events call --zone (default: its points)")
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    try:
        summary = run(**vars(opt))
    except SourceUnavailable as e:  # a camera down or not up yet: starting again later may find it
        failed("detect.py", e)
    except FacemaskError as e:
        fail("detect.py", e)
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM; what was seen is saved by then
        stopping.exit_stopped("detect.py", e)
    if summary.failure:  # saved by now; a service manager's Restart=on-failure starts the run again
        failed("detect.py", summary.failure)


if __name__ == "__main__":
    main(parse_opt())
