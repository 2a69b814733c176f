"""Plain-text logs, Hugging Face dict lines, trainer_state.json and JSON lines."""

from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import candidate, key, read_in_two, read_whole

from waitwise_tui.core.runs.hf import parse_dict_line
from waitwise_tui.core.runs.readers import open_tail, read_all

TEXT_LOG = (
    "Loading dataset... 2024-01-01 12:00:00 pid 4242\n"
    "iter 0: loss 4.2000, time 12.3ms, mfu -100.00%\n"
    "step 250: train loss 1.9000, val loss 2.0000\n"
    "{'loss': 2.34, 'learning_rate': np.float64(4.9e-05), 'grad_norm': nan, 'epoch': 0.01}\n"
    "Epoch(train) [2][658/742]  lr: 1.0e-02  eta: 0:01:23  time: 0.5  loss: 0.123\n"
    "Epoch [1][10/742]\tlr: 1.0e-02, eta: 0:01:23, loss: 0.5\n"
    "2024-01-01 12:00:00 pid=123 INFO step=5 loss=0.7 lr=0.1\n"
    "loss: 0.5, acc: 0.9\n"
    "just one=1 pair\n"
    "Epoch 3:  45%|####  | 658/1463 [01:23<01:40, 7.9it/s, loss=0.123, v_num=1]\r"
    "Epoch 3:  46%|####  | 670/1463 [01:23<01:40, 7.9it/s, loss=0.122, v_num=1]\n"
)


def _triples(path, fmt):
    return [(p.metric, p.step, p.value) for p in read_all(candidate(path, fmt)).points]


def test_text_shapes(tmp_path) -> None:
    path = tmp_path / "nohup.out"
    path.write_text(TEXT_LOG)
    update = read_all(candidate(path, "text"))
    got = [(p.metric, p.step, p.value) for p in update.points]
    nan_points = [t for t in got if isinstance(t[2], float) and math.isnan(t[2])]
    assert nan_points == [("grad_norm", 0.01, nan_points[0][2])]
    got = [t for t in got if t not in nan_points]
    assert got == [
        ("loss", 0, 4.2),
        ("time", 0, 12.3),
        ("mfu", 0, -100.0),
        ("train loss", 250, 1.9),
        ("val loss", 250, 2.0),
        ("loss", 0.01, 2.34),
        ("learning_rate", 0.01, 4.9e-05),
        ("lr", 742 + 658, 0.01),
        ("time", 742 + 658, 0.5),
        ("loss", 742 + 658, 0.123),
        ("lr", 10, 0.01),
        ("loss", 10, 0.5),
        ("loss", 5.0, 0.7),
        ("lr", 5.0, 0.1),
        ("loss", 1, 0.5),
        ("acc", 1, 0.9),
        ("loss", 3 * 1463 + 658, 0.123),
        ("loss", 3 * 1463 + 670, 0.122),
    ]
    assert update.progress == (670.0, 1463.0)
    assert not update.finished


def test_progress_from_the_bar_being_drawn(tmp_path) -> None:
    path = tmp_path / "train.log"
    path.write_bytes(b"Epoch 0:  10%|#   | 5/50 [00:01<00:09]\rEpoch 0:  20%|##  | 10/50 [00:02<")
    tail = open_tail(candidate(path, "text"))
    assert tail.poll().progress == (10.0, 50.0)
    with open(path, "ab") as fh:
        fh.write(b"00:08]\r  658/742 [=====>....] - ETA: 1s - loss: 0.1")
    assert tail.poll().progress == (658.0, 742.0)


def test_keras_bars_continue_across_epochs(tmp_path) -> None:
    path = tmp_path / "train.log"
    path.write_text(
        "Epoch 1/2\n"
        "10/10 [==============================] - 1s 13ms/step - loss: 0.5 - accuracy: 0.8\n"
        "Epoch 2/2\n"
        " 5/10 [==============>...............] - ETA: 0s - loss: 0.4 - accuracy: 0.85\n"
    )
    update = read_all(candidate(path, "text"))
    assert [(p.metric, p.step, p.value) for p in update.points] == [
        ("loss", 10, 0.5),
        ("accuracy", 10, 0.8),
        ("loss", 15, 0.4),
        ("accuracy", 15, 0.85),
    ]
    assert update.progress == (5.0, 10.0)


