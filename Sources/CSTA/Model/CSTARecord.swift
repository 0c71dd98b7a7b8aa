/// A message as the key set names it: one value per key, the shape `ctibridge decode` prints and `ctibridge encode`
/// reads (`../shared/docs/contracts.md` §1).
///
/// This is the owned, readable form of a message. Decoding produces ``CSTAFields`` (spans, no allocation); a
/// ``CSTAMessage`` renders them into a record on demand. Encoders take a record, so `decode(encode(x)) == x` can be
/// checked key by key.
public struct CSTARecord: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case string(String)
        case int(Int64)
        case strings([String])
        case bool(Bool)
    }

    public var values: [String: Value]

    public init(_ values: [String: Value] = [:]) {
        self.values = values
    }

    public subscript(key: String) -> Value? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// The value of `key` when it is a string.
    public func string(_ key: String) -> String? {
        if case .string(let s) = values[key] { return s }
        return nil
    }

    /// The value of `key` when it is an integer (or a string of digits, which some integrators write).
    public func int(_ key: String) -> Int64? {
        switch values[key] {
        case .int(let v): return v
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    /// The value of `key` when it is a list of strings.
    public func strings(_ key: String) -> [String]? {
        if case .strings(let v) = values[key] { return v }
        return nil
    }
}

/// Why a record could not be encoded: a key is missing or has a value the encoding cannot carry.
public struct CSTAEncodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
