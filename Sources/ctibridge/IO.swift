#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file (or standard input for `-`/nil) into memory with plain `read(2)`: one allocation, no Foundation.
enum InputReader {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    static func readAll(_ path: String?) throws -> [UInt8] {
        let fd: Int32
        if let path, path != "-" {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw ReadError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        } else {
            fd = 0
        }
        defer { if fd != 0 { close(fd) } }
        var size = 1 << 16
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { size = max(Int(st.st_size) + 1, 1) }
        var bytes = [UInt8](repeating: 0, count: size)
        var used = 0
        while true {
            if used == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + used, $0.count - used) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: "cannot read \(path ?? "standard input"): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            used += n
        }
        bytes.removeSubrange(used...)
        return bytes
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
