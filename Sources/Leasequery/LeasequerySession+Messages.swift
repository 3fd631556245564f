import Logging
import DHCPWire

/// Message handling of `LeasequerySession`: de-framing, STARTTLS, the bulk and active response
/// streams (PROTOCOLS.md §7.4/§7.5). Every protocol violation throws `Failure`, which ends the
/// session (nothing from the offending message is applied).
extension LeasequerySession {
    enum Decoded { case message(ServerMessage), startTLSReply(DHCPv6Message), failure(String) }

    /// Handles every whole frame buffered on `c`.
    func drain(_ c: Conn) {
        let g = c.generation
        // Bulk fast path: plain DATA records of the running full resync go straight from the
        // frame buffer into the builder (no message values, no per-record dispatch). Anything
        // else — REPLY, DONE, status, odd records — is left to the general loop below.
        if c.role == .bulk, c.replied, c.state == .open, let xid = c.xid, case .full(let b)? = resync {
            let sync = self.sync
            bulkRecords += c.frames.consume { frame in
                guard let r = FastRecordDecoder.dataRecord(frame, xid: xid) else { return false }
                sync.add(r, to: b)
                return true
            }
        }
        while c.generation == g && c.state != .down && phase != .stopped && phase != .backoff {
            var tlsXID: UInt32? = nil
            if case .startingTLS(let x, _) = c.state { tlsXID = x }
            let decoded: Decoded?
            do {
                decoded = try c.frames.next { frame -> Decoded in
                    if tlsXID != nil {
                        do { return .startTLSReply(try DHCPv6Message.decode(Array(frame))) } catch {
                            return .failure("undecodable STARTTLS answer: \(error)")
                        }
                    }
                    do { return .message(try ServerMessage.decode(frame)) } catch {
                        return .failure("undecodable message: \(error)")
                    }
                }
            } catch {
                return fail("\(c.role) connection: \(error)")
            }
            guard let decoded else { return }
            switch decoded {
            case .failure(let why): fail("\(c.role) connection: \(why)")
            case .startTLSReply(let m): startTLSAnswer(c, m, xid: tlsXID!)
            case .message(let m):
                do throws(Failure) {
                    if c.role == .active { try handleActive(c, m) } else { try handleBulk(c, m) }
                } catch {
                    fail(error.reason)
                }
            }
        }
    }

    /// REPLY (7) to STARTTLS: no status → TLS, then the query inside it; a status → refused.
    func startTLSAnswer(_ c: Conn, _ m: DHCPv6Message, xid: UInt32) {
        guard m.type == .reply, m.transactionID == xid else {
            return fail("\(c.role) connection: answer to STARTTLS is \(m.type) xid \(m.transactionID)")
        }
        let status: DHCPv6StatusCode?
        do { status = try m.value(DHCPv6StatusCode.self) } catch { return fail("STARTTLS answer: \(error)") }
        if let s = status, s.status != .success { return fail("STARTTLS refused: \(s.status) \(s.message)") }
        guard c.frames.bufferedByteCount == 0 else { return fail("\(c.role) connection: data after the STARTTLS answer") }
        out.append(.startTLS(c.role))
        c.state = .open
        sendQuery(c)
    }

    /// Transaction-id (outer and inner) and inner op checks (§7.4).
    func checkIDs(_ c: Conn, _ m: ServerMessage) throws(Failure) {
        guard let xid = c.xid else { throw Failure(reason: "\(c.role) connection: \(m.kind) with no query outstanding") }
        guard m.transactionID == xid else {
            throw Failure(reason: "\(c.role) connection: transaction-id \(m.transactionID), expected \(xid)")
        }
        if let op = m.innerOp, op != 2 { throw Failure(reason: "\(c.role) connection: inner DHCPv4 op \(op)") }
        if let ix = m.innerTransactionID, ix != xid {
            throw Failure(reason: "\(c.role) connection: inner xid \(ix), expected \(xid)")
        }
    }

    /// First message of a query: must be a REPLY with SERVERID and our CLIENTID (RFC 5007 §4.2).
    func checkReply(_ c: Conn, _ m: ServerMessage) throws(Failure) {
        guard m.kind == .reply else { throw Failure(reason: "\(c.role) connection: \(m.kind) before REPLY") }
        guard m.hasServerID else { throw Failure(reason: "\(c.role) connection: REPLY without SERVERID") }
        guard m.clientDUID == config.requestorDUID else { throw Failure(reason: "\(c.role) connection: REPLY for another CLIENTID") }
        c.replied = true
    }