def test_dates_and_ratios_are_not_progress(tmp_path) -> None:
    path = tmp_path / "train.log"
    path.write_text("date 01/02/2024 [info]\nsaved 3/4 files\n")
    update = read_all(candidate(path, "text"))
    assert update.progress is None and update.points == []


@pytest.mark.parametrize(
    "line",
    [
        "Training complete",
        "`Trainer.fit` stopped: `max_epochs=3` reached.",
        "Finished training",
        "Done!",
    ],
)
def test_end_markers(tmp_path, line) -> None:
    path = tmp_path / "train.log"
    path.write_text(f"step=1 loss=2\n{line}\n")
    assert read_all(candidate(path, "text")).finished


def test_not_an_end_marker(tmp_path) -> None:
    path = tmp_path / "train.log"
    path.write_text("step=1 loss=2\nDone! not really, resuming\nalmost done!\n")
    assert not read_all(candidate(path, "text")).finished


def test_parse_dict_line_is_safe() -> None:
    assert parse_dict_line("{'loss': inf, 'x': -inf, 'flag': True, 'name': 'a'}") == {
        "loss": math.inf,
        "x": -math.inf,
    }
    assert parse_dict_line("{'loss': __import__('os').system('true')}") is None
    assert parse_dict_line("{'a': np.float32(1.5), 'b': np.int64(3)}") == {"a": 1.5, "b": 3.0}
    assert parse_dict_line("no dict here") is None


def test_jsonl_keys_nesting_and_counter(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"global_step": 5, "loss": 0.5, "eval": {"acc": 0.9}, "done": true, "tag": "x"}\n'
        '{"loss": NaN, "lr": Infinity}\n'
        "not json\n"
        "[1, 2]\n"
        '{"loss": 0.25, "timestamp": 1700000000.5}\n'
    )
    pts = read_all(candidate(path, "jsonl")).points
    assert [(p.metric, p.step) for p in pts] == [
        ("loss", 5),
        ("eval/acc", 5),
        ("loss", 1.0),
        ("lr", 1.0),
        ("loss", 2.0),
    ]
    assert math.isnan(pts[2].value) and pts[3].value == math.inf
    assert pts[4].wall_time == 1700000000.5


def _state(history, step=0, max_steps=100) -> str:
    return json.dumps({"global_step": step, "max_steps": max_steps, "log_history": history})


def test_trainer_state_incremental_and_reset(tmp_path) -> None:
    path = tmp_path / "trainer_state.json"
    h = [{"loss": 1.0, "step": 10, "epoch": 0.1}]
    path.write_text(_state(h, 10))
    tail = open_tail(candidate(path, "trainer_state"))
    up = tail.poll()
    assert [(p.metric, p.step) for p in up.points] == [("loss", 10)]
    assert up.progress == (10.0, 100.0) and not up.finished
    h.append({"eval_loss": 1.2, "step": 10})
    h.append({"loss": 0.8, "step": 20})
    path.write_text(_state(h, 20) + " ")
    up = tail.poll()
    assert [(p.metric, p.step) for p in up.points] == [("eval_loss", 10), ("loss", 20)]
    assert not up.reset
    path.write_text("{ half written")
    assert tail.poll().points == []
    path.write_text(_state([{"loss": 3.0, "step": 5}], 100))
    up = tail.poll()
    assert up.reset and [(p.metric, p.value) for p in up.points] == [("loss", 3.0)]
    assert up.finished
    os.remove(path)
    assert tail.poll().gone


