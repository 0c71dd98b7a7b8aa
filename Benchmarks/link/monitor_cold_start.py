#!/usr/bin/env python3
"""Monitor start for thousands of devices from a cold start, against the project's own simulator.

  python3 Benchmarks/link/monitor_cold_start.py [--devices 5000] [--rounds 5] [--encoding ber|xml]
                                                [--ctibridge .build/release/ctibridge]

Each round starts `ctibridge simulate` with that many agents, then `ctibridge tail --monitor 4001-…` as a new
process and times from launching `tail` to its `{"type":"link","state":"up"}` line — process start-up, TCP connect,
association, one MonitorStart per device and one SnapshotDevice per device (the link publishes link-up only after
both). Prints every round and the median.
"""
import argparse
import os
import socket
import statistics
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--devices', type=int, default=5000)
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--encoding', choices=['ber', 'xml'], default='ber')
    ap.add_argument('--ctibridge', default=os.path.join(os.path.dirname(__file__), '..', '..', '.build', 'release', 'ctibridge'))
    a = ap.parse_args()
    times = []
    for r in range(a.rounds):
        port = free_port()
        sim = subprocess.Popen([a.ctibridge, 'simulate', '--listen', '127.0.0.1:%d' % port, '--encoding', a.encoding,
                                '--agents', str(a.devices), '--calls', '0'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            time.sleep(0.3)  # the probe connection above must be gone before the link connects
            last = 4000 + a.devices
            start = time.perf_counter()
            tail = subprocess.Popen([a.ctibridge, 'tail', '--switch', '127.0.0.1:%d' % port, '--encoding', a.encoding,
                                     '--monitor', '4001-%d' % last], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            up = None
            for line in tail.stdout:
                if b'"type":"link"' in line and b'"state":"up"' in line:
                    up = time.perf_counter() - start
                    break
            tail.kill()
            tail.wait()
            if up is None:
                raise SystemExit('round %d: the link never came up' % (r + 1))
            times.append(up)
            print('round %d: %d devices monitored and snapshotted, link up after %.3f s' % (r + 1, a.devices, up))
        finally:
            sim.kill()
            sim.wait()
    print('median %.3f s (min %.3f, max %.3f) over %d rounds' % (statistics.median(times), min(times), max(times), len(times)))


if __name__ == '__main__':
    main()
