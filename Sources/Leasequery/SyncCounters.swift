/// What `BindingSync` did with the records it was given, summed since it was created.
/// `received == added + replaced + removed + absent + rejected` for live records; bulk resync
/// records are counted in `resyncRecords` and applied in one publication.
public struct SyncCounters: Hashable, Sendable, CustomStringConvertible {
    /// Live records (active query, gap fill) offered to `apply`.
    public var received = 0
    /// Softwires that were new.
    public var added = 0
    /// Softwires overwritten in place (renewal, new B4).
    public var replaced = 0
    /// Softwires deleted by UNASSIGNED/UNKNOWN records.
    public var removed = 0
    /// UNASSIGNED/UNKNOWN records for keys the table did not hold.
    public var absent = 0
    /// Records not applied because they were invalid.
    public var rejectedInvalid = 0
    /// Records not applied because their port-set parameters conflicted.
    public var rejectedConflict = 0
    /// Softwires deleted locally because their lease ran out (PROTOCOLS.md §7.5).
    public var expired = 0
    /// Records received in bulk resyncs (valid or not).
    public var resyncRecords = 0
    /// Full resyncs published (one atomic table replacement each).
    public var resyncs = 0
    /// Gap fills completed.
    public var gapFills = 0
    /// Publications that failed (the table kept its previous content).
    public var failedPublications = 0
    /// Snapshots written.
    public var snapshotsWritten = 0

    public init() {}

    /// Records not applied, for any reason.
    public var rejected: Int { rejectedInvalid + rejectedConflict }

    /// Records that changed the table.
    public var applied: Int { added + replaced + removed }

    public var description: String {
        "received \(received) added \(added) replaced \(replaced) removed \(removed) absent \(absent) "
            + "rejected \(rejected) (invalid \(rejectedInvalid), conflict \(rejectedConflict)) expired \(expired) "
            + "resyncs \(resyncs) (\(resyncRecords) records) gap fills \(gapFills)"
    }
}
