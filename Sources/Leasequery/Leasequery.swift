// Leasequery — the lwAFTR's leasequery requestor: keeps the `BindingTable` in sync with DHCP 4o6
// servers over TCP (RFC 5460 bulk + RFC 7653 active leasequery, project profile PROTOCOLS.md §7).
//
// Public API:
//
//   LeasequeryService      start/stop for `lwaftr run` (async, or futures + stopBlocking()),
//                          `currentStatus` / `status()` → SyncStatus, `requestResync()`,
//                          `saveSnapshot()`, `withSync { }` for diagnostics.
//   LeasequeryConfiguration  servers (LeasequeryServerAddress: host, port 547, optional
//                          LeasequeryTLSOptions for STARTTLS with CA, client certificate, hostname
//                          checks), brAddress, requestorDUID, LeasequeryTimers (connect, active
//                          receive 120 s, bulk data 300 s, reconnect 60 s … 600 s backoff),
//                          snapshotPath (+ `<path>.tlast`), snapshotInterval, catchUpOnStart,
//                          resumeMargin, maxMessageBytes, expirySweepInterval, PRLs.
//   SyncStatus / SessionStatus / SessionPhase / SyncCounters — per-server state, last update age,
//                          records applied/rejected, reconnects, table size (metrics, `bindings`).
//   LeasequerySession      the socket-free state machine (connecting → bulk → active →
//                          catching-up → live, backoff): events in, SessionAction out.
//   BindingSync            the table's control-lane writer: validate, apply, reject conflicts,
//                          expire, build-aside resync (ResyncBuilder + publish), snapshot + T_last.
//   ServerMessage / BindingRecord — decoding of server bytes (allocation-free fast path for
//                          records, `DHCPWire` for everything else; frames split by DHCPWire's FrameReader).
//
// Threading: everything runs on one NIO event loop (the control lane); the packet workers only
// read the `BindingTable` through their lock-free readers. Logs: one line per session state
// change, resync, expiry sweep or (rate-limited) batch of rejected records — never one per record.
//
// Tests (Tests/LeasequeryTests): `swift test --scratch-path .build-lq --filter LeasequeryTests`
// (CI set, ~30 s); `LQ_FAULT_FULL=1` adds the 100 k-churn fault test; `LQ_PERF=1` with
// `-c release` runs the 1 M bulk and active-latency benchmarks; `LQ_TEST_LOG=1` shows the logs.
