#!/usr/bin/env python3
"""Timed rounds for Benchmarks/peers/compare.sh: peers and ctibridge interleaved, medians, markdown table.

  compare.py --peers DIR --corpus DIR [--rounds 3] [--ctibridge BIN] [--asn1tools]
             [--results FILE.md] [--docs docs/performance.md]

Each round runs every anchor once, in a fixed order (asn1c, libxml2 SAX2, libxml2 xmlReader, membw BER/XML,
ctibridge BER, ctibridge XML, [asn1tools]), so machine noise spreads over all anchors instead of hitting one.

What is timed:
  * peers: their own in-process timer (decode loop only, input already in memory), the JSON they print;
  * ctibridge: the whole process, fork to exit (start-up, reading the file, framing, decoding, the stats line),
    measured here with time.perf_counter() around subprocess.run. Its own `seconds` from --stats is shown too.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument('--peers', required=True, help='the scratch copy of shared/tools/peers (with built benches)')
ap.add_argument('--corpus', required=True, help='directory with frames.bin, frames-xml.bin, expected.jsonl')
ap.add_argument('--rounds', type=int, default=3)
ap.add_argument('--ctibridge', help='release ctibridge binary; omitted = peers only')
ap.add_argument('--asn1tools', action='store_true', help='also time asn1tools (slow: ~9 s per round)')
ap.add_argument('--results', help='write the markdown here as well as to stdout')
ap.add_argument('--docs', help='replace the section between the markers in this markdown file')
a = ap.parse_args()

ber = os.path.join(a.corpus, 'frames.bin')
xml = os.path.join(a.corpus, 'frames-xml.bin')
for f in (ber, xml):
    if not os.path.exists(f):
        sys.exit('compare.py: missing %s' % f)
nev = sum(1 for line in open(os.path.join(a.corpus, 'expected.jsonl')) if '"CSTAEventReport"' in line)
nframes = sum(1 for _ in open(os.path.join(a.corpus, 'expected.jsonl')))
ber_mb = os.path.getsize(ber) / 1e6
xml_mb = os.path.getsize(xml) / 1e6


def jrun(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit('compare.py: %s exited %d:\n%s%s' % (' '.join(cmd), p.returncode, p.stdout, p.stderr))
    out = [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{')]
    if not out:
        raise SystemExit('compare.py: %s printed no JSON line:\n%s%s' % (' '.join(cmd), p.stdout, p.stderr))
    return out[-1]


def timed(cmd):
    """Whole-process wall time (fork..exit) and the last JSON line of stdout."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit('compare.py: %s exited %d:\n%s%s' % (' '.join(cmd), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    stats = [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{') and '"frames"' in l]
    if not stats:
        raise SystemExit('compare.py: %s printed no {"frames":…} stats line:\n%s%s' % (' '.join(cmd), p.stdout[-2000:], p.stderr[-2000:]))
    return dt, stats[-1]


# name -> dict(group, mb, note, runs=[seconds], extra=[...])
anchors = {}
order = []


def add(name, group, mb, note, sec, extra=None):
    if name not in anchors:
        anchors[name] = dict(group=group, mb=mb, note=note, runs=[], extra=[])
        order.append(name)
    anchors[name]['runs'].append(sec)
    if extra is not None:
        anchors[name]['extra'].append(extra)


bench = os.path.join(a.peers, 'bench')
empty = os.path.join(a.peers, 'empty.bin')
open(empty, 'wb').close()
startup = []
membw = {'BER': [], 'XML': []}
loads = []
problems = []
t_start = time.time()
for r in range(a.rounds):
    loads.append(os.getloadavg()[0])
    print('round %d/%d (load %.2f)' % (r + 1, a.rounds, loads[-1]), file=sys.stderr, flush=True)
    j = jrun([os.path.join(a.peers, 'asn1c-build/asn1c_bench'), ber, '1'])
    add('asn1c BER decode (C, -O2)', 'BER', ber_mb, 'peer, in-process: ROSE + CSTAEventReportArgument, malloc/free per PDU', j['sec'])
    for mode, label in (('sax', 'libxml2 SAX2 (C, -O2)'), ('reader', 'libxml2 xmlReader (C, -O2)')):
        j = jrun([os.path.join(bench, 'xml_bench'), xml, mode, '1'])
        add(label, 'XML', xml_mb, 'peer, in-process: parse only, parser per message', j['sec'])
    for f, tag in ((ber, 'BER'), (xml, 'XML')):
        j = jrun([os.path.join(bench, 'membw'), f, '1'])
        membw[tag].append((j['memchr_GB_per_s'], j['memcpy_GB_per_s']))
    if a.ctibridge:
        # start-up + exit cost of the process alone (empty input): what the whole-process rows carry on top
        # (optional: an empty input may legitimately be rejected; then the row is left out)
        try:
            startup.append(timed([a.ctibridge, 'decode', empty, '--encoding', 'ber', '--framing', 'u16', '--stats'])[0])
        except SystemExit as e:
            if r == 0:
                print('note: start-up probe on an empty file failed, row skipped: %s' % str(e)[:200], file=sys.stderr)
        for f, enc, fr, group, mb in ((ber, 'ber', 'u16', 'BER', ber_mb), (xml, 'xml', 'ecma323', 'XML', xml_mb)):
            dt, st = timed([a.ctibridge, 'decode', f, '--encoding', enc, '--framing', fr, '--stats'])
            add('ctibridge decode --encoding %s --stats' % enc, group, mb,
                'ours, whole process (fork..exit: start-up, file read, framing, decode)', dt, st)
            if st.get('errors', 0) or st.get('frames') != nframes or st.get('decoded') != nframes:
                problems.append('ctibridge %s: %s (corpus has %d frames)' % (enc, json.dumps(st), nframes))
    if a.asn1tools:
        j = jrun([sys.executable, os.path.join(bench, 'bench_asn1tools.py'), ber])
        add('asn1tools BER decode (Python)', 'BER', ber_mb, 'peer, in-process: full value tree', j['sec'])

