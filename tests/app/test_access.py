"""Logins: read from the environment only, never repeated; and guessing them is slowed down per client: a
few failures, then each try must wait, twice as long after each failure, until a login succeeds. Tried on
Gradio's own /login route, served with the brake app.py gives it (small waits, so the test is quick)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from facemask.app.access import LoginPolicy, LoginThrottle, login_brake, logins
from facemask.errors import FacemaskError
from tests.conftest import free_port
from tests.scripts import run_script

POLICY = LoginPolicy(free=3, wait_s=0.5, max_wait_s=1.0)
RIGHT, WRONG = {"username": "guard", "password": "long-passphrase"}, {"username": "guard", "password": "guess"}


def test_logins_come_from_the_environment_and_are_never_repeated() -> None:
    assert logins({"FACEMASK_AUTH": "admin:s3cret, guard:pa:ss"}) == [("admin", "s3cret"), ("guard", "pa:ss")]
    for env in ({}, {"FACEMASK_AUTH": " "}, {"FACEMASK_AUTH": "admin"}, {"FACEMASK_AUTH": "admin:"}):
        with pytest.raises(FacemaskError) as e:
            logins(env)
        assert "admin" not in str(e.value)


def test_the_app_refuses_auth_without_logins(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    run = run_script(
        root / "app.py",
        ["--auth", "--port", str(free_port())],
        tmp_path,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert run.code == 2 and "FACEMASK_AUTH" in run.stderr and "Traceback" not in run.stderr


def test_the_app_serves_its_login_with_the_brake(launched, monkeypatch) -> None:
    import app

    monkeypatch.setenv("FACEMASK_AUTH", "guard:long-passphrase")
    app.main(app.parse_opt(["--auth", "--port", str(free_port())]))
    assert launched["auth"] == [("guard", "long-passphrase")]
    assert [m.cls for m in launched["app_kwargs"]["middleware"]] == [LoginThrottle]


@pytest.fixture(scope="module")
def login_url() -> Iterator[str]:
    """A Gradio app behind a login, with the brake at POLICY."""
    import gradio as gr

    with gr.Blocks() as demo:
        gr.Markdown("behind a login")
    port, auth = free_port(), [(RIGHT["username"], RIGHT["password"])]
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        auth=auth,
        app_kwargs={"middleware": login_brake(POLICY)},
    )
    yield f"http://127.0.0.1:{port}/login"
    demo.close()


def visitor(address: str) -> httpx.Client:
    """A client from its own loopback address (127.0.0.x all reach the server on 127.0.0.1)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_failed_logins_are_slowed_down_per_client(login_url) -> None:
    with visitor("127.0.0.2") as guesser, visitor("127.0.0.3") as other:
        assert [guesser.post(login_url, data=WRONG).status_code for _ in range(POLICY.free)] == [400] * POLICY.free
        refused = guesser.post(login_url, data=RIGHT)  # even the right password: turned away unchecked
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 1
        assert refused.json()["detail"] == "Too many failed logins from your address: try again in 1 s"
        assert other.post(login_url, data=RIGHT).status_code == 200  # another client is not slowed down
        time.sleep(POLICY.wait_s)
        assert guesser.post(login_url, data=WRONG).status_code == 400  # one try after the wait ...
        assert guesser.post(login_url, data=RIGHT).status_code == 429  # ... then a wait twice as long
        time.sleep(POLICY.max_wait_s)
        assert guesser.post(login_url, data=RIGHT).status_code == 200  # a login clears the count
        assert [guesser.post(login_url, data=WRONG).status_code for _ in range(POLICY.free)] == [400] * POLICY.free


def test_tries_sent_at_once_are_counted_at_once(login_url) -> None:
    with visitor("127.0.0.4") as guesser, ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: guesser.post(login_url, data=WRONG).status_code, range(16)))
    assert sorted(codes) == [400] * POLICY.free + [429] * (16 - POLICY.free)
