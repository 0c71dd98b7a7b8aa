#!/usr/bin/env python3
"""The call-model acceptance run: `ctibridge simulate --truth` with mixed load and link drops (or kill -9 of the
daemon), `ctibridge serve` on it, then `ctibridge calls --compare` and `ctibridge store check`.

  python3 Benchmarks/bridge/calls_vs_truth.py [--calls 2000] [--rate 50] [--agents 2500] [--drops 3]
                                              [--kills 0] [--encoding ber|xml] [--time-scale 1]
                                              [--ctibridge .build/release/ctibridge] [--keep DIR]

--drops N makes the switch drop the link N times while calls arrive (evenly spread); --kills N kills the daemon with
SIGKILL N times instead and restarts it at once (the switch keeps going), checking the journal and the call records
after each restart. Prints the comparison and the store check as JSON, and exits 1 when a check fails.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def lines(path):
    try:
        with open(path, 'rb') as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--calls', type=int, default=2000)
    ap.add_argument('--rate', type=float, default=50)
    ap.add_argument('--agents', type=int, default=2500)
    ap.add_argument('--drops', type=int, default=3)
    ap.add_argument('--kills', type=int, default=0)
    ap.add_argument('--encoding', choices=['ber', 'xml'], default='ber')
    ap.add_argument('--time-scale', type=float, default=1.0)
    ap.add_argument('--ctibridge', default=os.path.join(os.path.dirname(__file__), '..', '..', '.build', 'release', 'ctibridge'))
    ap.add_argument('--keep', help='keep the database, truth and logs in this folder')
    a = ap.parse_args()

    work = a.keep or tempfile.mkdtemp(prefix='ctibridge-acceptance-')
    os.makedirs(work, exist_ok=True)
    truth, db = os.path.join(work, 'truth.jsonl'), os.path.join(work, 'ctibridge.sqlite')
    for path in (truth, db):
        if os.path.exists(path):
            os.remove(path)
    port = free_port()
    arrivals = a.calls / a.rate
    sim_cmd = [a.ctibridge, 'simulate', '--listen', '127.0.0.1:%d' % port, '--encoding', a.encoding,
               '--agents', str(a.agents), '--rate', str(a.rate), '--calls', str(a.calls), '--seed', '7',
               '--time-scale', str(a.time_scale), '--truth', truth]
    if a.drops:
        sim_cmd += ['--fault', 'drop:%dms*%d' % (int(arrivals * 1000 / (a.drops + 0.5)), a.drops)]
    last = 4000 + a.agents
    config = os.path.join(work, 'ctibridge.yaml')
    with open(config, 'w') as f:
        f.write('switch: {host: 127.0.0.1, port: %d, flavour: %s, heartbeatSeconds: 5}\n'
                % (port, 'hipathBER' if a.encoding == 'ber' else 'openScapeXML'))
        f.write('monitor: {devices: "4001-%d,8001,8100", queues: "8001,8100", internalNumbers: ["96510"]}\n' % last)
        f.write('database: {path: %s}\nhttp: {listen: ""}\nlog: {level: notice}\n' % db)
    sim_log = open(os.path.join(work, 'simulate.log'), 'w')
    serve_log = open(os.path.join(work, 'serve.log'), 'a')
    serve = lambda: subprocess.Popen([a.ctibridge, 'serve', '--config', config], stdout=serve_log, stderr=serve_log)
    sim = subprocess.Popen(sim_cmd, stdout=sim_log, stderr=sim_log)
    time.sleep(0.5)
    daemon = serve()
    failures = []
    started = time.time()
    try:
        if a.kills:
            for k in range(a.kills):
                time.sleep(arrivals / (a.kills + 1))
                daemon.send_signal(signal.SIGKILL)
                daemon.wait()
                code, out, err = run([a.ctibridge, 'store', 'check', '--db', db])
                print('after kill %d: %s' % (k + 1, out or err), flush=True)
                if code != 0:
                    failures.append('store check after kill %d' % (k + 1))
                daemon = serve()
        # Wait for the load to end: the truth stops growing for 5 s after the arrivals.
        previous, still = -1, 0
        while still < 10:
            time.sleep(0.5)
            now = lines(truth)
            still = still + 1 if (now == previous and time.time() - started > arrivals) else 0
            previous = now
        time.sleep(1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            failures.append('serve did not stop on SIGTERM')
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=20)
    if daemon.returncode not in (0, None):
        failures.append('serve exited %s' % daemon.returncode)
    code, out, err = run([a.ctibridge, 'calls', '--db', db, '--compare', truth, '--json'])
    comparison = json.loads(out) if code == 0 else {'error': err}
    code, check, err = run([a.ctibridge, 'store', 'check', '--db', db])
    print(json.dumps({'calls': a.calls, 'rate': a.rate, 'agents': a.agents, 'encoding': a.encoding, 'drops': a.drops,
                      'kills': a.kills, 'comparison': comparison, 'storeCheck': json.loads(check) if check else err}))
    _, table, _ = run([a.ctibridge, 'calls', '--db', db, '--compare', truth])
    print(table)
    if code != 0:
        failures.append('store check')
    if comparison.get('duplicateCallIDs', 1) != 0:
        failures.append('a call id in two records')
    if not a.kills and comparison.get('missing', 1) != 0:
        failures.append('calls missing')
    if not a.kills and comparison.get('matchedShare', 0) < 0.995:
        failures.append('matched share below 99.5 %')
    if failures:
        print('FAILED: ' + '; '.join(failures), file=sys.stderr)
        print('files kept in ' + work, file=sys.stderr)
        sys.exit(1)
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
