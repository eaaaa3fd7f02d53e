import NIOCore

extension Transport {
    /// Splits a byte stream into ``Transport/Frame``s.
    ///
    /// The decoder reads the length prefix first and rejects a frame whose length is above
    /// `maximumFrameLength` before buffering any of it, so a hostile length never sizes an
    /// allocation. A frame's payload is a slice of the bytes already received: no copy.
    /// Every error is thrown; `ByteToMessageHandler` then stops decoding and the connection
    /// handler closes the channel.
    public struct FrameDecoder: ByteToMessageDecoder {
        /// The type this decoder produces.
        public typealias InboundOut = Frame

        /// The largest accepted value of the length prefix.
        public let maximumFrameLength: Int

        /// Creates a decoder accepting length prefixes up to `maximumFrameLength`.
        public init(maximumFrameLength: Int = FrameFormat.defaultMaximumFrameLength) {
            precondition(
                maximumFrameLength >= FrameFormat.headerBytesAfterLength,
                "maximumFrameLength \(maximumFrameLength) cannot hold a frame header")
            self.maximumFrameLength = maximumFrameLength
        }

        /// Decodes one frame from the front of `buffer`, or returns `nil` if it is not all there yet.
        /// On `nil` and on a thrown error the buffer's reader index is unchanged.
        public func decodeFrame(from buffer: inout ByteBuffer) throws -> Frame? {
            guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
                return nil
            }
            guard length >= FrameFormat.headerBytesAfterLength else {
                throw FrameError.lengthTooSmall(length: length)
            }
            guard UInt64(length) <= UInt64(maximumFrameLength) else {
                throw FrameError.frameTooLarge(length: length, maximum: maximumFrameLength)
            }
            let total = FrameFormat.lengthPrefixBytes + Int(length)
            guard buffer.readableBytes >= total else { return nil }
            // Check the version before consuming, so a bad frame leaves the buffer as it was.
            guard let version = buffer.getInteger(at: buffer.readerIndex + FrameFormat.lengthPrefixBytes, as: UInt8.self)
            else {
                preconditionFailure("frame of length \(length) was fully buffered but its version byte is missing")
            }
            guard version == FrameFormat.version else { throw FrameError.unsupportedVersion(version) }
            buffer.moveReaderIndex(forwardBy: FrameFormat.lengthPrefixBytes + 1)
            guard let type = buffer.readInteger(as: UInt8.self),
                let payload = buffer.readSlice(length: Int(length) - FrameFormat.headerBytesAfterLength)
            else {
                preconditionFailure("frame of length \(length) was fully buffered but could not be read")
            }
            return Frame(type: type, payload: payload)
        }

        /// Passes on every complete frame at the front of `buffer`.
        public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let frame = try decodeFrame(from: &buffer) else { return .needMoreData }
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }

        /// Decodes what is left when the connection closes; a partial frame is an error.
        public mutating func decodeLast(
            context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
        ) throws -> DecodingState {
            if let frame = try decodeFrame(from: &buffer) {
                context.fireChannelRead(Self.wrapInboundOut(frame))
                return .continue
            }
            if buffer.readableBytes > 0 {
                throw FrameError.truncatedFrame(bufferedBytes: buffer.readableBytes)
            }
            return .needMoreData
        }
    }

    /// Writes ``Transport/Frame``s in the wire format of ``Transport/FrameDecoder``.
    public struct FrameEncoder: MessageToByteEncoder {
        /// The type this encoder consumes.
        public typealias OutboundIn = Frame

        /// Creates an encoder.
        public init() {}

        /// Appends `frame` to `out`.
        public func encode(data frame: Frame, out: inout ByteBuffer) throws {
            Self.write(frame, into: &out)
        }

        /// Appends the wire form of `frame` to `buffer`.
        public static func write(_ frame: Frame, into buffer: inout ByteBuffer) {
            buffer.reserveCapacity(minimumWritableBytes: FrameFormat.lengthPrefixBytes + frame.encodedLength)
            buffer.writeInteger(UInt32(frame.encodedLength), endianness: .big)
            buffer.writeInteger(FrameFormat.version)
            buffer.writeInteger(frame.type)
            var payload = frame.payload
            buffer.writeBuffer(&payload)
        }
    }
}
