import Foundation
import NIOCore
import Testing

@testable import CSTA

/// Seeded mutants of real and corpus documents: the decoder never traps, and either decodes (the record renders) or
/// reports an error with an offset inside the document.
@Suite struct XMLMutationTests {
    static let interesting = Array("<>/&;\"'=!?[]-:#x \n".utf8) + [0x00, 0x80, 0xC3, 0xFF]

    static func mutate(_ doc: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var d = doc
        for _ in 0...rng.below(3) {
            guard !d.isEmpty else { break }
            let at = rng.below(d.count)
            switch rng.below(6) {
            case 0: d[at] ^= UInt8(1 << rng.below(8))
            case 1: d[at] = interesting[rng.below(interesting.count)]
            case 2: d.insert(rng.below(2) == 0 ? interesting[rng.below(interesting.count)] : UInt8(rng.below(256)), at: at)
            case 3: d.removeSubrange(at..<min(d.count, at + 1 + rng.below(8)))
            case 4: d.removeSubrange(at..<d.count)
            default:
                let n = min(d.count - at, 1 + rng.below(16))
                d.insert(contentsOf: d[at..<(at + n)], at: rng.below(d.count))
            }
        }
        return d
    }

    @Test func twentyThousandMutantsNeverTrap() throws {
        var seeds: [[UInt8]] = [
            Array("<?xml version=\"1.0\"?><a><![CDATA[x]]><!DOCTYPE b><b c='1'>&lt;&#x41;</b></a>".utf8),
        ]
        if XMLTestSupport.available(XMLTestSupport.corpusText) {
            seeds += try SharedFixtures.lines(XMLTestSupport.corpusText).prefix(300).map { Array($0.utf8) }
        }
        if XMLTestSupport.available(XMLTestSupport.osvCaptures) {
            for url in try XMLTestSupport.files(XMLTestSupport.osvCaptures) { seeds.append(try XMLTestSupport.capture(url)) }
        }
        var rng = SplitMix64(state: 0x5EED_C57A)
        var decoded = 0
        var failed = 0
        for n in 0..<20_000 {
            let mutant = Self.mutate(seeds[n % seeds.count], &rng)
            var f = CSTAFields()
            switch XMLTestSupport.decodeFields(mutant, into: &f) {
            case .success:
                decoded += 1
                let r = CSTAMessage(encoding: .xml, payload: ByteBuffer(bytes: mutant), fields: f).record()
                #expect(r.string("pdu") != nil || r.values.isEmpty)
            case .failure(let e):
                failed += 1
                if !(0...mutant.count).contains(e.offset) {
                    Issue.record("offset \(e.offset) outside 0...\(mutant.count): \(String(decoding: mutant, as: UTF8.self))")
                }
            }
        }
        #expect(decoded + failed == 20_000)
        #expect(decoded > 1_000)
        #expect(failed > 1_000)
    }

    /// On mutants both parsers accept, the scanner and libxml2 read the same record.
    @Test func scannerAndLibXML2AgreeOnAcceptedMutants() throws {
        guard XMLTestSupport.available(XMLTestSupport.corpusText) else { return }
        let seeds = try SharedFixtures.lines(XMLTestSupport.corpusText).prefix(200).map { Array($0.utf8) }
        var rng = SplitMix64(state: 42)
        var compared = 0
        var onlyScanner = 0
        var onlyLibXML2 = 0
        for n in 0..<3_000 {
            let mutant = Self.mutate(seeds[n % seeds.count], &rng)
            let scanned = try? XMLTestSupport.record(mutant)
            let reference = try? XMLTestSupport.libxml2Record(mutant)
            if scanned != nil && reference == nil { onlyScanner += 1 }
            if scanned == nil && reference != nil { onlyLibXML2 += 1 }
            guard let scanned, let reference else { continue }
            compared += 1
            #expect(scanned == reference, "\(String(decoding: mutant, as: UTF8.self))")
        }
        print("mutants compared \(compared), accepted only by the scanner \(onlyScanner), only by libxml2 \(onlyLibXML2)")
        #expect(compared > 100)
        #expect(onlyScanner <= 2)
        #expect(onlyLibXML2 == 0)
    }
}
