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
    /// Records are encoded straight into `chunkBytes` buffers, one write and flush per buffer.
    func pumpBulk() {
        guard !pumping else { return }   // a flush below can report writability: the loop re-checks it
        pumping = true
        defer { pumping = false }
        while !closing {
            if bulk == nil {
                guard !bulkQueue.isEmpty else { return }
                startBulk(bulkQueue.removeFirst())
                continue
            }
            guard var b = bulk, let context else { return }    // the snapshot is shared, never copied
            let xid = b.request.transactionID
            let count = b.rows.count
            if !b.replied {
                let first: LeasequeryResponse.Payload = count == 0 ? .none : .record(b.rows.fullRecord(0, b.fields))
                send(reply(xid, client: b.request.requestorDUID,
                           baseTime: b.request.requestBaseTime ? b.baseTime : nil, payload: first))
                b.replied = true
                b.next = count == 0 ? 0 : 1
                core.stats.lqRecordsSent += b.next
            }
            let rows = b.rows, fields = b.fields
            while b.next < count && isWritable && !closing {
                var buf = context.channel.allocator.buffer(capacity: Self.chunkBytes + 1024)
                let from = b.next
                var next = b.next
                while next < count && buf.writerIndex < Self.chunkBytes {
                    let direct = rows.encode(next, fields, xid: xid) { n, write in
                        buf.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { write($0.baseAddress!) }
                    }
                    if !direct { guard appendData(rows.fullRecord(next, fields), xid: xid, to: &buf) else { return } }
                    next += 1
                }
                b.next = next
                core.stats.lqRecordsSent += b.next - from
                write(buf)
                flush()
            }
            bulk = b
            if b.next < count {
                if isWritable && !closing { continue }
                return   // resumes on channelWritabilityChanged
            }
            if count > 0 {
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
        let rows: BulkRows
        if req.queryStartTime == nil && req.queryEndTime == nil {
            rows = BulkRows(activeOf: core.store)             // full snapshot: ACTIVE records only, unordered
        } else {
            let changed = core.store.changes(from: req.queryStartTime?.seconds ?? 0, to: req.queryEndTime?.seconds ?? .max)
            rows = BulkRows(changed, capacity: changed.count)
        }
        bulk = Bulk(request: req, rows: rows, fields: RecordFields(prl: req.parameterRequestList), baseTime: base)
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
    /// moves it to the end, so records go out in change order). Live and idle (nothing else
    /// queued, socket writable): sent and flushed at once, before the DHCP answer that caused it.
    /// Otherwise flushed on the next loop turn.
    func enqueue(_ l: Lease) {
        guard active != nil, !closing else { return }
        latestSeq[l.key] = l.changeSeq
        queue.append(.record(l.key, l.changeSeq))
        if queue.count - queueHead == 1 && !flushScheduled && isWritable { return flushQueue() }
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.flushQueue()
        }
    }

    /// Sends queued active-query items while the socket is writable: records encoded directly into
    /// one buffer, written (and flushed) every `chunkBytes` and at the end.
    func flushQueue() {
        guard let q = active, !closing, let context else { return }
        let xid = q.transactionID
        let fields = RecordFields(prl: q.parameterRequestList)
        var buf = context.channel.allocator.buffer(capacity: 1024)
        var wrote = false
        while queueHead < queue.count && isWritable && !closing {
            let item = queue[queueHead]
            queueHead += 1
            switch item {
            case .record(let key, let seq):
                guard latestSeq[key] == seq else { continue }
                latestSeq[key] = nil
                guard let l = core.store[key] else { continue }
                guard appendData(l.record(fields), xid: xid, to: &buf) else { return }
                core.stats.lqRecordsSent += 1
                if buf.readableBytes >= Self.chunkBytes { write(buf); flush(); buf.clear() }
            case .catchUpComplete:
                write(buf)
                buf.clear()
                send(LeasequeryResponse(kind: .data, transactionID: xid,
                                        payload: .status(LeasequeryStatus(.catchUpComplete, "catch-up complete", baseTime: stampNow()))))
            }
            wrote = true
        }
        write(buf)
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true); queueHead = 0
        } else if queueHead > 4096 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead); queueHead = 0
        }
        if wrote { flush() }
        if !isWritable && unwritableSince == nil { unwritableSince = .now() }
    }
}
