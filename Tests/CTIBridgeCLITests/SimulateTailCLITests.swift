import Foundation
import Testing

/// `ctibridge simulate` and `ctibridge tail` refuse bad arguments with a clear message. (The two talking to each other
/// are covered in-process by CSTALinkTests' LinkAgainstSimulatorTests and end to end by Benchmarks/link/*.py.)
@Suite(.serialized) struct SimulateTailCLITests {
    @Test func badArgumentsAreRefusedClearly() throws {
        let sim = try CLI.run(["simulate", "--fault", "meteor:5s"])
        #expect(sim.status != 0 && sim.stderr.contains("--fault"))
        let tail = try CLI.run(["tail", "--switch", "nowhere", "--monitor", "4001"])
        #expect(tail.status != 0)
        #expect(!tail.stderr.isEmpty)
    }
}
