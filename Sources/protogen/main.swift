print("protogen: not yet implemented")
