import Foundation
import Testing

/// `ctibridge customers import|lookup` and `ctibridge agents add|set|remove|list` (contract §7), run as a process.
@Suite(.serialized) struct CustomersAgentsCLITests {
    /// A fresh folder for one test's database and files.
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let csv = """
        account_number,name,address,meter,arrears,tags,numbers,zone
        1001,王伟,"北京市朝阳区建国路 88 号",M-1,"1,234.50",vip;低保,+86 10 8888 8888|138 1234 5678,A
        ,Nobody,,,,,13800000000,A
        1002,Bad Arrears,,,abc,,13700000000,A
        1003,李娜,上海市,M-3,0,,0086 139 0000 0000,B

        """

    @Test("customers import: report and status; lookup finds a customer by a differently written number")
    func importAndLookup() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("ctibridge.sqlite").path
        let file = dir.appendingPathComponent("customers.csv")
        try Data(Self.csv.utf8).write(to: file)

        let text = try await CLI.run(["customers", "import", file.path, "--db", db])
        #expect(text.status == 0, "\(text.stderr)")
        let output = String(decoding: text.stdout, as: UTF8.self)
        #expect(output.contains("customers.csv:3: rejected: missing account number"))
        #expect(output.contains("customers.csv:4: rejected: bad arrears 'abc'"))
        #expect(output.contains("imported 2 customers, rejected 2 rows"))
        #expect(output.contains("zone"))

        let json = try await CLI.run(["customers", "import", file.path, "--db", db, "--json"])
        #expect(json.status == 0)
        let summary = try #require(json.jsonLines.first)
        #expect(summary["imported"] as? Int == 2)
        #expect(summary["rejected"] as? Int == 2)
        let errors = try #require(summary["errors"] as? [[String: Any]])
        #expect(errors.compactMap { $0["line"] as? Int } == [3, 4])

        let lookup = try await CLI.run(["customers", "lookup", "010-8888 8888", "--db", db, "--json"])
        #expect(lookup.status == 0, "\(lookup.stderr)")
        let found = try #require(lookup.jsonLines.first)
        #expect(found["number"] as? String == "+861088888888")
        let customers = try #require(found["customers"] as? [[String: Any]])
        #expect(customers.map { $0["name"] as? String } == ["王伟"])
        #expect(customers.first?["arrearsMinor"] as? Int == 123_450)
        #expect(customers.first?["accountNumber"] as? String == "1001")

        let human = try await CLI.run(["customers", "lookup", "+86 139-0000-0000", "--db", db])
        #expect(human.status == 0)
        #expect(String(decoding: human.stdout, as: UTF8.self).contains("李娜"))
        #expect(try await CLI.run(["customers", "lookup", "13100000000", "--db", db]).status == 1)
    }

    @Test("customers import: 65 when every row is bad, 66 when the file is unreadable, dry run writes nothing")
    func importStatuses() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("ctibridge.sqlite").path
        let bad = dir.appendingPathComponent("bad.csv")
        try Data("account_number,numbers\n,13800000000\n1,nope\n".utf8).write(to: bad)
        let allBad = try await CLI.run(["customers", "import", bad.path, "--db", db, "--json"])
        #expect(allBad.status == 65)
        #expect(allBad.jsonLines.first?["rejected"] as? Int == 2)

        #expect(try await CLI.run(["customers", "import", dir.appendingPathComponent("missing.csv").path, "--db", db]).status == 66)

        let good = dir.appendingPathComponent("good.csv")
        try Data("account_number,numbers\n1,13800000000\n".utf8).write(to: good)
        let dry = try await CLI.run(["customers", "import", good.path, "--db", dir.appendingPathComponent("dry.sqlite").path, "--dry-run"])
        #expect(dry.status == 0)
        #expect(String(decoding: dry.stdout, as: UTF8.self).contains("would import 1 customer"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("dry.sqlite").path))
    }

    @Test("agents add, list, set, remove, with clear errors")
    func agents() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = ["--db", dir.appendingPathComponent("ctibridge.sqlite").path]
        let cost = ["--bcrypt-cost", "4"]
        let noDatabase = try await CLI.run(["agents", "list"] + db)
        #expect(noDatabase.status != 0)
        #expect(noDatabase.stderr.contains("no database"))

        let add = try await CLI.run(["agents", "add", "--id", "A1", "--device", "4001", "--name", "李娜", "--password", "pw1", "--json"] + cost + db)
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.jsonLines.first?["agentID"] as? String == "A1")
        #expect(String(decoding: add.stdout, as: UTF8.self).contains("pw1") == false)
        #expect(String(decoding: add.stdout, as: UTF8.self).contains("$2") == false)

        let fromStdin = try await CLI.run(["agents", "add", "--id", "A2", "--password-stdin"] + cost + db, stdin: Data("pw2\n".utf8))
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        let fromEnv = try await CLI.run(
            ["agents", "add", "--id", "A3", "--device", "4003"] + cost + db, environment: ["CTIBRIDGE_AGENT_PASSWORD": "pw3"])
        #expect(fromEnv.status == 0, "\(fromEnv.stderr)")

        let duplicate = try await CLI.run(["agents", "add", "--id", "A1", "--password", "x"] + cost + db)
        #expect(duplicate.status != 0)
        #expect(duplicate.stderr.contains("already exists"))
        let empty = try await CLI.run(["agents", "add", "--id", "A4", "--password", ""] + cost + db)
        #expect(empty.status != 0)
        #expect(empty.stderr.contains("empty"))
        let none = try await CLI.run(["agents", "add", "--id", "A4"] + cost + db, environment: ["CTIBRIDGE_AGENT_PASSWORD": ""])
        #expect(none.status != 0)

        let list = try await CLI.run(["agents", "list", "--json"] + db)
        #expect(list.status == 0)
        #expect(list.jsonLines.map { $0["agentID"] as? String } == ["A1", "A2", "A3"])
        #expect(list.jsonLines.first?["device"] as? String == "4001")
        #expect(list.jsonLines.allSatisfy { $0["passwordHash"] == nil })

        let set = try await CLI.run(["agents", "set", "--id", "A1", "--device", "4011", "--password-stdin", "--json"] + cost + db, stdin: Data("new\n".utf8))
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.jsonLines.first?["device"] as? String == "4011")
        #expect(set.jsonLines.first?["name"] as? String == "李娜")
        let unknown = try await CLI.run(["agents", "set", "--id", "A9", "--name", "x"] + db)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no desktop agent 'A9'"))

        #expect(try await CLI.run(["agents", "remove", "--id", "A2"] + db).status == 0)
        let removeAgain = try await CLI.run(["agents", "remove", "--id", "A2"] + db)
        #expect(removeAgain.status != 0)
        #expect(removeAgain.stderr.contains("no desktop agent 'A2'"))
        let table = try await CLI.run(["agents", "list"] + db)
        let tableText = String(decoding: table.stdout, as: UTF8.self)
        #expect(tableText.contains("A1") && tableText.contains("4011") && !tableText.contains("A2"))
        #expect(tableText.contains("2 agents"))
    }
}
