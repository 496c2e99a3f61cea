"""Face-mask detection web app (Gradio): photos, videos and a live webcam, with counts.

Deploys to a Hugging Face Space as it is (the README's front matter names this file).

Usage:
    python app.py                              # http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080   # in a container
    python app.py --share                      # a temporary public link (off unless asked)
    python app.py --cameras cams.streams       # the Cameras tab: every camera of the file, live, with counts
    FACEMASK_AUTH=admin:secret python app.py --cameras cams.streams --auth   # camera feeds behind a login
    python app.py --cameras cams.streams --db  # every person into runs/facemask.db; the tab shows days of history
    FACEMASK_DB=postgresql://user@host/db FACEMASK_MQTT=mqtt://host:1883 python app.py --cameras cams.streams

API (every tab is an endpoint; see the README for gradio_client examples):
    /detect_image  /detect_video  /detect_frame  /cameras  /collect_photo

The in-browser page (the model run by the visitor's browser), once built with `python export.py --format web`,
is served at /web/. With an event store (--db, FACEMASK_DB), the same server answers its REST API at
/api/v1/people, /intervals, /cameras, /alerts (?format=csv; docs at /docs) and Prometheus at /metrics, behind
FACEMASK_API_TOKEN when set (facemask/app/server.py).

No request can make the app read a file it names: only uploads are read (facemask/app/uploads.py). Behind
--auth, repeated failed logins from one address are made to wait (facemask/app/access.py).
"""

from __future__ import annotations

import argparse
import os
import sys

import gradio as gr
import pandas as pd

from facemask.app.access import logins
from facemask.app.cameras import camera_wall
from facemask.app.collect import collect_tab
from facemask.app.errors import UserError
from facemask.app.history import history
from facemask.app.listen import check_listen
from facemask.app.recording import AppEvents
from facemask.app.server import open_api_warning, server_kwargs
from facemask.app.service import available_models, detect_live, detect_photo
from facemask.app.ui import controls, headline, lenient, user_errors
from facemask.app.uploads import MAX_UPLOAD, only_uploads
from facemask.app.video import detect_video as _detect_video
from facemask.app.web_page import page_link
from facemask.cli import fail, port_number, script_parser
from facemask.errors import FacemaskError
from facemask.events.options import EventOptions, add_event_flags
from facemask.inference.counting import people_text, plural
from facemask.inference.stopping import install
from facemask.paths import EXAMPLES_DIR

CONCURRENCY = 2  # requests handled at once, all tabs together (one inference per model at a time, each on both
# CPU cores; the second request decodes and draws meanwhile); further requests wait in the queue
INFERENCE = {"concurrency_id": "inference", "concurrency_limit": CONCURRENCY}  # one group for every tab
QUEUE_SIZE = 64  # waiting requests beyond this are turned away with a message
PROGRESS = gr.Progress()  # gradio fills in the progress bar of the call it is passed to
MODELS = available_models()
DEFAULT_MODEL = "face_masks.pt" if "face_masks.pt" in MODELS else (MODELS[0] if MODELS else None)


@user_errors
def detect_image(
    image: str | None, model: str, conf: float, iou: float, blur: bool, tile: bool = False, augment: bool = False
):
    """Detect faces in an image file: annotated image, a headline, counts and detections. `tile` (sliced
    inference) and `augment` (test-time augmentation) find more small faces, several times slower."""
    path, counts, detections = detect_photo(image, model, conf, iou, blur, tile, augment)
    return path, headline(counts), counts, detections


@user_errors
def detect_frame(frame, model: str, conf: float, iou: float, blur: bool, track: bool = False, state=None):
    """Detect faces in one webcam frame (RGB array): annotated frame and counts; with `track`, people are
    followed across the session's frames and counted once each."""
    if frame is None:
        raise UserError("No frame received from the webcam")
    return detect_live(frame, model, conf, iou, blur, track, state)


@user_errors
def detect_video(
    video: str | None, model: str, conf: float, iou: float, blur: bool, track: bool = False, progress=PROGRESS
):
    """Detect faces in the frames of a video, at most the first MAX_VIDEO_FRAMES (totals['note'] says so when a
    video is longer): annotated video, faces over time, totals, per-frame counts; with `track`, people are
    followed and each counted once (totals['people'])."""
    sinks = [EVENTS.sink()] if EVENTS is not None and track else []  # a video's people: a run of their own
    path, timeline, totals, records = _detect_video(video, model, conf, iou, blur, track, progress, sinks)
    if "note" in totals:  # a long video was cut: said in the totals, and shown to people as a warning
        gr.Warning(totals["note"])
    return path, pd.DataFrame(timeline), totals, records


