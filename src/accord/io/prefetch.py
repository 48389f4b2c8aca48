"""Run a generator one step ahead in a background thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar, cast

T = TypeVar("T")

_DONE = object()


def prefetch(source: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield what ``source`` yields, computing up to ``depth`` values ahead in another thread.

    An exception raised by ``source`` is re-raised here, at the position it occurred. If the
    consumer stops early, the producer is told to stop and is waited for."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for value in source:
                while not stop.is_set():
                    try:
                        buffer.put(value, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as exc:  # handed over to the consumer, re-raised there
            buffer.put(exc)

    worker = threading.Thread(target=produce, name="accord-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            value = buffer.get()
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            yield cast(T, value)
    finally:
        stop.set()
        while worker.is_alive():
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
