import ArgumentParser
import Bridge
import Logging
import Replay

/// `--record FILE [--record-max-mb N] [--record-keep K]`, shared by `tail` and `serve`.
struct RecordOptions: ParsableArguments {
    @Option(
        name: .customLong("record"), help: ArgumentHelp(
            "Record the CTI link to this pcapng file: the CSTA bytes (decrypted, when TLS) in synthesized TCP/IP "
                + "packets between the real endpoints, for Wireshark, tshark and trace replay.",
            valueName: "file"))
    var path: String?

    @Option(
        name: .customLong("record-max-mb"), help: ArgumentHelp(
            "With --record: start a new file (FILE.1, FILE.2, …) after this many megabytes (1,048,576 bytes); "
                + "each file replays on its own.",
            valueName: "n"))
    var maxMegabytes: Double?

    @Option(
        name: .customLong("record-keep"), help: ArgumentHelp(
            "With --record-max-mb: keep at most this many files, deleting the oldest.", valueName: "k"))
    var keep: Int?

    func validate() throws {
        guard let path else {
            if maxMegabytes != nil || keep != nil { throw ValidationError("--record-max-mb and --record-keep need --record") }
            return
        }
        // Each value alone here; whether --record-keep has a size to rotate by is known once the configuration file's
        // record: section is merged in (`record(over:)`).
        if path.isEmpty { throw ValidationError("'--record' is empty") }
        if let maxMegabytes, !(maxMegabytes > 0) { throw ValidationError("'--record-max-mb' must be positive") }
        if let keep, keep < 1 { throw ValidationError("'--record-keep' must be at least 1") }
    }

    /// The command line's recording, else `configured` with the sizes given here replacing its own; refused when the
    /// merged settings cannot work (files kept without a size to rotate by).
    func record(over configured: BridgeConfiguration.Record? = nil) throws -> BridgeConfiguration.Record? {
        guard let path else { return configured }
        let merged = BridgeConfiguration.Record(
            path: path, maxMegabytes: maxMegabytes ?? configured?.maxMegabytes, keep: keep ?? configured?.keep)
        if let problem = merged.problem(names: ("--record", "--record-max-mb", "--record-keep")) {
            throw ValidationError(problem)
        }
        return merged
    }
}
