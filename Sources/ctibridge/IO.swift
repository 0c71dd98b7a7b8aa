#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The whole input of a command, in memory: a regular file is mapped (no copy, no zeroed pages); standard input and
/// pipes are read into a buffer.
final class InputBytes {
    private let base: UnsafeRawPointer?
    let count: Int
    private let mapped: Bool
    private var storage: [UInt8]

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// - Parameter path: a file, or `-`/nil for standard input.
    init(path: String?) throws {
        let fd: Int32
        let name = path ?? "-"
        if name != "-" {
            fd = open(name, O_RDONLY)
            guard fd >= 0 else { throw ReadError(description: "cannot open \(name): \(String(cString: strerror(errno)))") }
        } else {
            fd = 0
        }
        defer { if fd != 0 { close(fd) } }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 {
            let size = Int(st.st_size)
            if let region = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), region != MAP_FAILED {
                base = UnsafeRawPointer(region)
                count = size
                mapped = true
                storage = []
                return
            }
        }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: "cannot read \(name == "-" ? "standard input" : name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        storage = bytes
        count = bytes.count
        mapped = false
        base = nil
    }

    deinit {
        if mapped, let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if mapped { return try body(UnsafeRawBufferPointer(start: base, count: count)) }
        return try storage.withUnsafeBytes(body)
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
