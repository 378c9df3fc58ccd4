import FuzzSupport

runLibFuzzer(fuzzServerH2)
