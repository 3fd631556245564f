import ArgumentParser

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr bindings status`: asks a running `lwaftr run` (its metrics listener) for the sync state.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the binding-table sync state of a running lwaftr (leasequery sessions, table size, reloads).",
        discussion: "Fetches http://HOST:PORT/status from the --metrics listener of `lwaftr run`.")

    @Option(help: "The running lwaftr's --metrics HOST:PORT.") var metrics: String = "127.0.0.1:9099"
    @Flag(help: "Print the JSON document instead of text.") var json = false

    func run() throws {
        guard let (host, port) = parseHostPort(metrics) else { throw ValidationError("--metrics wants HOST:PORT") }
        do {
            let body = try httpGet(host: host, port: port, path: json ? "/status" : "/status?format=text")
            print(body, terminator: body.hasSuffix("\n") ? "" : "\n")
        } catch {
            printError("\(metrics): \(error)")
            throw ExitCode(1)
        }
    }
}

struct HTTPFetchError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking HTTP/1.0 GET to an IP literal; returns the body of a 200 answer.
func httpGet(host: String, port: UInt16, path: String, timeoutSeconds: Int = 5) throws -> String {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var res: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else {
        throw HTTPFetchError(description: "cannot resolve \(host)")
    }
    defer { freeaddrinfo(res) }
    let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
    guard fd >= 0 else { throw HTTPFetchError(description: "socket: errno \(errno)") }
    defer { close(fd) }
    var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
        throw HTTPFetchError(description: "connect: \(String(cString: strerror(errno)))")
    }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
        throw HTTPFetchError(description: "send failed")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let split = text.firstRange(of: "\r\n\r\n") else { throw HTTPFetchError(description: "no HTTP answer") }
    let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
    guard statusLine.contains(" 200 ") else { throw HTTPFetchError(description: "answer: \(statusLine)") }
    return String(text[split.upperBound...])
}
