// Trace replay throughput (issue 5): read + TCP reassembly + framing + BER decode of a pcap, in MB/s, against tshark's
// TCP reassembly of the same file, and the peak RSS that shows memory stays flat whatever the file's size.
//
// The file is what the bridge's CTI link looks like on the wire: Ethernet/IPv4/TCP, 1,448-byte segments (full MSS),
// u16-framed BER CSTAEventReports from the project's encoder (the benchmark corpus's event mix), switch → application,
// over one or several connections interleaved segment by segment. A child process (`--generate`) writes it, so the
// generator's memory does not count in the reader's peak RSS.
//
//   swift run -c release ReplayBench [--size MB] [--connections N] [--runs N] [--file PATH] [--keep] [--no-peer]
import CSTA
import CSTACorpus
import Foundation
import Replay

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var sizeMB = 200
    var connections = 1
    var runs = 3
    var file: String?
    var keep = false
    var peer = true
    var generateOnly = false

    init(_ arguments: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < arguments.count else { usage() }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--size": sizeMB = Int(value()) ?? sizeMB
            case "--connections": connections = max(1, Int(value()) ?? connections)
            case "--runs": runs = max(1, Int(value()) ?? runs)
            case "--file": file = value()
            case "--keep": keep = true
            case "--no-peer": peer = false
            case "--generate": generateOnly = true
            default: usage()
            }
            i += 1
        }
    }
}

func usage() -> Never {
    FileHandle.standardError.write(Data(
        "usage: ReplayBench [--size MB (200)] [--connections N (1)] [--runs N (3)] [--file PATH] [--keep] [--no-peer]\n"
            .utf8))
    exit(2)
}

/// Writes the capture in pieces (a few MB at a time): the generator's memory stays small too.
func generate(path: String, size: Int, connections: Int) throws {
    var events = EventGenerator(seed: 1)
    let corpus = try EncodedCorpus(records: events.records(count: 20_000), encoding: .ber)
    let stream = corpus.bytes // u16-framed, about 2 MB; repeated until the file is large enough
    guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
        throw CocoaError(.fileWriteNoPermission)
    }
    defer { try? out.close() }
    var w = PcapWriter(linkType: 1)
    var seq = [UInt32](repeating: 0x1000_0000, count: connections)
    var position = [Int](repeating: 0, count: connections)
    var time = ReplayTimestamp(seconds: 1_800_000_000, nanoseconds: 0)
    var written = 0
    var packet = [UInt8](repeating: 0, count: 54 + 1448)
    // Ethernet, IPv4 (no options), TCP (no options); the per-packet fields are set below.
    packet.replaceSubrange(0..<14, with: [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00])
    packet.replaceSubrange(14..<34, with: [0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1])
    packet.replaceSubrange(34..<54, with: [0x1B, 0x59, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0])
    func put16(_ v: Int, at i: Int) { packet[i] = UInt8(v >> 8 & 0xFF); packet[i + 1] = UInt8(v & 0xFF) }
    func put32(_ v: UInt32, at i: Int) { for k in 0..<4 { packet[i + k] = UInt8(v >> (24 - 8 * UInt32(k)) & 0xFF) } }
    var c = 0
    var id = 0
    while written < size {
        let n = 1448
        for k in 0..<n { packet[54 + k] = stream[(position[c] + k) % stream.count] }
        position[c] = (position[c] + n) % stream.count
        put16(20 + 20 + n, at: 16)
        put16(id & 0xFFFF, at: 18)
        packet[33] = UInt8(1 + c) // application address 10.0.0.(1+c)
        put16(40000 + c, at: 36) // application port
        put32(seq[c], at: 38)
        seq[c] &+= UInt32(n)
        time.nanoseconds += 20_000
        if time.nanoseconds >= 1_000_000_000 { time = ReplayTimestamp(seconds: time.seconds + 1, nanoseconds: 0) }
        w.addPacket(packet, timestamp: time)
        written += 16 + packet.count
        id += 1
        c = (c + 1) % connections
        if w.bytes.count >= 4 << 20 { out.write(Data(w.take())) }
    }
    out.write(Data(w.take()))
}

