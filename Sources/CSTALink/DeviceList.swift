/// Device lists as operators write them: `4001-4010,8001` (`contracts.md` §6).
public enum DeviceList {
    /// Why a list could not be read.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The list item that could not be read.
        public var item: String
        public var description: String { "bad device or range '\(item)' (expected e.g. 4001-4010,8001)" }
    }

    /// Expands a comma-separated list of devices and numeric ranges; order is kept, duplicates are dropped. A range
    /// keeps the width of its first bound (`0100-0102` → `0100`, `0101`, `0102`).
    public static func parse(_ text: String) throws(ParseError) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        for raw in text.split(separator: ",") {
            let item = raw.trimmingSpaces
            guard !item.isEmpty else { continue }
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            var devices: [String]
            if bounds.count == 2, let lo = Int(bounds[0]), let hi = Int(bounds[1]), bounds[0].allSatisfy(\.isNumber) {
                guard lo <= hi, hi - lo < 1_000_000 else { throw ParseError(item: item) }
                let width = bounds[0].count
                devices = (lo...hi).map { n in
                    let s = String(n)
                    return String(repeating: "0", count: max(0, width - s.count)) + s
                }
            } else if bounds.count == 1 {
                devices = [item]
            } else {
                throw ParseError(item: item)
            }
            for d in devices where seen.insert(d).inserted { out.append(d) }
        }
        return out
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// Masks phone numbers for logs: all but the last two digits become `*` (`4711` → `**11`).
public enum NumberMask {
    /// Masks `text` when `enabled`; non-digits are kept so device-id shapes stay readable.
    public static func mask(_ text: String, enabled: Bool = true) -> String {
        guard enabled else { return text }
        let digits = text.filter(\.isNumber).count
        var seen = 0
        return String(text.map { ch -> Character in
            guard ch.isNumber else { return ch }
            seen += 1
            return seen > digits - 2 ? ch : "*"
        })
    }
}
