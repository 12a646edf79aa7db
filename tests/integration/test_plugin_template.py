"""The plugin template is a working plugin project: its own tests pass, run as its author runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).resolve().parents[2] / "plugins" / "template"


def test_the_templates_own_tests_pass_with_the_installed_fixtures():
    """What an author who copied the template runs: pytest in the project, fixtures from copnet."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=TEMPLATE,
                            env={"PYTHONPATH": str(TEMPLATE), "PATH": ""}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
