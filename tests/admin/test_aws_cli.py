"""The AWS CLI, unchanged, configures Portico: the README's scripted session."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_the_readme_aws_cli_session(portico):
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    out = subprocess.run(
        ["bash", str(ROOT / "examples" / "aws-cli-session.sh"), portico.admin_url, portico.data_url],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[0]) == {"hello": "dev"}
    assert json.loads(lines[1]) == {"hello": "again"}
    stage = json.loads("\n".join(lines[2:]))
    assert stage["stage"] == "dev" and len(stage["deployment"]) == 6
