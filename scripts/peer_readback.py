#!/usr/bin/env python3
"""Reads what `ctibridge encode` wrote back with the independent peers and compares the keys.

  python3 scripts/peer_readback.py --encoding ber EXPECTED.jsonl ENCODED.hex
  python3 scripts/peer_readback.py --encoding xml EXPECTED.jsonl ENCODED.xml-lines

BER: each hex line is decoded by asn1tools with the peers' patched ECMA-285 schema (csta_model.decode_frame).
XML: each document line is parsed by lxml and mapped by the peers' extractor (verify_corpus.xml_json).
The peers live in ../shared/tools/peers (read-only): they are copied to a scratch folder and patched there.
Prints one summary line `N passed, M failed` and exits non-zero on any mismatch.
"""
import argparse
import json
import sys

from peers_common import load_peers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--encoding', choices=['ber', 'xml'], required=True)
    ap.add_argument('expected')
    ap.add_argument('encoded')
    a = ap.parse_args()
    load_peers()
    expected = [json.loads(l) for l in open(a.expected) if l.strip()]
    encoded = [l.rstrip('\n') for l in open(a.encoded) if l.strip()]
    if len(expected) != len(encoded):
        print('line counts differ: %d expected, %d encoded' % (len(expected), len(encoded)))
        print('0 passed, %d failed' % len(expected))
        sys.exit(1)
    if a.encoding == 'ber':
        import csta_model as M
        decode = lambda line: M.decode_frame(bytes.fromhex(line))
    else:
        from lxml import etree
        import verify_corpus as V
        decode = lambda line: V.xml_json(etree.fromstring(line.encode('utf-8')))
    bad = 0
    for n, (want, line) in enumerate(zip(expected, encoded)):
        try:
            got = decode(line)
        except Exception as e:  # the peer could not read it at all
            got = {'peerError': str(e)}
        keys = [k for k in want if k not in ('i', 'invokeId')] if a.encoding == 'xml' else [k for k in want if k != 'i']
        diff = {k: (want.get(k), got.get(k)) for k in keys if want.get(k) != got.get(k)}
        if diff:
            bad += 1
            if bad <= 5:
                print('line %d differs: %s' % (n + 1, diff))
    print('%d passed, %d failed' % (len(expected) - bad, bad))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
