import CSTA
import NIOCore
import NIOPosix
import NIOSSL

/// One TCP (or TLS) connection carrying CSTA frames: inbound ``CSTAFrame``s, outbound framed bytes.
typealias FrameChannel = NIOAsyncChannel<CSTAFrame, ByteBuffer>

/// Bootstraps for both roles: the pipeline is TLS (optional) → tap (optional, ``LinkTap``) → ``CSTAFrameDecoder`` →
/// `NIOAsyncChannel`.
enum LinkTransport {
    /// Builds the NIOSSL context for the configured role.
    static func sslContext(_ tls: LinkConfiguration.TLS, role: LinkConfiguration.Role) throws -> NIOSSLContext {
        func chain() throws -> [NIOSSLCertificateSource] {
            guard let file = tls.certificateFile else { return [] }
            return try NIOSSLCertificate.fromPEMFile(file).map { .certificate($0) }
        }
        func key() throws -> NIOSSLPrivateKeySource? {
            guard let file = tls.privateKeyFile else { return nil }
            return .privateKey(try NIOSSLPrivateKey(file: file, format: .pem))
        }
        var c: TLSConfiguration
        switch role {
        case .client:
            c = .makeClientConfiguration()
            c.certificateChain = try chain()
            c.privateKey = try key()
            c.certificateVerification = tls.verifyHostname ? .fullVerification : .noHostnameVerification
        case .server:
            guard let key = try key(), tls.certificateFile != nil else {
                throw CSTALinkError(.connectFailed, "the server role needs tls certificateFile and privateKeyFile")
            }
            c = .makeServerConfiguration(certificateChain: try chain(), privateKey: key)
            c.certificateVerification = .none
        }
        c.trustRoots = .file(tls.caFile)
        return try NIOSSLContext(configuration: c)
    }

    /// The SNI / hostname-check name: the configured one, else the host unless it is an IP address.
    static func serverName(_ config: LinkConfiguration) -> String? {
        if let name = config.tls?.serverName { return name }
        let host = config.host
        let isIP = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        return isIP ? nil : host
    }

    /// Adds the handlers and wraps the channel (on its event loop).
    static func configure(
        _ channel: any Channel, _ config: LinkConfiguration, ssl: NIOSSLContext?, serverName: String?
    ) -> EventLoopFuture<FrameChannel> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            if let ssl {
                switch config.role {
                case .client: try sync.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: serverName))
                case .server: try sync.addHandler(NIOSSLServerHandler(context: ssl))
                }
            }
            let decoder = CSTAFrameDecoder(
                framing: config.framing, encoding: config.encoding, maximumPayloadLength: config.maximumFrameLength)
            if let tap = config.tap {
                // After TLS: the tap sees the CSTA bytes, decrypted.
                let session = LinkTapSession(tap: tap, role: config.role)
                try sync.addHandler(LinkTapHandler(session))
                try sync.addHandler(ByteToMessageHandler(TappingFrameDecoder(decoder, session: session)))
            } else {
                try sync.addHandler(ByteToMessageHandler(decoder))
            }
            return try FrameChannel(wrappingChannelSynchronously: channel)
        }
    }

    /// Dials the switch.
    static func connect(_ config: LinkConfiguration, group: any EventLoopGroup) async throws -> FrameChannel {
        let ssl = try config.tls.map { try sslContext($0, role: .client) }
        let name = serverName(config)
        let timeout = TimeAmount.nanoseconds(Int64(config.connectTimeout.seconds * 1e9))
        return try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: config.host, port: config.port) { channel in
                configure(channel, config, ssl: ssl, serverName: name)
            }
    }

    /// Listens for the switch (server role).
    static func listen(_ config: LinkConfiguration, group: any EventLoopGroup) async throws
        -> NIOAsyncChannel<FrameChannel, Never>
    {
        let ssl = try config.tls.map { try sslContext($0, role: .server) }
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: config.host, port: config.port) { channel in
                configure(channel, config, ssl: ssl, serverName: nil)
            }
    }
}