    // MARK: - bulk connection

    func handleBulk(_ c: Conn, _ m: ServerMessage) throws(Failure) {
        try checkIDs(c, m)
        guard let rs = resync else { throw Failure(reason: "bulk connection: message with no bulk query") }
        if !c.replied {
            try checkReply(c, m)
            if m.isDataMissing { return try bulkDataMissing(c) }
            if let e = m.errorDescription { throw Failure(reason: "bulk query refused: \(e)") }
            if case .full(let b) = rs {
                guard let t = m.baseTime else { throw Failure(reason: "bulk REPLY without LQ_BASE_TIME") }
                b.baseTime = t
            }
            resyncReplied = now
            if case .none = m.payload { return try bulkComplete(c) }   // empty result: no DONE follows
            return try bulkPayload(c, m)
        }
        switch m.kind {
        case .reply: throw Failure(reason: "bulk connection: second REPLY")
        case .data: try bulkPayload(c, m)
        case .done:
            if m.isDataMissing { return try bulkDataMissing(c) }
            if let e = m.errorDescription { throw Failure(reason: "bulk query ended: \(e)") }
            switch m.payload {
            case .none, .done: try bulkComplete(c)
            default: throw Failure(reason: "bulk connection: DONE carrying \(m.payload)")
            }
        }
    }

    func bulkPayload(_ c: Conn, _ m: ServerMessage) throws(Failure) {
        if m.isDataMissing { return try bulkDataMissing(c) }
        if let e = m.errorDescription { throw Failure(reason: "bulk query error: \(e)") }
        switch m.payload {
        case .none, .status: return                    // keep-alive
        case .done: throw Failure(reason: "bulk connection: DHCPLEASEQUERYDONE outside DONE")
        case .invalidRecord(let why):
            bulkRecords += 1
            if case .full(let b)? = resync { b.records += 1; b.rejected += 1; sync.counters.resyncRecords += 1 }
            sync.rejected(RecordRejection(.invalid, why))
        case .record(let r):
            bulkRecords += 1
            switch resync {
            case .full(let b)?: sync.add(r, to: b)
            case .gap(let s, let e, var records)?:
                resync = nil
                records.append(r)
                resync = .gap(start: s, end: e, records: records)
            case nil: break
            }
        }
    }

    /// DataMissing on a bulk query: a gap fill becomes a full resync (same connection, new xid).
    func bulkDataMissing(_ c: Conn) throws(Failure) {
        guard case .gap? = resync else { throw Failure(reason: "server reported DataMissing for a full bulk query") }
        logger.notice("leasequery gap fill impossible (DataMissing): full resync beside the live stream")
        resync = .full(ResyncBuilder(server: index, expectedCount: sync.resyncSizeHint))
        sendQuery(c)
    }

    func bulkComplete(_ c: Conn) throws(Failure) {
        let took = now - resyncStarted, streamed = now
        switch resync {
        case .full(let b)?:
            resync = nil
            guard sync.publish(b, touched: touched ?? [], keepOrphans: keepOrphans()) else {
                throw Failure(reason: "full resync could not be published")
            }
            let ms = { (s: Double) in "\((s * 1000).rounded() / 1000)" }
            resyncs += 1
            lastResyncSeconds = now - resyncStarted
            initialResyncDone = true
            out.append(.tableReplaced)
            logger.info("leasequery full resync published", metadata: [
                "records": "\(b.records)", "rejected": "\(b.rejected)", "table": "\(sync.count)",
                "seconds": "\(ms(now - resyncStarted))", "until-reply": "\(ms(resyncReplied - resyncStarted))",
                "stream": "\(ms(streamed - resyncReplied))", "publish": "\(ms(now - streamed))",
                "base-time": "\(b.baseTime.map { "\($0)" } ?? "-")"])
            closeConn(c)
            if touched != nil {                          // beside a live stream
                touched = nil
                tLast = latest(resumeAfterResync, liveMax, tLast)
                resumeAfterResync = nil
            } else {
                tLast = b.baseTime                       // T0
                beginActive(from: b.baseTime!)
            }
        case .gap(_, let e, let records)?:
            resync = nil
            sync.applyGapFill(records, from: index, skipping: touched ?? [])
            logger.info("leasequery gap filled", metadata: ["records": "\(records.count)", "seconds": "\((took * 1000).rounded() / 1000)"])
            closeConn(c)
            touched = nil
            tLast = latest(e, liveMax)
            resumeAfterResync = nil
        case nil:
            closeConn(c)
        }
    }

