"""The in-sandbox runner's own rules, checked without a sandbox: what it takes from a notebook."""
from __future__ import annotations

import argparse

import nbformat

from grader.runner import execute_notebook as runner


def args(**kw):
    base = dict(cell_timeout=5, kernel_name="grader-python", workdir="/job/work", output_cap=1000)
    return argparse.Namespace(**{**base, **kw})


def test_the_kernel_is_ours_whatever_the_notebook_names():
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "evil", "display_name": "e",
                                                           "language": "python"}})
    runner.sanitize(nb)
    assert "kernelspec" not in nb.metadata
    client = runner.make_client(nb, args())
    assert client.kernel_name == "grader-python"


def test_metadata_that_steers_execution_is_dropped_and_no_tag_skips_a_cell():
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"parameters": {}}, "widgets": {},
                                            "execution": {"timeout": 1}})
    cell = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["skip-execution"],
                                                        "papermill": {"exception": True}})
    nb.cells = [cell]
    runner.sanitize(nb)
    assert set(nb.metadata) <= {"language_info"}
    assert "papermill" not in cell.metadata
    client = runner.make_client(nb, args())
    assert client.skip_cells_with_tag not in cell.metadata["tags"]
    assert client.allow_errors and not client.interrupt_on_timeout


def test_probe_payload_is_the_one_display_and_two_are_a_forgery():
    import base64
    import io

    import numpy as np

    def payload(v):
        buf = io.BytesIO()
        np.savez(buf, predict__hidden=np.full(3, v))
        return {"info": {"errors": {}}, "npz": base64.b64encode(buf.getvalue()).decode()}

    def probe_cell(*values):
        cell = nbformat.v4.new_code_cell("probe")
        cell.outputs = [nbformat.v4.new_output("display_data", data={runner.PROBE_MIME: payload(v)})
                        for v in values]
        return cell

    info, blobs = {}, {}
    runner.take_probe_payload(probe_cell(2.0), info, blobs)
    with np.load(io.BytesIO(blobs["probe.npz"])) as z:
        assert z["predict__hidden"].tolist() == [2.0, 2.0, 2.0]
    assert "probe_error" not in info and info["probe_payloads"] == 1

    info, blobs = {}, {}
    runner.take_probe_payload(probe_cell(1.0, 2.0), info, blobs)
    assert blobs == {} and info["probe_error"]["ename"] == "ProbeForgery" and info["probe_payloads"] == 2

    student = [probe_cell(1.0), nbformat.v4.new_markdown_cell("x"), nbformat.v4.new_code_cell("pass")]
    assert runner.count_probe_displays(student) == 1
