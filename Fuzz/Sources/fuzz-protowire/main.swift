import FuzzSupport

runLibFuzzer(fuzzProtoWire)
