/// Counters of the reference server (summed since start). Malformed input is counted here,
/// logged, and dropped without touching any state.
public struct ServerStats: Sendable, Equatable, CustomStringConvertible {
    public var udpReceived = 0
    public var udpMalformed = 0
    public var udpDropped = 0
    public var relayed = 0
    public var discovers = 0
    public var offers = 0
    public var requests = 0
    public var acks = 0
    public var naks = 0
    public var releases = 0
    public var declines = 0
    public var informs = 0
    /// DISCOVERs left unanswered because no (IPv4, PSID) was free (RFC 2131 §4.3.1).
    public var exhausted = 0
    /// Requests without 159 in the PRL discarded because only shared pools exist (RFC 7618 §5.1).
    public var discardedNoPortParams = 0
    /// REQUESTs NAKed or kept the old B4 because their 109 belonged to another lease (RFC 8539).
    public var b4Conflicts = 0
    public var expired = 0
    public var storeErrors = 0
    public var lqConnections = 0
    public var lqRefusedConnections = 0
    public var lqMalformed = 0
    public var lqBulkQueries = 0
    public var lqActiveQueries = 0
    public var lqRecordsSent = 0
    public var lqKeepAlives = 0
    public var lqTLSStarted = 0

    public init() {}

    public var description: String {
        "udp rx \(udpReceived) malformed \(udpMalformed) dropped \(udpDropped); discover \(discovers) offer \(offers) "
            + "request \(requests) ack \(acks) nak \(naks) release \(releases) decline \(declines) exhausted \(exhausted) "
            + "expired \(expired); lq conns \(lqConnections) refused \(lqRefusedConnections) malformed \(lqMalformed) "
            + "bulk \(lqBulkQueries) active \(lqActiveQueries) records \(lqRecordsSent)"
    }
}
