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
            """
    )

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    @Flag(name: .long, help: "Check the configuration and exit.")
    var check = false

    func run() async throws {
        let configuration: BridgeConfiguration
        do {
            configuration = try BridgeConfiguration.load(path: config)
        } catch {
            throw ValidationError(error.description)
        }
        if check {
            print("\(config): ok (\(configuration.monitoredDevices().count) monitored devices, switch \(configuration.switch.host):\(configuration.switch.port), database \(configuration.database.path))")
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
