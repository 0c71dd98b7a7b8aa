#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore

/// Reads a whole file (or standard input for `-`/nil) into memory with plain `read(2)`: one allocation, no Foundation.
enum InputReader {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads everything into one `ByteBuffer` (read straight into its storage: no second copy).
    static func readAll(_ path: String?) throws -> ByteBuffer {
        let fd: Int32
        if let path, path != "-" {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw ReadError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        } else {
            fd = 0
        }
        defer { if fd != 0 { close(fd) } }
        var chunk = 1 << 16
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { chunk = max(Int(st.st_size) + 1, 1) }
        var buffer = ByteBufferAllocator().buffer(capacity: chunk)
        while true {
            var failure: Int32 = 0
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { out -> Int in
                while true {
                    let r = read(fd, out.baseAddress!, out.count)
                    if r < 0 && errno == EINTR { continue }
                    if r < 0 { failure = errno; return 0 }
                    return r
                }
            }
            if failure != 0 {
                throw ReadError(description: "cannot read \(path ?? "standard input"): \(String(cString: strerror(failure)))")
            }
            if n == 0 { break }
            chunk = max(chunk, 1 << 16)
        }
        return buffer
    }
}

/// Buffered standard output: appends to a byte buffer and writes it in large chunks.
struct OutputWriter {
    var buffer: [UInt8] = []
    let fd: Int32

    init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    mutating func line(_ body: (inout [UInt8]) -> Void) {
        body(&buffer)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return  // EPIPE and friends: nothing more can be written; do not trap.
                }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    var w = OutputWriter(fd: 2)
    w.line { $0.append(contentsOf: message.utf8) }
    w.flush()
}

/// Monotonic seconds.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Hex text → bytes; `nil` when a character is not a hex digit. White space between digits is allowed.
func bytesFromHex(_ line: some Collection<UInt8>) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(line.count / 2)
    var high: UInt8? = nil
    for c in line {
        if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x3A { continue }
        let v: UInt8
        switch c {
        case 0x30...0x39: v = c - 0x30
        case 0x41...0x46: v = c - 0x37
        case 0x61...0x66: v = c - 0x57
        default: return nil
        }
        if let h = high {
            out.append(h << 4 | v)
            high = nil
        } else {
            high = v
        }
    }
    return high == nil ? out : nil
}
