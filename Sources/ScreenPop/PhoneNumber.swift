/// How phone numbers are written at a site, so that every spelling of a number (the switch's, the customer CSV's, an
/// agent's) reduces to one canonical form: E.164 (`+8613812345678`) for external numbers, the bare digits for internal
/// extensions.
///
/// ```swift
/// let rules = PhoneNumberRules(countryCode: "49")
/// rules.normalize("089 1234567")          // "+49891234567"
/// rules.normalize("+49 (0)89 123 45 67")  // "+49891234567"
/// rules.normalize("4001")                 // "4001" (an extension)
/// rules.normalize("call me")              // nil
/// ```
public struct PhoneNumberRules: Sendable, Hashable, Codable {
    /// The site's country calling code, digits only (`86` China, `49` Germany).
    public var countryCode: String
    /// What a national number starts with when dialled within the country (`0` in China and Germany; empty for
    /// countries without one).
    public var trunkPrefix: String
    /// What an international number starts with when dialled from the site (`00`).
    public var internationalPrefix: String
    /// The digit some PBXs put in front of every external number they report (the outside-line access code, e.g. `0`
    /// or `9`); `nil` when the switch reports numbers as dialled.
    public var outsideLinePrefix: String?
    /// Digit strings this long or shorter are internal extensions and stay as they are.
    public var maxExtensionDigits: Int
    /// Whether a number that starts with the country code without `+` or `00` (`8613812345678`) is international.
    /// Off by default: a national number could start with the same digits.
    public var acceptsCountryCodeWithoutPrefix: Bool

    public init(
        countryCode: String = "86", trunkPrefix: String = "0", internationalPrefix: String = "00",
        outsideLinePrefix: String? = nil, maxExtensionDigits: Int = 6, acceptsCountryCodeWithoutPrefix: Bool = false
    ) {
        self.countryCode = countryCode
        self.trunkPrefix = trunkPrefix
        self.internationalPrefix = internationalPrefix
        self.outsideLinePrefix = outsideLinePrefix.flatMap { $0.isEmpty ? nil : $0 }
        self.maxExtensionDigits = maxExtensionDigits
        self.acceptsCountryCodeWithoutPrefix = acceptsCountryCodeWithoutPrefix
    }

    /// Whether the configuration itself is usable: every prefix digits only, a country code of 1–3 digits.
    public var problems: [String] {
        var problems: [String] = []
        if !(1...3).contains(countryCode.count) || !Self.isDigits(countryCode) || countryCode.hasPrefix("0") {
            problems.append("country code '\(countryCode)' is not 1–3 digits")
        }
        if !trunkPrefix.isEmpty && !Self.isDigits(trunkPrefix) { problems.append("trunk prefix '\(trunkPrefix)' is not digits") }
        if internationalPrefix.isEmpty || !Self.isDigits(internationalPrefix) {
            problems.append("international prefix '\(internationalPrefix)' is not digits")
        }
        if let outsideLinePrefix, !Self.isDigits(outsideLinePrefix) {
            problems.append("outside-line prefix '\(outsideLinePrefix)' is not digits")
        }
        if maxExtensionDigits < 0 { problems.append("max extension digits is negative") }
        return problems
    }

    /// E.164 allows at most 15 digits after `+`; shorter than 7 is no complete external number anywhere.
    static let e164Digits = 7...15

    /// The canonical form of `raw`: `+<country code><national number>` for an external number, the digits for an
    /// extension, `nil` when `raw` is not a phone number (letters, stray symbols, too long, nothing left).
    public func normalize(_ raw: String) -> String? {
        guard let scanned = Self.scan(raw), !scanned.digits.isEmpty else { return nil }
        let digits = scanned.digits
        if scanned.plus { return international(digits) }
        if digits.count <= maxExtensionDigits { return digits }
        // A PBX that adds an outside-line digit adds it to every external number: strip it when what remains is
        // still an external number (a CSV never has it, so a number without it is read as it is).
        if let outsideLinePrefix, digits.hasPrefix(outsideLinePrefix) {
            let rest = String(digits.dropFirst(outsideLinePrefix.count))
            if rest.count > maxExtensionDigits { return external(rest) }
        }
        return external(digits)
    }

