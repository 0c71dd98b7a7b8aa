/// XML character data → String: the five predefined entities and numeric character references are resolved,
/// surrounding white space trimmed (or, `compact`, every white-space character dropped: switches pretty-print hex ids
/// across lines).
enum XMLText {
    static func decode(_ b: UnsafeRawBufferPointer, compact: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "&"), let (scalar, next) = entity(b, at: i) {
                appendUTF8(scalar, to: &out)
                i = next
                continue
            }
            if compact && isSpace(c) {
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        if !compact {
            while let last = out.last, isSpace(last) { out.removeLast() }
            let lead = out.prefix(while: isSpace).count
            if lead > 0 { out.removeFirst(lead) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
    }

    /// The entity or character reference starting at `i` (`&…;`), and the index after it.
    static func entity(_ b: UnsafeRawBufferPointer, at i: Int) -> (Unicode.Scalar, Int)? {
        var j = i + 1
        while j < b.count, j - i <= 12, b[j] != UInt8(ascii: ";") { j += 1 }
        guard j < b.count, b[j] == UInt8(ascii: ";") else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: b[(i + 1)..<j])
        let next = j + 1
        switch String(decoding: name, as: UTF8.self) {
        case "lt": return ("<", next)
        case "gt": return (">", next)
        case "amp": return ("&", next)
        case "quot": return ("\"", next)
        case "apos": return ("'", next)
        default: break
        }
        guard name.count >= 2, name[0] == UInt8(ascii: "#") else { return nil }
        var value: UInt32 = 0
        if name[1] == UInt8(ascii: "x") || name[1] == UInt8(ascii: "X") {
            guard name.count > 2 else { return nil }
            for c in name.dropFirst(2) {
                guard let d = hexValue(c), value < 0x11_0000 else { return nil }
                value = value * 16 + UInt32(d)
            }
        } else {
            for c in name.dropFirst() {
                guard c >= 0x30, c <= 0x39, value < 0x11_0000 else { return nil }
                value = value * 10 + UInt32(c - 0x30)
            }
        }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, next)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    static func appendUTF8(_ s: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(s) { out.append($0) }
    }
}
