"""Print the lean kernel environment's requirements: pyproject's `kernel` extra, one a line.

scripts/setup.sh installs them into .venv-kernel/ with the grader venv's `pip freeze` as
constraints, so the kernel gets exactly the versions the full venv has (grades cannot change).
"""
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

data = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
print("\n".join(data["project"]["optional-dependencies"]["kernel"]))
sys.exit(0)
