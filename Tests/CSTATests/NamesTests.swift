import Testing
@testable import CSTA

@Suite struct NamesTests {
    @Test func transferredEventUsesTheStandardsSpelling() {
        #expect(CSTANames.xmlEventElement(EventType(.callControl, 17)) == "TransferedEvent")
        #expect(CSTANames.eventType(xmlElement: "TransferedEvent") == EventType(.callControl, 17))
        #expect(CSTANames.eventType(xmlElement: "AgentLoggedOnEvent") == EventType(.logicalDeviceFeature, 1))
        #expect(CSTANames.eventType(xmlElement: "CallInformationEvent") == EventType(.callAssociated, 0))
    }

    @Test func operationsAndAliases() {
        #expect(CSTANames.serviceName(forOperation: 211) == "SystemStatus")
        #expect(CSTANames.operation(forService: "RouteSelect") == 33)
        #expect(CSTANames.preferredOperation(forService: "SystemStatus") == 211)
        #expect(CSTANames.name(22, in: CSTANames.eventCauses) == "newCall")
        #expect(CSTANames.name(34, in: CSTANames.eventCauses) == "34")
    }
}
