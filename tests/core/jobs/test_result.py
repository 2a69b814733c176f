"""Reading a trial's objective back: result file, stdout marker, failures with reasons."""

from __future__ import annotations

from waitwise_tui.core.jobs.result import read_result


def test_result_file_wins(tmp_path):
    (tmp_path / "result.json").write_text('{"val_loss": 0.31, "acc": 0.9}')
    (tmp_path / "stdout.log").write_text('WAITWISE_RESULT {"val_loss": 9}\n')
    result = read_result(tmp_path, "val_loss")
    assert (result.value, result.source) == (0.31, "result file")


def test_stdout_marker_last_one_counts(tmp_path):
    (tmp_path / "stdout.log").write_text(
        'WAITWISE_RESULT {"val_loss": 1}\nnoise\nWAITWISE_RESULT {"val_loss": 2.5}\ntail\n'
    )
    result = read_result(tmp_path, "val_loss")
    assert (result.value, result.source) == (2.5, "stdout")


def test_failures_have_reasons(tmp_path):
    cases = {
        "garbage!": "not JSON",
        "[1, 2]": "JSON object",
        '{"other": 1}': "metric 'val_loss' missing",
        '{"val_loss": NaN}': "val_loss is nan",
        '{"val_loss": Infinity}': "val_loss is inf",
        '{"val_loss": "0.3"}': "not a number",
        '{"val_loss": true}': "not a number",
    }
    for text, reason in cases.items():
        (tmp_path / "result.json").write_text(text)
        result = read_result(tmp_path, "val_loss")
        assert not result.ok and reason in result.reason, (text, result)


def test_nothing_written(tmp_path):
    (tmp_path / "stdout.log").write_text("epoch 1\n")
    result = read_result(tmp_path, "val_loss")
    assert not result.ok and "no result" in result.reason


def test_last_metric_value_in_the_job_log(tmp_path):
    (tmp_path / "stdout.log").write_text(
        "step=1 val_loss=0.9 lr=0.1\nstep=2 val_loss=0.5 lr=0.1\nstep=3 val_loss=0.25 lr=0.1\n"
    )
    result = read_result(tmp_path, "val_loss")
    assert (result.value, result.source) == (0.25, "log")


def test_non_finite_last_log_value_fails(tmp_path):
    (tmp_path / "stdout.log").write_text("step=1 val_loss=0.9\nstep=2 val_loss=nan\n")
    result = read_result(tmp_path, "val_loss")
    assert not result.ok and "nan" in result.reason
