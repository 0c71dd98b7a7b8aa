import Testing
@testable import CSTA

/// Hostile and foreign input: the decoder never traps, and errors point inside the frame.
@Suite struct BERRobustnessTests {
    static func seedFrames() throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        if SharedFixtures.exists("fixtures/corpus-dev/frames.hex") {
            frames += try SharedFixtures.lines("fixtures/corpus-dev/frames.hex").prefix(400).map(BERTest.hexBytes)
        }
        let hipath = [
            "a15a020105020115305255020007a04ca44a6b0f300d8002b164a10730058003323031630730058003323032610730058003323031620730058003323032640287004e01030a01307e12a010180e3230323430313032313031313132",
            "6031a10706052b0c00815a8a020680ac15a213a011a00f0406414d484f535404053737373737be0b2809a007a0050303001000",
            "a21b020105301602010a30116b0f300d8002b164a10730058003323031",
            "a4080201058001028101ff", "a30b0201050201012403a2010a",
        ]
        frames += hipath.map(BERTest.hexBytes)
        return frames
    }

    @Test func seededMutationsNeverTrap() throws {
        let seeds = try Self.seedFrames()
        var rng = SplitMix64(state: 0x5EED_CAFE)
        var decoded = 0
        var failed = 0
        let mutants = 24_000
        for n in 0..<mutants {
            var frame = seeds[n % seeds.count]
            let edits = 1 + rng.below(3)
            for _ in 0..<edits {
                switch rng.below(5) {
                case 0 where !frame.isEmpty:  // flip bits
                    frame[rng.below(frame.count)] ^= UInt8(truncatingIfNeeded: 1 << rng.below(8))
                case 1 where !frame.isEmpty:  // replace with an interesting byte
                    let interesting: [UInt8] = [0x00, 0x80, 0x81, 0x84, 0x88, 0xFF, 0x1F, 0x9F, 0xBF, 0x30, 0xA0, 0x7F]
                    frame[rng.below(frame.count)] = interesting[rng.below(interesting.count)]
                case 2:  // insert
                    frame.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(frame.count + 1))
                case 3 where !frame.isEmpty:  // delete
                    frame.remove(at: rng.below(frame.count))
                default:  // truncate
                    frame = Array(frame.prefix(rng.below(frame.count + 1)))
                }
            }
            do {
                let fields = try BERTest.fields(frame)
                decoded += 1
                if let e = fields.eventError { #expect((0...frame.count).contains(e.offset)) }
                // Rendering reads the spans again: it must stay inside the frame too.
                _ = try BERTest.record(frame)
            } catch let error as CSTADecodeError {
                failed += 1
                #expect((0...frame.count).contains(error.offset), "offset \(error.offset) of \(frame.count)")
            }
        }
        #expect(decoded + failed == mutants)
        #expect(decoded > 0 && failed > 0)
    }

    @Test func randomBytesNeverTrap() {
        var rng = SplitMix64(state: 42)
        for _ in 0..<5_000 {
            let count = rng.below(64)
            var frame = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if !frame.isEmpty, rng.below(2) == 0 { frame[0] = [0xA1, 0xA2, 0xA3, 0xA4, 0x60, 0x61][rng.below(6)] }
            do { _ = try BERTest.fields(frame) } catch let error as CSTADecodeError {
                #expect((0...frame.count).contains(error.offset))
            } catch { Issue.record("untyped error \(error)") }
        }
    }

    @Test func emptyAndTrailing() {
        #expect(throws: CSTADecodeError(.empty, at: 0)) { try BERTest.fields([]) }
        #expect(throws: CSTADecodeError(.trailingBytes, at: 5)) { try BERTest.fields([0xA4, 0x03, 0x05, 0x00, 0x80, 0x00]) }
    }

    /// An Alcatel OXE-like event: Phase II ConnectionID (`[2]` call, `[3]` dynamic device), UTCTime and OID-keyed
    /// private data under op 21 and group `[0]`, tag `[1]`. The envelope survives; the body is reported.
    @Test func phaseTwoEventKeepsEnvelope() throws {
        let apdu = BERTest.hexBytes(
            "a1 35 02 02 29 e8 02 01 15 30 2c 55 04 00 00 00 2a a0 24 a1 22"
                + " 6b 08 82 02 01 ab 83 02 10 01"  // Phase II ConnectionID
                + " 17 0d 32 34 30 31 30 32 31 30 31 31 31 32 5a"  // UTCTime
                + " 30 07 06 05 2b 0c 89 36 01")  // OID-keyed private data
        let record = try BERTest.record(apdu)
        #expect(record.string("pdu") == "invoke")
        #expect(record.int("invokeId") == 0x29E8)
        #expect(record.int("op") == 21)
        #expect(record.string("monitorCrossRefID") == "0000002a")
        #expect(record.string("event") == "callCleared")
        #expect(record.string("eventError") != nil)
        #expect(record["callID"] == nil)
    }

    /// Phase I put an event type (a primitive) after the cross reference: still an envelope plus eventError.
    @Test func phaseOneEventTypeKeepsEnvelope() throws {
        let apdu = BERTest.hexBytes("a1 10 02 01 07 02 01 15 30 08 55 01 05 0a 01 04 30 00")
        let fields = try BERTest.fields(apdu)
        #expect(fields.op == 21 && fields.monitorCrossRefID.isPresent)
        #expect(fields.eventError?.code == .unexpectedTag)
        #expect(fields.event == nil)
    }

    /// Escape with security data (a SEQUENCE) and a vendor operation with a non-DeviceID SEQUENCE decode cleanly.
    @Test func sequencesThatAreNotDevices() throws {
        let escape = try BERTest.record(BERTest.hexBytes("a1 12 02 01 01 02 01 33 30 0a 30 03 80 01 07 04 03 de ad 01"))
        #expect(escape.string("privateData") == "dead01" && escape["eventError"] == nil)
        let vendor = try BERTest.record(BERTest.hexBytes("a1 0f 02 01 01 02 02 01 6b 30 06 30 04 02 02 01 00"))
        #expect(vendor.int("op") == 363 && vendor["eventError"] == nil && vendor["device"] == nil)
    }

    @Test func unknownOpcodeAndEventTagAreKept() throws {
        let op = try BERTest.record(BERTest.hexBytes("a1 0a 02 01 01 02 02 01 69 30 01 05"))
        #expect(op.int("op") == 361 && op.string("service") == "361")
        let event = try BERTest.record(BERTest.hexBytes("a1 10 02 01 01 02 01 15 30 08 55 01 01 a0 03 bf 28 00"))
        #expect(event.string("event") == "callControl:40")
        #expect(event["eventError"] == nil)
        // Without its cross reference an event's envelope is broken: that throws.
        #expect(throws: CSTADecodeError(.unexpectedTag, at: 10)) {
            try BERTest.fields(BERTest.hexBytes("a1 0b 02 01 01 02 01 15 30 03 04 01 01"))
        }
    }
}