WALL = None  # the Cameras tab's CameraWall, started by main() with --cameras
EVENTS = None  # the app's AppEvents (the event store, MQTT, ...), made by main() when asked for
CAMERA_TICK_S = 1.0  # each viewer's browser asks for the newest frames this often
HISTORY_TICK_S = 60.0  # and for the history this often


def camera_views():
    """Every camera's newest frame with its counts, the totals over all cameras, and a status line; the
    same for every viewer (the cameras are analysed once, in the background)."""
    if WALL is None:
        return [], {}, "No cameras: start the app with `python app.py --cameras cams.streams` (one source a line)."
    cells, total = WALL.snapshot()
    rate = "" if total["compliance_rate"] is None else f" · {total['compliance_rate']:.0%} masked"
    state = "live" if total["running"] else total.get("error", "every source has ended")
    return cells, total, f"### {plural(len(cells), 'camera')} ({state}): {people_text(total['people'])}{rate}"


def camera_history():
    """Compliance per hour (a chart) and per day (a table) over the last days from the event store, the
    cameras' of this wall (every source in the store without one): earlier runs' too."""
    store = EVENTS.store if EVENTS is not None else None
    return history(store, WALL.sources if WALL is not None else None)


with gr.Blocks(title="Face mask detector", delete_cache=(1800, 3600)) as demo:  # uploads gone within an hour
    gr.Markdown(
        "# 😷 Face mask detector\nEvery face boxed as **Mask** (green) or **No Mask** (red), with counts. "
        "Images, videos and your webcam; uploads and results are deleted within an hour."
    )
    gr.Markdown(page_link(), elem_id="web-page-link")  # the in-browser page (web/), served at /web/
    with gr.Tab("Image"):
        with gr.Row():
            image_in = lenient(gr.Image(type="filepath", sources=["upload", "clipboard", "webcam"], label="Photo"))
            image_out = gr.Image(label="Detections", elem_id="annotated")
        image_controls = controls(MODELS, DEFAULT_MODEL)
        with gr.Row():
            tile = gr.Checkbox(False, label="Small faces: tiles (sliced inference, several times slower)")
            augment = gr.Checkbox(False, label="Test-time augmentation (flips and scales, ~2x slower)")
        image_button = gr.Button("Detect", variant="primary", elem_id="detect-image")
        image_headline = gr.Markdown(elem_id="headline")
        with gr.Row():
            image_counts = gr.JSON(label="Counts", elem_id="counts")
            image_json = gr.JSON(label="Detections")
        examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg"))
        if examples:
            gr.Examples(examples, inputs=image_in, label="Examples (click one, then Detect)")
        image_outputs = [image_out, image_headline, image_counts, image_json]
        image_inputs = [image_in, *image_controls, tile, augment]
        image_button.click(detect_image, image_inputs, image_outputs, api_name="detect_image", **INFERENCE)
    with gr.Tab("Video"):
        with gr.Row():
            video_in = gr.Video(sources=["upload"], label="Video")
            video_out = gr.Video(label="Detections")
        video_controls = controls(MODELS, DEFAULT_MODEL)
        video_track = gr.Checkbox(False, label="Count people (follow each face; one verdict per person)")
        video_button = gr.Button("Detect", variant="primary")
        chart = gr.LinePlot(x="time (s)", y="faces", color="class", label="Faces over time", height=260)
        with gr.Row():
            video_totals = gr.JSON(label="Totals (face detections over the frames analysed)")
            video_frames = gr.JSON(label="Counts per frame")
        video_outputs = [video_out, chart, video_totals, video_frames]
        video_inputs = [video_in, *video_controls, video_track]
        video_button.click(detect_video, video_inputs, video_outputs, api_name="detect_video", **INFERENCE)
    with gr.Tab("Live"):
        with gr.Row():
            cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam")
            cam_out = gr.Image(label="Detections")
        live_controls = controls(MODELS, DEFAULT_MODEL)
        live_track = gr.Checkbox(False, label="Count people (follow each face across frames)")
        live_state = gr.State(None)
        cam_counts = gr.JSON(label="Counts")
        live_inputs, live_outputs = [cam, *live_controls, live_track, live_state], [cam_out, cam_counts, live_state]
        cam.stream(
            detect_frame,
            live_inputs,
            live_outputs,
            api_name="detect_stream",
            api_visibility="private",
            stream_every=0.2,
            **INFERENCE,
        )
        # The same function as a plain endpoint: gradio_client cannot call a streaming event.
        gr.Button(visible=False).click(detect_frame, live_inputs, live_outputs, api_name="detect_frame", **INFERENCE)
    with gr.Tab("Cameras"):
        cameras_status = gr.Markdown("Waiting for the cameras ...", elem_id="cameras-status")
        camera_grid = gr.Gallery(label="Cameras", columns=2, height="auto", object_fit="contain", interactive=False)
        camera_totals = gr.JSON(label="All cameras")
        gr.Timer(CAMERA_TICK_S).tick(
            camera_views,
            None,
            [camera_grid, camera_totals, cameras_status],
            api_name="cameras",
            show_progress="hidden",
            concurrency_id="cameras",
            concurrency_limit=None,
        )
        history_status = gr.Markdown(elem_id="history-status")
        with gr.Row():
            history_chart = gr.LinePlot(
                x="hour",
                y="compliance rate",
                color="camera",
                y_lim=[0, 1],
                height=260,
                label="Compliance per hour, last 48 hours",
            )
            history_days = gr.Dataframe(label="Per day, last 14 days", interactive=False)
        history_outputs = [history_chart, history_days, history_status]
        gr.Timer(HISTORY_TICK_S).tick(
            camera_history, None, history_outputs, api_name="camera_history", show_progress="hidden"
        )
        demo.load(camera_history, None, history_outputs, api_visibility="private")  # at once, then each minute
    collect_tab(demo)  # webcam photos into runs/collect/<name>, for prelabel.py
    if not MODELS:
        gr.Markdown("**No model found in weights/**: train one (train.py) or copy a .pt there.")

demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
only_uploads(demo)  # no request can make the app read a file of the server's that it names


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = script_parser(__doc__)
    # Hugging Face Spaces sets GRADIO_SERVER_NAME/PORT; elsewhere the app stays on this machine unless told.
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="0.0.0.0 in containers")
    p.add_argument("--port", type=port_number, default=os.environ.get("GRADIO_SERVER_PORT", "7860"), help="1-65535")
    p.add_argument("--share", action="store_true", help="create a public gradio.live link")
    p.add_argument(
        "--cameras",
        default=os.environ.get("FACEMASK_CAMERAS"),
        help="a .streams file (one video, URL or webcam index a line) for the Cameras tab",
    )
    p.add_argument(
        "--weights",
        default=os.environ.get("FACEMASK_WEIGHTS", DEFAULT_MODEL),
        help="the Cameras tab's model, a name in weights/ (e.g. face_masks_int8_openvino_model: faster on a CPU)",
    )
    p.add_argument("--auth", action="store_true", help="require a login, read from $FACEMASK_AUTH (user:password)")
    add_event_flags(p)  # --db, --mqtt, --webhook, --alerts, --snapshots, --retain-days, as detect.py's
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    global WALL, EVENTS
    try:
        check_listen(opt.host, opt.port)
        auth = logins(dict(os.environ)) if opt.auth else None
        options = EventOptions.from_namespace(opt)
        EVENTS = AppEvents(options) if options.wanted else None
        sinks = [EVENTS.sink(EVENTS.run_id)] if EVENTS is not None else []
        WALL = camera_wall(opt.cameras, opt.weights, sinks) if opt.cameras else None
    except FacemaskError as e:
        if EVENTS is not None:
            EVENTS.close()
        fail("app.py", e)
    store = EVENTS.store if EVENTS is not None else None
    if warning := open_api_warning(store, opt.auth, dict(os.environ)):
        print(warning, file=sys.stderr)
    server = server_kwargs(store, metrics=EVENTS is not None)  # the page, the API, /metrics, the login brake
    try:
        _, local, public = demo.launch(
            server_name=opt.host,
            server_port=opt.port,
            share=opt.share,
            max_file_size=MAX_UPLOAD,
            auth=auth,
            footer_links=["api", "gradio"],
            app_kwargs=server,
            quiet=True,  # Gradio's own lines would say "set `share=True` in `launch()`": here it is --share
            prevent_thread_lock=True,
        )
        print(f"* Running on local URL:  {local}")
        if public:
            print(f"* Running on public URL: {public}")
        elif not opt.share:  # (a --share that failed: Gradio has said why)
            print("* To create a public link: python app.py --share")
        demo.block_thread()
    finally:  # stopped (Ctrl-C, SIGTERM): the cameras' last people settle, then every event is delivered
        if WALL is not None:
            WALL.stop()
        if EVENTS is not None:
            EVENTS.close()


if __name__ == "__main__":
    install()  # SIGTERM ends the app as Ctrl-C does, so the events still held are delivered
    main(parse_opt())
