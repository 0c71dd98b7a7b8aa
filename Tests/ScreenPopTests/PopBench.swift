import CallModel
import Foundation
import ScreenPop

/// The test switch, the real call model and a pop router in a row: each switch step's normalized events go to the
/// router, and its deliveries are collected.
struct PopBench {
    var sw: PopTestSwitch
    var router: PopRouter
    var deliveries: [PopDelivery] = []
    /// Per interaction, every device the call model's events named (as `device` or `otherDevice`).
    var devicesNamed: [String: Set<String>] = [:]

    /// `agents` phones with their ACD agents; with `loginAll`, each agent has a desktop at its phone.
    init(agents: Int, trigger: PopTrigger = .alerting, loginAll: Bool = true, maxAge: TimeInterval = 12 * 3600) {
        sw = PopTestSwitch(agents: agents)
        router = PopRouter(configuration: .init(trigger: trigger, maxAge: maxAge))
        if loginAll {
            for n in 1...agents {
                let ext = String(4000 + n)
                _ = router.login(agentID: PopTestSwitch.agentID(ext), devices: [ext])
            }
        }
        feed()
        deliveries = []
    }

    /// Runs switch steps and returns the messages they gave.
    @discardableResult
    mutating func run(_ body: (inout PopTestSwitch) -> Void) -> [PopDelivery] {
        body(&sw)
        return feed()
    }

    @discardableResult
    mutating func feed() -> [PopDelivery] {
        var out: [PopDelivery] = []
        for event in sw.drain() {
            if let id = event.interactionID {
                for device in [event.device, event.otherDevice].compactMap({ $0 }) {
                    devicesNamed[id, default: []].insert(device)
                }
            }
            out += router.apply(event)
        }
        deliveries += out
        return out
    }

    /// The enrichment step's answer; its messages are collected like the events'.
    @discardableResult
    mutating func attach(
        _ interactionID: String, customer: CustomerCard?, recentCalls: [RecentCall] = [],
        openWorkOrders: [WorkOrderSummary] = []
    ) -> [PopDelivery] {
        let out = router.attach(
            interactionID: interactionID, customer: customer, recentCalls: recentCalls, openWorkOrders: openWorkOrders)
        deliveries += out
        return out
    }

    /// The messages `agentID` got, in order.
    func messages(to agentID: String) -> [PopMessage] {
        deliveries.filter { $0.recipient == agentID }.map(\.message)
    }

    /// `type` and `event` of each message, for compact expectations.
    static func kinds(_ messages: [PopMessage]) -> [String] {
        messages.map { "\($0.type.rawValue):\($0.event ?? "-")" }
    }

    /// The interaction of call `id` as the call model named it.
    func interaction(ofCall id: String) -> String? {
        sw.events.first { $0.callID == id || ($0.callIDs ?? []).contains(id) }?.interactionID
    }
}
