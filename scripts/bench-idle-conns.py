#!/usr/bin/env python3
"""Memory cost of idle keep-alive connections, for scripts/bench.sh.

usage: bench-idle-conns.py PORT COUNT PID [PID...]

Opens COUNT connections to 127.0.0.1:PORT, sends one keep-alive `GET /plaintext` on each and reads the
answer, so every connection has served a request and now sits idle the way a browser's keep-alive
connection does. Prints one line "rss_before_kb rss_after_kb connections" where RSS is the sum of VmRSS over
the given PIDs (a server and its worker processes), measured before connecting and once everything is idle.
"""
import resource
import socket
import sys
import time


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def main():
    port, count, pids = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))

    before = rss_kb(pids)
    request = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"
    conns = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        conns.append(s)
    for s in conns:
        data = b""
        while b"Hello, World!" not in data:
            chunk = s.recv(4096)
            if not chunk:
                sys.exit("bench-idle-conns: the server closed a keep-alive connection")
            data += chunk
    time.sleep(1.0)  # let the server settle (lazy frees, deferred work)
    after = rss_kb(pids)
    print(before, after, len(conns))
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()