    func latest(_ ts: UnixTime?...) -> UnixTime? { ts.compactMap { $0 }.max() }

    // MARK: - active connection

    func handleActive(_ c: Conn, _ m: ServerMessage) throws(Failure) {
        try checkIDs(c, m)
        if !c.replied {
            try checkReply(c, m)
            if m.isDataMissing {
                dataMissing(base: m.serverTime)
            } else if let e = m.errorDescription {
                throw Failure(reason: "active query refused: \(e)")
            } else if activeStart != nil {
                setPhase(.catchingUp)
            } else {
                setPhase(.live)
                wentLive()
            }
            return try activePayload(m, skipStatus: true)
        }
        switch m.kind {
        case .reply: throw Failure(reason: "active connection: second REPLY")
        case .done: throw Failure(reason: "server ended the active query: \(m.errorDescription ?? "DONE")")
        case .data: try activePayload(m, skipStatus: false)
        }
    }

    func activePayload(_ m: ServerMessage, skipStatus: Bool) throws(Failure) {
        if !skipStatus {
            if m.isCatchUpComplete { return catchUpComplete() }
            if m.isDataMissing { return dataMissing(base: m.serverTime) }
            if let e = m.errorDescription { throw Failure(reason: "active query error: \(e)") }
        }
        switch m.payload {
        case .none: return
        case .done: throw Failure(reason: "active connection: DHCPLEASEQUERYDONE outside DONE")
        case .status(let s):
            // Keep-alive: sent only when the server's queue is empty, so its 152 is a safe resume point.
            if s.code == .connectionActive, phase == .live, let t = s.baseTime {
                liveMax = latest(liveMax, t)
                if tLast != nil { tLast = latest(tLast, t) }
            }
        case .invalidRecord(let why):
            liveRecords += 1
            sync.counters.received += 1
            sync.rejected(RecordRejection(.invalid, why))
        case .record(let r):
            liveRecords += 1
            lastRecordAt = now
            sync.apply(r, from: index)
            if touched != nil { touched!.insert(r.key) }
            if phase == .catchingUp {
                catchUpMax = latest(catchUpMax, r.baseTime)
            } else {
                liveMax = latest(liveMax, r.baseTime)
                if tLast != nil { tLast = latest(tLast, r.baseTime) }
            }
        }
    }

    /// End of catch-up. T_last becomes the newest change replayed (records come in change order),
    /// not the status message's own 152 as PROTOCOLS.md §7.5 literally says ("LIVE: T_last =
    /// max(T_last, inner 152) per message"). Deliberate deviation: the server stamps
    /// CatchUpComplete with its "now" when it sends it, and live changes committed while the
    /// catch-up was still queued go out behind it carrying older stamps; resuming from the status
    /// stamp would skip them if the connection died before they arrived (§7.5's own resume-time
    /// rule). Replaying a few records is harmless; missing one is not. Test:
    /// `SessionMachineTests.catchUpCompleteDoesNotMoveTLastPastChangesQueuedBehindIt`.
    func catchUpComplete() {
        guard phase == .catchingUp else { return }
        tLast = latest(tLast, activeStart, catchUpMax)
        liveMax = latest(liveMax, catchUpMax)
        setPhase(.live, "catch-up complete")
        wentLive()
    }

    /// The server cannot replay from our start time: go live and fill the gap
    /// [query-start-time, base-time] with a windowed bulk query (§7.5). Until it completes there
    /// is no valid resume point.
    func dataMissing(base: UnixTime?) {
        guard resync == nil else { return setPhase(.live) }
        let start = activeStart
        tLast = nil
        resumeAfterResync = base
        setPhase(.live, "DataMissing")
        if let start, let base, start <= base {
            startResync(.gap(start: start, end: base, records: []), reason: "DataMissing from \(start)")
        } else {
            startResync(.full(ResyncBuilder(server: index, expectedCount: sync.resyncSizeHint)), reason: "DataMissing without a usable window")
        }
    }
}
