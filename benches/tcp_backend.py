#!/usr/bin/env python3
"""A TCP backend for health-probe scale tests, on loopback only.

Listens on 0.0.0.0:PORT restricted by the caller to 127.0.0.0/8 targets. Mode "accept" accepts
every connection and closes it (healthy); SIGUSR1 switches to "hang": it stops accepting, so the
small backlog fills and further connection attempts hang until the prober's timeout (a dead
accept path, the worst case for a prober). SIGTERM exits.
"""
import signal
import socket
import sys
import threading

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1" if len(sys.argv) < 3 else sys.argv[2], port))
s.listen(4096)
accepting = threading.Event()
accepting.set()


def hang(*_):
    accepting.clear()
    # Shrink the queue so it fills at once; queued connections are never accepted.
    s.listen(0)


signal.signal(signal.SIGUSR1, hang)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("ready", flush=True)
while True:
    if not accepting.is_set():
        signal.pause()
        continue
    try:
        c, _ = s.accept()
        c.close()
    except InterruptedError:
        pass
