"""A Jupyter kernel manager that connects over IPC (Unix sockets) instead of TCP.

papermill starts one kernel per chapter on this machine; over TCP, jupyter_client warns at every
start that the connection is unencrypted. Local IPC sockets are neither reachable from the network
nor noisy. Used by :func:`sslts.runner.run_chapter`.
"""

from __future__ import annotations

from jupyter_client.manager import KernelManager


class IPCKernelManager(KernelManager):
    """:class:`~jupyter_client.manager.KernelManager` with ``transport="ipc"``."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
