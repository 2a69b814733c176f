"""``waitwise-tui gpu``: JSON snapshot with and without (fake) NVML, text, --watch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from waitwise_tui.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["gpu", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_without_gpu_is_host_only(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # No NVIDIA driver on test machines: the real pynvml reports LibraryNotFound.
    data = run_json(capsys, "-w", str(tmp_path))
    assert data["nvml"]["ok"] is False
    assert data["nvml"]["error"]
    assert data["gpus"] == []
    host = data["host"]
    assert isinstance(host["cpu_percent"], float)  # measured over a short interval
    assert host["memory_total_bytes"] > 0
    assert "load_1m" in host


def test_json_with_fake_nvml(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "two")
    data = run_json(capsys, "-w", str(tmp_path))
    assert data["nvml"] == {
        "ok": True,
        "error": None,
        "driver": "550.54.15",
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }
    gpu = data["gpus"][0]
    for key in (
        "index",
        "name",
        "uuid",
        "util_percent",
        "memory_used_bytes",
        "memory_total_bytes",
        "temperature_c",
        "power_w",
        "power_limit_w",
        "processes",
    ):
        assert key in gpu
    proc = gpu["processes"][0]
    assert {"pid", "user", "gpu_memory_bytes", "command"} <= set(proc)


def test_json_unsupported_values_are_null(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "unsupported")
    data = run_json(capsys)
    assert data["gpus"][0]["fan_percent"] is None
    assert data["gpus"][0]["power_w"] is None


def test_text_summary(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "lost")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert main(["gpu"]) == 0
    out = capsys.readouterr().out
    assert "driver 550.54.15" in out
    assert "CUDA_VISIBLE_DEVICES=0,1" in out
    assert "[1] NVIDIA H100 80GB HBM3: ERROR GPU is lost" in out
    assert "host | CPU" in out


def test_bad_fake_spec_is_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "bogus")
    assert main(["gpu", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bogus" in err


def test_bad_workspace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["gpu", "-w", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_watch_prints_json_lines(tmp_path: Path) -> None:
    env = dict(os.environ, WAITWISE_FAKE_NVML="two")
    proc = subprocess.Popen(
        [sys.executable, "-m", "waitwise_tui", "gpu", "--watch", "0.2", "-w", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # A hung child must not hang the suite: kill it after a generous limit.
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait(timeout=10)
    utils = []
    for line in lines:
        assert line.endswith("\n") and "\n" not in line[:-1]
        data = json.loads(line)
        assert data["nvml"]["ok"] is True
        utils.append(data["gpus"][0]["util_percent"])
    assert len(set(utils)) > 1  # the fake's utilisation moves between polls
