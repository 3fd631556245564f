import Logging
import NIOCore
import LwAFTRCore
import DHCPWire

extension LeasequeryHandler {
    // MARK: bulk (RFC 5460 flow, profile §7.3/§7.4)

    func bulkQuery(_ m: DHCPv6Message) {
        guard active == nil else {
            send(reply(m.transactionID, client: m.clientID, status: DHCPv6StatusCode(.notAllowed, "active query on this connection")))
            return close()
        }
        let req: LeasequeryRequest
        do { req = try LeasequeryRequest(message: m) } catch {
            core.stats.lqMalformed += 1
            core.logger.notice("bulk leasequery refused", metadata: ["status": "\(error.status)", "reason": "\(error.reason)"])
            send(reply(m.transactionID, client: m.clientID, status: DHCPv6StatusCode(error.status, error.reason)))
            return flush()   // a bulk connection may carry further queries
        }
        guard !bulkQueue.contains(where: { $0.transactionID == req.transactionID }),
              bulk?.request.transactionID != req.transactionID else {
            return protocolError("duplicate transaction-id \(req.transactionID)")
        }
        bulkQueue.append(req)
        pumpBulk()
    }

    /// Streams the current bulk query while the socket is writable; starts queued ones in order.
    func pumpBulk() {
        while !closing {
            if bulk == nil {
                guard !bulkQueue.isEmpty else { return }
                startBulk(bulkQueue.removeFirst())
                continue
            }
            guard var b = bulk else { return }
            let xid = b.request.transactionID
            if !b.replied {
                let first: LeasequeryResponse.Payload = b.records.isEmpty ? .none : .record(b.records[0])
                send(reply(xid, client: b.request.requestorDUID,
                           baseTime: b.request.requestBaseTime ? b.baseTime : nil, payload: first))
                b.replied = true
                b.next = b.records.isEmpty ? 0 : 1
                core.stats.lqRecordsSent += b.next
            }
            while b.next < b.records.count && isWritable && !closing {
                send(LeasequeryResponse(kind: .data, transactionID: xid, payload: .record(b.records[b.next])))
                b.next += 1
                core.stats.lqRecordsSent += 1
            }
            if b.next < b.records.count {
                bulk = b
                flush()
                return   // resumes on channelWritabilityChanged
            }
            if !b.records.isEmpty {
                send(LeasequeryResponse(kind: .done, transactionID: xid, baseTime: b.request.requestBaseTime ? b.baseTime : nil,
                                        payload: .done(LeasequeryStatus(.success, baseTime: b.baseTime))))
            }
            bulk = nil
            flush()
        }
    }

    private func startBulk(_ req: LeasequeryRequest) {
        core.stats.lqBulkQueries += 1
        let base = stampNow()
        if let s = req.queryStartTime, s.seconds < core.store.historyStart {
            send(reply(req.transactionID, client: req.requestorDUID,
                       status: DHCPv6StatusCode(.dataMissing, "history starts at \(core.store.historyStart)"), baseTime: base))
            return flush()
        }
        let leases: [Lease]
        if req.queryStartTime == nil && req.queryEndTime == nil {
            leases = core.store.active()                      // full snapshot: ACTIVE records only
        } else {
            leases = core.store.changes(from: req.queryStartTime?.seconds ?? 0, to: req.queryEndTime?.seconds ?? .max)
        }
        let prl = req.parameterRequestList
        bulk = Bulk(request: req, records: leases.map { $0.record.filtered(prl: prl) }, baseTime: base)
    }

    // MARK: active (RFC 7653, profile §7.3–§7.5)

    func activeQuery(_ m: DHCPv6Message) {
        let xid = m.transactionID
        guard active == nil, bulk == nil, bulkQueue.isEmpty else {
            send(reply(xid, client: m.clientID, status: DHCPv6StatusCode(.notAllowed, "one query per active connection")))
            return close()
        }
        guard lq.active else {
            send(reply(xid, client: m.clientID, status: DHCPv6StatusCode(.notSupported, "active leasequery disabled")))
            return close()
        }
        guard tlsStarted || lq.allowInsecure else {
            send(reply(xid, client: m.clientID, status: DHCPv6StatusCode(.notAllowed, "TLS required for active leasequery")))
            return close()
        }
        let req: LeasequeryRequest
        do { req = try LeasequeryRequest(message: m) } catch {
            core.stats.lqMalformed += 1
            core.logger.notice("active leasequery refused", metadata: ["status": "\(error.status)", "reason": "\(error.reason)"])
            send(reply(xid, client: m.clientID, status: DHCPv6StatusCode(error.status, error.reason)))
            return close()
        }
        core.stats.lqActiveQueries += 1
        active = req
        let store = core.store
        let base = stampNow()
        observer = store.observe { [unowned self] l in self.enqueue(l) }
        if let s = req.queryStartTime {
            if s.seconds < store.historyStart {
                send(reply(xid, client: req.requestorDUID,
                           status: DHCPv6StatusCode(.dataMissing, "history starts at \(store.historyStart)"), baseTime: base))
            } else {
                send(reply(xid, client: req.requestorDUID, baseTime: req.requestBaseTime ? base : nil))
                for l in store.changes(from: s.seconds) {
                    latestSeq[l.key] = l.changeSeq
                    queue.append(.record(l.key, l.changeSeq))
                }
                queue.append(.catchUpComplete)
            }
        } else {
            send(reply(xid, client: req.requestorDUID, baseTime: req.requestBaseTime ? base : nil))
        }
        flush()
        flushQueue()
    }

    /// A store change: queue the key (a later change of the same key supersedes a pending one and
    /// moves it to the end, so records go out in change order) and flush on the next loop turn.
    func enqueue(_ l: Lease) {
        guard active != nil, !closing else { return }
        latestSeq[l.key] = l.changeSeq
        queue.append(.record(l.key, l.changeSeq))
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.flushQueue()
        }
    }

    /// Sends queued active-query items while the socket is writable.
    func flushQueue() {
        guard let q = active, !closing else { return }
        let xid = q.transactionID
        var wrote = false
        while queueHead < queue.count && isWritable {
            let item = queue[queueHead]
            queueHead += 1
            switch item {
            case .record(let key, let seq):
                guard latestSeq[key] == seq else { continue }
                latestSeq[key] = nil
                guard let l = core.store[key] else { continue }
                send(LeasequeryResponse(kind: .data, transactionID: xid,
                                        payload: .record(l.record.filtered(prl: q.parameterRequestList))))
                core.stats.lqRecordsSent += 1
            case .catchUpComplete:
                send(LeasequeryResponse(kind: .data, transactionID: xid,
                                        payload: .status(LeasequeryStatus(.catchUpComplete, "catch-up complete", baseTime: stampNow()))))
            }
            wrote = true
        }
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true); queueHead = 0
        } else if queueHead > 4096 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead); queueHead = 0
        }
        if wrote { flush() }
        if !isWritable && unwritableSince == nil { unwritableSince = .now() }
    }
}
