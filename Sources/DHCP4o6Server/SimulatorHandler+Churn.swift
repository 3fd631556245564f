import NIOCore
import LwAFTRCore
import DHCPWire

extension SimulatorHandler {
    /// Every 10 ms: retransmit or give up on late transactions, issue churn operations, finish.
    func tick() {
        guard phase != .done, let context else { return }
        let now = NIODeadline.now()
        let timeout = TimeAmount.nanoseconds(Int64(cfg.timeoutSeconds * 1e9))
        for (xid, i) in byXID where now - clients[i].sentAt > timeout {
            if clients[i].tries < cfg.attempts {
                clients[i].tries += 1
                clients[i].sentAt = now
                report.retransmissions += 1
                transmit(clients[i].message)
            } else {
                byXID[xid] = nil
                if clients[i].step == .renew, let k = clients[i].key { boundKeys[k, default: 1] -= 1 }
                clients[i].step = .idle; clients[i].xid = 0; clients[i].key = nil
                report.failed += 1
                finished()
            }
        }
        if phase == .churn {
            let elapsed = Double((now - churnStart).nanoseconds) / 1e9
            churnCredit += cfg.churnRate * Double((now - lastTick).nanoseconds) / 1e9
            while churnCredit >= 1 {
                churnCredit -= 1
                churnOnce()
            }
            if elapsed >= cfg.churnSeconds {
                report.churnSeconds = elapsed
                phase = .draining
                churnStart = now
            }
        }
        lastTick = now
        checkDrained()
        guard phase != .done else { return }
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) { self.tick() }
    }

    /// One churn operation: renew 50 %, release 25 %, new client 25 %.
    func churnOnce() {
        let r = random() % 4
        if r == 3 || clients.isEmpty {
            clients.append(Client())
            let i = clients.count - 1
            clients[i].step = .discover
            inFlight += 1
            send(i, .discover)
            return
        }
        for _ in 0..<8 {
            let i = Int(random() % UInt64(clients.count))
            guard clients[i].step == .bound else { continue }
            if r < 2 {
                clients[i].step = .renew
                inFlight += 1
                send(i, .request, unicast: true)
            } else {
                send(i, .release, unicast: true, release: true)
                if let k = clients[i].key { boundKeys[k, default: 1] -= 1 }
                clients[i].step = .idle; clients[i].key = nil; clients[i].xid = 0
                report.releases += 1
            }
            return
        }
    }

    /// Completes once phase 2 is over and nothing is in flight (or after 10 s of draining).
    func checkDrained() {
        guard phase == .draining else { return }
        let waited = Double((NIODeadline.now() - churnStart).nanoseconds) / 1e9
        guard inFlight <= 0 || waited > 10 else { return }
        phase = .done
        report.failed += max(0, inFlight)
        report.bound = clients.reduce(0) { $0 + ($1.step == .bound ? 1 : 0) }
        done.succeed(report)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable etc.: the transaction will be retransmitted.
    }
}
