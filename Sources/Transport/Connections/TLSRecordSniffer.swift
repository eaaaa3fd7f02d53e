import NIOCore

extension Transport {
    /// Sits in front of the TLS server handler and refuses a connection whose first byte is not a
    /// TLS handshake record (content type 22), so a plaintext client is named as such in the log
    /// instead of surfacing as an opaque BoringSSL parse error. After the first byte it only
    /// passes data through.
    final class TLSRecordSniffer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        /// TLS record content type `handshake` (RFC 8446 §5.1).
        static let handshakeContentType: UInt8 = 22

        private var checked = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if !checked {
                let buffer = Self.unwrapInboundIn(data)
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
                guard first == Self.handshakeContentType else {
                    checked = true
                    context.fireErrorCaught(PeerRejection.notTLS(firstByte: first))
                    context.close(promise: nil)
                    return
                }
                checked = true
            }
            context.fireChannelRead(data)
        }
    }
}
