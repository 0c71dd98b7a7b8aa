import Foundation

/// Locates `../shared/` (beside the repository: present in CI and on developers' machines, never copied into the repo).
enum SharedFixtures {
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // Tests/CSTATests/Support/SharedFixtures.swift → repository root
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()

    /// `../shared`, or `CTIBRIDGE_SHARED` when set.
    static let sharedRoot: URL = {
        if let env = ProcessInfo.processInfo.environment["CTIBRIDGE_SHARED"] {
            return URL(fileURLWithPath: env)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    static func url(_ relativePath: String) -> URL {
        sharedRoot.appendingPathComponent(relativePath)
    }

    /// Whether a shared file exists; tests that need it are skipped (with the reason printed) when it does not.
    static func exists(_ relativePath: String) -> Bool {
        FileManager.default.fileExists(atPath: url(relativePath).path)
    }

    static func data(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: url(relativePath)))
    }

    static func lines(_ relativePath: String) throws -> [String] {
        try String(decoding: Data(contentsOf: url(relativePath)), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Parses `expected*.jsonl` into key → JSON value dictionaries.
    static func jsonLines(_ relativePath: String) throws -> [[String: Any]] {
        try lines(relativePath).map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// The project's own fixtures (`Fixtures/` in the repository).
    static func projectFixture(_ relativePath: String) -> URL {
        repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(relativePath)
    }
}

/// Converts a decoded record into the JSON-compatible dictionary the fixtures' expectations use.
import CSTA

extension CSTARecord {
    var jsonObject: [String: Any] {
        var out: [String: Any] = [:]
        for (key, value) in values {
            switch value {
            case .string(let s): out[key] = s
            case .int(let i): out[key] = Int(i)
            case .strings(let l): out[key] = l
            case .bool(let b): out[key] = b
            }
        }
        return out
    }

    /// Keys of `expected` whose values differ in this record (for readable failures).
    func mismatches(against expected: [String: Any], ignoring: Set<String> = ["i"]) -> [String] {
        let got = jsonObject
        var bad: [String] = []
        for (key, want) in expected where !ignoring.contains(key) {
            let have = got[key]
            if !(have.map { "\($0)" } == "\(want)") { bad.append("\(key): want \(want) got \(have.map { "\($0)" } ?? "nil")") }
        }
        // Keys beyond the peers' key set that contract §1 allows ("extra keys are allowed") and the corpus does not carry.
        let extensions: Set<String> = ["eventError", "snapshotStates", "snapshotDeviceStates"]
        for key in got.keys where expected[key] == nil && !ignoring.contains(key) && !extensions.contains(key) {
            bad.append("\(key): unexpected \(got[key]!)")
        }
        return bad
    }
}
