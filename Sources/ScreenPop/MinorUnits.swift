import Foundation

/// Decimal currency text → minor units (fen, cent), exactly: `"123.45"` → 12345, `"-5"` → -500,
/// `"1,234.50"` → 123450. `nil` for anything else: more than two decimals (no silent rounding), misplaced thousands
/// separators, letters, overflow.
public enum MinorUnits {
    public static func parse(_ text: String) -> Int64? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), fraction.count <= 2, isDigits(fraction) else { return nil }
        guard let wholeDigits = grouped(whole) else { return nil }

        var value: Int64 = 0
        let padded = fraction + String(repeating: "0", count: 2 - fraction.count)
        for digit in Array(wholeDigits.utf8) + Array(padded.utf8) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    /// The digits of a whole part, with thousands separators only where they belong (`1,234,567`).
    private static func grouped(_ whole: Substring) -> String? {
        guard whole.contains(",") else { return isDigits(whole) ? String(whole) : nil }
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        guard let head = groups.first, (1...3).contains(head.count), isDigits(head),
            groups.dropFirst().allSatisfy({ $0.count == 3 && isDigits($0) })
        else { return nil }
        return groups.joined()
    }

    private static func isDigits(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}
