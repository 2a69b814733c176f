"""pytest plugin that streams test events as JSON lines for waitwise-tui.

Loaded with ``-p waitwise_pytest_plugin`` from a directory prepended to PYTHONPATH,
so nothing is installed in the user's environment. Standard library only (and pytest,
which is running it).

It writes to the file named by ``$WAITWISE_TEST_EVENTS`` (nothing when unset), never to
stdout, one object per line:
  {"event": "collected", "nodeid"}
  {"event": "collection_finished", "count"}
  {"event": "result", "nodeid", "when", "outcome", "category", "subtest", "duration",
   "message", "location", "longrepr", "stdout", "stderr"}
  {"event": "finished", "exit_code", "counts"}
``category`` is the word pytest's own summary counts the report under, asked from
pytest's ``pytest_report_teststatus`` hook as the terminal reporter asks it, so counts
equal pytest's ("subtests passed" for a passing subtest, "error" for a failing setup or
teardown, whatever a plugin adds); reports pytest does not count are not sent.
``outcome`` is one of passed, failed, skipped, error, xfailed, xpassed (for the icon).
``subtest`` is a subtest's description ("[msg] (i=1)"), "" for the test itself.

``$WAITWISE_TEST_SELECT`` names a file of node ids, one a line: only those tests run
among the ones collected under their prefix (pytest splits its arguments on every
``::``, so an id such as ``test_f[a::b]`` cannot be passed to it as an argument).
Under pytest-xdist only the controller writes; collection is reported from the first
worker's list.
"""

from __future__ import annotations

import json
import os

import pytest

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
    def __init__(self, path: str, config) -> None:
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives for the session
        self.cap = _cap()
        self.config = config
        self.counts: dict[str, int] = {}
        self.collected = False

    def emit(self, **fields: object) -> None:
        self.handle.write(json.dumps(fields) + "\n")
        # Flushed per event: the reader shows results live.
        self.handle.flush()

    def count(self, category: str) -> None:
        self.counts[category] = self.counts.get(category, 0) + 1

    def close(self) -> None:
        self.handle.close()


_stream: _Stream | None = None


def pytest_configure(config) -> None:
    global _stream
    path = os.environ.get("WAITWISE_TEST_EVENTS")
    # xdist workers would each open the file; only the controller reports.
    if path and not hasattr(config, "workerinput"):
        _stream = _Stream(path, config)


def _selection() -> set[str] | None:
    path = os.environ.get("WAITWISE_TEST_SELECT")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return {line.rstrip("\n") for line in handle if line.strip()}
    except OSError:
        return None


def pytest_collection_modifyitems(session, config, items) -> None:
    wanted = _selection()
    if wanted is None:
        return
    # Only ids under a selected test are filtered; other arguments run as given.
    prefixes = tuple(nodeid.partition("[")[0] for nodeid in wanted)
    keep, drop = [], []
    for item in items:
        under = item.nodeid.partition("[")[0] in prefixes
        (drop if under and item.nodeid not in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collectreport(report) -> None:
    if _stream is None or not report.failed:
        return
    _stream.count("error")
    text = _longrepr(report)
    _stream.emit(
        event="result",
        nodeid=report.nodeid,
        when="collect",
        outcome="error",
        category="error",
        subtest="",
        duration=0.0,
        message=_last_line(text) or "collection error",
        location=report.nodeid.split("::")[0],
        longrepr=cut(text, _stream.cap),
        stdout="",
        stderr="",
    )


def _emit_collected(nodeids) -> None:
    assert _stream is not None
    if _stream.collected:
        return
    _stream.collected = True
    count = 0
    for nodeid in nodeids:
        _stream.emit(event="collected", nodeid=nodeid)
        count += 1
    _stream.emit(event="collection_finished", count=count)


def pytest_collection_finish(session) -> None:
    # Under xdist the controller collects nothing itself; the workers' lists follow.
    if _stream is not None and not _uses_xdist(session.config):
        _emit_collected(item.nodeid for item in session.items)


def _uses_xdist(config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) or bool(
        getattr(config.option, "dist", "no") not in ("no", None)
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    # Every worker collects the same list; the first one to finish reports it.
    if _stream is not None:
        _emit_collected(ids)


def _outcome(report) -> str:
    """The icon's outcome: one of OUTCOMES."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when in ("setup", "teardown") and report.failed:
        return "error"
    return report.outcome if report.outcome in OUTCOMES else "failed"


def _category(report) -> str:
    """The word pytest's summary counts ``report`` under ("" when it is not counted)."""
    assert _stream is not None
    status = _stream.config.hook.pytest_report_teststatus(report=report, config=_stream.config)
    category = status[0] if status else ""
    return category if isinstance(category, str) else ""


def _subtest(report) -> str:
    context = getattr(report, "context", None)
    if context is None or not hasattr(context, "kwargs"):
        return ""
    describe = getattr(report, "_sub_test_description", None) or getattr(
        report, "sub_test_description", None
    )
    if describe is not None:
        try:
            return str(describe())
        except Exception:  # a plugin's private helper: fall back below
            pass
    parts = []
    if getattr(context, "msg", None) is not None:
        parts.append(f"[{context.msg}]")
    if context.kwargs:
        parts.append("(" + ", ".join(f"{k}={v}" for k, v in context.kwargs.items()) + ")")
    return " ".join(parts) or "(<subtest>)"


def _longrepr(report) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(getattr(report, "longreprtext", "") or longrepr)


def _in_project(path: str) -> str:
    """``path`` relative to pytest's rootdir, or "" when it lies outside."""
    root = str(_stream.config.rootpath) if _stream is not None else ""
    if not os.path.isabs(path):
        return path
    if root and path.startswith(root + os.sep):
        return path[len(root) + 1 :]
    return ""


def _location(report) -> str:
    """Where it went wrong (``path:line``): the last traceback line inside the project
    (an assertion helper of unittest is not where to look), else the test's own line."""
    entries = getattr(getattr(report.longrepr, "reprtraceback", None), "reprentries", None)
    for entry in reversed(entries or ()):
        fileloc = getattr(entry, "reprfileloc", None)
        path = _in_project(str(getattr(fileloc, "path", "") or ""))
        if path and getattr(fileloc, "lineno", None):
            return f"{path}:{fileloc.lineno}"
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return f"{report.longrepr[0]}:{report.longrepr[1]}"
    location = getattr(report, "location", None)
    if location and location[1] is not None:
        return f"{location[0]}:{location[1] + 1}"
    return location[0] if location else ""


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
    category = _category(report)
    subtest = _subtest(report)
    # Passing subtests are not counted at pytest's default verbosity, but still shown.
    if not category and not subtest:
        return
    if category:
        _stream.count(category)
    outcome = _outcome(report)
    text = _longrepr(report) if outcome != "passed" else ""
    _stream.emit(
        event="result",
        nodeid=report.nodeid,
        when=report.when,
        outcome=outcome,
        category=category,
        subtest=subtest,
        duration=round(float(report.duration), 6),
        message=_message(report, outcome, text),
        location=_location(report),
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
