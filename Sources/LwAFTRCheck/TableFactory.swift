public import BindingTable
public import LwAFTRCore

/// Builds the binding table for a configuration.
public enum BindingTableFactory {
    public static func make(_ softwires: [Softwire]) throws -> BindingTable {
        try BindingTable(softwires: softwires)
    }
}
