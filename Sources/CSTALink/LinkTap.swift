import CSTA
import NIOCore

/// Sees the link's traffic: each connection's open and close with its real socket addresses, and every byte the link
/// writes to and reads from the switch. Set on ``LinkConfiguration/tap``; `ctibridge --record` hands in a pcapng
/// recorder.
///
/// - What: the CSTA bytes, frame headers included — above TLS, so a TLS link is seen decrypted. Bytes from the switch
///   arrive as the framing consumed them: one whole frame per call (bytes the framing skipped as garbage come with the
///   next frame, or alone); bytes to the switch as the link writes them, one whole frame per call. A recorder can
///   therefore cut files between calls without cutting a frame.
/// - When: the methods are called on the connection's event loop, in order for one connection. They must return
///   quickly and never block (queue the work elsewhere); the link does not wait for the tap. A buffer from the switch
///   shares the link's receive buffer: copy what you keep rather than holding the buffer, or the link's next read has
///   to copy it.
/// - `streamOffset` is where the chunk starts in its direction's byte stream (0 = the first byte after the open), so
///   a tap that has to drop chunks still knows where the next one belongs.
public protocol LinkTap: Sendable {
    /// A TCP connection to the switch is established (before TLS, if any, is negotiated).
    func linkOpened(_ connection: LinkTapConnection)
    /// CSTA bytes went to (`toSwitch`) or came from (`fromSwitch`) the switch.
    func linkBytes(
        _ bytes: ByteBuffer, direction: LinkTapDirection, streamOffset: Int64, connection: LinkTapConnection)
    /// The connection is closed (nothing more follows for it) after `sent` bytes to and `received` bytes from the
    /// switch: the lengths of the two streams, so a tap that dropped their last chunks knows they existed.
    func linkClosed(_ connection: LinkTapConnection, sent: Int64, received: Int64)
}

/// One TCP connection of the link as the tap sees it.
public struct LinkTapConnection: Sendable, Hashable, CustomStringConvertible {
    /// The link's own end of the socket.
    public var local: SocketAddress
    /// The switch's end of the socket.
    public var remote: SocketAddress
    /// `client`: the link dialled the switch; `server`: the switch dialled in.
    public var role: LinkConfiguration.Role

    public init(local: SocketAddress, remote: SocketAddress, role: LinkConfiguration.Role) {
        self.local = local
        self.remote = remote
        self.role = role
    }

    public var description: String { "\(local) ↔ \(remote) (\(role.rawValue))" }
}

/// Which way tapped bytes went.
public enum LinkTapDirection: String, Sendable, Hashable {
    case toSwitch, fromSwitch
}

/// One connection's tap state, shared by the two handlers below. Confined to the channel's event loop (both handlers
/// run there), so it needs no synchronisation and is not `Sendable`.
final class LinkTapSession {
    let tap: any LinkTap
    let role: LinkConfiguration.Role
    private var connection: LinkTapConnection?
    private var closed = false
    private var sent: Int64 = 0
    private var received: Int64 = 0

    init(tap: any LinkTap, role: LinkConfiguration.Role) {
        self.tap = tap
        self.role = role
    }

    /// Reports the open once, when both addresses are known (a socket without them is not tapped).
    func open(_ channel: any Channel) {
        guard connection == nil, !closed, let local = channel.localAddress, let remote = channel.remoteAddress else {
            return
        }
        let c = LinkTapConnection(local: local, remote: remote, role: role)
        connection = c
        tap.linkOpened(c)
    }

    func bytes(_ buffer: ByteBuffer, _ direction: LinkTapDirection) {
        guard let connection, !closed, buffer.readableBytes > 0 else { return }
        switch direction {
        case .toSwitch:
            tap.linkBytes(buffer, direction: direction, streamOffset: sent, connection: connection)
            sent += Int64(buffer.readableBytes)
        case .fromSwitch:
            tap.linkBytes(buffer, direction: direction, streamOffset: received, connection: connection)
            received += Int64(buffer.readableBytes)
        }
    }

    func close() {
        guard let connection, !closed else { return }
        closed = true
        tap.linkClosed(connection, sent: sent, received: received)
    }
}

/// Sits between TLS and the frame decoder: reports the open and close, and every buffer the link writes (the link
/// writes one whole frame per buffer).
final class LinkTapHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let session: LinkTapSession

    init(_ session: LinkTapSession) { self.session = session }

    func handlerAdded(context: ChannelHandlerContext) {
        // An accepted connection may already be active when the pipeline is built.
        if context.channel.isActive { session.open(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        session.open(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The decoder after this handler hands over its last frames when it sees the close: report them first.
        context.fireChannelInactive()
        session.close()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        session.close()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        session.bytes(unwrapOutboundIn(data), .toSwitch)
        context.write(data, promise: promise)
    }
}

/// ``CSTAFrameDecoder`` that reports the bytes each step consumed — whole frames, with their headers — to the tap.
struct TappingFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = CSTAFrame

    private var inner: CSTAFrameDecoder
    private let session: LinkTapSession

    init(_ inner: CSTAFrameDecoder, session: LinkTapSession) {
        self.inner = inner
        self.session = session
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> CSTAFrame? {
        let before = buffer
        defer { report(consumedFrom: before, now: buffer) }
        return try inner.decode(buffer: &buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> CSTAFrame? {
        let before = buffer
        defer { report(consumedFrom: before, now: buffer) }
        return try inner.decodeLast(buffer: &buffer, seenEOF: seenEOF)
    }

    /// `before` is the buffer as the step found it (sharing its storage, no copy): the bytes the step consumed are
    /// its first readable ones. The tap copies what it keeps before the handler appends to the buffer again.
    private func report(consumedFrom before: ByteBuffer, now: ByteBuffer) {
        let consumed = now.readerIndex - before.readerIndex
        guard consumed > 0, let slice = before.getSlice(at: before.readerIndex, length: consumed) else { return }
        session.bytes(slice, .fromSwitch)
    }
}
