import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kill(2)`; a free function because ``ChildProcess`` has a `kill()` of its own.
private func signalProcess(_ pid: Int32, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #elseif canImport(Darwin)
    _ = Darwin.kill(pid, signal)
    #endif
}

/// A `ctibridge` left running while the test talks to it (``CLI/run(_:stdin:)`` waits for the end instead). Standard
/// output and error go to files that the waits poll, so no pipe can fill up and no reader thread is needed. Every wait
/// has a deadline; ``kill()`` (call it in a `defer`) ends the process whatever state the test left it in.
final class ChildProcess {
    let name: String
    private let process = Process()
    private let outputPath: String
    private let errorPath: String

    /// Starts `ctibridge arguments…`.
    init(_ name: String, _ arguments: [String]) throws {
        self.name = name
        outputPath = try CLI.temporaryFile(Data(), suffix: ".\(name).out")
        errorPath = try CLI.temporaryFile(Data(), suffix: ".\(name).err")
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Standard output so far, as lines.
    var lines: [String] {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Standard error so far (for failure messages).
    var errorText: String {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errorPath))) ?? Data(), as: UTF8.self)
    }

    /// The first JSON line on standard output that matches, waiting up to `timeout`; `nil` if none came (or the
    /// process ended without one).
    func firstJSONLine(within timeout: Duration, where predicate: ([String: Any]) -> Bool) async -> [String: Any]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let running = process.isRunning  // read before the output, so a line written just before exit is seen
            for line in lines {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                if predicate(object) { return object }
            }
            if !running || ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` (SIGTERM, SIGINT) if the process still runs.
    func send(_ signal: Int32) {
        if process.isRunning { signalProcess(pid, signal) }
    }

    /// How the process ended, waiting up to `timeout`; `nil` if it still runs.
    func exit(within timeout: Duration) async -> (reason: Process.TerminationReason, status: Int32)? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return (process.terminationReason, process.terminationStatus)
    }

    /// `ctibridge simulate --listen 127.0.0.1:0 --encoding ber --agents 5 --scenario inbound …` (the inbound load the
    /// two-process tests watch), and the port it printed.
    static func inboundSimulator() async throws -> (ChildProcess, port: Int) {
        let sim = try ChildProcess("simulate", [
            "simulate", "--listen", "127.0.0.1:0", "--encoding", "ber", "--agents", "5", "--scenario", "inbound",
            "--rate", "4", "--time-scale", "0.05", "--seed", "3",
        ])
        let listening = await sim.firstJSONLine(within: .seconds(15)) { $0["type"] as? String == "listening" }
        guard let port = listening?["port"] as? Int else {
            let text = sim.errorText
            sim.kill()
            throw CLIError("simulate printed no listening line: \(text)")
        }
        #expect(port > 0 && listening?["host"] as? String == "127.0.0.1")
        return (sim, port)
    }

    /// SIGKILL if still running, then reaps it.
    func kill() {
        guard process.isRunning else { return }
        signalProcess(pid, SIGKILL)
        process.waitUntilExit()
    }
}

/// A failure of the test's own plumbing (a child that did not start), with what it said.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
