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
from collections.abc import Iterable
from pathlib import Path

from facemask.inference import stopping  # the standard library only: in place before the imports below

if __name__ == "__main__":
    stopping.install()  # Ctrl-C and SIGTERM stop a run alike, and save what it saw (facemask.inference.stopping)

try:  # these load torch and OpenCV for seconds: a stop meanwhile is one line, not a traceback
    from facemask.cli import (
        checked,
        fail,
        float_range,
        image_size,
        int_range,
        positive_float,
        positive_int,
        unit_float,
    )
    from facemask.errors import FacemaskError
    from facemask.events.options import EventOptions, add_event_flags, event_sink
    from facemask.files import shown
    from facemask.inference.annotate import Annotator
    from facemask.inference.console import ConsoleSink, WindowSink
    from facemask.inference.counting import RunSummary
    from facemask.inference.detector import Detector, DetectorSettings
    from facemask.inference.media import STREAM_TIMEOUT_S, Frame, SourceError, iter_frames, resolve_source
    from facemask.inference.outputs import OutputWriter
    from facemask.inference.people_files import PEOPLE_COLUMNS, RowWriter
    from facemask.inference.people_report import PeopleReport
    from facemask.inference.pipeline import Pipeline, Sink
    from facemask.inference.tracker import TRACKERS, check_tracker
    from facemask.inference.tracking import ComplianceCounter
    from facemask.inference.zones import Zone
    from facemask.model.checkpoints import run_dir
    from facemask.paths import DEFAULT_WEIGHTS, EXAMPLES_DIR, RUNS_DIR
except KeyboardInterrupt as e:
    stopping.exit_stopped("detect.py", e)


