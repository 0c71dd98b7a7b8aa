import Foundation

/// An interaction in progress as status pages and APIs show it.
public struct ActiveInteraction: Sendable, Hashable, Codable {
    public struct Party: Sendable, Hashable, Codable {
        public var callID: String
        public var device: String
        public var agentID: String?
        /// `dialing`, `ringing`, `talking`, `held`, `queued` or `failed`.
        public var state: String
    }

    public var interactionID: String
    public var callIDs: [String]
    public var calling: String?
    public var called: String?
    public var queue: String?
    public var startedAt: Date
    public var answeredAt: Date?
    public var resynced: Bool
    public var parties: [Party]
}

extension CallModelEngine {
    /// Every interaction in progress, oldest first.
    public func activeInteractions() -> [ActiveInteraction] {
        interactions.values.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }.map { interaction in
            let parties = interaction.liveCalls.sorted().flatMap { id in
                (calls[id]?.connections ?? []).map { connection in
                    ActiveInteraction.Party(
                        callID: id, device: connection.device, agentID: agents[connection.device]?.agentID,
                        state: connection.state.segmentLabel ?? "failed")
                }
            }
            return ActiveInteraction(
                interactionID: interaction.id, callIDs: interaction.callIDs, calling: interaction.calling,
                called: interaction.called, queue: interaction.queue, startedAt: interaction.startedAt,
                answeredAt: interaction.answeredAt, resynced: interaction.resynced, parties: parties)
        }
    }
}
