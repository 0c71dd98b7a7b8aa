import CLibXML2

/// libxml2 (SAX2) as the reference parser behind the fast scanner.
///
/// Two uses:
/// * ``validate(_:)``: the decode fallback. When the scanner meets a construct it leaves alone (DOCTYPE, CDATA,
///   DTD-declared entities, a declared non-UTF-8 encoding), libxml2 decides whether the document is well formed; if it
///   is, the scanner reads it again in lenient mode over the *original* bytes, so every ``FieldSpan`` still points
///   into the payload (libxml2's SAX callbacks hand out decoded text without offsets, which spans cannot refer to).
/// * ``canonicalDocument(_:)``: re-serialises what libxml2 parsed (namespaces resolved, entities and CDATA decoded,
///   comments/PIs/DOCTYPE dropped, every element's namespace written as a default `xmlns`) into a plain document the
///   scanner reads strictly. Decoding that copy gives libxml2's view of the message; the differential tests compare
///   it with the scanner's view of the original.
///
/// Options: `XML_PARSE_NONET`; never `XML_PARSE_NOENT` or DTD loading (no external entities, no XXE).
enum LibXML2Fallback {
    private static let options = Int32(
        bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    /// `nil` when libxml2 finds the document well formed, else the error with libxml2's byte position.
    static func validate(_ bytes: UnsafeRawBufferPointer) -> CSTADecodeError? {
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.serror = { _, _ in }
        return parse(bytes, handler: &handler, context: nil)
    }

    private static func parse(
        _ bytes: UnsafeRawBufferPointer, handler: inout xmlSAXHandler, context: UnsafeMutableRawPointer?
    ) -> CSTADecodeError? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return CSTADecodeError(.empty, at: 0) }
        guard bytes.count < Int(Int32.max) else { return CSTADecodeError(.frameTooLarge, at: 0) }
        xmlInitParser()
        guard let ctxt = xmlCreatePushParserCtxt(&handler, context, nil, 0, nil) else {
            return CSTADecodeError(.malformedXML, at: 0)
        }
        defer { xmlFreeParserCtxt(ctxt) }
        xmlCtxtUseOptions(ctxt, options)
        let rc = xmlParseChunk(ctxt, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), 1)
        if rc == 0 && ctxt.pointee.wellFormed != 0 { return nil }
        let consumed = Int(xmlByteConsumed(ctxt))
        return CSTADecodeError(.malformedXML, at: min(max(consumed, 0), bytes.count))
    }

    /// libxml2's reading of the document as a canonical UTF-8 document, or the error libxml2 reported.
    static func canonicalDocument(_ bytes: UnsafeRawBufferPointer) -> Result<[UInt8], CSTADecodeError> {
        let writer = CanonicalWriter()
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.serror = { _, _ in }
        handler.startElementNs = { ctx, localname, _, uri, _, _, nbAttributes, _, attributes in
            guard let ctx, let localname else { return }
            let w = Unmanaged<CanonicalWriter>.fromOpaque(ctx).takeUnretainedValue()
            w.start(localname, uri, Int(nbAttributes), attributes)
        }
        handler.endElementNs = { ctx, localname, _, _ in
            guard let ctx, let localname else { return }
            Unmanaged<CanonicalWriter>.fromOpaque(ctx).takeUnretainedValue().end(localname)
        }
        handler.characters = { ctx, ch, len in
            guard let ctx, let ch else { return }
            Unmanaged<CanonicalWriter>.fromOpaque(ctx).takeUnretainedValue().text(ch, Int(len))
        }
        handler.ignorableWhitespace = handler.characters
        handler.cdataBlock = handler.characters
        let context = Unmanaged.passUnretained(writer).toOpaque()
        let error = withExtendedLifetime(writer) { parse(bytes, handler: &handler, context: context) }
        if let error { return .failure(error) }
        return .success(writer.out)
    }
}

/// Writes SAX2 events back out as XML (see ``LibXML2Fallback/canonicalDocument(_:)``).
private final class CanonicalWriter {
    var out: [UInt8] = Array(#"<?xml version="1.0" encoding="UTF-8"?>"#.utf8)
    /// The namespace URI of each open element.
    var uris: [[UInt8]?] = []

    private static func bytes(_ p: UnsafePointer<xmlChar>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: p, count: Int(xmlStrlen(p)))
    }

    func start(
        _ localname: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?, _ count: Int,
        _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: Self.bytes(localname))
        let mine: [UInt8]? = uri.map { Array(Self.bytes($0)) }
        let inherited: [UInt8]? = uris.last ?? nil
        if mine != inherited {
            out.append(contentsOf: #" xmlns=""#.utf8)
            escape(mine ?? [], attribute: true)
            out.append(UInt8(ascii: "\""))
        }
        uris.append(mine)
        if let attributes {
            // Five pointers per attribute: localname, prefix, URI, value, end. Only unprefixed ones are kept.
            for k in 0..<count where attributes[5 * k + 2] == nil {
                guard let name = attributes[5 * k], let value = attributes[5 * k + 3],
                    let valueEnd = attributes[5 * k + 4]
                else { continue }
                out.append(UInt8(ascii: " "))
                out.append(contentsOf: Self.bytes(name))
                out.append(contentsOf: #"=""#.utf8)
                escape(Array(UnsafeBufferPointer(start: value, count: valueEnd - value)), attribute: true)
                out.append(UInt8(ascii: "\""))
            }
        }
        out.append(UInt8(ascii: ">"))
    }

    func end(_ localname: UnsafePointer<xmlChar>) {
        out.append(contentsOf: "</".utf8)
        out.append(contentsOf: Self.bytes(localname))
        out.append(UInt8(ascii: ">"))
        if !uris.isEmpty { uris.removeLast() }
    }

    func text(_ ch: UnsafePointer<xmlChar>, _ count: Int) {
        escape(Array(UnsafeBufferPointer(start: ch, count: count)), attribute: false)
    }

    private func escape(_ s: [UInt8], attribute: Bool) {
        for c in s {
            switch c {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\"") where attribute: out.append(contentsOf: "&quot;".utf8)
            case 0x09 where attribute, 0x0A where attribute, 0x0D where attribute: out.append(contentsOf: "&#\(c);".utf8)
            default: out.append(c)
            }
        }
    }
}
