#!/usr/bin/env python3
"""Seed a libFuzzer corpus directory with single, unframed messages from the shared fixtures.

  seed_corpus.py SHARED_DIR OUT_DIR [--max-per-source N]

corpus-dev/frames.bin (u16 length + BER APDU) and frames-xml.bin (8-byte ECMA-323 header + XML) are split into one
file per message (every k-th frame so that each source gives at most N seeds); real/hipath/*.hex lose their 3-byte
`26 80 LL` header; real/openscape-voice captures lose their comment lines and, for *_framed.txt, the 8-byte header;
templates are taken as they are ({placeholders} and all). The fixtures are read in place, never copied into the repo.
"""
import glob
import hashlib
import os
import sys

shared, out = sys.argv[1], sys.argv[2]
limit = int(sys.argv[sys.argv.index('--max-per-source') + 1]) if '--max-per-source' in sys.argv else 300
os.makedirs(out, exist_ok=True)
written = 0


def put(payload):
    global written
    if not payload:
        return
    name = os.path.join(out, hashlib.sha1(payload).hexdigest())
    if not os.path.exists(name):
        with open(name, 'wb') as f:
            f.write(payload)
        written += 1


def split(path, header):
    if not os.path.exists(path):
        return []
    b = open(path, 'rb').read()
    frames, o = [], 0
    while o + header <= len(b):
        if header == 2:
            n = b[o] << 8 | b[o + 1]
            frames.append(b[o + 2:o + 2 + n])
            o += 2 + n
        else:
            n = b[o + 2] << 8 | b[o + 3]
            if n < 8:
                break
            frames.append(b[o + 8:o + n])
            o += n
    return frames


dev = os.path.join(shared, 'fixtures/corpus-dev')
for frames in (split(os.path.join(dev, 'frames.bin'), 2), split(os.path.join(dev, 'frames-xml.bin'), 8)):
    step = max(1, len(frames) // limit)
    for f in frames[::step]:
        put(f)
    # services are rare in the dev corpus: take every frame that is not an event report
    for f in frames:
        if (f[:1] != b'<' and b'\x02\x01\x15' not in f[:16]) or (f[:1] == b'<' and b'Event' not in f[:120]):
            put(f)

for p in sorted(glob.glob(os.path.join(shared, 'fixtures/real/hipath/*.hex'))):
    raw = bytes.fromhex(''.join(l for l in open(p).read().split() if not l.startswith('#')))
    put(raw[3:] if raw[:1] == b'\x26' else raw)

for p in sorted(glob.glob(os.path.join(shared, 'fixtures/real/openscape-voice/*/*'))):
    data = open(p, 'rb').read()
    lines = [l for l in data.split(b'\n') if not l.startswith(b'#')]
    data = b'\n'.join(lines).strip(b'\n')
    if data[:2] == b'\x00\x00' and len(data) > 8:
        data = data[8:]
    put(data)

print('seeded %s: %d new inputs, %d in total' % (out, written, len(os.listdir(out))))
