#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSTA
import CSTACorpus

// Prints the generated benchmark corpus as key-set JSON lines (sorted keys, like the peers' expected.jsonl), or with
// --ber/--xml writes the framed stream the benchmarks decode (u16 / ECMA-323), e.g. to feed `ctibridge decode`.
//
//   swift run CSTACorpusDump [--count N] [--seed S] [--ber | --xml] > out

var count = 20
var seed: UInt64 = 2
var encoding: CSTAEncoding?
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--count": count = Int(args.popFirst() ?? "") ?? count
    case "--seed": seed = UInt64(args.popFirst() ?? "") ?? seed
    case "--ber": encoding = .ber
    case "--xml": encoding = .xml
    default:
        print("usage: CSTACorpusDump [--count N] [--seed S] [--ber | --xml]")
        exit(2)
    }
}

var generator = EventGenerator(seed: seed)
let records = generator.records(count: count)
if let encoding {
    do {
        let corpus = try EncodedCorpus(records: records, encoding: encoding)
        writeAll(1, corpus.bytes)
    } catch {
        writeAll(2, Array("CSTACorpusDump: \(error)\n".utf8))
        exit(1)
    }
} else {
    var out: [UInt8] = []
    for record in records {
        KeySetJSON.write(record, to: &out)
        out.append(0x0A)
    }
    writeAll(1, out)
}

/// write(2) until done (stdout/stderr the C globals are not concurrency-safe to touch from Swift 6 code).
func writeAll(_ fd: CInt, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n <= 0 { exit(1) }
            offset += n
        }
    }
}