/// getrusage's maximum RSS. On Linux it survives `execve`, so under `swift run` (which execs the benchmark) it is
/// SwiftPM's own peak; `peakRSSMB` prefers the kernel's high-water mark of this image.
func maxRSSMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024 // kilobytes on Linux
}

/// `VmHWM` from /proc/self/status (the peak resident set of this program image), else getrusage's.
func peakRSSMB() -> (megabytes: Double, source: String) {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kB = Double(line.split(separator: " ").dropFirst().first ?? "")
    {
        return (kB / 1024, "VmHWM")
    }
    return (maxRSSMB(), "getrusage maxrss")
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

struct Round {
    var seconds: Double
    var messages = 0
    var decodeFailures = 0
    var problems = 0
}

/// Reads the whole file: every message framed and BER-decoded to its key-set fields.
func readAll(_ path: String) throws -> Round {
    let start = now()
    let reader = try ReplaySource.open(path: path)
    var round = Round(seconds: 0)
    var fields = CSTAFields()
    while let item = reader.next() {
        switch item {
        case .message(let m):
            round.messages += 1
            do {
                try CSTAMessage.decodeFields(m.payload, encoding: m.encoding, into: &fields)
            } catch {
                round.decodeFailures += 1
            }
        case .gap, .error:
            round.problems += 1
        }
    }
    round.seconds = now() - start
    return round
}

/// tshark following (reassembling) TCP stream 0 to raw bytes; output discarded.
func tshark(_ path: String) -> Double? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
    p.arguments = ["-r", path, "-q", "-z", "follow,tcp,raw,0"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    let start = now()
    do { try p.run() } catch { return nil }
    p.waitUntilExit()
    return p.terminationStatus == 0 ? now() - start : nil
}

let options = Options(CommandLine.arguments)
let path = options.file ?? "/tmp/replaybench-\(getpid()).pcap"
if options.generateOnly {
    try generate(path: path, size: options.sizeMB * 1_000_000, connections: options.connections)
    exit(0)
}

// The file, written by a child process (its memory is not ours).
let child = Process()
child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
child.arguments = ["--generate", "--file", path, "--size", "\(options.sizeMB)", "--connections", "\(options.connections)"]
let generationStart = now()
try child.run()
child.waitUntilExit()
guard child.terminationStatus == 0 else {
    FileHandle.standardError.write(Data("generating \(path) failed\n".utf8))
    exit(1)
}
let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
print(String(format: "file: %@, %.1f MB, %d connection(s), written in %.1f s", path, bytes / 1e6, options.connections,
             now() - generationStart))

var best: Round?
for run in 1...options.runs {
    let round = try readAll(path)
    print(String(format: "run %d: %.3f s, %.0f MB/s, %d messages, %.2f M messages/s, %d decode failures, %d gaps/errors",
                 run, round.seconds, bytes / 1e6 / round.seconds, round.messages,
                 Double(round.messages) / round.seconds / 1e6, round.decodeFailures, round.problems))
    if best.map({ round.seconds < $0.seconds }) ?? true { best = round }
}
let ours = best!
let oursMBps = bytes / 1e6 / ours.seconds
let peak = peakRSSMB()
print(String(format: "ReplayBench best of %d: %.0f MB/s, %.2f M messages/s (%d messages), "
                 + "peak RSS %.1f MB (%@; getrusage maxrss %.1f MB)",
             options.runs, oursMBps, Double(ours.messages) / ours.seconds / 1e6, ours.messages, peak.megabytes,
             peak.source, maxRSSMB()))

if options.peer {
    if let seconds = tshark(path) {
        let peerMBps = bytes / 1e6 / seconds
        print(String(format: "tshark -q -z follow,tcp,raw,0 (TCP reassembly only, no CSTA): %.2f s, %.1f MB/s; "
                         + "ReplayBench is %.1f× faster",
                     seconds, peerMBps, oursMBps / peerMBps))
    } else {
        print("tshark: not run (missing or failed)")
    }
}
if !options.keep { try? FileManager.default.removeItem(atPath: path) }
