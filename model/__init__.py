"""twitchdx: why do my muscles twitch? Exact posteriors over causes, triage and next questions.

>>> from model import infer
>>> r = infer({"location": "eyelid", "duration": "under_1_week", "sleep": "short"})
>>> r.causes.index[0]
'eyelid_myokymia'
"""

from .api import Result, infer
from .interactive.interview import Interview
from .batch import BatchResult
from .network.build import Network, load_network

__all__ = ["infer", "load_network", "Network", "Result", "BatchResult", "Interview", "fit", "Fit", "write_priors"]
__version__ = "0.1.0"

# Fitting loads scipy's optimisers (over a second, and warning filters of its own):
# `import model` loads what `infer` needs, and `model.fit` arrives on first use.
_LAZY = {"fit": "learning.fit", "Fit": "learning.fit", "write_priors": "learning.fit"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        # importing model.fit binds the attribute `fit` to the module: bind the names
        # the package exports instead (the function `fit`, as `from model import fit` expects)
        for lazy, home in _LAZY.items():
            if home == _LAZY[name]:
                globals()[lazy] = getattr(module, lazy)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
