import ArgumentParser

/// `ctibridge`: CTI middleware for CSTA Phase III switches. Each subcommand lives in its own file.
@main
struct CTIBridge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctibridge",
        abstract: "CTI middleware for CSTA Phase III switches (Siemens HiPath/OpenScape, Avaya AES).",
        discussion: """
            Decode a captured CSTA byte stream:   ctibridge decode trace.bin --framing auto
            Encode key-set JSON lines to BER:     ctibridge encode messages.jsonl --encoding ber --framing hipath
            """,
        subcommands: [DecodeCommand.self, EncodeCommand.self, SimulateCommand.self]
    )
}
