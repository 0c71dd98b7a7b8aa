#!/usr/bin/env python3
"""Held-out conformance: a fresh corpus from the peers' generator (any seed) must decode, through the
`ctibridge decode` command, with every key equal to the generator's expectations — in every framing.

  python3 scripts/conformance.py [--seed 7] [--events 10000] [--ctibridge .build/release/ctibridge]

BER: u16 (the generator's own stream), hipath, tpkt and none, each named and as `auto`, and `--hex` lines.
XML: the ECMA-323 framed stream (named and `auto`) and one document per line (`--framing none`).
Prints one line per check and a closing `N passed, M failed`; exits non-zero on any mismatch.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

from peers_common import load_peers


def frame(payload, framing):
    n = len(payload)
    if framing == 'u16':
        return struct.pack('>H', n) + payload
    if framing == 'hipath':
        return bytes([0x26]) + struct.pack('>H', n | 0x8000) + payload
    if framing == 'tpkt':
        return bytes([3, 0]) + struct.pack('>H', n + 4) + payload
    return payload


def decode(binary, path, args):
    out = subprocess.run([binary, 'decode', path] + args, capture_output=True, check=True).stdout
    return [json.loads(l) for l in out.decode('utf-8').splitlines() if l.strip()]


def compare(label, got, expected, drop=()):
    bad = 0
    first = None
    if len(got) != len(expected):
        print('%-34s FAIL: %d lines for %d frames' % (label, len(got), len(expected)))
        return False
    for g, e in zip(got, expected):
        want = {k: v for k, v in e.items() if k not in drop}
        have = {k: g.get(k) for k in want}
        if have != want:
            bad += 1
            first = first or (e.get('i'), {k: (want[k], have[k]) for k in want if want[k] != have[k]})
    print('%-34s %s (%d frames)%s' % (label, 'ok' if not bad else 'FAIL %d' % bad, len(expected),
                                      '' if not first else ' first: %s' % (first,)))
    return bad == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--events', type=int, default=10000)
    ap.add_argument('--services-every', type=int, default=50)
    ap.add_argument('--ctibridge', default=os.path.join(os.path.dirname(__file__), '..', '.build', 'release', 'ctibridge'))
    a = ap.parse_args()
    peers = load_peers()
    out = tempfile.mkdtemp(prefix='ctibridge-conformance-')
    subprocess.run([sys.executable, os.path.join(peers, 'gen_corpus.py'), '--events', str(a.events), '--seed',
                    str(a.seed), '--services-every', str(a.services_every), '--out', out], check=True,
                   stdout=subprocess.DEVNULL, cwd=peers)
    expected = [json.loads(l) for l in open(os.path.join(out, 'expected.jsonl'))]
    xexpected = [json.loads(l) for l in open(os.path.join(out, 'expected-xml.jsonl'))]
    payloads = [bytes.fromhex(l.strip()) for l in open(os.path.join(out, 'frames.hex'))]
    results = []
    for framing in ('u16', 'hipath', 'tpkt', 'none'):
        path = os.path.join(out, 'stream-%s.bin' % framing)
        with open(path, 'wb') as f:
            for p in payloads:
                f.write(frame(p, framing))
        results.append(compare('BER %s' % framing, decode(a.ctibridge, path, ['--framing', framing]), expected))
        if framing != 'none':
            results.append(compare('BER %s as auto' % framing, decode(a.ctibridge, path, []), expected))
    results.append(compare('BER hex lines', decode(a.ctibridge, os.path.join(out, 'frames.hex'), ['--hex']), expected))
    xbin = os.path.join(out, 'frames-xml.bin')
    results.append(compare('XML ecma323', decode(a.ctibridge, xbin, ['--framing', 'ecma323']), xexpected))
    results.append(compare('XML ecma323 as auto', decode(a.ctibridge, xbin, []), xexpected))
    results.append(compare('XML one per line', decode(a.ctibridge, os.path.join(out, 'frames-xml.txt'),
                                                      ['--encoding', 'xml', '--framing', 'none']),
                           xexpected, drop=('invokeId',)))
    print('corpus: seed %d, %d frames, in %s' % (a.seed, len(expected), out))
    print('%d passed, %d failed' % (sum(results), len(results) - sum(results)))
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
