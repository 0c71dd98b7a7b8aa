import CFuzzerDriver
import CSTA
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// libFuzzer entry point: every input goes to both decoders as one unframed message; what decodes is rendered to a
// CSTARecord (the renderer reads the spans the decoder produced, so a bad span traps here). Nothing may trap: the
// decoders' contract is "every byte sequence yields a value or a CSTADecodeError".
//
// CSTA_FUZZ_ROUNDTRIP=1 adds a differential check: a message that decodes and whose record re-encodes must decode
// again to the same record (off by default: the encoders may reject records that are outside the key set).
//
// Framing: the same bytes are also split as a stream in every framing; each step must stay within the input and
// make progress, and every frame's payload goes to its decoder.

private let roundTrip: Bool = {
    guard let value = getenv("CSTA_FUZZ_ROUNDTRIP") else { return false }
    return String(cString: value) == "1"
}()

/// CSTA_FUZZ_SELFTEST=1: trap on inputs starting `A1 00` — checks that run.sh reports a crash, keeps the artifact and
/// exits non-zero (libFuzzer finds such an input from the BER seeds within seconds).
private let selfTest: Bool = {
    guard let value = getenv("CSTA_FUZZ_SELFTEST") else { return false }
    return String(cString: value) == "1"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
    if selfTest, size >= 2, bytes[0] == 0xA1, bytes[1] == 0x00 { fatalError("CSTA_FUZZ_SELFTEST trap") }
    for encoding in CSTAEncoding.allCases {
        // The raw-pointer API (the hot path).
        var fields = CSTAFields()
        do throws(CSTADecodeError) {
            switch encoding {
            case .ber: try BERCodec.decode(bytes, into: &fields)
            case .xml: try XMLCodec.decode(bytes, into: &fields)
            }
        } catch {
            precondition(error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside 0...\(size)")
            continue
        }
        // The message API over a ByteBuffer, then rendering every span to text.
        let message: CSTAMessage
        do {
            message = try CSTAMessage.decode(ByteBuffer(bytes: bytes), encoding: encoding)
        } catch {
            fatalError("\(encoding): raw decode succeeded but CSTAMessage.decode failed: \(error)")
        }
        precondition(message.fields == fields, "\(encoding): CSTAMessage.decode and \(encoding) decode disagree")
        let record = message.record()
        if roundTrip { checkRoundTrip(record, encoding) }
    }
    for framing in CSTAFraming.allCases { splitStream(bytes, framing) }
    return 0
}

private func splitStream(_ bytes: UnsafeRawBufferPointer, _ framing: CSTAFraming) {
    var splitter = CSTAFrameSplitter(framing: framing, maximumPayloadLength: 1 << 16)
    var position = 0
    var fields = CSTAFields()
    while position < bytes.count {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[position...])
        switch splitter.next(rest, atEnd: true) {
        case .needMoreData:
            fatalError("\(framing): needMoreData at the end of the input")
        case .skip(let count, _):
            precondition(count > 0 && count <= rest.count, "\(framing): skip \(count) of \(rest.count)")
            position += count
        case .frame(let header, let length, let consumed, _):
            precondition(consumed > 0 && consumed <= rest.count && header + length <= rest.count,
                         "\(framing): frame \(header)+\(length)/\(consumed) of \(rest.count)")
            let payload = UnsafeRawBufferPointer(rebasing: rest[header..<(header + length)])
            do throws(CSTADecodeError) {
                switch splitter.encoding ?? .ber {
                case .ber: try BERCodec.decode(payload, into: &fields)
                case .xml: try XMLCodec.decode(payload, into: &fields)
                }
            } catch {
                precondition(error.offset >= 0 && error.offset <= payload.count, "\(framing): bad error offset")
            }
            position += consumed
        }
    }
}

private func checkRoundTrip(_ record: CSTARecord, _ encoding: CSTAEncoding) {
    guard let encoded = try? (encoding == .ber ? BERCodec.encode(record) : XMLCodec.encode(record)) else { return }
    do {
        let again = try CSTAMessage.decode(ByteBuffer(bytes: encoded), encoding: encoding).record()
        var expected = record
        if encoding == .xml { expected["invokeId"] = again["invokeId"] }  // XML carries it in the frame header
        precondition(again == expected, "\(encoding) round trip differs:\n  \(record.values)\n  \(again.values)")
    } catch {
        fatalError("\(encoding): re-encoded record does not decode: \(error)")
    }
}

// SwiftPM links ELF executables with `--defsym main=<Module>_main` (so that tests can call an executable's entry
// point). Under -parse-as-library no `CSTAFuzz_main` is emitted and the link fails ("undefined symbol
// 'CSTAFuzz_main' referenced in expression"; swiftlang/swift-package-manager#8731). Defining it here and handing
// control to libFuzzer's driver makes the SwiftPM build work; where SwiftPM does not rename main, libFuzzer's own
// main() runs and this function is simply unused.
@_cdecl("CSTAFuzz_main")
public func fuzzMain(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzOneInput(data, size)
    }
}
