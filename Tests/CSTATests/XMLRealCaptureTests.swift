import Foundation
import NIOCore
import Testing

@testable import CSTA

/// Field-level checks of the real OpenScape Voice messages (pyssimist captures and templates).
@Suite struct XMLRealCaptureTests {
    func capture(_ name: String) throws -> CSTARecord? {
        let path = XMLTestSupport.osvCaptures + "/" + name
        guard XMLTestSupport.available(path) else { return nil }
        return try XMLTestSupport.record(try XMLTestSupport.capture(SharedFixtures.url(path)))
    }

    func template(_ name: String) throws -> CSTARecord? {
        let path = XMLTestSupport.osvTemplates + "/" + name
        guard XMLTestSupport.available(path) else { return nil }
        return try XMLTestSupport.record(try XMLTestSupport.capture(SharedFixtures.url(path)))
    }

    static let siemens = "http://www.siemens.com/schema/csta"

    @Test func serviceInitiatedEvent() throws {
        guard let r = try capture("01_ServiceInitiatedEvent_framed.txt") else { return }
        #expect(r.string("pdu") == "invoke")
        #expect(r.int("op") == 21)
        #expect(r.string("service") == "CSTAEventReport")
        #expect(r.string("event") == "serviceInitiated")
        #expect(r.string("monitorCrossRefID") == "1169730059")
        #expect(r.string("callID") == "FF000100000000002D65C85C1C750000")
        #expect(r.string("connDevice") == "302118840100")
        #expect(r.string("device") == "N<302118840100>;noa=nk")
        #expect(r.string("localConnectionInfo") == "initiated")
        #expect(r.string("cause") == "makeCall")
        #expect(r.string("privateDataVendor") == Self.siemens)
    }

    @Test func originatedEvent() throws {
        guard let r = try capture("02_OriginatedEvent_framed.txt") else { return }
        #expect(r.string("event") == "originated")
        #expect(r.string("device") == "302118840100")
        #expect(r["calling"] == nil)
        #expect(r.string("called") == "N<302118840101>;displayNumber=302118840101;noa=nk")
        #expect(r.string("cause") == "newCall")
        #expect(r.string("privateDataVendor") == Self.siemens)
    }

    @Test func monitorStopWithPrivateData() throws {
        guard let r = try capture("03_MonitorStop_framed.txt") else { return }
        #expect(r.string("pdu") == "invoke")
        #expect(r.int("op") == 73)
        #expect(r.string("service") == "MonitorStop")
        #expect(r.string("monitorCrossRefID") == "1193240031")
        #expect(r.string("privateDataVendor") == Self.siemens)
    }

    @Test func startApplicationSessionPosResponse() throws {
        guard let r = try capture("04_StartApplicationSessionPosResponse_framed.txt") else { return }
        #expect(r.string("pdu") == "returnResult")
        #expect(r["op"] == nil)
        #expect(r.string("service") == "StartApplicationSession")
        #expect(r.string("sessionID") == "009968951")
        #expect(r.string("protocolVersion") == "http://www.ecma-international.org/standards/ecma-323/csta/ed4")
        #expect(r.int("sessionDuration") == 600)
    }

    @Test func prettyPrintedMonitorStartWithoutNamespace() throws {
        guard let r = try capture("05_MonitorStart.xml") else { return }
        #expect(r.string("pdu") == "invoke")
        #expect(r.int("op") == 71)
        #expect(r.string("monitorObject") == "{user}")
        #expect(r.string("privateDataVendor") == Self.siemens)
    }

    @Test func systemRegisterAndMonitorStartResponses() throws {
        guard let r6 = try capture("06_SystemRegisterResponse_framed.txt"),
            let r7 = try capture("07_MonitorStartResponse_framed.txt")
        else { return }
        #expect(r6.string("pdu") == "returnResult")
        #expect(r6.int("op") == 207)
        #expect(r6.string("sysStatRegisterID") == "27ss")
        #expect(r7.string("pdu") == "returnResult")
        #expect(r7.string("service") == "MonitorStart")
        #expect(r7.string("monitorCrossRefID") == "1136370025")
    }

    @Test func startApplicationSession() throws {
        guard let r = try capture("08_StartApplicationSession.xml") else { return }
        #expect(r.string("pdu") == "invoke")
        #expect(r.string("service") == "StartApplicationSession")
        #expect(r.string("applicationID") == "pythontsm")
        #expect(r.string("protocolVersion") == "http://www.ecma-international.org/standards/ecma-323/csta/ed4")
        #expect(r.int("sessionDuration") == 600)
    }

