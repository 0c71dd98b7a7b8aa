import ScreenPop
import Testing

@Suite("CSV parsing")
struct CSVParserTests {
    /// Parses `bytes` fed in pieces of `chunk` bytes (every split point must give the same records).
    static func parse(_ bytes: [UInt8], chunk: Int = .max) -> [CSVRecord] {
        var parser = CSVParser(maximumRecordBytes: 256)
        var records: [CSVRecord] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + max(1, min(chunk, bytes.count)))
            parser.feed(bytes[start..<end]) { records.append($0) }
            start = end
        }
        parser.finish { records.append($0) }
        return records
    }

    static func parse(_ text: String, chunk: Int = .max) -> [CSVRecord] { parse(Array(text.utf8), chunk: chunk) }

    @Test("quoted fields: commas, doubled quotes, line breaks; line numbers count physical lines")
    func quoting() {
        let text = "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,\n"
        for chunk in [1, 2, 3, 7, Int.max] {
            let records = Self.parse(text, chunk: chunk)
            #expect(records.map(\.fields) == [["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["last", "", ""]])
            #expect(records.map(\.line) == [1, 2, 4])
            #expect(records.allSatisfy { $0.problem == nil })
        }
    }

    @Test("BOM, CRLF, CR, blank lines and a last line without a line break")
    func lineEnds() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let bytes = bom + Array("account_number,name\r\n\r\n1001,王伟\r1002,\"李\r\n娜\"\r\n1003,张三,".utf8)
        for chunk in [1, 2, 4, Int.max] {
            let records = Self.parse(bytes, chunk: chunk)
            #expect(
                records.map(\.fields) == [["account_number", "name"], ["1001", "王伟"], ["1002", "李\r\n娜"], ["1003", "张三", ""]])
            #expect(records.map(\.line) == [1, 3, 4, 6])
        }
        // Bytes that only start like a BOM are data, not dropped.
        #expect(Self.parse([0xEF, 0x41])[0].problem?.contains("UTF-8") == true)
        #expect(Self.parse([0xEF, 0xBB, 0xBF]).isEmpty)
    }

    @Test("malformed records are reported by line and parsing goes on")
    func problems() {
        let text = "a,b\nx\"y,z\n\"q\"r,s\nok,1\n\"open,2\n"
        let records = Self.parse(text)
        #expect(records.map(\.line) == [1, 2, 3, 4, 5])
        #expect(records[1].problem?.contains("quote inside an unquoted field") == true)
        #expect(records[2].problem?.contains("after a closing quote") == true)
        #expect(records[3].fields == ["ok", "1"])
        #expect(records[3].problem == nil)
        #expect(records[4].problem == "unterminated quote (opened on line 5)")
    }

    @Test("invalid UTF-8 and over-long records are problems, not traps")
    func limits() {
        let invalid = Self.parse([0x61, 0x2C, 0xFF, 0xFE, 0x0A, 0x62, 0x0A])
        #expect(invalid[0].problem?.contains("UTF-8") == true)
        #expect(invalid[1].fields == ["b"])
        let long = Self.parse("\"" + String(repeating: "x", count: 1000) + "\nnext,1\n")
        #expect(long[0].problem?.contains("longer than") == true)
        #expect(long.last?.fields == ["next", "1"])
        #expect(Self.parse("").isEmpty)
        #expect(Self.parse("\n\n\r\n").isEmpty)
    }
}
