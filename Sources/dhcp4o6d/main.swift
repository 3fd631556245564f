print("dhcp4o6d: not implemented yet")