    @Test func systemStatusVariants() throws {
        guard let r9 = try capture("09_SystemStatus.xml"), let r10 = try capture("10_SystemStatus.xml") else { return }
        #expect(r9.string("pdu") == "invoke")
        #expect(r9.int("op") == 211)
        #expect(r9.string("service") == "SystemStatus")
        #expect(r9.string("systemStatus") == "normal")
        #expect(r10.string("pdu") == "invoke")
        #expect(r10.int("op") == 211)
        #expect(r10["systemStatus"] == nil)
    }

    @Test func prefixedMonitorStart() throws {
        guard let r = try capture("11_MonitorStart.xml") else { return }
        #expect(r.int("op") == 71)
        #expect(r.string("monitorObject") == "3021033")
    }

    @Test func deflectCallWithoutNamespace() throws {
        guard let r = try capture("12_DeflectCall.xml") else { return }
        #expect(r.string("pdu") == "invoke")
        #expect(r.int("op") == 218)
        #expect(r.string("callID") == "FF000100000000006BB1234C31000000")
        #expect(r.string("connDevice") == "SUB_C")
        #expect(r.string("otherDevice") == "SUB_D")
    }

    @Test func callInformationEventWithRootDeclaredVendorPrefix() throws {
        guard let r = try capture("13_CallInformationEvent.xml") else { return }
        #expect(r.string("event") == "callInformation")
        #expect(r.string("eventClass") == "callAssociated")
        #expect(r.string("callID") == "FF00010000000000E2E00E6416060000")
        #expect(r.string("device") == "N<3021061290000>;noa=nk")
        #expect(r.string("privateDataVendor") == Self.siemens)
    }

    @Test func prettyPrintedDeliveredEvent() throws {
        guard let r = try capture("14_DeliveredEvent.xml") else { return }
        #expect(r.string("event") == "delivered")
        #expect(r.string("monitorCrossRefID") == "1173673890")
        #expect(r.string("callID") == "FF00010000000000EC6114647E570000")
        #expect(r.string("connDevice") == "3021061290002")
        #expect(r.string("device") == "N<3021061290002>;noa=nk")
        #expect(
            r.string("calling") == "N<7868772298>Line71001;displayNumber=7868772298;uid=FF00010000000000EC6114647E570000")
        #expect(r.string("called") == "N<3021061290002>;noa=nk")
        #expect(r.string("lastRedirection") == "<notRequired>")
        #expect(r.string("localConnectionInfo") == "alerting")
        #expect(r.string("cause") == "enteringDistribution")
        #expect(r.string("privateDataVendor") == Self.siemens)
    }

    @Test func templates() throws {
        guard let clear = try template("ClearConnection.xml"), let made = try template("MakeCall.xml"),
            let snap = try template("SnapshotDeviceResponse.xml"), let status = try template("SystemStatus_RegisterID.xml"),
            let cleared = try template("ConnectionClearedEvent.xml"), let reg = try template("SystemRegisterResponse.xml"),
            let snapReq = try template("SnapshotDevice.xml"), let statusResp = try template("SystemStatusResponse.xml")
        else { return }
        #expect(clear.int("op") == 5)
        #expect(clear.string("connDevice") == "{deviceID}")
        #expect(clear.string("reason") == "{reason}")
        #expect(made.string("calling") == "explicitPublic:subscriber:{callingDevice}")
        #expect(made.string("called") == "{calledDirectoryNumber}")
        #expect(snap.string("pdu") == "returnResult")
        #expect(snap.strings("snapshotCallIDs") == [])
        #expect(status.string("systemStatus") == "disabled")
        #expect(status.string("sysStatRegisterID") == "{sysStatRegisterID}")
        #expect(cleared.string("event") == "connectionCleared")
        #expect(cleared.string("device") == "{releasingDevice}")
        #expect(cleared.string("monitorCrossRefID") == "{CSTA_USE_MONITOR_CROSS_REF_ID}")
        #expect(reg.int("op") == 207)
        #expect(reg.string("pdu") == "returnResult")
        #expect(snapReq.string("device") == "{user}")
        #expect(statusResp.string("pdu") == "returnResult")
        #expect(statusResp.int("op") == 211)
    }
}
