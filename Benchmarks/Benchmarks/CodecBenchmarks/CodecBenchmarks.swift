import Benchmark
import CSTA
import CSTACorpus

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// CSTA codec benchmarks over a corpus the benchmark generates itself (CSTACorpus, seeded): the project's own encoders
// write the events, the decoders read them back. One benchmark iteration handles `scale` events (the scaling
// factor), so `throughput` is events/s and the scaled `mallocCountTotal` is allocations per event.
//
//   cd Benchmarks && swift package benchmark                       # all
//   cd Benchmarks && swift package benchmark --filter "BER.*"      # one family
//
// Names have no spaces on purpose: benchmark 1.38.1 writes thresholds files with spaces replaced by `_` but looks
// them up with the raw name, so `thresholds check` never finds a file for a name with spaces.
//
// The corpus is built in each benchmark's setup; when the encoder or decoder fails (e.g. the codec is still a
// placeholder) setup throws and the benchmark reports that error instead of numbers.

/// Events in the generated corpus and its seed (the peers' perf corpus uses seed 2 too, but its own generator).
let corpusEvents = 10_000
let corpusSeed: UInt64 = 2

/// CTIBRIDGE_BENCH_ALLOCATIONS_ONLY=1: measure only `mallocCountTotal` (the CI gate; wall clock and throughput are
/// too noisy on shared machines to store as thresholds).
let allocationsOnly = getenv("CTIBRIDGE_BENCH_ALLOCATIONS_ONLY").map { String(cString: $0) == "1" } ?? false

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: allocationsOnly ? [.mallocCountTotal] : [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )
    // The decode loops must not allocate: a threshold of 0 makes `swift package benchmark thresholds check` fail
    // on the first allocation.
    let zeroAllocations = Benchmark.Configuration(
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0])]
    )

    // MARK: Decode one message (payload without framing)

    Benchmark("BER-decode", configuration: zeroAllocations) { benchmark, corpus in
        decodeLoop(benchmark, corpus, BERCodec.decode)
    } setup: {
        try verifiedCorpus(.ber)
    }

    Benchmark("XML-decode") { benchmark, corpus in
        decodeLoop(benchmark, corpus, XMLCodec.decode)
    } setup: {
        try verifiedCorpus(.xml)
    }

    // MARK: Framing + decode (the `ctibridge decode --stats` inner loop, over the stream bytes)

    Benchmark("BER-u16-framing+decode", configuration: zeroAllocations) { benchmark, corpus in
        framedLoop(benchmark, corpus)
    } setup: {
        try verifiedCorpus(.ber)
    }

    Benchmark("XML-ecma323-framing+decode") { benchmark, corpus in
        framedLoop(benchmark, corpus)
    } setup: {
        try verifiedCorpus(.xml)
    }

    // MARK: Harness baseline (runs without a codec)

    // The decode loop with a decoder that only touches the first and last byte, over 10,000 synthetic ~100-byte
    // payloads: what the loop itself costs per event (subtract it mentally) and proof that it allocates nothing.
    Benchmark("Harness-noop-decoder", configuration: zeroAllocations) { benchmark, corpus in
        decodeLoop(benchmark, corpus) { (bytes: UnsafeRawBufferPointer, fields: inout CSTAFields) throws(CSTADecodeError) in
            guard let first = bytes.first, let last = bytes.last else { throw CSTADecodeError(.empty, at: 0) }
            fields.invokeId = Int64(first) &+ Int64(last)
        }
    } setup: {
        var rng = SeededGenerator(seed: corpusSeed)
        return try EncodedCorpus(
            payloads: (0..<corpusEvents).map { _ in (0..<Int.random(in: 60...140, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } },
            encoding: .ber
        )
    }

    // MARK: Encode (allocates: the encoders return [UInt8])

    Benchmark("BER-encode") { benchmark, records in
        encodeLoop(benchmark, records, BERCodec.encode)
    } setup: {
        try generatedRecords(checking: BERCodec.encode)
    }

    Benchmark("XML-encode") { benchmark, records in
        encodeLoop(benchmark, records, XMLCodec.encode)
    } setup: {
        try generatedRecords(checking: XMLCodec.encode)
    }
}

// MARK: - Loops

typealias Decoder = (UnsafeRawBufferPointer, inout CSTAFields) throws(CSTADecodeError) -> Void

/// Decodes `scale` consecutive payloads per iteration (wrapping around the corpus), one `CSTAFields` reused.
@inline(__always)
func decodeLoop(_ benchmark: Benchmark, _ corpus: EncodedCorpus, _ decode: Decoder) {
    let n = corpus.count
    var cursor = (benchmark.currentIteration &* benchmark.scaledIterations.count) % n
    var failures = 0
    corpus.bytes.withUnsafeBytes { stream in
        var fields = CSTAFields()
        for _ in benchmark.scaledIterations {
            let p = corpus.payloads[cursor]
            fields = CSTAFields()
            do {
                try decode(UnsafeRawBufferPointer(rebasing: stream[p.start..<(p.start + p.count)]), &fields)
            } catch {
                failures &+= 1
            }
            blackHole(fields)
            cursor = cursor &+ 1 == n ? 0 : cursor &+ 1
        }
    }
    blackHole(failures)
}

