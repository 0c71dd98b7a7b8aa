import ArgumentParser
import Foundation
import Logging
import ScreenPop
import Store

/// `ctibridge customers import|lookup`: the customer directory screen pops draw on.
struct CustomersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Import customers from CSV and look them up by phone number.",
        subcommands: [CustomersImportCommand.self, CustomersLookupCommand.self]
    )
}

/// Where the database is: `--db`, else the configuration's, else the demo's.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database (default: the configuration's, else ./ctibridge-demo/ctibridge.sqlite).")
    var db: String?

    @Option(name: .long, help: "Take the database path from this configuration file.")
    var config: String?

    func path() throws -> String { try CallsCommand.databasePath(db: db, config: config) }
}

/// How the site writes phone numbers (see `Sources/ScreenPop/README.md`).
struct PhoneNumberOptions: ParsableArguments {
    @Option(name: .long, help: "The site's country calling code.")
    var countryCode = "86"

    @Option(name: .long, help: "The national trunk prefix ('' for none).")
    var trunkPrefix = "0"

    @Option(name: .long, help: "The international dialling prefix.")
    var internationalPrefix = "00"

    @Option(name: .long, help: "The outside-line digit the PBX puts in front of external numbers, if any.")
    var outsideLinePrefix: String?

    @Option(name: .long, help: "Numbers of at most this many digits are internal extensions.")
    var maxExtensionDigits = 6

    var rules: PhoneNumberRules {
        PhoneNumberRules(
            countryCode: countryCode, trunkPrefix: trunkPrefix, internationalPrefix: internationalPrefix,
            outsideLinePrefix: outsideLinePrefix, maxExtensionDigits: maxExtensionDigits)
    }

    func validate() throws {
        if let problem = rules.problems.first { throw ValidationError(problem) }
    }
}

struct CustomersImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import (or update) customers from a CSV file.",
        discussion: """
            The header row names the columns: account_number,name,address,meter,arrears,tags,numbers (any order, \
            any case; account_number and numbers are required, other columns are reported and ignored). Several \
            numbers or tags are separated by ';' or '|'. Arrears are decimal amounts ("1,234.50", "-5"). Bad rows \
            are skipped and listed by line at the end; a customer already stored (same account number) is updated.

            Exit status: 0 when the file was read, 65 when no row could be imported, 66 when the file is unreadable.
            """
    )

    @Argument(help: "The CSV file (UTF-8, with or without BOM).")
    var file: String

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var numbers: PhoneNumberOptions

    @Flag(name: .long, help: "Check the file and report, but store nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print the summary as JSON: {\"imported\":N,\"rejected\":N,\"errors\":[{\"line\":L,\"reason\":\"…\"}]}.")
    var json = false

    func run() throws {
        var logger = Logger(label: "ctibridge.customers")
        logger.logLevel = .warning
        guard FileManager.default.isReadableFile(atPath: file) else {
            printError("error: cannot read \(file)")
            throw ExitCode(66)
        }
        let store: CTIStore? = dryRun ? nil : try CTIStore(path: try database.path(), logger: logger)
        let importer = CustomerImporter(store: store, rules: numbers.rules, logger: logger)
        let size = ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.int64Value ?? 0
        let bar = ProgressBar(total: size, enabled: !json, unit: "rows")
        let report: CustomerImportReport
        do {
            report = try importer.importFile(atPath: file) { bytes, rows in bar.update(bytes: bytes, messages: rows) }
            bar.finish()
        } catch let error as CustomerImportError {
            bar.finish()
            printError("error: \(file): \(error)")
            if case .unreadable = error { throw ExitCode(66) }
            throw ExitCode(65)
        }
        var out = OutputWriter()
        out.write((json ? try Self.json(report) : Self.text(report, file: file)).utf8)
        out.flush()
        if report.imported == 0 && report.rejected > 0 { throw ExitCode(65) }
    }

    static func json(_ report: CustomerImportReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    static func text(_ report: CustomerImportReport, file: String) -> String {
        var out = ""
        if !report.unknownColumns.isEmpty {
            out += "ignored unknown column\(report.unknownColumns.count == 1 ? "" : "s"): "
                + report.unknownColumns.joined(separator: ", ") + "\n"
        }
        for issue in report.warnings { out += "\(file):\(issue.line): warning: \(issue.reason)\n" }
        for issue in report.errors { out += "\(file):\(issue.line): rejected: \(issue.reason)\n" }
        if report.errorsOmitted > 0 { out += "… and \(report.errorsOmitted) more rejected rows\n" }
        out += "\(report.dryRun ? "would import" : "imported") \(report.imported) customer\(report.imported == 1 ? "" : "s"), "
        out += "rejected \(report.rejected) row\(report.rejected == 1 ? "" : "s")\n"
        return out
    }
}

struct CustomersLookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Find the customers with a phone number (written any way) and their recent calls.",
        discussion: "Exit status 1 when no customer has the number."
    )

    @Argument(help: "The phone number, e.g. '+86 138 1234 5678' or '010-12345678'.")
    var number: String

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var numbers: PhoneNumberOptions

    @Option(name: .long, help: "At most this many recent calls.")
    var calls = 5

    @Flag(name: .long, help: "Print {\"number\":…,\"customers\":[…],\"recentCalls\":[…]} as JSON.")
    var json = false

    func run() throws {
        guard let canonical = numbers.rules.normalize(number) else {
            throw ValidationError("'\(number)' is not a phone number")
        }
        let path = try database.path()
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no database at \(path)") }
        let directory = CustomerDirectory(
            store: try CTIStore(path: path, logger: Logger(label: "ctibridge.customers")), rules: numbers.rules)
        let customers = try directory.customers(number: canonical)
        let recent = try directory.recentCalls(numbers: [canonical], limit: max(0, calls))
        var out = OutputWriter()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            let result = LookupResult(number: canonical, customers: customers, recentCalls: recent)
            out.write(try encoder.encode(result))
            out.write("\n".utf8)
        } else {
            out.write(Self.text(canonical, customers, recent).utf8)
        }
        out.flush()
        if customers.isEmpty { throw ExitCode(1) }
    }

    struct LookupResult: Encodable {
        var number: String
        var customers: [CustomerCard]
        var recentCalls: [RecentCall]
    }

    static func text(_ number: String, _ customers: [CustomerCard], _ recent: [RecentCall]) -> String {
        var out = customers.isEmpty ? "no customer with \(number)\n" : ""
        for card in customers {
            out += "\(card.accountNumber)  \(card.name)\n"
            if let address = card.address { out += "  address: \(address)\n" }
            if let meter = card.meter { out += "  meter:   \(meter)\n" }
            if let arrears = card.arrearsMinor { out += "  arrears: \(Self.amount(arrears))\n" }
            if !card.tags.isEmpty { out += "  tags:    \(card.tags.joined(separator: ", "))\n" }
            out += "  numbers: \(card.numbers.joined(separator: ", "))\n"
        }
        if !recent.isEmpty {
            out += "recent calls:\n"
            let time = Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: false)
            for call in recent {
                out += "  \(call.startedAt.formatted(time))  \(call.direction)  \(call.outcome)  "
                out += "\(call.agentID ?? "-")  \(String(format: "%.0f s", call.talkSeconds))\n"
            }
        }
        return out
    }

    /// Minor units as a decimal amount: 123450 → "1234.50".
    static func amount(_ minor: Int64) -> String {
        let sign = minor < 0 ? "-" : ""
        let magnitude = minor.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}
