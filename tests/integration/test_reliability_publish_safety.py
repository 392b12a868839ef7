"""Publishing the dashboard never deletes what it did not write (issue #13, item 1).

The original failure: ``dashboard_publish`` with param ``target`` (or ``MADLAKE_DASHBOARD_URI``) set to any folder
moved it aside and deleted it, then reported success; ``{"target": "<MADLAKE_HOME>"}`` erased the whole lakehouse.
These tests point the publisher at every kind of folder it must refuse and check that each one is left exactly as it
was, byte for byte, and that a real previous build is still replaced.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content hash (what must stay untouched)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A small built site (the publisher copies whatever the builder wrote)."""
    out = tmp_path / "build"
    (out / "assets").mkdir(parents=True)
    (out / "index.html").write_text("<html>index</html>")
    (out / "assets" / "madchart.js").write_text("// chart")
    (out / "site.json").write_text(json.dumps({"data_date": "2026-03-31"}))
    return out


@pytest.fixture
def home(lakehouse: Path) -> Path:
    """A lakehouse with real tables in it (catalog, warehouse files) to lose."""
    from madlake.lakehouse.tables import ensure_tables

    ensure_tables()
    (lakehouse / "notes.txt").write_text("an analyst's notes")
    return lakehouse


def test_publish_refuses_every_folder_it_did_not_write(home: Path, build: Path, tmp_path: Path) -> None:
    from madlake.dashboard.publish import UnsafeTargetError, publish_site

    user = home / "reports"
    user.mkdir()
    (user / "q3.csv").write_text("a,b\n1,2\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "thesis.tex").write_text("\\documentclass{article}")
    refused = {
        "MADLAKE_HOME": (home, "MADLAKE_HOME"),
        "its parent": (home.parent, "MADLAKE_HOME"),
        "the filesystem root": (Path("/"), "MADLAKE_HOME"),
        "the warehouse": (home / "warehouse", "warehouse"),
        "a user folder in MADLAKE_HOME": (user, "not a previous dashboard build"),
        "a folder outside the allowed roots": (outside, "not inside an allowed root"),
    }
    before = _tree(home)
    before_outside = _tree(outside)
    messages = {}
    for what, (target, reason) in refused.items():
        with pytest.raises(UnsafeTargetError, match=reason) as exc:
            publish_site(build, str(target))
        messages[what] = str(exc.value)
        assert str(target) in str(exc.value) or what == "the filesystem root", exc.value
    record("publish_refusals", targets_tried=len(refused), files_lost=0, example=messages["MADLAKE_HOME"])
    assert _tree(home) == before, "a refused publish changed MADLAKE_HOME"
    assert _tree(outside) == before_outside


def test_a_previous_build_is_replaced_but_a_file_added_to_it_stops_the_publish(home: Path, build: Path) -> None:
    from madlake.dashboard.publish import MARKER, UnsafeTargetError, publish_site

    target = home / "dashboard"
    (build / "old.html").write_text("a page the next build drops")
    publish_site(build, str(target))
    (build / "old.html").unlink()
    published = publish_site(build, str(target))
    assert sorted(_tree(target)) == sorted([*_tree(build), MARKER])
    assert published.files == 3
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(".dashboard")) == []  # nothing left behind

    (target / "mine.txt").write_text("someone saved this into the dashboard folder")
    before = _tree(target)
    with pytest.raises(UnsafeTargetError, match=r"did not write, e\.g\. \['mine\.txt'\]"):
        publish_site(build, str(target))
    assert _tree(target) == before


def test_a_forged_marker_cannot_make_the_publisher_delete_outside_its_build(home: Path, build: Path) -> None:
    from madlake.dashboard.publish import MARKER, publish_site

    target = home / "dashboard"
    target.mkdir()
    (target / "index.html").write_text("old")
    # A marker listing paths outside the build folder: only plain relative names are ever deleted.
    marker = {"publisher": "madlake-dashboard", "files": ["index.html", "../notes.txt", str(home / "notes.txt")]}
    (target / MARKER).write_text(json.dumps(marker))
    publish_site(build, str(target))
    assert (home / "notes.txt").read_text() == "an analyst's notes"
    assert (target / "index.html").read_text() == "<html>index</html>"


def test_dashboard_roots_allow_another_folder(home: Path, build: Path, tmp_path: Path, monkeypatch) -> None:
    from madlake.dashboard.publish import publish_site

    monkeypatch.setenv("MADLAKE_DASHBOARD_ROOTS", f"{tmp_path / 'sites'},s3://bucket/sites")
    published = publish_site(build, str(tmp_path / "sites" / "mad"))
    assert Path(published.index).read_text() == "<html>index</html>"


def test_dashboard_publish_dag_with_target_madlake_home_fails_and_keeps_the_lakehouse(home: Path) -> None:
    """The reproduction of the report: ``--conf '{"target": "<MADLAKE_HOME>"}'`` through Airflow."""
    from madlake.names import Dag
    from madlake.orchestration.runner import DagRunFailedError, run_dag

    run_dag(Dag.TOOLS_CATALOG)
    before = {k: v for k, v in _tree(home).items() if not k.startswith(("airflow/", "state/"))}
    with pytest.raises(DagRunFailedError, match="build_and_publish"):
        run_dag(Dag.DASHBOARD_PUBLISH, None, conf={"target": str(home)})
    after = _tree(home)
    assert (home / "catalog.db").is_file() and (home / "warehouse").is_dir()
    lost = [k for k in before if k not in after]
    record("publish_dag_madlake_home", files_before=len(before), files_lost=len(lost))
    assert not lost, lost[:10]


def test_dashboard_build_out_refuses_a_folder_that_is_not_a_build(home: Path, tmp_path: Path, capsys) -> None:
    from madlake.cli import main

    out = tmp_path / "my-documents"
    out.mkdir()
    (out / "index.html").write_text("my own page")
    assert main(["dashboard", "build", "--out", str(out)]) == 1
    assert "refusing to build into" in capsys.readouterr().err
    assert (out / "index.html").read_text() == "my own page"
