import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `ctibridge`: CTI middleware for CSTA Phase III switches. Each subcommand lives in its own file.
@main
struct CTIBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctibridge",
        abstract: "CTI middleware for CSTA Phase III switches (Siemens HiPath/OpenScape, Avaya AES).",
        discussion: """
            Decode a captured CSTA byte stream:   ctibridge decode trace.bin --framing auto
            Encode key-set JSON lines to BER:     ctibridge encode messages.jsonl --encoding ber --framing hipath
            Run a switch simulator:               ctibridge simulate --listen 127.0.0.1:4711 --encoding ber --agents 10
            Watch a switch's CTI link:            ctibridge tail --switch 127.0.0.1:4711 --encoding ber --monitor 4001-4010
            Run the bridge daemon:                ctibridge serve --config /etc/ctibridge/ctibridge.yaml
            See it all on a simulated switch:     ctibridge demo
            List call records:                    ctibridge calls --since 2h --json
            Compare them with a switch's truth:   ctibridge calls --compare truth.jsonl
            Check the database:                   ctibridge store check --db ctibridge.sqlite
            Replay a capture of the CTI link:     ctibridge replay site.pcapng --summary
            Import customers for screen pops:     ctibridge customers import customers.csv --db ctibridge.sqlite
            Find a caller's customer:             ctibridge customers lookup "010 1234 5678" --json
            Add a desktop agent:                  ctibridge agents add --id A1 --device 4001 --name "Li Na" --password-stdin
            List the desktop agents:              ctibridge agents list --json
            """,
        subcommands: [
            DecodeCommand.self, EncodeCommand.self, SimulateCommand.self, TailCommand.self, ServeCommand.self,
            DemoCommand.self, CallsCommand.self, StoreCommand.self, ReplayCommand.self, CustomersCommand.self,
            AgentsCommand.self,
        ]
    )

    /// A process inherits its parent's signal mask: started from a thread that blocks SIGTERM (Foundation's `Process`
    /// from a test or a supervisor thread does), `tail` and `simulate` could not be stopped. Unblock the stop signals
    /// before any subcommand runs.
    static func main() async {
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
