import Foundation

/// Runs the built `ctibridge` executable, as integrators and the acceptance checks do.
enum CLI {
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    static let sharedRoot: URL = {
        if let env = ProcessInfo.processInfo.environment["CTIBRIDGE_SHARED"] { return URL(fileURLWithPath: env) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    static func shared(_ path: String) -> URL { sharedRoot.appendingPathComponent(path) }
    static func hasShared(_ path: String) -> Bool { FileManager.default.fileExists(atPath: shared(path).path) }

    /// The executable next to the test bundle (SwiftPM builds it because the test target depends on it).
    static let executable: URL = {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ctibridge")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/ctibridge")
    }()

    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var lines: [String] {
            String(decoding: stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        var jsonLines: [[String: Any]] {
            lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    /// Runs `ctibridge arguments…` to its end. Waits by polling with `Task.sleep`, never by blocking a thread: Swift
    /// Testing runs the suites side by side on a two-thread pool here, and a blocked thread starves the timing tests.
    /// - Parameter environment: Variables added to the test's own environment for this run.
    static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) async throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        // Standard input, output and error go through files: no dead-lock on large outputs and no reader threads.
        let inputPath = try temporaryFile(stdin ?? Data(), suffix: ".in")
        let outputPath = try temporaryFile(Data(), suffix: ".out")
        let errorPath = try temporaryFile(Data(), suffix: ".err")
        defer {
            for path in [inputPath, outputPath, errorPath] { try? FileManager.default.removeItem(atPath: path) }
        }
        process.standardInput = FileHandle(forReadingAtPath: inputPath)
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        var pause = 1
        while process.isRunning {
            try? await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 20)
        }
        process.waitUntilExit()  // reaps it; returns at once
        let outData = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data()
        let errData = (try? Data(contentsOf: URL(fileURLWithPath: errorPath))) ?? Data()
        return Result(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Writes `data` to a fresh temporary file and returns its path.
    static func temporaryFile(_ data: Data, suffix: String = ".bin") throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-\(UUID().uuidString)\(suffix)")
        try data.write(to: url)
        return url.path
    }

    static func hexBytes(_ text: String) -> [UInt8] {
        let digits = text.unicodeScalars.filter { $0.properties.isASCIIHexDigit }
        var out: [UInt8] = []
        var it = digits.makeIterator()
        while let h = it.next(), let l = it.next() { out.append(UInt8(String([Character(h), Character(l)]), radix: 16)!) }
        return out
    }

    /// `"\(value)"` comparison of JSON values, as the fixtures' expectations are plain strings, ints and lists.
    static func mismatches(_ got: [String: Any], _ want: [String: Any], ignoring: Set<String> = ["i"]) -> [String] {
        var bad: [String] = []
        for (k, v) in want where !ignoring.contains(k) {
            if got[k].map({ "\($0)" }) != "\(v)" { bad.append("\(k): want \(v) got \(got[k].map { "\($0)" } ?? "nil")") }
        }
        return bad
    }
}

extension Process {
    /// Waits for the process to end without blocking a thread (see ``CLI/run(_:stdin:)``).
    func exited() async {
        var pause = 1
        while isRunning {
            try? await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 20)
        }
        waitUntilExit()  // reaps it; returns at once
    }
}
