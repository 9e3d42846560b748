#!/usr/bin/env python3
"""A TCP backend for health-probe scale tests, on loopback only.

Usage: tcp_backend.py PORT [BIND_ADDR] [http]. Targets are 127.0.0.0/8 addresses. Mode
"accept" accepts every connection and closes it (with "http": after answering 200 "OK"); SIGUSR1 switches to "hang": it stops accepting, so the
small backlog fills and further connection attempts hang until the prober's timeout (a dead
accept path, the worst case for a prober). SIGTERM exits.
"""
import signal
import socket
import sys
import threading

port = int(sys.argv[1])
http = len(sys.argv) > 3 and sys.argv[3] == "http"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"
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
        if http:
            c.settimeout(1.0)
            try:
                c.recv(4096)
                c.sendall(RESPONSE)
            except OSError:
                pass
        c.close()
    except InterruptedError:
        pass