    /// The spellings a switch may have used for the canonical number `canonical` in a call record (E.164 with and
    /// without `+`, with the international prefix, national with and without trunk prefix, each also behind the
    /// outside-line prefix), so stored calls are found by exact, indexed matches. An extension is only itself.
    public func spellings(of canonical: String) -> [String] {
        guard canonical.hasPrefix("+") else { return [canonical] }
        let international = String(canonical.dropFirst())
        var forms = [canonical, international, internationalPrefix + international]
        if international.hasPrefix(countryCode) {
            let national = String(international.dropFirst(countryCode.count))
            forms.append(trunkPrefix + national)
            if !trunkPrefix.isEmpty { forms.append(national) }
        }
        if let outsideLinePrefix {
            forms += forms.filter { !$0.hasPrefix("+") }.map { outsideLinePrefix + $0 }
        }
        var seen: Set<String> = []
        return forms.filter { seen.insert($0).inserted }
    }

    private func external(_ digits: String) -> String? {
        if digits.hasPrefix(internationalPrefix) {
            return international(String(digits.dropFirst(internationalPrefix.count)))
        }
        if acceptsCountryCodeWithoutPrefix, digits.hasPrefix(countryCode),
            Self.e164Digits.contains(digits.count), !digits.dropFirst(countryCode.count).hasPrefix("0")
        {
            return international(digits)
        }
        var national = Substring(digits)
        if !trunkPrefix.isEmpty, national.hasPrefix(trunkPrefix) { national = national.dropFirst(trunkPrefix.count) }
        guard let first = national.first, first != "0" else { return nil }
        return international(countryCode + national)
    }

    /// `digits` after `+` or the international prefix: a country code and a national number.
    private func international(_ digits: String) -> String? {
        var digits = Substring(digits)
        // "+86 010 …", "+49 (0)89 …": the trunk prefix does not belong after the country code.
        if !trunkPrefix.isEmpty, digits.hasPrefix(countryCode),
            digits.dropFirst(countryCode.count).hasPrefix(trunkPrefix)
        {
            digits = digits.prefix(countryCode.count) + digits.dropFirst(countryCode.count + trunkPrefix.count)
        }
        guard let first = digits.first, first != "0", Self.e164Digits.contains(digits.count) else { return nil }
        return "+" + digits
    }

    /// The digits of `raw` and whether it started with `+`; separators (spaces, dashes, dots, slashes, parentheses)
    /// are dropped, full-width digits (as Chinese input methods write them) read as digits; anything else → `nil`.
    static func scan(_ raw: String) -> (plus: Bool, digits: String)? {
        var digits = ""
        var plus = false
        var seenDigit = false
        for scalar in raw.unicodeScalars {
            switch scalar.value {
            case 0x30...0x39:
                digits.unicodeScalars.append(scalar)
                seenDigit = true
            case 0xFF10...0xFF19:  // full-width ０…９
                digits.unicodeScalars.append(Unicode.Scalar(UInt8(scalar.value - 0xFF10 + 0x30)))
                seenDigit = true
            case 0x2B, 0xFF0B:  // + and full-width ＋, only in front
                guard !plus, !seenDigit else { return nil }
                plus = true
            case 0x20, 0x09, 0xA0, 0x3000, 0x2D, 0x2010...0x2015, 0x2E, 0x2F, 0x28, 0x29, 0xFF08, 0xFF09:
                continue
            default:
                return nil
            }
            // No phone number is this long; stop early on garbage instead of building a huge string.
            if digits.count > 32 { return nil }
        }
        return (plus, digits)
    }

    private static func isDigits(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}
