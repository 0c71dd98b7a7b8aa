#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file read forward in chunks through one buffer: the window of unread bytes grows only as far as the largest record
/// asked for, so memory stays flat whatever the file's size.
///
/// Not `Sendable`: one reader owns it.
final class ChunkedFile {
    private let fd: Int32
    private var storage: UnsafeMutableRawBufferPointer
    /// Unread bytes are `storage[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// File offset of `storage[start]`.
    private(set) var offset: Int64 = 0
    /// The largest window `ensure` may grow to.
    let maximumWindow: Int

    init(path: String, chunkSize: Int = 1 << 20, maximumWindow: Int = 64 << 20) throws(ReplayError) {
        let fd = path == "-" ? dup(0) : open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ReplayError(.io, at: 0, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.maximumWindow = maximumWindow
        self.storage = .allocate(byteCount: chunkSize, alignment: 16)
    }

    deinit {
        storage.deallocate()
        close(fd)
    }

    /// Unread bytes in the window.
    var available: Int { end - start }

    /// Makes at least `count` unread bytes available. False when the file ends first (what there is stays available).
    @discardableResult
    func ensure(_ count: Int) throws(ReplayError) -> Bool {
        if end - start >= count { return true }
        guard count <= maximumWindow else { return false }
        if start > 0 {
            if end > start { memmove(storage.baseAddress!, storage.baseAddress! + start, end - start) }
            end -= start
            start = 0
        }
        if count > storage.count {
            var size = storage.count
            while size < count { size *= 2 }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(size, maximumWindow), alignment: 16)
            if end > 0 { bigger.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: end) }
            storage.deallocate()
            storage = bigger
        }
        while end < count && !atEOF {
            let n = read(fd, storage.baseAddress! + end, storage.count - end)
            if n < 0 {
                if errno == EINTR { continue }
                throw ReplayError(.io, at: offset + Int64(end), "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { atEOF = true } else { end += n }
        }
        return end >= count
    }

    /// The next `count` unread bytes (call `ensure(count)` first). Valid until the next `ensure` or `skip`.
    func peek(_ count: Int) -> UnsafeRawBufferPointer {
        precondition(count <= end - start, "ChunkedFile.peek past ensure")
        return UnsafeRawBufferPointer(start: storage.baseAddress! + start, count: count)
    }

    /// All unread bytes in the window.
    func window() -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.baseAddress! + start, count: end - start)
    }

    /// Consumes `count` bytes, reading past the window when needed. False when the file ends first.
    @discardableResult
    func skip(_ count: Int) throws(ReplayError) -> Bool {
        if count <= end - start {
            start += count
            offset += Int64(count)
            return true
        }
        var remaining = count - (end - start)
        offset += Int64(end - start)
        start = 0
        end = 0
        while remaining > 0 {
            guard try ensure(1) else { return false }
            let step = min(remaining, end - start)
            start += step
            offset += Int64(step)
            remaining -= step
        }
        return true
    }
}
