#!/usr/bin/env python3
"""Link supervision under scheduled faults, end to end through the command line (issue 3's "Must show").

  python3 Benchmarks/link/fault_soak.py [--seconds 180] [--drop 15] [--halfopen 40] [--heartbeat 5]
                                        [--devices 100] [--encoding ber|xml] [--ctibridge .build/release/ctibridge]

Runs `ctibridge simulate` with `--fault drop:Ns --fault halfopen:Ns` and an inbound load with `--truth`, and
`ctibridge tail` monitoring the agents and the ACD group. Afterwards it checks, from tail's output and the truth file:
- every link-down is followed by a link-up within twice the heartbeat;
- every call that started (per the truth file) while the link was up has its events in tail's output;
- every call that also ended before the next link-down was seen to its clearing.
`--drop 0` or `--halfopen 0` leaves that fault out (a half-open link alone shows the dead-link detection).
Prints the findings and `N passed, M failed`.
"""
import argparse
import datetime
import json
import os
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def iso(s):
    return datetime.datetime.fromisoformat(s.replace('Z', '+00:00')).timestamp()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=int, default=180)
    ap.add_argument('--drop', type=int, default=15)
    ap.add_argument('--halfopen', type=int, default=40)
    ap.add_argument('--heartbeat', type=float, default=5)
    ap.add_argument('--devices', type=int, default=100)
    ap.add_argument('--rate', type=float, default=1.0)
    ap.add_argument('--time-scale', type=float, default=0.2, help="the simulator's scale on call durations")
    ap.add_argument('--encoding', choices=['ber', 'xml'], default='ber')
    ap.add_argument('--ctibridge', default=os.path.join(os.path.dirname(__file__), '..', '..', '.build', 'release', 'ctibridge'))
    a = ap.parse_args()
    port = free_port()
    truth = '/tmp/ctibridge-soak-truth-%d.jsonl' % port
    sim = subprocess.Popen([a.ctibridge, 'simulate', '--listen', '127.0.0.1:%d' % port, '--encoding', a.encoding,
                            '--agents', str(a.devices), '--rate', str(a.rate), '--calls', '100000', '--seed', '7',
                            '--scenario', 'inbound', '--truth', truth, '--time-scale', str(a.time_scale)]
                           + (['--fault', 'drop:%ds' % a.drop] if a.drop else [])
                           + (['--fault', 'halfopen:%ds' % a.halfopen] if a.halfopen else []),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    last = 4000 + a.devices
    tail = subprocess.Popen([a.ctibridge, 'tail', '--switch', '127.0.0.1:%d' % port, '--encoding', a.encoding,
                             '--monitor', '4001-%d,8001' % last, '--heartbeat', str(a.heartbeat)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    transitions = []   # (time, state)
    seen = {}          # callID -> set of events
    end = time.time() + a.seconds
    os.set_blocking(tail.stdout.fileno(), False)
    buf = b''
    while time.time() < end:
        chunk = tail.stdout.read()
        if chunk:
            buf += chunk
            *lines, buf = buf.split(b'\n')
            now = time.time()
            for line in lines:
                try:
                    m = json.loads(line)
                except ValueError:
                    continue
                if m.get('type') == 'link':
                    transitions.append((now, m['state']))
                elif m.get('callID'):
                    # BER call ids render as lower-case hex of the octets; the truth file writes them as the switch
                    # names them. Compare case-insensitively.
                    seen.setdefault(m['callID'].lower(), set()).add(m.get('event'))
        else:
            time.sleep(0.02)
    tail.kill()
    sim.kill()
    tail.wait()
    sim.wait()
    calls = [json.loads(l) for l in open(truth)] if os.path.exists(truth) else []
    results = []
    downs = [t for t, s in transitions if s == 'down']
    ups = [t for t, s in transitions if s == 'up']
    print('link transitions: %d down, %d up; %d calls finished' % (len(downs), len(ups), len(calls)))
    for d in downs:
        nxt = [u for u in ups if u >= d]
        gap = (nxt[0] - d) if nxt else None
        ok = gap is not None and gap <= 2 * a.heartbeat
        results.append(ok)
        print('down at +%.1f s -> up after %s %s' % (d - transitions[0][0], '%.2f s' % gap if gap is not None else 'never',
                                                     'ok' if ok else 'FAIL (limit %.1f s)' % (2 * a.heartbeat)))
    # calls wholly inside an up period
    periods = []
    state_up = None
    for t, s in transitions:
        if s == 'up':
            state_up = t
        elif s == 'down' and state_up is not None:
            periods.append((state_up, t))
            state_up = None
    if state_up is not None:
        periods.append((state_up, end))
    started = unseen = 0
    for c in calls:
        st = iso(c['startedAt'])
        # A half-open switch stops sending at the fault, up to twice the heartbeat before the link can call it dead:
        # only calls that started before that window can be expected to have arrived.
        if any(a0 + 0.5 <= st <= b0 - 2 * a.heartbeat for a0, b0 in periods):
            started += 1
            if not any(cid.lower() in seen for cid in c['callIDs']):
                unseen += 1
                if unseen <= 5:
                    print('call %s (%s) started after a recovery but none of its events arrived' % (c['interactionID'], c['callIDs']))
    results.append(unseen == 0 and started > 0)
    print('calls started while the link was up: %d, their events arrived for %d' % (started, started - unseen))
    inside = missing = 0
    for c in calls:
        st, en = iso(c['startedAt']), iso(c['endedAt'])
        if any(a0 + 0.5 <= st and en <= b0 - 2 * a.heartbeat for a0, b0 in periods):
            inside += 1
            if not any(cid.lower() in seen and ({'connectionCleared', 'callCleared'} & seen[cid.lower()]) for cid in c['callIDs']):
                missing += 1
                if missing <= 5:
                    print('call %s (%s) started after a recovery but its events were not all seen' % (c['interactionID'], c['callIDs']))
    results.append(missing == 0)
    print('calls started after a recovery and ended before the next fault: %d, events complete for %d' % (inside, inside - missing))
    print('%d passed, %d failed' % (sum(results), len(results) - sum(results)))


if __name__ == '__main__':
    main()
