import Foundation

/// Test-only PKI (EC P-256, valid 100 years): a CA, a server and a client certificate signed by
/// it. Generated once with openssl; written to a temp directory for each TLS test.
/// Shared by the server and requestor test suites (one copy of the test certificates).
public enum TestPKI {
    public static let ca = """
-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUNqWRRGUoyu+tbUIUInsFlI/E0nYwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQZGhjcDRvNmQgdGVzdCBDQTAgFw0yNjExMzAxNzU4MzRaGA8y
MTI2MTEwNjE3NTgzNFowGzEZMBcGA1UEAwwQZGhjcDRvNmQgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABHckA8C9ti0R7ad+rqS+8SVyy6/eqr1UW9Ay
r0pCJSb/WUl2daDwqc9crTrc/Qs3SsXENcu4BlPd+t9rJQkFJI2jUzBRMB0GA1Ud
DgQWBBQ90w34ErMib9zWlzzrvR3hWA0pejAfBgNVHSMEGDAWgBQ90w34ErMib9zW
lzzrvR3hWA0pejAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQD8
CpaVpPoExHxNvPtHMH/uN0p8pk1qYBy7sdkhin6t+AIgZTpCm4XsccVLfE/PgRvd
lBtixMfiKJ8SbU5HtyMcu6U=
-----END CERTIFICATE-----
"""
    public static let serverCert = """
-----BEGIN CERTIFICATE-----
MIIBpTCCAUugAwIBAgIUe2WXbrDnI35A+HRmO/a4Xs7uCDUwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQZGhjcDRvNmQgdGVzdCBDQTAgFw0yNjExMzAxNzU4MzVaGA8y
MTI2MTEwNjE3NTgzNVowETEPMA0GA1UEAwwGc2VydmVyMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEQCKdNbzennMXeO9Sx5NK7Hp5O99bLmcdUdvffU9NlEo8f+Tp
tREQaheoY4E/MlJcS8DjR0ZbVGwnCOHxuosRhaN1MHMwJgYDVR0RBB8wHYIJbG9j
YWxob3N0hxAAAAAAAAAAAAAAAAAAAAABMAkGA1UdEwQCMAAwHQYDVR0OBBYEFLRL
ubD7zs/n8Upew5xK2VUb9mppMB8GA1UdIwQYMBaAFD3TDfgSsyJv3NaXPOu9HeFY
DSl6MAoGCCqGSM49BAMCA0gAMEUCIQCbdNswvm/n1zAgyRi6g4NogY2OpqwtvBXT
m36OP1bwhAIgEQew0Gp71CKZJ6WTeeSVYlJMg9IUSuo8QO+fojZ2OTs=
-----END CERTIFICATE-----
"""
    public static let serverKey = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTH+r1AJVsKgvs99K
bxog4jEAZ0+EsJt+FomBhOzR9uahRANCAARAIp01vN6ecxd471LHk0rsenk731su
Zx1R2999T02USjx/5Om1ERBqF6hjgT8yUlxLwONHRltUbCcI4fG6ixGF
-----END PRIVATE KEY-----
"""
    public static let clientCert = """
-----BEGIN CERTIFICATE-----
MIIBpDCCAUugAwIBAgIUe2WXbrDnI35A+HRmO/a4Xs7uCDYwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQZGhjcDRvNmQgdGVzdCBDQTAgFw0yNjExMzAxNzU4MzVaGA8y
MTI2MTEwNjE3NTgzNVowETEPMA0GA1UEAwwGY2xpZW50MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAESJGn+ZhODliautZ51otbRlXGvUyEuAP7UAQGjhY1zRGMnez1
b/U2kuG42iATE8hPi5hUYpEJxWap22r9IauCH6N1MHMwJgYDVR0RBB8wHYIJbG9j
YWxob3N0hxAAAAAAAAAAAAAAAAAAAAABMAkGA1UdEwQCMAAwHQYDVR0OBBYEFFhE
j+NuVd9Ho5CpHQhIt9f0DJoQMB8GA1UdIwQYMBaAFD3TDfgSsyJv3NaXPOu9HeFY
DSl6MAoGCCqGSM49BAMCA0cAMEQCIEWUXBoWGm/qpb7GpUwVpy0RSTbhFuliTqu7
SUVI8UZwAiAuz//qQh+1N1ELQPemBlCmGf5q6Y0+sEBIZKy1d9qedg==
-----END CERTIFICATE-----
"""
    public static let clientKey = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguqV457ZKguYQhEYn
yPvYdp5CazZutRQcAZGtA3JWTlChRANCAARIkaf5mE4OWJq61nnWi1tGVca9TIS4
A/tQBAaOFjXNEYyd7PVv9TaS4bjaIBMTyE+LmFRikQnFZqnbav0hq4If
-----END PRIVATE KEY-----
"""

    /// Writes the PEM files into a fresh directory; returns its path.
    public static func write() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lwaftr-test-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, pem) in [("ca.pem", ca), ("server.pem", serverCert), ("server.key", serverKey),
                            ("client.pem", clientCert), ("client.key", clientKey)] {
            try (pem + "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        return dir
    }
}
