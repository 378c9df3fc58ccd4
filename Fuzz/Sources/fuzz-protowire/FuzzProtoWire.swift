import AuthAPI
import FuzzSupport
import InteropAPI
import ProtoWire
import WireTestMessages

/// Decodes arbitrary bytes as several generated messages. Whatever decodes must round-trip:
/// re-encoding gives bytes that decode again to an equal message and re-encode identically
/// (the encoding of a decoded message is a fixed point). For two types, decoding `a + b` must
/// agree with decoding `a` and merging `b`, as protobuf's concatenation rule says.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtoWire(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    var bytes = input
    let all = bytes.rest()
    roundTrip(AllTypes.self, all)
    roundTrip(UnpackedTypes.self, all)
    roundTrip(Nested.self, all)
    roundTrip(NestedV2.self, all)
    roundTrip(Recursive.self, all)
    roundTrip(EchoRequest.self, all)
    roundTrip(LargeResponse.self, all)
    roundTrip(EchoMetadataResponse.self, all)
    roundTrip(User.self, all)
    roundTrip(LoginRequest.self, all)
    roundTrip(LoginResponse.self, all)
    roundTrip(GetVerificationKeysResponse.self, all)
    if !all.isEmpty {
        let split = Int(all[0]) * (all.count + 1) / 256
        concatenation(AllTypes.self, all, split: split)
        concatenation(Recursive.self, all, split: split)
    }
    return 0
}

/// The round-trip oracle for one message type.
func roundTrip<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) {
    guard let first = try? M(serializedBytes: bytes) else { return }
    let encoded = first.serializedBytes()
    fuzzCheck(encoded.count == first.serializedSize(), "\(M.protoMessageName): size disagrees with bytes")
    let second: M
    do {
        second = try M(serializedBytes: encoded)
    } catch {
        fuzzCheck(false, "\(M.protoMessageName): re-encoded bytes do not decode: \(error)")
        return
    }
    fuzzCheck(second.serializedBytes() == encoded, "\(M.protoMessageName): encoding is not a fixed point")
    // A NaN makes a message unequal to itself (but `first == first` may still hold: arrays
    // sharing storage compare equal without looking). Compare two separate decodes instead;
    // the byte comparison above covers messages with a NaN.
    if let again = try? M(serializedBytes: bytes), again == first {
        fuzzCheck(first == second, "\(M.protoMessageName): decoded message changed across a round trip")
        fuzzCheck(first.hashValue == second.hashValue, "\(M.protoMessageName): equal messages hash differently")
    }
}

/// Decoding `a + b` equals decoding `a` and merging `b`, whenever `a` decodes on its own.
func concatenation<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8], split: Int) {
    let a = Array(bytes[..<split])
    let b = Array(bytes[split...])
    guard var merged = try? M(serializedBytes: a) else { return }
    let mergedOK = (try? merged.merge(serializedBytes: b)) != nil
    let whole = try? M(serializedBytes: bytes)
    fuzzCheck(mergedOK == (whole != nil), "\(M.protoMessageName): merge and whole decode disagree on validity (split \(split))")
    if let whole, mergedOK, let again = try? M(serializedBytes: bytes), whole == again {
        fuzzCheck(whole == merged, "\(M.protoMessageName): merge differs from decoding the concatenation (split \(split))")
    }
}
