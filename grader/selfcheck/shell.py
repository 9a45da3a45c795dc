"""What a notebook's shell and magic lines do (`!pip install x`, `%cd /content/drive`, `!wget URL`),
and which packages the grading environment already has.

The grader re-runs notebooks with no network: installs and downloads do nothing there, and a
package that only an `!pip install` provided is missing when the notebook imports it.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

#: Commands that fetch something from the network.
DOWNLOADERS = {"wget", "curl", "gdown", "kaggle", "aria2c", "svn", "hf", "huggingface-cli"}
_GIT_NETWORK = {"clone", "pull", "fetch", "submodule"}
_SEPARATORS = {"&&", "||", ";", "|"}
_PIP_VALUE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
                      "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
                      "--platform", "--python-version", "--implementation", "--abi", "--progress-bar",
                      "--log", "--cache-dir", "--src", "--upgrade-strategy", "-C", "--config-settings",
                      "--retries", "--timeout", "--proxy", "--trusted-host", "--only-binary", "--no-binary"}

#: What the grading environment has besides the package's own requirements (their dependencies
#: that students import by name). Names are normalised as in PEP 503.
KNOWN_PROVIDED = {"tensorflow", "tensorflow-cpu", "keras", "tensorboard", "h5py", "scipy", "ipython",
                  "ipykernel", "jupyter-client", "absl-py", "protobuf", "joblib", "threadpoolctl",
                  "python-dateutil", "pytz", "tzdata", "packaging", "ml-dtypes", "opt-einsum",
                  "contourpy", "cycler", "fonttools", "kiwisolver", "pyparsing", "six", "requests",
                  "pip", "setuptools", "wheel", "sklearn"}
#: A course environment without the package metadata (a source checkout that was never installed).
FALLBACK_REQUIREMENTS = {"numpy", "nbformat", "pyyaml", "pydantic", "rich", "tensorflow-cpu", "matplotlib",
                         "scikit-learn", "pandas", "pillow"}


@dataclass
class Command:
    kind: str  # "install" | "system_install" | "download" | "other"
    text: str  # the command as written
    packages: list[str] = field(default_factory=list)  # what an install names
    words: list[str] = field(default_factory=list)  # every argument (for path and URL checks)


def commands(marker: str, line: str) -> list[Command]:
    """The commands of one `!`/`%` line, split at `&&`, `;`, `|`."""
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:  # an unclosed quote: take the words as they come
        words = line.split()
    out, current = [], []
    for w in words + [";"]:
        if w in _SEPARATORS:
            if current:
                out.append(_command(marker, current, line))
            current = []
        else:
            current.append(w)
    return out


def _command(marker: str, words: list[str], text: str) -> Command:
    if marker == "%" and words[0] in ("pip", "conda", "mamba"):  # %pip install x
        return _install(words, text)
    program = words[0].rsplit("/", 1)[-1]
    if program.startswith("python") and words[1:3] == ["-m", "pip"]:
        return _install(words[2:], text)
    if program in ("pip", "pip3", "conda", "mamba", "micromamba", "uv"):
        return _install(words[1:] if program == "uv" else words, text)
    if program in ("apt", "apt-get", "sudo", "yum", "dnf", "brew") and "install" in words:
        after = words[words.index("install") + 1:]
        return Command("system_install", text, [w for w in after if not w.startswith("-")], words)
    if program in DOWNLOADERS or (program == "git" and len(words) > 1 and words[1] in _GIT_NETWORK):
        return Command("download", text, words=words)
    return Command("other", text, words=words)


def _install(words: list[str], text: str) -> Command:
    if len(words) < 2 or words[1] != "install":
        return Command("other", text, words=words)
    packages, previous = [], ""
    for w in words[2:]:
        if previous in _PIP_VALUE_OPTIONS:
            if previous in ("-r", "--requirement"):
                packages.append(f"-r {w}")
        elif not w.startswith("-"):
            packages.append(w)
        previous = w if previous not in _PIP_VALUE_OPTIONS else ""
    return Command("install", text, packages, words)


def package_name(spec: str) -> str | None:
    """`tensorflow==2.15` -> `tensorflow`; None for a URL, a path or a requirements file."""
    if spec.startswith("-r ") or "://" in spec or "/" in spec or spec.startswith("."):
        return None
    m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    return normalise(m.group(0)) if m else None


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def provided_packages() -> set[str]:
    """Distributions the grading environment has: this package's requirements, every extra
    included (the instructor installs them all), and their usual dependencies."""
    names: set[str] = set()
    try:
        from importlib.metadata import PackageNotFoundError, requires

        reqs = requires("dl-notebook-grader") or []
    except (ImportError, PackageNotFoundError):
        reqs = []
    for req in reqs:
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
        if m:
            names.add(normalise(m.group(1)))
    if not names:
        names = {normalise(n) for n in FALLBACK_REQUIREMENTS}
    return names | KNOWN_PROVIDED
