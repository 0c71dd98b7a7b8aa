import ArgumentParser
import Bridge
import Foundation
import Logging
import Metrics
import Prometheus

/// `ctibridge serve --config FILE`: the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the bridge daemon: CTI link, call model, journal, call records, HTTP.",
        discussion: """
            The configuration file is YAML; deploy/ctibridge.yaml is an example with every key explained.
            SIGINT or SIGTERM stops the daemon cleanly: the link is closed, everything it delivered is journalled.
            --record FILE (or the file's record: section) writes the link's traffic to pcapng, rotating by size with \
            --record-max-mb into FILE.1, FILE.2, … (each file replays on its own); the command line wins over the file.
            """
    )

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    @Flag(name: .long, help: "Check the configuration and exit.")
    var check = false

    @OptionGroup(title: "Recording")
    var recording: RecordOptions

    func run() async throws {
        var configuration: BridgeConfiguration
        do {
            configuration = try BridgeConfiguration.load(path: config)
        } catch {
            throw ValidationError(error.description)
        }
        configuration.record = try recording.record(over: configuration.record)
        do {
            try configuration.validate(source: "\(config) with the command line")
        } catch {
            throw ValidationError(error.description)
        }
        if check {
            let recording = configuration.record.map { ", recording to \($0.path)" } ?? ""
            print("\(config): ok (\(configuration.monitoredDevices().count) monitored devices, switch \(configuration.switch.host):\(configuration.switch.port), database \(configuration.database.path)\(recording))")
            return
        }
        let registry = Observability.bootstrap(level: configuration.log.level)
        let logger = Logger(label: "ctibridge")
        try await BridgeDaemon.run(configuration: configuration, registry: registry, logger: logger)
    }
}

/// Logging to standard error at a level, metrics into one Prometheus registry. Bootstrapped once per process.
enum Observability {
    static func bootstrap(level: String) -> PrometheusCollectorRegistry {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
