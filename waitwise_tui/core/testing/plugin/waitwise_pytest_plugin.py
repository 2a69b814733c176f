"""pytest plugin that streams test events as JSON lines for waitwise-tui.

Loaded with ``-p waitwise_pytest_plugin`` from a directory prepended to PYTHONPATH,
so nothing is installed in the user's environment. Standard library only.

It writes to the file named by ``$WAITWISE_TEST_EVENTS`` (nothing when unset), never to
stdout, one object per line:
  {"event": "collected", "nodeid"}
  {"event": "collection_finished", "count"}
  {"event": "result", "nodeid", "when", "outcome", "duration", "message",
   "longrepr", "stdout", "stderr"}
  {"event": "finished", "exit_code", "counts"}
Outcomes are passed, failed, skipped, error, xfailed, xpassed, counted the way pytest's
own summary counts them (a failing setup or teardown is an error; a collection error
is an error).
"""

from __future__ import annotations

import json
import os

OUTCOMES = ("passed", "failed", "skipped", "error", "xfailed", "xpassed")
_DEFAULT_CAP = 65536


def _cap() -> int:
    try:
        return max(256, int(os.environ.get("WAITWISE_TEST_CAPTURE_CAP", _DEFAULT_CAP)))
    except ValueError:
        return _DEFAULT_CAP


def cut(text: str, cap: int) -> str:
    """Keep the head and the tail of ``text`` when it is longer than ``cap``."""
    if len(text) <= cap:
        return text
    half = cap // 2
    dropped = len(text) - 2 * half
    return f"{text[:half]}\n[... {dropped} characters cut ...]\n{text[-half:]}"


class _Stream:
    def __init__(self, path: str) -> None:
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives for the session
        self.cap = _cap()
        self.counts = dict.fromkeys(OUTCOMES, 0)

    def emit(self, **fields: object) -> None:
        self.handle.write(json.dumps(fields) + "\n")
        # Flushed per event: the reader shows results live.
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


_stream: _Stream | None = None


def pytest_configure(config) -> None:
    global _stream
    path = os.environ.get("WAITWISE_TEST_EVENTS")
    # xdist workers would each open the file; only the controller reports.
    if path and not hasattr(config, "workerinput"):
        _stream = _Stream(path)


def pytest_collectreport(report) -> None:
    if _stream is None or not report.failed:
        return
    _stream.counts["error"] += 1
    text = _longrepr(report)
    _stream.emit(
        event="result",
        nodeid=report.nodeid,
        when="collect",
        outcome="error",
        duration=0.0,
        message=_last_line(text) or "collection error",
        longrepr=cut(text, _stream.cap),
        stdout="",
        stderr="",
    )


def pytest_collection_finish(session) -> None:
    if _stream is None:
        return
    for item in session.items:
        _stream.emit(event="collected", nodeid=item.nodeid)
    _stream.emit(event="collection_finished", count=len(session.items))


def _outcome(report) -> str | None:
    """The summary category of a test report, or None when pytest does not count it."""
    if hasattr(report, "wasxfail"):
        if report.skipped:
            return "xfailed"
        if report.passed:
            return "xpassed"
    if report.when == "call":
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped:
        return "skipped"
    return None


def _longrepr(report) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(getattr(report, "longreprtext", "") or longrepr)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _message(report, outcome: str, text: str) -> str:
    if outcome in ("xfailed", "xpassed"):
        return str(getattr(report, "wasxfail", "") or "")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message).splitlines()[0][:300] if crash.message.strip() else ""
    return _last_line(text)


def pytest_runtest_logreport(report) -> None:
    if _stream is None:
        return
    outcome = _outcome(report)
    if outcome is None:
        return
    _stream.counts[outcome] += 1
    text = _longrepr(report) if outcome != "passed" else ""
    _stream.emit(
        event="result",
        nodeid=report.nodeid,
        when=report.when,
        outcome=outcome,
        duration=round(float(report.duration), 6),
        message=_message(report, outcome, text),
        longrepr=cut(text, _stream.cap),
        stdout=cut(report.capstdout, _stream.cap),
        stderr=cut(report.capstderr, _stream.cap),
    )


def pytest_sessionfinish(session, exitstatus) -> None:
    if _stream is None:
        return
    _stream.emit(event="finished", exit_code=int(exitstatus), counts=dict(_stream.counts))


def pytest_unconfigure(config) -> None:
    global _stream
    if _stream is not None:
        _stream.close()
        _stream = None
