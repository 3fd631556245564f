public import BindingTable
public import LwAFTRCore

/// Builds the binding table for a configuration.
public enum BindingTableFactory {
    /// `seed` fixes the hash seed (reproducible instruction counts); nil = random, as in production.
    public static func make(_ softwires: [Softwire], seed: UInt64? = nil) throws -> BindingTable {
        try BindingTable(softwires: softwires, seed: seed)
    }
}
