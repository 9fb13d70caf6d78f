"""Ctrl-C during training: ask the loop to stop at the next point it can resume from exactly.

While ``Trainer.fit`` runs, SIGINT no longer raises ``KeyboardInterrupt`` in the middle of a
forward pass or an optimizer update (which would leave half-updated weights). Instead:

    1st and 2nd Ctrl-C   the loop finishes the batch in progress (or stops validating), writes
                         a checkpoint through its callbacks and returns; pressing twice changes
                         nothing, so an impatient double press still stops cleanly
    3rd Ctrl-C           raises KeyboardInterrupt at once, for a loop stuck inside one batch;
                         no checkpoint is written, and the last one on disk stays intact (writes
                         are atomic)

Outside the main thread (where Python delivers no signals) the guard does nothing.
"""

from __future__ import annotations

import signal
import threading


class SigintGuard:
    """A context manager counting Ctrl-C presses while it is active.

    Attributes:
        presses: how many SIGINTs arrived.
    """

    ABORT_AFTER = 3

    def __init__(self):
        self.presses = 0
        self._previous = None
        self._installed = False

    @property
    def requested(self) -> bool:
        """Whether the user asked to stop."""
        return self.presses > 0

    def _handler(self, signum, frame) -> None:
        self.presses += 1
        if self.presses >= self.ABORT_AFTER:
            raise KeyboardInterrupt

    def __enter__(self) -> SigintGuard:
        self.presses = 0
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:
            previous = self._previous
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )
            self._installed = False