def run(
    weights: str | Path = DEFAULT_WEIGHTS,
    source: str | Path = EXAMPLES_DIR,
    imgsz: int | None = None,
    conf_thres: float = 0.25,
    iou_thres: float = 0.45,
    max_det: int = 1000,
    device: str | None = None,
    view_img: bool = False,
    save_txt: bool = False,
    save_conf: bool = False,
    save_json: bool = False,
    save_crop: bool = False,
    nosave: bool = False,
    classes: list[int] | None = None,
    project: str | Path = RUNS_DIR / "detect",
    name: str = "exp",
    exist_ok: bool = False,
    line_thickness: int = 2,
    hide_labels: bool = False,
    hide_conf: bool = False,
    half: bool = False,
    augment: bool = False,
    tile: bool = False,
    tile_overlap: float = 0.2,
    vid_stride: int = 1,
    stream_timeout: float = STREAM_TIMEOUT_S,
    blur_faces: bool = False,
    track: bool = False,
    tracker: str = "bytetrack.yaml",
    min_track_frames: int = 5,
    zone: str | None = None,
    interval: float = 60.0,
    db: str | None = EventOptions.db,
    mqtt: str | None = EventOptions.mqtt,
    webhook: str | None = EventOptions.webhook,
    alerts: str | Path | None = EventOptions.alerts,
    snapshots: str = EventOptions.snapshots,
    retain_days: float | None = EventOptions.retain_days,
    zone_name: str | None = EventOptions.zone_name,
) -> RunSummary:
    """Detect, print a line per image, save what was asked; returns the run's totals. With `track`,
    faces in videos and streams are followed and counted as people (see facemask.inference.tracking). A Ctrl-C
    (KeyboardInterrupt) is raised again once what was seen is saved.

    Events (facemask.events.options.EventOptions): `db` a database URL ("": SQLite facemask.db beside the
    `project` folder, runs/ by default, where the spool and snapshots go too; None: $FACEMASK_DB if set),
    `mqtt` an mqtt:// broker (None: $FACEMASK_MQTT), `webhook` where alerts are POSTed, `alerts` a rules
    file, `snapshots` blur, raw or off, `retain_days` how long rows and snapshots are kept, `zone_name` what
    events call `zone`. Events are settled people, so asking for any turns `track` on rather than refusing:
    a site that sets FACEMASK_DB would otherwise see every plain detect.py run fail, and tracking photos
    changes nothing. A bad URL or rules file is a FacemaskError before a source is opened."""
    events = EventOptions(
        db=db,
        mqtt=mqtt,
        webhook=webhook,
        alerts=alerts,
        snapshots=snapshots,
        retain_days=retain_days,
        zone_name=zone_name,
        folder=Path(project).parent,
    )
    events.check()
    track = track or events.wanted
    counting_zone = Zone.parse(zone) if zone else None
    resolved = resolve_source(source)
    frames = iter_frames(resolved, vid_stride, stream_timeout)
    first = next(frames, None)  # raises SourceError now, before a model is loaded or a folder made
    if first is None:
        raise SourceError(f"nothing to read in {shown(str(source))}")
    settings = DetectorSettings(imgsz, conf_thres, iou_thres, max_det, device, classes, half)
    settings.augment, settings.tile, settings.tile_overlap = augment, tile, tile_overlap
    detector = Detector(weights, settings)
    print(f"Running {shown(str(weights))} at {detector.size_note}")
    inputs = [*resolved.items, source] if resolved.kind == "files" else []  # never written into
    save_dir = run_dir(project, name, exist_ok, kind="detect", protected=[*inputs, weights])
    concurrent = resolved.kind == "streams"  # several sources at once, each tracked and counted on its own
    writer = OutputWriter(
        save_dir, detector.names, not nosave, save_txt, save_conf, save_json, save_crop, blur_faces, concurrent
    )
    console = ConsoleSink(vid_stride, len(resolved.items) if concurrent else 0)
    report = PeopleReport(save_dir / "compliance.png" if concurrent else None)
    sinks = [console, writer, *([report] if track else []), *([WindowSink()] if view_img else [])]
    shared_people = RowWriter(save_dir / "people.csv", PEOPLE_COLUMNS) if track and concurrent else None

    def people(frame: Frame, names: dict[int, str]) -> ComplianceCounter:
        return ComplianceCounter(
            save_dir,
            writer.stem(frame),
            names,
            frame.fps,
            frame.stride,
            min_track_frames,
            interval,
            counting_zone,
            tracker,
            source=frame.source,
            people_csv=shared_people,
        )

    annotator = Annotator(detector.names, line_thickness, hide_labels, hide_conf, blur_faces)
    pipeline = Pipeline(
        detector,
        annotator=annotator if (not nosave or view_img) else None,
        people=people if track else None,
        concurrent=concurrent,
    )
    try:
        sinks += [event_sink(events)] if events.wanted else []  # last: nothing can fail before the pipeline closes it
        _detect(pipeline, itertools.chain([first], frames), sinks, save_dir, console, report if track else None)
    finally:
        frames.close()  # stops the reader threads of a .streams source
        if shared_people is not None:
            shared_people.close()
    return console.summary


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
        raise
    finally:
        with stopping.held():
            summary = console.summary.to_dict() | ({"sources": console.per_source} if console.sources else {})
            summary |= {"people": report.to_dict()} if report is not None else {}
            summary |= {"stopped_by": stopping.stopped_by()} if stopping.stopped_by() else {}
            (save_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            print(console.summary.line())
            print(f"Results saved to {save_dir}")


def _zone(spec: str) -> str:
    """--zone checked when parsed (run() parses it again: it takes the text, as YOLOv5 users pass it)."""
    Zone.parse(spec)
    return spec


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="model: .pt or an export (.onnx, ...)")
    p.add_argument("--source", default=str(EXAMPLES_DIR), help="file, folder, glob, list.txt, video, 0, URL, .streams")
    p.add_argument(
        "--imgsz",
        "--img",
        "--img-size",
        dest="imgsz",
        type=image_size,
        default=None,
        help="input size (default: the size the model was trained or exported at)",
    )
    p.add_argument("--conf-thres", type=unit_float, default=0.25, help="confidence threshold (0-1)")
    p.add_argument("--iou-thres", type=unit_float, default=0.45, help="NMS IoU threshold (0-1)")
    p.add_argument("--max-det", type=positive_int(), default=1000, help="maximum faces per image")
    p.add_argument("--device", help="cpu, 0, ...")
    p.add_argument("--view-img", action="store_true", help="show results in a window")
    p.add_argument("--save-txt", action="store_true", help="YOLO labels in labels/<stem>.txt")
    p.add_argument("--save-conf", action="store_true", help="add confidences to --save-txt labels")
    p.add_argument("--save-json", action="store_true", help="every detection in predictions.json")
    p.add_argument("--save-crop", action="store_true", help="face crops in crops/<class>/")
    p.add_argument("--nosave", action="store_true", help="do not save annotated images or videos")
    p.add_argument("--classes", nargs="+", type=int_range(0), help="keep only these class ids (0 Mask, 1 No Mask)")
    p.add_argument("--project", default=str(RUNS_DIR / "detect"), help="save to project/name")
    p.add_argument("--name", default="exp", help="save to project/name")
    p.add_argument("--exist-ok", action="store_true", help="reuse project/name instead of name2, ...")
    p.add_argument("--line-thickness", type=positive_int(), default=2, help="box thickness (pixels)")
    p.add_argument("--hide-labels", action="store_true")
    p.add_argument("--hide-conf", action="store_true")
    p.add_argument("--half", action="store_true", help="FP16 inference (GPU)")
    p.add_argument("--augment", action="store_true", help="test-time augmentation (flips, scales): ~2x slower")
    p.add_argument("--tile", action="store_true", help="small faces: sliced inference over tiles of the model's size")
    p.add_argument("--tile-overlap", type=float_range(0, 0.9), default=0.2, help="overlap of neighbouring tiles")
    p.add_argument("--vid-stride", type=positive_int(), default=1, help="use every n-th video frame")
    p.add_argument(
        "--stream-timeout",
        type=positive_float(),
        default=STREAM_TIMEOUT_S,
        help="seconds a silent stream is waited for, opening or between frames",
    )
    p.add_argument("--blur-faces", action="store_true", help="blur every detected face in saved images and videos")
    p.add_argument("--track", action="store_true", help="videos/streams: follow faces, count people, one verdict each")
    p.add_argument("--tracker", type=checked(check_tracker), default=TRACKERS[0], help=f"{', '.join(TRACKERS)}, a yaml")
    p.add_argument("--min-track-frames", type=positive_int(), default=5, help="frames a face must be seen to count")
    p.add_argument(
        "--zone",
        type=checked(_zone),
        help="count only people entering this polygon (x1,y1,x2,y2,x3,y3,...) or crossing this "
        "line (x1,y1,x2,y2); pixels, or fractions of the frame if all <= 1",
    )
    p.add_argument("--interval", type=positive_float(), default=60.0, help="seconds per row of the compliance CSV")
    add_event_flags(p)  # --db, --mqtt, --webhook, --alerts, --snapshots, --retain-days: as app.py's
    p.add_argument("--zone-name", default=EventOptions.zone_name, help="what events call --zone (default: its points)")
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    try:
        run(**vars(opt))
    except FacemaskError as e:
        fail("detect.py", e)
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM; what was seen is saved by then
        stopping.exit_stopped("detect.py", e)


if __name__ == "__main__":
    main(parse_opt())
