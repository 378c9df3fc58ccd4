import FuzzSupport

runLibFuzzer(fuzzServerRaw)