def test_trainer_output_dir_follows_the_newest_checkpoint(tmp_path) -> None:
    out = tmp_path / "out"
    first = out / "checkpoint-10" / "trainer_state.json"
    first.parent.mkdir(parents=True)
    h = [{"loss": 1.0, "step": 10}]
    first.write_text(_state(h, 10))
    os.utime(first, (1, 1))
    tail = open_tail(candidate(out, "trainer_state"))
    assert [p.step for p in tail.poll().points] == [10]
    second = out / "checkpoint-20" / "trainer_state.json"
    second.parent.mkdir()
    second.write_text(_state([*h, {"loss": 0.5, "step": 20}], 20))
    up = tail.poll()
    assert [(p.step, p.value) for p in up.points] == [(20, 0.5)] and not up.reset
    first.unlink()
    assert tail.poll() == tail.poll()
    assert not tail.poll().gone


HF_LINES = (
    "{'loss': 2.34, 'learning_rate': 4.9e-05, 'epoch': 0.01}\n"
    "{'eval_loss': nan, 'epoch': 0.02}\n"
    "{'train_runtime': 12.5, 'train_samples_per_second': np.float64(3.5)}\n"
    "Training completed. Do not forget to share your model\n"
)
JSONL = '{"step": 1, "loss": 0.5}\n{"step": 2, "loss": NaN, "m": {"a": 1}}\n'


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=st.sampled_from([(TEXT_LOG, "text"), (HF_LINES, "text"), (JSONL, "jsonl")]),
    cut=st.integers(min_value=0, max_value=10**6),
)
def test_truncated_then_completed_equals_whole(tmp_path_factory, case, cut) -> None:
    text, fmt = case
    path = tmp_path_factory.mktemp("t") / "log.txt"
    data = text.encode()
    got = read_in_two(path, data, cut % (len(data) + 1), fmt)
    assert key(got) == key(read_whole(path, fmt))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.text(alphabet="{}[]'\":,=|/ 0123456789.eEnaNIfiterstpolsx-\n\r", max_size=500).map(
            str.encode
        ),
    ),
    fmt=st.sampled_from(["text", "jsonl", "trainer_state"]),
)
def test_random_bytes_never_raise(tmp_path_factory, data, fmt) -> None:
    path = tmp_path_factory.mktemp("r") / "x.log"
    path.write_bytes(data)
    read_all(candidate(path, fmt))


def test_labelled_counts_and_epoch_lines(tmp_path) -> None:
    path = tmp_path / "train.log"
    path.write_text(
        "train 166/3000 loss=0.41\n"
        "step 5 of 100, loss 0.3\n"
        "Epoch 1/200 | Loss: 0.6924 | Acc: 85.0% | Time: 3.2s\n"
        "Epoch 2/200 - Train Loss: 0.5 - Val Loss: 0.6\n"
        "saved 3/4 files\n"
        "Accuracy : 0.75\n"
        "Precision : 0.7\n"
    )
    update = read_all(candidate(path, "text"))
    assert [(p.metric, p.step, p.value) for p in update.points] == [
        ("loss", 166, 0.41),
        ("loss", 5, 0.3),
        ("loss", 1, 0.6924),
        ("acc", 1, 85.0),
        ("time", 1, 3.2),
        ("train_loss", 2, 0.5),
        ("val_loss", 2, 0.6),
    ]
    assert update.progress == (2.0, 200.0)


@pytest.mark.parametrize(
    ("tail", "crash"),
    [
        (
            'Traceback (most recent call last):\n  File "t.py", line 3\nValueError: bad\n',
            "ValueError: bad",
        ),
        (
            "RuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n",
            "RuntimeError: CUDA out of memory. Tried to allocate 2 GiB",
        ),
        ("Killed\n", "Killed"),
        ("Killed\nstep=2 loss=1\n", None),  # training went on after it
    ],
)
def test_crash_lines_at_the_end_of_a_log(tmp_path, tail, crash) -> None:
    path = tmp_path / "train.log"
    path.write_text("step=1 loss=2\n" + tail)
    assert read_all(candidate(path, "text")).crash == crash
