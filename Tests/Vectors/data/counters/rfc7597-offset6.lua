return {
   ["drop-all-ipv4-iface-bytes"] = 183,
   ["drop-all-ipv4-iface-packets"] = 3,
   ["drop-no-dest-softwire-ipv4-bytes"] = 183,
   ["drop-no-dest-softwire-ipv4-packets"] = 3,
   ["drop-out-by-policy-icmpv4-packets"] = 3,
   ["in-ipv4-bytes"] = 366,
   ["in-ipv4-frag-reassembly-unneeded"] = 6,
   ["in-ipv4-packets"] = 6,
   ["out-ipv6-bytes"] = 303,
   ["out-ipv6-frag-not"] = 3,
   ["out-ipv6-packets"] = 3,
}
