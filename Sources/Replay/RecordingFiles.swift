#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The files of one recording and the blocking calls that write them. The calls run on the recorder's own thread,
/// never on an event loop.
///
/// Naming: the first file is the path given (`link.pcapng`); each rotation starts the next number,
/// `link.pcapng.1`, `link.pcapng.2`, … — in the order written, never renamed, so a file's name stays valid while a
/// tool reads it and the newest file is the highest number.
struct RecordingFiles: Sendable {
    let path: String

    /// The name of file `index` (0: the path itself).
    func name(_ index: Int) -> String { index == 0 ? path : "\(path).\(index)" }

    /// Removes `path.1`, `path.2`, … left by an earlier recording to the same path, so its numbers cannot be mixed
    /// with this one's. Stops at the first number that does not exist. Returns how many were removed.
    func removeLeftovers() -> Int {
        var index = 1
        while unlink(name(index)) == 0 { index += 1 }
        return index - 1
    }

    /// Removes file `index` (the oldest beyond the number of files to keep).
    func remove(_ index: Int) throws(RecordingFileError) {
        guard unlink(name(index)) == 0 || errno == ENOENT else { throw .init(name(index), "cannot delete", errno) }
    }
}

/// An open recording file: a descriptor written with `write(2)`.
struct RecordingFile: Sendable {
    let name: String
    private let descriptor: Int32

    /// Creates (or truncates) `name`.
    init(creating name: String) throws(RecordingFileError) {
        let fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .init(name, "cannot create", errno) }
        self.name = name
        descriptor = fd
    }

    /// Writes all of `bytes` (short writes and interrupted calls continued).
    func write(_ bytes: [UInt8]) throws(RecordingFileError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                #if canImport(Darwin)
                Darwin.write(descriptor, raw.baseAddress! + done, raw.count - done)
                #elseif canImport(Musl)
                Musl.write(descriptor, raw.baseAddress! + done, raw.count - done)
                #else
                Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                #endif
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .init(name, "cannot write", errno)
            }
            done += n
        }
    }

    func close() throws(RecordingFileError) {
        #if canImport(Darwin)
        let result = Darwin.close(descriptor)
        #elseif canImport(Musl)
        let result = Musl.close(descriptor)
        #else
        let result = Glibc.close(descriptor)
        #endif
        guard result == 0 else { throw .init(name, "cannot close", errno) }
    }
}

/// A recording file that could not be created, written or deleted: the file, what failed and the system's reason.
public struct RecordingFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    init(_ path: String, _ what: String, _ code: Int32) {
        self.path = path
        message = "\(what) \(path): \(String(cString: strerror(code)))"
    }

    init(_ path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { message }
}
