import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The daemon as an operator runs it: `ctibridge serve --config` against `ctibridge simulate`, killed with SIGKILL
/// under load and started again.
@Suite("serve: kill -9 under load and restart", .serialized)
struct ServeCrashTests {
    /// A TCP port nobody listens on right now (bind to 0, read it back, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, length) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        guard bound else { throw CocoaError(.fileNoSuchFile) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func spawn(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits for `process` to exit, at most `seconds`; kills it when it does not.
    static func wait(_ process: Process, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return false
        }
        return true
    }

    static func lineCount(_ path: String) -> Int {
        (FileManager.default.contents(atPath: path).map { $0.filter { $0 == 0x0A }.count }) ?? 0
    }

    @Test func killNineLosesAndDoublesNothing() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try Self.freePort()
        let truth = dir + "/truth.jsonl"
        let database = dir + "/ctibridge.sqlite"
        let simulator = try Self.spawn(
            [
                "simulate", "--listen", "127.0.0.1:\(port)", "--encoding", "ber", "--agents", "40", "--rate", "40",
                "--calls", "480", "--time-scale", "0.05", "--seed", "3", "--truth", truth,
            ], log: dir + "/simulate.log")
        defer { if simulator.isRunning { kill(simulator.processIdentifier, SIGKILL) } }
        let config = dir + "/ctibridge.yaml"
        try """
        switch: {host: 127.0.0.1, port: \(port), flavour: hipathBER, heartbeatSeconds: 2, reconnectInitialSeconds: 0.05, reconnectMaximumSeconds: 0.5}
        monitor: {devices: "4001-4040,8001,8100", queues: "8001,8100", internalNumbers: ["96510"]}
        database: {path: \(database)}
        journal: {checkpointSeconds: 0.2}
        http: {listen: ""}
        """.write(toFile: config, atomically: true, encoding: .utf8)

        var serve = try Self.spawn(["serve", "--config", config], log: dir + "/serve.log")
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(2500))
            kill(serve.processIdentifier, SIGKILL)
            _ = await Self.wait(serve, seconds: 5)
            #expect(serve.terminationReason == .uncaughtSignal)
            let check = try await CLI.run(["store", "check", "--db", database])
            #expect(check.status == 0, "after kill -9: \(check.lines.joined()) \(check.stderr)")
            serve = try Self.spawn(["serve", "--config", config], log: dir + "/serve.log")
        }
        // Let the load finish: the truth stops growing for three seconds.
        var last = -1
        var still = 0
        for _ in 0..<240 where still < 6 {
            try await Task.sleep(for: .milliseconds(500))
            let now = Self.lineCount(truth)
            still = now == last && now > 0 ? still + 1 : 0
            last = now
        }
        kill(serve.processIdentifier, SIGTERM)
        #expect(await Self.wait(serve, seconds: 10), "serve stops on SIGTERM")
        #expect(serve.terminationStatus == 0)
        kill(simulator.processIdentifier, SIGTERM)
        _ = await Self.wait(simulator, seconds: 10)

        let check = try await CLI.run(["store", "check", "--db", database])
        #expect(check.status == 0, "\(check.lines.joined()) \(check.stderr)")
        let comparison = try await CLI.run(["calls", "--db", database, "--compare", truth, "--json"])
        let result = try #require(comparison.jsonLines.first, "\(comparison.stderr)")
        #expect(result["duplicateCallIDs"] as? Int == 0, "\(result)")
        // Calls that began and ended while the daemon was down are not seen; everything else is.
        let expected = try #require(result["expected"] as? Int)
        #expect(expected >= 300)
        #expect((result["matchedShare"] as? Double ?? 0) >= 0.85, "\(result)")
    }
}

@Suite("serve, calls and store: bad input is refused clearly")
struct DaemonArgumentTests {
    @Test func badConfigurationFilesNameTheProblem() async throws {
        let missing = try await CLI.run(["serve", "--config", "/nonexistent/ctibridge.yaml"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent/ctibridge.yaml: cannot read the file"), "\(missing.stderr)")

        let typo = try CLI.temporaryFile(Data("switch: {host: h, port: 1040, hearbeatSeconds: 3}\nmonitor: {devices: '4001'}\n".utf8), suffix: ".yaml")
        defer { try? FileManager.default.removeItem(atPath: typo) }
        let bad = try await CLI.run(["serve", "--config", typo, "--check"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("switch.hearbeatSeconds"), "\(bad.stderr)")

        let good = try CLI.temporaryFile(Data("switch: {host: h, port: 1040}\nmonitor: {devices: '4001-4010'}\n".utf8), suffix: ".yaml")
        defer { try? FileManager.default.removeItem(atPath: good) }
        let ok = try await CLI.run(["serve", "--config", good, "--check"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.lines.first?.contains("10 monitored devices") == true)
    }

    @Test func callsAndStoreCheckRefuseWhatTheyCannotRead() async throws {
        let none = try await CLI.run(["calls", "--db", "/nonexistent/x.sqlite"])
        #expect(none.status != 0 && none.stderr.contains("no database at /nonexistent/x.sqlite"), "\(none.stderr)")
        let since = try await CLI.run(["calls", "--since", "yesterdayish"])
        #expect(since.status != 0 && since.stderr.contains("--since 'yesterdayish'"), "\(since.stderr)")
        let notSQLite = try CLI.temporaryFile(Data("not a database".utf8), suffix: ".sqlite")
        defer { try? FileManager.default.removeItem(atPath: notSQLite) }
        let check = try await CLI.run(["store", "check", "--db", notSQLite])
        #expect(check.status != 0)
        #expect(check.stderr.contains(notSQLite), "\(check.stderr)")
    }
}
