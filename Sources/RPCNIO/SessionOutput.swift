import HTTP2
import NIOCore

extension ChannelHandlerContext {
    /// Writes everything `drain` hands out as one buffer, and flushes. Closes the channel and
    /// returns false when draining fails (the session is unusable). Call on the event loop.
    func writeDrainedOutput(_ drain: ((UnsafeRawBufferPointer) -> Void) throws(HTTP2Error) -> Void) -> Bool {
        var buffer: ByteBuffer?
        do {
            try drain { bytes in
                if buffer == nil { buffer = channel.allocator.buffer(capacity: Swift.max(bytes.count, 4096)) }
                buffer!.writeBytes(bytes)
            }
        } catch {
            close(promise: nil)
            return false
        }
        if let buffer {
            writeAndFlush(NIOAny(buffer), promise: nil)
        }
        return true
    }
}
