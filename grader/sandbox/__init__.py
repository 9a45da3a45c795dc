"""Running untrusted notebooks: bubblewrap launch, limits, and the two job kinds."""
from .jobs import run_functions, run_notebook
from .launch import BWRAP_INSTALL_HINT
from .session import SandboxSession

__all__ = ["SandboxSession", "run_notebook", "run_functions", "BWRAP_INSTALL_HINT"]
