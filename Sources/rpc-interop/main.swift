print("rpc-interop: not yet implemented")
