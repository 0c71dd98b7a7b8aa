import Foundation
import ScreenPop
import Store
import Testing

@Suite("Customer CSV import")
struct CustomerImportTests {
    static let goodAndBad = """
        \u{FEFF}Account_Number,Name,Address,Meter,Arrears,Tags,Numbers,Region
        1001,王伟,"北京市朝阳区建国路 88 号, 3 单元",M-1,"1,234.50",vip;低保,+86 138 1234 5678|010-8888 8888,east
        1002,李娜,"上海市
        浦东新区",M-2,-5,,0086 139 0000 0000,east
        ,Nobody,,,,,13800000000,
        1003,Bad Arrears,,,12.345,,13700000000,
        1004,No Number,,,,,call me,
        1001,Duplicate,,,,,13600000000,
        1005,"Broken "quote,,,,,13500000000,
        1006,Too Many,,,,,13400000000,x,extra
        1007,Partly,,,0.5,,13300000000;abc,
        1008,"Open quote,,,,,13200000000

        """

    @Test("good rows are imported, bad rows named by line and reason")
    func report() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let importer = CustomerImporter(store: temp.store, batchSize: 2, logger: quietLogger)
        let report = try importer.importFile(atPath: try temp.file("customers.csv", Self.goodAndBad))
        #expect(report.imported == 3)
        #expect(report.rejected == 7)
        #expect(report.unknownColumns == ["Region"])
        let byLine = Dictionary(uniqueKeysWithValues: report.errors.map { ($0.line, $0.reason) })
        #expect(byLine[5] == "missing account number")
        #expect(byLine[6] == "bad arrears '12.345'")
        #expect(byLine[7]?.hasPrefix("no valid number") == true)
        #expect(byLine[8] == "duplicate account number 1001 (first on line 2)")
        #expect(byLine[9]?.contains("quote") == true)
        #expect(byLine[10] == "9 fields, the header has 8")
        #expect(byLine[12]?.hasPrefix("unterminated quote") == true)
        #expect(report.warnings.map(\.line) == [11])

        let store = temp.store
        #expect(try store.customerCount() == 3)
        let wang = try #require(try store.customer(accountNumber: "1001"))
        #expect(wang.name == "王伟")
        #expect(wang.address == "北京市朝阳区建国路 88 号, 3 单元")
        #expect(wang.arrearsMinor == 123_450)
        #expect(wang.tags == ["vip", "低保"])
        #expect(wang.numbers == ["+861088888888", "+8613812345678"])
        let li = try #require(try store.customer(accountNumber: "1002"))
        #expect(li.address == "上海市\n浦东新区")
        #expect(li.arrearsMinor == -500)
        #expect(li.numbers == ["+8613900000000"])
        #expect(try store.customer(accountNumber: "1007")?.numbers == ["+8613300000000"])
        #expect(try CustomerDirectory(store: store).customers(number: "13812345678").map(\.name) == ["王伟"])
    }

    @Test("re-importing updates customers by account number")
    func reimport() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let importer = CustomerImporter(store: temp.store, logger: quietLogger)
        _ = try importer.importText("account_number,name,numbers\n1001,Old,13812345678\n")
        let report = try importer.importText("NUMBERS,ACCOUNT_NUMBER,NAME\r\n13900000000,1001,New\r\n")
        #expect(report.imported == 1)
        #expect(try temp.store.customerCount() == 1)
        let customer = try #require(try temp.store.customer(accountNumber: "1001"))
        #expect(customer.name == "New")
        #expect(customer.numbers == ["+8613900000000"])
        #expect(customer.customerID == "acct-1001")
    }

    @Test("a dry run validates without writing; header problems stop the import")
    func dryRunAndHeader() throws {
        let dry = CustomerImporter(store: nil, logger: quietLogger)
        let report = try dry.importText("account_number,numbers\n1,13812345678\n2,\n")
        #expect(report.dryRun)
        #expect(report.imported == 1)
        #expect(report.errors == [.init(line: 3, reason: "no number")])
        #expect(throws: CustomerImportError.self) { try dry.importText("") }
        #expect(throws: CustomerImportError.self) { try dry.importText("name,address\nx,y\n") }
        #expect(throws: CustomerImportError.self) { try dry.importText("account_number,numbers,Numbers\n") }
        #expect(throws: CustomerImportError.self) { try dry.importFile(atPath: "/nonexistent/customers.csv") }
    }

    @Test(
        "arrears in minor units, garbage rejected",
        arguments: [
            ("123.45", 12345), ("-5", -500), ("1,234.50", 123_450), ("0.5", 50), ("+7.00", 700), (".5", 50),
            ("1,234,567.89", 123_456_789), ("  42 ", 4200),
        ] as [(String, Int64)])
    func arrears(text: String, minor: Int64) {
        #expect(MinorUnits.parse(text) == minor)
    }

    @Test(arguments: ["", "abc", "1.234", "12,34", "1,2345.00", "1.2.3", "-", ".", "¥5", "1e3", "99999999999999999999"])
    func badArrears(text: String) {
        #expect(MinorUnits.parse(text) == nil)
    }
}
