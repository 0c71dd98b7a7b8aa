#!/usr/bin/env python3
"""Resident memory of `ctibridge serve` monitoring many devices under load.

  python3 Benchmarks/bridge/serve_memory.py [--devices 10000] [--rate 50] [--seconds 60] [--encoding ber|xml]
                                            [--ctibridge .build/release/ctibridge]

Starts `ctibridge simulate` with that many agents and mixed load, then `ctibridge serve` monitoring every agent plus
the ACD group and the route point, waits for link-up (all monitors started, snapshots and agent states taken), and
samples the daemon's VmRSS from /proc every second for the given time. Prints the time to link-up and the peak and last
resident size in MB.
"""
import argparse
import os
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--devices', type=int, default=10000)
    ap.add_argument('--rate', type=float, default=50)
    ap.add_argument('--seconds', type=int, default=60)
    ap.add_argument('--encoding', choices=['ber', 'xml'], default='ber')
    ap.add_argument('--ctibridge', default=os.path.join(os.path.dirname(__file__), '..', '..', '.build', 'release', 'ctibridge'))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix='ctibridge-memory-')
    port = free_port()
    sim = subprocess.Popen([a.ctibridge, 'simulate', '--listen', '127.0.0.1:%d' % port, '--encoding', a.encoding,
                            '--agents', str(a.devices), '--rate', str(a.rate)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    config = os.path.join(work, 'ctibridge.yaml')
    with open(config, 'w') as f:
        f.write('switch: {host: 127.0.0.1, port: %d, flavour: %s}\n'
                % (port, 'hipathBER' if a.encoding == 'ber' else 'openScapeXML'))
        f.write('monitor: {devices: "4001-%d,8001,8100", queues: "8001,8100", internalNumbers: ["96510"]}\n'
                % (4000 + a.devices))
        f.write('database: {path: %s/ctibridge.sqlite}\nhttp: {listen: ""}\nlog: {level: notice}\n' % work)
    log = os.path.join(work, 'serve.log')
    start = time.time()
    serve = subprocess.Popen([a.ctibridge, 'serve', '--config', config], stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    try:
        up = None
        while time.time() - start < 60 and up is None:
            time.sleep(0.1)
            with open(log) as f:
                if 'link up' in f.read():
                    up = time.time() - start
        peak, last = 0.0, 0.0
        for _ in range(a.seconds):
            time.sleep(1)
            last = rss_mb(serve.pid)
            peak = max(peak, last)
        print('devices %d, rate %.0f calls/s, %s: link up after %.2f s; resident peak %.1f MB, last %.1f MB over %d s'
              % (a.devices + 2, a.rate, a.encoding, up or -1, peak, last, a.seconds))
    finally:
        serve.terminate()
        serve.wait(timeout=20)
        sim.terminate()
        sim.wait(timeout=20)


if __name__ == '__main__':
    main()
