import FuzzSupport

runLibFuzzer(fuzzDeframer)
