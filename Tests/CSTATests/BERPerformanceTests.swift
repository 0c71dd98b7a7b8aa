import Foundation
import Testing
@testable import CSTA

@Suite struct BERPerformanceTests {
    /// Decodes the HiPath Delivered event (92 bytes) repeatedly. Debug builds only check that the loop works; release
    /// builds print the cost per decode and check a generous bound.
    @Test func decodeCostOfADeliveredEvent() throws {
        let apdu = BERTest.hexBytes(
            "a15a020105020115305255020007a04ca44a6b0f300d8002b164a10730058003323031630730058003323032610730058003323031"
                + "620730058003323032640287004e01030a01307e12a010180e3230323430313032313031313132")
        #if DEBUG
        let rounds = 2_000
        #else
        let rounds = 200_000
        #endif
        var fields = CSTAFields()
        var checksum = 0
        let start = DispatchTime.now().uptimeNanoseconds
        try apdu.withUnsafeBytes { bytes in
            for _ in 0..<rounds {
                try BERCodec.decode(bytes, into: &fields)
                checksum &+= Int(fields.callID.start)
            }
        }
        let nanos = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(rounds)
        #expect(checksum == rounds * Int(fields.callID.start))
        #if !DEBUG
        print("BER decode of a \(apdu.count)-byte Delivered event: \(Int(nanos)) ns")
        #expect(nanos < 5_000)
        #endif
    }
}
