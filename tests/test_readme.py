"""Every ```python block of README.md runs as written: on a fresh install, offline, in an empty
folder, with an empty price cache and no files but what the block makes itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs_offline(code, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENT_IMPACT_")}
    env |= {"INCIDENT_IMPACT_OFFLINE": "1", "INCIDENT_IMPACT_CACHE_DIR": str(tmp_path / "cache")}
    work = tmp_path / "work"
    work.mkdir()
    out = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
