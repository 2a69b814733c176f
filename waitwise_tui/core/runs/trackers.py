"""How the workspace scan finds the runs of experiment trackers (MLflow, trackio, W&B).

The hook ``discover`` calls: ``wanted`` says which file names may be a tracker's store,
``sniff`` tells the format by content, ``is_file_store_run`` spots an MLflow file-store
run folder, and ``expand`` turns one store into its runs: a database holds many, each
becoming a candidate with the run's id as ``key`` and the tracker's own run name.
Listings are cached by the store's signature, so a rescan of an unchanged store costs
a ``stat``.
"""

from __future__ import annotations

import os

from waitwise_tui.core.runs import mlflowstore, stores, trackiodb, wandbfile

MULTI_RUN = frozenset({"mlflow", "trackio"})
_DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")

# path -> (signature, [(key, name)])
_listings: dict[str, tuple[tuple[int, ...], list[tuple[str, str]]]] = {}


def wanted(name: str) -> bool:
    """Whether a scan should sniff a file of this name as a possible tracker store."""
    return name.endswith(_DB_SUFFIXES) or name.endswith(".wandb")


def sniff(path: str, head: bytes) -> str | None:
    """``mlflow``, ``trackio`` or ``wandb`` for a store starting with ``head``, else None."""
    if wandbfile.is_wandb_file(head):
        return "wandb"
    if not stores.is_sqlite(head):
        return None
    tables = stores.sqlite_tables(path)
    if tables is None:
        return None
    if mlflowstore.is_mlflow_tables(tables):
        return "mlflow"
    if trackiodb.is_trackio_tables(tables):
        return "trackio"
    return None


def is_file_store_run(names: set[str], dirs: set[str]) -> bool:
    return mlflowstore.is_file_run(names, dirs)


def expand(path: str, fmt: str) -> list[tuple[str, str]] | None:
    """(key, name) of each run in the store at ``path``; None: not a multi-run format.

    An MLflow file-store run is one run named by its meta.yaml (key "").
    """
    if fmt == "mlruns":
        return [("", mlflowstore.file_run_name(path))]
    if fmt not in MULTI_RUN:
        return None
    sig = stores.signature(path)
    if sig is None:
        return []
    hit = _listings.get(path)
    if hit is not None and hit[0] == sig:
        return hit[1]
    runs = mlflowstore.list_db_runs(path) if fmt == "mlflow" else trackiodb.list_runs(path)
    if len(_listings) > 256:
        _listings.clear()
    _listings[path] = (sig, runs)
    return runs


def user_stores() -> list[str]:
    """Tracker stores kept outside any workspace: trackio's project databases."""
    return trackiodb.project_databases(trackiodb.trackio_dir())


def run_folder_name(rel: str) -> str:
    """The name of a W&B run: its folder (``wandb/run-20240101_000000-abc``)."""
    head, _, _ = rel.rpartition("/")
    return head or os.path.splitext(rel)[0]
