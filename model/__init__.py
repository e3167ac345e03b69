"""twitchdx: why do my muscles twitch? Exact posteriors over causes, triage and next questions.

>>> from model import infer
>>> r = infer({"location": "eyelid", "duration": "under_1_week", "sleep": "short"})
>>> r.causes.index[0]
'eyelid_myokymia'
"""

from .api import Result, infer
from .interview import Interview
from .batch import BatchResult
from .network import Network, load_network
from .fit import Fit, fit, write_priors

__all__ = ["infer", "load_network", "Network", "Result", "BatchResult", "Interview", "fit", "Fit", "write_priors"]
__version__ = "0.1.0"