# ---------------------------------------------------------------------------------------------------------------------
med = {n: statistics.median(anchors[n]['runs']) for n in order}
base = {'BER': med.get('asn1c BER decode (C, -O2)'), 'XML': med.get('libxml2 SAX2 (C, -O2)')}
base_name = {'BER': 'asn1c', 'XML': 'libxml2 SAX2'}

lines = []
w = lines.append
w('Corpus: peers\' `gen_corpus.py --events 200000 --seed 2 --services-every 0` — %d CSTAEventReport frames; '
  'BER `frames.bin` %.2f MB (u16-framed), XML `frames-xml.bin` %.2f MB (ECMA-323 8-byte header). '
  '%d interleaved rounds, median shown. Machine: %s, %d cores (shared; 1-min load %.2f–%.2f during the run). %s.'
  % (nev, ber_mb, xml_mb, a.rounds, platform.machine(), os.cpu_count(), min(loads), max(loads),
     time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t_start))))
w('')
w('**Peer numbers are the peers\' own in-process timings** (decode loop only, input already in memory, as they print them); '
  '**ctibridge numbers are whole-process wall clock** (fork to exit: start-up, reading the file, framing, decoding, '
  'writing the stats line), so they understate ctibridge relative to the peers. The `--stats` column is ctibridge\'s own '
  'in-process `seconds`. Ratio: events/s relative to asn1c (BER rows) or libxml2 SAX2 (XML rows); > 1 is faster.')
w('')
w('| anchor | events/s | MB/s (of its input) | median s | min s | max s | ratio | `--stats` s | what is timed |')
w('|---|---:|---:|---:|---:|---:|---:|---:|---|')
for n in order:
    x = anchors[n]
    m = med[n]
    ratio = ('%.2f× %s' % (base[x['group']] / m, base_name[x['group']])) if base[x['group']] else ''
    own = ''
    if x['extra']:
        secs = [e.get('seconds') for e in x['extra'] if isinstance(e.get('seconds'), (int, float))]
        if secs:
            own = '%.3f' % statistics.median(secs)
    w('| %s | %.0f | %.2f | %.3f | %.3f | %.3f | %s | %s | %s |'
      % (n, nev / m, x['mb'] / m, m, min(x['runs']), max(x['runs']), ratio, own, x['note']))
for tag, size in (('BER', ber_mb), ('XML', xml_mb)):
    if membw[tag]:
        mc = statistics.median(v[0] for v in membw[tag])
        cp = statistics.median(v[1] for v in membw[tag])
        w('| memcpy, %s bytes (ceiling) | %.0f | %.0f | %.4f | | | | | peer `membw`: memcpy of the whole file (memchr %.0f MB/s) |'
          % (tag, nev / (size / 1e3 / cp), cp * 1e3, size / 1e3 / cp, mc * 1e3))
if startup:
    w('| ctibridge start-up (empty input, whole process) | | | %.3f | %.3f | %.3f | | | process start-up and exit alone: part of every ctibridge row above |'
      % (statistics.median(startup), min(startup), max(startup)))
if not a.ctibridge:
    w('')
    w('ctibridge not measured in this run (`--peers-only`).')
if problems:
    w('')
    w('**Warning — ctibridge did not decode the corpus cleanly:**')
    for p in problems:
        w('- ' + p)
w('')
w('Raw runs (seconds): ' + '; '.join('%s: %s' % (n, ', '.join('%.3f' % s for s in anchors[n]['runs'])) for n in order))
table = '\n'.join(lines) + '\n'

print(table)
if a.results:
    os.makedirs(os.path.dirname(os.path.abspath(a.results)), exist_ok=True)
    with open(a.results, 'w') as f:
        f.write('# ctibridge vs. peers — latest run\n\nWritten by `Benchmarks/peers/compare.sh`.\n\n' + table)
    print('wrote %s' % a.results, file=sys.stderr)
if a.docs:
    begin, end = '<!-- BEGIN compare.sh -->', '<!-- END compare.sh -->'
    block = '%s\n<!-- generated by Benchmarks/peers/compare.sh --update-docs; do not edit by hand -->\n%s%s' % (begin, table, end)
    text = open(a.docs).read() if os.path.exists(a.docs) else (
        '# Performance\n\n## Codec against independent peers\n\n%s\n%s\n' % (begin, end))
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + '.*?' + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip('\n') + '\n\n## Codec against independent peers\n\n' + block + '\n'
    os.makedirs(os.path.dirname(os.path.abspath(a.docs)), exist_ok=True)
    with open(a.docs, 'w') as f:
        f.write(text)
    print('updated %s' % a.docs, file=sys.stderr)
if problems:
    sys.exit(4)