/// Walks the framed stream: parses each frame header, bounds-checks the length, decodes the payload.
/// (Hand-written framing, as `ctibridge decode --framing` does; switch to the project's framing layer once it is
/// public API.)
@inline(__always)
func framedLoop(_ benchmark: Benchmark, _ corpus: EncodedCorpus) {
    let n = corpus.count
    let first = (benchmark.currentIteration &* benchmark.scaledIterations.count) % n
    let header = corpus.framing == .u16 ? 2 : 8
    var offset = corpus.payloads[first].start - header
    var failures = 0
    var headerInvokeId = 0
    corpus.bytes.withUnsafeBytes { stream in
        var fields = CSTAFields()
        for _ in benchmark.scaledIterations {
            if offset + header > stream.count { offset = 0 }
            let payloadCount: Int
            switch corpus.framing {
            case .u16:
                payloadCount = Int(stream[offset]) << 8 | Int(stream[offset + 1])
            case .ecma323:
                guard stream[offset] == 0, stream[offset + 1] == 0 else { failures &+= 1; offset = 0; continue }
                payloadCount = (Int(stream[offset + 2]) << 8 | Int(stream[offset + 3])) - 8
                var id = 0
                for i in 4..<8 { id = id &* 10 &+ Int(stream[offset + i] &- 0x30) }
                headerInvokeId = id
            }
            let start = offset + header
            guard payloadCount >= 0, start + payloadCount <= stream.count else { failures &+= 1; offset = 0; continue }
            fields = CSTAFields()
            do {
                switch corpus.encoding {
                case .ber: try BERCodec.decode(UnsafeRawBufferPointer(rebasing: stream[start..<(start + payloadCount)]), into: &fields)
                case .xml: try XMLCodec.decode(UnsafeRawBufferPointer(rebasing: stream[start..<(start + payloadCount)]), into: &fields)
                }
            } catch {
                failures &+= 1
            }
            blackHole(fields)
            offset = start + payloadCount
        }
    }
    blackHole(failures)
    blackHole(headerInvokeId)
}

typealias Encoder = (CSTARecord) throws(CSTAEncodeError) -> [UInt8]

@inline(__always)
func encodeLoop(_ benchmark: Benchmark, _ records: [CSTARecord], _ encode: Encoder) {
    var cursor = (benchmark.currentIteration &* benchmark.scaledIterations.count) % records.count
    var bytes = 0
    for _ in benchmark.scaledIterations {
        do {
            bytes &+= try encode(records[cursor]).count
        } catch {
            bytes &+= 1
        }
        cursor = cursor &+ 1 == records.count ? 0 : cursor &+ 1
    }
    blackHole(bytes)
}

// MARK: - Setup

struct SetupFailure: Error, CustomStringConvertible {
    var description: String
}

/// The generated corpus in `encoding`, checked once: every payload must decode, or setup fails with the first error.
func verifiedCorpus(_ encoding: CSTAEncoding) throws -> EncodedCorpus {
    let corpus = try EncodedCorpus.events(count: corpusEvents, seed: corpusSeed, encoding: encoding)
    var failures = 0
    var firstError: (index: Int, error: CSTADecodeError)?
    corpus.bytes.withUnsafeBytes { stream in
        for (index, p) in corpus.payloads.enumerated() {
            var fields = CSTAFields()
            let payload = UnsafeRawBufferPointer(rebasing: stream[p.start..<(p.start + p.count)])
            do throws(CSTADecodeError) {
                switch encoding {
                case .ber: try BERCodec.decode(payload, into: &fields)
                case .xml: try XMLCodec.decode(payload, into: &fields)
                }
                if fields.event == nil, !fields.eventName.isPresent, fields.eventError == nil {
                    throw CSTADecodeError(.missingField, at: 0)
                }
            } catch {
                failures += 1
                if firstError == nil { firstError = (index, error) }
            }
        }
    }
    if let firstError {
        throw SetupFailure(
            description: "\(encoding) decode failed on \(failures) of \(corpus.count) generated events; first: event "
                + "\(firstError.index): \(firstError.error)"
        )
    }
    return corpus
}

func generatedRecords(checking encode: Encoder) throws -> [CSTARecord] {
    var generator = EventGenerator(seed: corpusSeed)
    let records = generator.records(count: corpusEvents)
    do {
        _ = try encode(records[0])
    } catch {
        throw SetupFailure(description: "encode failed: \(error) — is the codec still a placeholder?")
    }
    return records
}
