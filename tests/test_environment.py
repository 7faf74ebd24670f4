"""The conda environment and pyproject.toml pin the same packages."""
from __future__ import annotations

import tomllib

import yaml

from conftest import ROOT as PROJECT_ROOT


def _pyproject_pins() -> set[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pins = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pins |= set(extra)
    return pins


def _environment_pins() -> set[str]:
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {p for p in pip if not p.startswith("-e")}


def test_environment_yml_matches_pyproject():
    assert _environment_pins() == _pyproject_pins()


def test_every_direct_dependency_is_pinned():
    assert all("==" in pin for pin in _pyproject_pins())


def test_environment_has_python_and_node():
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    plain = [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("python=3.1") for d in plain)
    assert any(d.startswith("nodejs") for d in plain)
