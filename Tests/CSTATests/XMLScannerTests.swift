import Foundation
import NIOCore
import Testing

@testable import CSTA

@Suite struct XMLScannerTests {
    /// The tokens of `doc` as (kind, local name) pairs, or the scanner's issue.
    static func tokens(_ doc: String, lenient: Bool = false) -> Result<[(XMLToken.Kind, String)], XMLScanIssue> {
        let bytes = Array(doc.utf8)
        return bytes.withUnsafeBytes { b in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * XMLLimits.maximumDepth) { stack in
                var scanner = XMLScanner(b, stack: stack.baseAddress!, lenient: lenient)
                var out: [(XMLToken.Kind, String)] = []
                while true {
                    do throws(XMLScanIssue) { _ = try scanner.next() } catch { return .failure(error) }
                    let t = scanner.token
                    if t.kind == .eof { return .success(out) }
                    let name = t.kind == .start
                        ? String(decoding: UnsafeRawBufferPointer(rebasing: b[t.localStart..<(t.localStart + t.localCount)]), as: UTF8.self)
                        : ""
                    out.append((t.kind, name))
                }
            }
        }
    }

    static func names(_ doc: String) -> [String]? {
        guard case .success(let t) = tokens(doc) else { return nil }
        return t.map { $0.0 == .start ? $0.1 : "/" }
    }

    static func decodeError(_ doc: String) -> CSTADecodeError? {
        var f = CSTAFields()
        if case .failure(let e) = XMLTestSupport.decodeFields(Array(doc.utf8), into: &f) { return e }
        return nil
    }

    static let ns = #"xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3""#

    @Test func prefixedNamesMatchOnLocalName() {
        let doc = #"<ns3:MonitorStart xmlns:ns3="urn:x"><ns3:monitorObject><ns3:deviceObject>1</ns3:deviceObject></ns3:monitorObject></ns3:MonitorStart>"#
        #expect(Self.names(doc) == ["MonitorStart", "monitorObject", "deviceObject", "/", "/", "/"])
    }

    @Test func attributesInBothQuoteStyles() throws {
        let doc = #"<MakeCall a='1' b = "x&amp;y"><callingDevice typeOfNumber='deviceNumber'>100123</callingDevice><calledDirectoryNumber>4711</calledDirectoryNumber></MakeCall>"#
        #expect(Self.names(doc) == ["MakeCall", "callingDevice", "/", "calledDirectoryNumber", "/", "/"])
        let r = try XMLTestSupport.record(Array(doc.utf8))
        #expect(r.string("calling") == "deviceNumber:100123")
        #expect(Self.names(#"<a b="1"c="2"/>"#) == nil)  // attributes need white space between them
        #expect(Self.names(#"<a b="1/>"#) == nil)
        #expect(Self.names(#"<a b=1/>"#) == nil)
    }

    @Test func selfClosingGivesStartAndEnd() {
        #expect(Self.names("<a><b/><c /></a>") == ["a", "b", "/", "c", "/", "/"])
    }

    @Test func commentsAndProcessingInstructionsAreSkipped() {
        let doc = "<?xml version=\"1.0\"?>\n<!-- head --><a><?pi data?><!-- x --><b>1<!--y--></b></a><!-- tail -->\n"
        #expect(Self.names(doc) == ["a", "b", "/", "/"])
        #expect(Self.names("<a><!-- bad -- comment --></a>") == nil)
        #expect(Self.names("<a/><?xml version=\"1.0\"?>") == nil)  // declaration not at the start
    }

    @Test func entitiesAreValidatedAndRenderedLater() throws {
        #expect(Self.names("<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;</a>") == ["a", "/"])
        #expect(Self.names("<a>&#0;</a>") == nil)
        #expect(Self.names("<a>&#xD800;</a>") == nil)
        #expect(Self.names("<a>& b</a>") == nil)
        guard case .failure(let issue) = Self.tokens("<a>&custom;</a>"), issue.isUnsupported else {
            Issue.record("an undeclared entity must go to libxml2")
            return
        }
        let r = try XMLTestSupport.record(Array(
            "<DeliveredEvent \(Self.ns)><monitorCrossRefID>1</monitorCrossRefID><alertingDevice><deviceIdentifier>N&lt;30&#x32;&gt;</deviceIdentifier></alertingDevice></DeliveredEvent>".utf8))
        #expect(r.string("device") == "N<302>")
    }

    @Test func cdataGoesToTheLibXML2Fallback() throws {
        let doc = "<DeliveredEvent \(Self.ns)><monitorCrossRefID><![CDATA[ab12]]></monitorCrossRefID><connection><callID><![CDATA[0a<b]]></callID></connection></DeliveredEvent>"
        guard case .failure(let issue) = Self.tokens(doc), issue.isUnsupported else {
            Issue.record("CDATA must be unsupported in strict mode")
            return
        }
        let r = try XMLTestSupport.record(Array(doc.utf8))
        #expect(r.string("monitorCrossRefID") == "ab12")
        #expect(try XMLTestSupport.libxml2Record(Array(doc.utf8)).string("monitorCrossRefID") == "ab12")
        // A malformed CDATA document is rejected by libxml2 with an offset inside the document.
        let bad = doc.replacingOccurrences(of: "</connection>", with: "</connectio>")
        let error = try #require(Self.decodeError(bad))
        #expect(error.code == .malformedXML)
        #expect((0...bad.utf8.count).contains(error.offset))
    }

    @Test func doctypeAndOtherEncodingsGoToTheFallback() throws {
        let doctype = "<?xml version=\"1.0\"?><!DOCTYPE MonitorStartResponse [<!ELEMENT x ANY>]><MonitorStartResponse \(Self.ns)><monitorCrossRefID>77</monitorCrossRefID></MonitorStartResponse>"
        guard case .failure(let issue) = Self.tokens(doctype), issue.isUnsupported else {
            Issue.record("DOCTYPE must be unsupported in strict mode")
            return
        }
        #expect(try XMLTestSupport.record(Array(doctype.utf8)).string("monitorCrossRefID") == "77")
        let latin1 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><MonitorStartResponse \(Self.ns)><monitorCrossRefID>78</monitorCrossRefID></MonitorStartResponse>"
        guard case .failure(let issue) = Self.tokens(latin1), issue.isUnsupported else {
            Issue.record("ISO-8859-1 must be unsupported in strict mode")
            return
        }
        #expect(try XMLTestSupport.record(Array(latin1.utf8)).string("monitorCrossRefID") == "78")
        // An external entity is never fetched or expanded.
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><MonitorStop \(Self.ns)><monitorCrossRefID>&e;</monitorCrossRefID></MonitorStop>"
        // libxml2 runs without entity loading or substitution: an entity declared in the DTD is not defined for it,
        // so the reference is an error and nothing is read.
        let error = try #require(Self.decodeError(xxe))
        #expect(error.code == .malformedXML)
        #expect((0...xxe.utf8.count).contains(error.offset))
    }

    @Test func mismatchedEndTagIsAnErrorWithItsOffset() throws {
        let doc = "<a><b></a></b>"
        let error = try #require(Self.decodeError(doc))
        #expect(error.code == .malformedXML)
        #expect(error.offset == 6)
        let prefixed = "<x:a xmlns:x=\"u\"><x:b></y:b></x:a>"
        #expect(try #require(Self.decodeError(prefixed)).offset == 22)
    }

    @Test func truncatedInputIsAnErrorAtEveryLength() throws {
        let doc = "<?xml version=\"1.0\"?><DeliveredEvent \(Self.ns)><monitorCrossRefID>1</monitorCrossRefID><cause>newCall</cause></DeliveredEvent>"
        let bytes = Array(doc.utf8)
        for n in 0..<bytes.count {
            var f = CSTAFields()
            let result = XMLTestSupport.decodeFields(Array(bytes[0..<n]), into: &f)
            guard case .failure(let e) = result else {
                Issue.record("prefix of \(n) bytes decoded")
                continue
            }
            #expect((0...n).contains(e.offset))
        }
        #expect(Self.decodeError("")?.code == .empty)
        #expect(Self.decodeError("<a><b>1</b>")?.code == .truncated)
        #expect(Self.decodeError("<a><b>1</b>")?.offset == 11)
    }

    @Test func depthIsBounded() {
        let ok = String(repeating: "<a>", count: XMLLimits.maximumDepth) + String(repeating: "</a>", count: XMLLimits.maximumDepth)
        #expect(Self.names(ok) != nil)
        let deep = "<a>" + ok + "</a>"
        let error = Self.decodeError(deep)
        #expect(error?.code == .nestingTooDeep)
        #expect(error?.offset == 3 * XMLLimits.maximumDepth)
    }

    @Test func contentOutsideTheRootIsRejected() {
        #expect(Self.decodeError("<a/><b/>")?.code == .trailingBytes)
        #expect(Self.decodeError("<a/>x")?.code == .trailingBytes)
        #expect(Self.decodeError("x<a/>")?.code == .malformedXML)
        #expect(Self.decodeError("<a/>\n  <!-- c -->\n") == nil)
    }

    @Test func invalidUTF8IsRejected() {
        var bytes = Array("<a>xx</a>".utf8)
        bytes[3] = 0xC3
        var f = CSTAFields()
        guard case .failure(let e) = XMLTestSupport.decodeFields(bytes, into: &f) else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
        #expect(e.code == .invalidUTF8)
        #expect(e.offset == 3)
    }

    @Test func unknownEventsAndBadBodies() throws {
        let unknown = try XMLTestSupport.record(Array("<FancyVendorEvent \(Self.ns)><monitorCrossRefID>5</monitorCrossRefID></FancyVendorEvent>".utf8))
        #expect(unknown.string("event") == "fancyVendor")
        #expect(unknown.int("op") == 21)
        #expect(unknown.string("monitorCrossRefID") == "5")
        let transferred = try XMLTestSupport.record(Array("<TransferredEvent><monitorCrossRefID>5</monitorCrossRefID></TransferredEvent>".utf8))
        #expect(transferred.string("event") == "transferred")
        let badDoc = "<QueuedEvent \(Self.ns)><monitorCrossRefID>5</monitorCrossRefID><numberQueued>many</numberQueued></QueuedEvent>"
        let bad = try XMLTestSupport.record(Array(badDoc.utf8))
        #expect(bad.string("event") == "queued")
        let offset = badDoc.utf8.count - "many</numberQueued></QueuedEvent>".utf8.count
        #expect(bad.string("eventError") == "invalid integer at offset \(offset)")
        let noXref = try XMLTestSupport.record(Array("<HeldEvent \(Self.ns)><cause>normal</cause></HeldEvent>".utf8))
        #expect(noXref.string("event") == "held")
        #expect(noXref.string("cause") == "normal")
        #expect(noXref.string("eventError") == "missing mandatory field at offset 0")
        let error = try XMLTestSupport.record(Array("<CSTAErrorCode \(Self.ns)><operation>invalidDeviceID</operation></CSTAErrorCode>".utf8))
        #expect(error.string("pdu") == "returnError")
        #expect(error.string("errorCategory") == "operation")
        #expect(error.string("errorValue") == "invalidDeviceID")
    }

    @Test func listItemsAreReadAgainFromTheDocument() throws {
        let doc = Array("<TransferedEvent \(Self.ns)><monitorCrossRefID>1</monitorCrossRefID><transferredConnections><connectionListItem><newConnection><callID> 0a\n0b </callID><deviceID>1</deviceID></newConnection></connectionListItem><!-- c --><connectionListItem><endpoint><deviceID>2</deviceID></endpoint></connectionListItem></transferredConnections></TransferedEvent>".utf8)
        var f = CSTAFields()
        try XMLTestSupport.decodeFields(doc, into: &f).get()
        #expect(f.newCallIDs.kind == .xmlConnectionList)
        #expect(f.newCallIDs.count == 2)
        let message = CSTAMessage(encoding: .xml, payload: ByteBuffer(bytes: doc), fields: f)
        var items: [String] = []
        doc.withUnsafeBytes { b in
            XMLCodec.forEachListItem(f.newCallIDs, in: b) { item in
                if case .callID(let span) = item { items.append(message.text(span) ?? "-") }
            }
        }
        #expect(items == ["0a0b", "-"])
    }
}
