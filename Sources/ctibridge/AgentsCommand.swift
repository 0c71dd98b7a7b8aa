import ArgumentParser
import Foundation
import Logging
import ScreenPop
import Store

/// `ctibridge agents add|set|remove|list` (contract §7): the agents who log in to the desktop API.
struct AgentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Manage the desktop agents who receive screen pops.",
        discussion: """
            A password can come from --password, from standard input (--password-stdin, so it does not show in \
            `ps`) or, for `add`, from the environment variable \(AgentPasswordOptions.environmentVariable) (`set` \
            reads the variable only with --password-env, so a leftover variable never changes a password unnoticed).
            """,
        subcommands: [AgentsAddCommand.self, AgentsSetCommand.self, AgentsRemoveCommand.self, AgentsListCommand.self]
    )
}

/// Where an agent's password comes from.
struct AgentPasswordOptions: ParsableArguments {
    static let environmentVariable = "CTIBRIDGE_AGENT_PASSWORD"

    @Option(name: .long, help: "The password (visible to other users in `ps`; prefer --password-stdin).")
    var password: String?

    @Flag(name: .long, help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    @Flag(name: .long, help: "Read the password from \(environmentVariable).")
    var passwordEnv = false

    @Option(name: .long, help: ArgumentHelp("bcrypt cost (4–31).", visibility: .hidden))
    var bcryptCost = 10

    func validate() throws {
        if [password != nil, passwordStdin, passwordEnv].filter({ $0 }).count > 1 {
            throw ValidationError("give only one of --password, --password-stdin and --password-env")
        }
        if !(4...31).contains(bcryptCost) { throw ValidationError("--bcrypt-cost must be 4…31") }
    }

    /// The password given, `nil` when none was; `environmentByDefault` reads the environment variable when no
    /// option names a source.
    func resolve(environmentByDefault: Bool) throws -> String? {
        let value: String?
        if let password {
            value = password
        } else if passwordStdin {
            guard let line = readLine(strippingNewline: true) else {
                throw ValidationError("--password-stdin: standard input is empty")
            }
            value = line.hasSuffix("\r") ? String(line.dropLast()) : line
        } else if passwordEnv || environmentByDefault {
            value = ProcessInfo.processInfo.environment[Self.environmentVariable]
            if passwordEnv && value == nil { throw ValidationError("\(Self.environmentVariable) is not set") }
        } else {
            value = nil
        }
        if let value, value.isEmpty { throw ValidationError("the password is empty") }
        return value
    }
}

/// The JSON an agent is listed as: never its hash.
struct AgentJSON: Encodable {
    var agentID: String
    var device: String?
    var name: String?
    var failedLogins: Int
    var lockedUntil: Date?
    var createdAt: Date
    var updatedAt: Date

    init(_ agent: StoredDesktopAgent) {
        agentID = agent.agentID
        device = agent.device
        name = agent.name
        failedLogins = agent.failedLogins
        lockedUntil = agent.lockedUntil
        createdAt = agent.createdAt
        updatedAt = agent.updatedAt
    }

    static func line(_ agent: StoredDesktopAgent) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(AgentJSON(agent)), as: UTF8.self)
    }
}

extension ParsableCommand {
    /// The accounts in the database the options name; account errors become clear messages.
    ///
    /// - Parameter create: Create the database when it is not there (`add`); the other commands refuse a missing one.
    func withAccounts<T>(
        _ database: DatabaseOptions, cost: Int, create: Bool = false, _ body: (AgentAccounts) throws -> T
    ) throws -> T {
        // The command's own output says what happened; the accounts' audit lines are for the daemon's log.
        var logger = Logger(label: "ctibridge.agents")
        logger.logLevel = .warning
        let path = try database.path()
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no database at \(path) (add an agent first, or pass --db)")
        }
        let store = try CTIStore(path: path, logger: logger)
        let accounts = AgentAccounts(store: store, policy: .init(bcryptCost: cost), logger: logger)
        do {
            return try body(accounts)
        } catch let error as AgentAccounts.AccountError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    func emit(_ text: String) {
        var out = OutputWriter()
        out.write(text.utf8)
        out.flush()
    }
}

struct AgentsAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a desktop agent.")

    @Option(name: .long, help: "The agent id the agent logs in with.")
    var id: String

    @Option(name: .long, help: "The agent's device (extension).")
    var device: String?

    @Option(name: .long, help: "The agent's name.")
    var name: String?

    @OptionGroup var passwordOptions: AgentPasswordOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Print the agent as JSON.")
    var json = false

    func run() throws {
        guard let password = try passwordOptions.resolve(environmentByDefault: true) else {
            throw ValidationError(
                "a password is required (--password, --password-stdin or \(AgentPasswordOptions.environmentVariable))")
        }
        let agent = try withAccounts(database, cost: passwordOptions.bcryptCost, create: true) { accounts in
            try accounts.add(agentID: id, device: device, name: name, password: password)
        }
        emit(json ? try AgentJSON.line(agent) + "\n" : "added agent \(agent.agentID)\n")
    }
}

struct AgentsSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a desktop agent's device, name or password.",
        discussion: "An empty --device or --name clears it. A new password also lifts a lock-out.")

    @Option(name: .long, help: "The agent to change.")
    var id: String

    @Option(name: .long, help: "The new device ('' clears it).")
    var device: String?

    @Option(name: .long, help: "The new name ('' clears it).")
    var name: String?

    @OptionGroup var passwordOptions: AgentPasswordOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Print the agent as JSON.")
    var json = false

    func run() throws {
        let password = try passwordOptions.resolve(environmentByDefault: false)
        let agent = try withAccounts(database, cost: passwordOptions.bcryptCost) { accounts in
            try accounts.set(
                agentID: id, device: device.map { $0.isEmpty ? nil : $0 }, name: name.map { $0.isEmpty ? nil : $0 },
                password: password)
        }
        emit(json ? try AgentJSON.line(agent) + "\n" : "changed agent \(agent.agentID)\n")
    }
}

struct AgentsRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a desktop agent.")

    @Option(name: .long, help: "The agent to remove.")
    var id: String

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Print {\"removed\": ID} as JSON.")
    var json = false

    func run() throws {
        try withAccounts(database, cost: 10) { accounts in try accounts.remove(agentID: id) }
        emit(json ? "{\"removed\":\(Self.quoted(id))}\n" : "removed agent \(id)\n")
    }

    static func quoted(_ text: String) -> String {
        (try? String(decoding: JSONEncoder().encode(text), as: UTF8.self)) ?? "\"\""
    }
}

struct AgentsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the desktop agents.")

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "One JSON object per agent and line.")
    var json = false

    func run() throws {
        let agents = try withAccounts(database, cost: 10) { accounts in try accounts.list() }
        if json {
            emit(try agents.map { try AgentJSON.line($0) + "\n" }.joined())
            return
        }
        let now = Date()
        var rows = [["agent", "device", "name", "status"]]
        for agent in agents {
            let locked = agent.lockedUntil.map { $0 > now } ?? false
            rows.append([
                agent.agentID, agent.device ?? "-", agent.name ?? "-",
                locked ? "locked until \(agent.lockedUntil.map { $0.formatted(.iso8601) } ?? "")" : "active",
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var out = ""
        for row in rows {
            out += row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        out += "\(agents.count) agent\(agents.count == 1 ? "" : "s")\n"
        emit(out)
    }
}
