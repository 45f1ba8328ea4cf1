"""Progress reporting of long library calls: a tqdm bar (opt-in) and the ``"boltzspin"`` logger.

Library calls are silent by default.  ``progress=True`` (a keyword of
:func:`boltzspin.transport`, :func:`boltzspin.magnetization`,
:func:`boltzspin.equilibrium_current` and :func:`boltzspin.converge`) draws a tqdm bar on
stderr, as the ``boltzspin`` command line does for studies.  Independently, every stage
is logged to ``logging.getLogger("boltzspin")``: ``INFO`` for the start and end of a call,
``DEBUG`` for each stage with its duration.  Enable it with, e.g.,
``logging.basicConfig(level=logging.INFO)``.
"""

from __future__ import annotations

import contextvars
import logging
import time

__all__ = ["LOGGER", "bar", "Stages", "note"]

#: The package logger (no handler is installed: the application configures logging).
LOGGER = logging.getLogger("boltzspin")

#: The bar of the innermost running call, if it asked for one (inner stages report to it).
_ACTIVE = contextvars.ContextVar("boltzspin_progress_bar", default=None)
#: Nesting depth of running calls: only the outermost logs its start and end at INFO.
_DEPTH = contextvars.ContextVar("boltzspin_call_depth", default=0)


def note(text):
    """Report the progress of an inner loop (e.g. a k-grid refinement level).

    Logged at DEBUG and shown as the postfix of the active bar, so a long single stage is
    not silent.  Cheap when nothing listens.

    Parameters
    ----------
    text : str
        What has just been done.
    """
    LOGGER.debug("%s", text)
    active = _ACTIVE.get()
    if active is not None:
        active.set_postfix_str(text, refresh=True)


class _Silent:
    """Stand-in for a disabled bar: accepts the tqdm calls used here and does nothing."""

    def update(self, n=1):
        pass

    def set_postfix_str(self, s="", refresh=True):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def bar(total, desc, unit, enabled):
    """A tqdm bar on stderr when ``enabled``, else a silent stand-in (tqdm is not even imported).

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Label in front of the bar.
    unit : str
        Name of one step.
    enabled : bool
        Whether to draw anything.

    Returns
    -------
    tqdm.tqdm or object
        The bar, or an object accepting the same calls that does nothing.
    """
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)


class Stages:
    """Timed stages of one call: logged at DEBUG, shown as the postfix of ``bar`` (if any).

    The outermost call logs its start and end at INFO, nested calls at DEBUG.  While it is
    open, :func:`note` reports to its bar.

    Parameters
    ----------
    name : str
        Name of the call in the log (e.g. ``"transport mu=1"``).
    progress_bar : object
        From :func:`bar`.

    Examples
    --------
    >>> with Stages("transport", bar(3, "transport", "stage", False)) as st:
    ...     st.done("geometry")
    """

    def __init__(self, name, progress_bar):
        self.name, self.bar = name, progress_bar
        self.start = self.last = time.perf_counter()
        self._token = _ACTIVE.set(progress_bar if not isinstance(progress_bar, _Silent) else _ACTIVE.get())
        self._level = logging.INFO if _DEPTH.get() == 0 else logging.DEBUG
        self._depth = _DEPTH.set(_DEPTH.get() + 1)
        LOGGER.log(self._level, "%s started", name)

    def done(self, stage, detail=""):
        """Record that a stage finished: log it with its duration and advance the bar.

        Parameters
        ----------
        stage : str
            Name of the stage.
        detail : str
            E.g. the number of Fermi points.
        """
        now = time.perf_counter()
        LOGGER.debug("%s: %s done in %.3g s%s", self.name, stage, now - self.last, f" ({detail})" if detail else "")
        self.last = now
        self.bar.set_postfix_str(stage, refresh=False)
        self.bar.update(1)

    def close(self, failure=None):
        """Close the bar and log the total time (once; later calls do nothing).

        Parameters
        ----------
        failure : BaseException, optional
            The exception, if the call failed.
        """
        if self._token is None:
            return
        try:
            _ACTIVE.reset(self._token)
            _DEPTH.reset(self._depth)
        except ValueError:  # closed in another context: leave the variables alone
            pass
        self._token = None
        self.bar.close()
        elapsed = time.perf_counter() - self.start
        if failure is None:
            LOGGER.log(self._level, "%s finished in %.3g s", self.name, elapsed)
        else:
            LOGGER.log(self._level, "%s failed after %.3g s: %s", self.name, elapsed, type(failure).__name__)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(exc)
        return False
