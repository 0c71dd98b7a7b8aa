import CSTA

/// A failure of the link itself: not connected, a request that timed out, too many requests, a refused association.
///
/// Equality compares the ``code`` only, so tests can write `error.code == .timeout`.
public struct CSTALinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, extensible without breaking API.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The link is down (or went down while the request was in flight).
        public static let linkDown = Code("linkDown")
        /// No answer within the request's timeout.
        public static let timeout = Code("timeout")
        /// The bound on requests in flight was reached and the link is configured to fail.
        public static let tooManyRequests = Code("tooManyRequests")
        /// Every invoke id is in flight.
        public static let invokeIdsExhausted = Code("invokeIdsExhausted")
        /// The switch refused the association or the application session.
        public static let associationRejected = Code("associationRejected")
        /// The switch refused the log-in: a DMCC StartApplicationSession answered with a NegResponse whose error says
        /// the application info (user name, password) is invalid. The link keeps retrying with its back-off.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The switch answered something the link did not expect.
        public static let protocolViolation = Code("protocolViolation")
        /// The request could not be encoded (a missing or invalid key).
        public static let encodeFailed = Code("encodeFailed")
        /// TLS or connection set-up failed.
        public static let connectFailed = Code("connectFailed")
        /// The link was shut down.
        public static let shutdown = Code("shutdown")
    }

    /// What went wrong.
    public var code: Code
    /// Details for logs.
    public var message: String

    /// An error with a code and details.
    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? code.description : "\(code): \(message)" }

    public static func == (a: Self, b: Self) -> Bool { a.code == b.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
}

/// The switch answered a request with an error: a ROSE returnError (CSTA UniversalFailure), a ROSE reject, an
/// ECMA-323 `CSTAErrorCode`, or an ECMA-354 `…NegResponse`.
public struct CSTAServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The shape of the refusal.
    public enum Kind: String, Sendable, Hashable {
        /// returnError / CSTAErrorCode / NegResponse.
        case returnError
        /// ROSE reject (the switch could not even parse or accept the invoke).
        case reject
    }

    /// returnError or reject.
    public var kind: Kind
    /// The service the request was for (`MakeCall`, …).
    public var service: String?
    /// UniversalFailure category (`operation`, `stateIncompatibility`, … or ECMA-354 `definedError`).
    public var category: String?
    /// The value in the category (`invalidDeviceID`, or a number as text).
    public var value: String?
    /// ROSE error code (BER).
    public var errorCode: Int64?
    /// ROSE reject problem (0 general, 1 invoke, 2 returnResult, 3 returnError) and its value.
    public var rejectProblem: Int64?
    /// The reject problem's value.
    public var rejectValue: Int64?
    /// The error message as the switch sent it.
    public var record: CSTARecord

    /// Reads the error out of a decoded returnError/reject record.
    public init(record: CSTARecord, service: String?) {
        self.record = record
        self.service = service
        self.kind = record.string("pdu") == "reject" ? .reject : .returnError
        self.category = record.string("errorCategory") ?? record.int("errorCategory").map(String.init)
        self.value = record.string("errorValue") ?? record.int("errorValue").map(String.init)
        self.errorCode = record.int("errorCode")
        self.rejectProblem = record.int("rejectProblem")
        self.rejectValue = record.int("rejectValue")
    }

    public var description: String {
        switch kind {
        case .reject:
            "\(service ?? "request") rejected (problem \(rejectProblem.map(String.init) ?? "?"), value \(rejectValue.map(String.init) ?? "?"))"
        case .returnError:
            "\(service ?? "request") failed: \(category ?? "unspecified")\(value.map { "/\($0)" } ?? "")"
        }
    }
}
