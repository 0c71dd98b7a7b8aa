import ArgumentParser
import CSTA
import NIOCore

/// `ctibridge encode`: key-set JSON lines → framed CSTA messages (`../shared/docs/contracts.md` §3).
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode key-set JSON lines as CSTA messages.",
        discussion: """
            Reads one JSON object per line (the key set that 'ctibridge decode' prints) and writes the messages, \
            framed. For every line decode(encode(x)) gives x back for the keys x has. A line that cannot be encoded \
            is reported on standard error with its line number and skipped; the exit status is then 1.
            """
    )

    @Argument(help: "Input file of JSON lines, or '-' for standard input.")
    var file: String = "-"

    @Option(help: "Message encoding: ber or xml.")
    var encoding: CSTAEncoding

    @Option(help: "Framing: u16, hipath, tpkt, ecma323 or none (default: u16 for BER, ecma323 for XML).")
    var framing: CSTAFraming?

    @Flag(help: "Write one unframed message per line in hex.")
    var hex = false

    func validate() throws {
        if framing == .auto { throw ValidationError("--framing auto is for decoding; name a framing to write") }
        if framing == .ecma323 && encoding == .ber {
            throw ValidationError("ecma323 framing carries XML; use u16, hipath, tpkt or none with --encoding ber")
        }
    }

    func run() throws {
        let input: InputBytes
        do {
            input = try InputBytes(path: file)
        } catch {
            printError("ctibridge encode: \(error)")
            throw ExitCode(66)
        }
        let framing = self.framing ?? (encoding == .xml ? .ecma323 : .u16)
        var out = OutputWriter()
        var failures = 0
        var lineNumber = 0
        var frame: [UInt8] = []
        for line in input.withBytes({ Array($0) }).split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                let record = try KeySetJSON.parse(line)
                let message = try encode(record)
                if hex {
                    out.line { $0.append(contentsOf: hexText(message).utf8) }
                    continue
                }
                frame.removeAll(keepingCapacity: true)
                try CSTAFrameWriter.write(message, framing: framing, invokeId: headerInvokeId(record), to: &frame)
                out.write(frame)
                if framing == .none && encoding == .xml { out.write([0x0A]) }
            } catch {
                failures += 1
                out.flush()
                printError("ctibridge encode: line \(lineNumber): \(error)")
            }
        }
        out.flush()
        if failures > 0 { throw ExitCode(1) }
    }

    func encode(_ record: CSTARecord) throws -> [UInt8] {
        switch encoding {
        case .ber: try BERCodec.encode(record)
        case .xml: try XMLCodec.encode(record)
        }
    }

    /// The ECMA-323 header invoke id: the record's `invokeId` when it fits 4 digits; events use 9999.
    func headerInvokeId(_ record: CSTARecord) -> Int {
        if let id = record.int("invokeId"), (0...9999).contains(id) { return Int(id) }
        return record.string("service") == "CSTAEventReport" ? 9999 : 1
    }
}

func hexText(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
