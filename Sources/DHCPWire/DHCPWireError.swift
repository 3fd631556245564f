/// Why bytes could not be decoded, or a value could not be encoded.
///
/// Every decoder in `DHCPWire` reports malformed input with this error and never traps; the
/// string names the field so that a log line says what was wrong.
public enum DHCPWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended before a field that must be there.
    case truncated(String)
    /// A length, count or value is out of its allowed range.
    case invalid(String)
    /// A required option or field is absent.
    case missing(String)
    /// An encoded value would not fit its length field (e.g. a DHCPv6 option over 65535 bytes).
    case tooLong(String)

    public var description: String {
        switch self {
        case .truncated(let s): "truncated: \(s)"
        case .invalid(let s): "invalid: \(s)"
        case .missing(let s): "missing: \(s)"
        case .tooLong(let s): "too long: \(s)"
        }
    }
}
