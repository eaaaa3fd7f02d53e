import BinaryCoding
import RaftCore

/// An executor's lease probe to the leader (frame ``PeerFrameType/leaseProbe``), version 1.
///
/// The leader echoes every probe (``LeaseEcho``). The executor renews its own lease from the
/// echo of a probe it sent; the leader renews the executor's lease only from a probe that
/// names an echo the leader sent (``lastEcho``) — proof that its messages reach the executor,
/// not merely that the executor's reach it (a one-way partition). The probe also carries what
/// the leader needs to judge the executor: its applied index (a node catching up gets no work),
/// its wall clock (the leader bounds its own stamps by the majority's clocks) and its build's
/// command format version (a new command kind is proposed only when every member knows it).
///
/// Versioned by its first byte. Older builds sent a bare sequence number (``PeerFrameType/leasePing``);
/// those are still echoed, and a peer that only sends them keeps the older rule on the leader
/// (any inbound frame renews its lease) until it runs this build.
public struct LeaseProbe: Hashable, Sendable {
    /// The encoding written by this build.
    public static let currentVersion: UInt8 = 1

    /// Matches the echo to the probe (the executor's own counter).
    public var sequence: UInt64
    /// The id of the latest ``LeaseEcho`` this executor received from the leader it probes; 0 = none yet.
    public var lastEcho: UInt64
    /// The executor's applied log index when it sent the probe.
    public var appliedIndex: UInt64
    /// The executor's wall clock, milliseconds since the epoch.
    public var wallClockMilliseconds: Int64
    /// The highest command format version this build can apply.
    public var commandFormatVersion: UInt32
    /// Finish reports batched onto the probe (encoded commands); reserved, empty for now.
    public var finishReports: [[UInt8]] = []

    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 48)
        w.write(Self.currentVersion)
        w.write(sequence)
        w.write(lastEcho)
        w.write(appliedIndex)
        w.write(wallClockMilliseconds)
        w.write(UInt64(commandFormatVersion))
        w.write(UInt64(finishReports.count))
        for report in finishReports { w.write(report) }
        return w.bytes
    }

    public init(sequence: UInt64, lastEcho: UInt64, appliedIndex: UInt64, wallClockMilliseconds: Int64,
         commandFormatVersion: UInt32, finishReports: [[UInt8]] = []) {
        self.sequence = sequence
        self.lastEcho = lastEcho
        self.appliedIndex = appliedIndex
        self.wallClockMilliseconds = wallClockMilliseconds
        self.commandFormatVersion = commandFormatVersion
        self.finishReports = finishReports
    }

    /// Decodes a version-1 probe.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        let version = try r.readByte()
        guard version == Self.currentVersion else {
            throw DecodeError("lease probe version \(version) is not known to this build (knows \(Self.currentVersion))",
                              offset: 0)
        }
        sequence = try r.readUInt64()
        lastEcho = try r.readUInt64()
        appliedIndex = try r.readUInt64()
        wallClockMilliseconds = try r.readInt64()
        let format = try r.readUInt64()
        guard let format32 = UInt32(exactly: format) else { throw DecodeError("command format version \(format) is too large", offset: r.offset) }
        commandFormatVersion = format32
        let count = try r.readCount()
        guard count <= 1_024 else { throw DecodeError("\(count) finish reports in one probe (at most 1024)", offset: r.offset) }
        var reports: [[UInt8]] = []
        for _ in 0..<count { reports.append(try r.readBytes()) }
        finishReports = reports
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a lease probe", offset: r.offset) }
    }
}

/// The leader's echo of a ``LeaseProbe`` (frame ``PeerFrameType/leaseEcho``), version 1.
public struct LeaseEcho: Hashable, Sendable {
    /// The probe's sequence.
    public var sequence: UInt64
    /// A leader-chosen id the executor names in its next probe (``LeaseProbe/lastEcho``).
    public var echoID: UInt64

    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 17)
        w.write(LeaseProbe.currentVersion)
        w.write(sequence)
        w.write(echoID)
        return w.bytes
    }

    public init(sequence: UInt64, echoID: UInt64) {
        self.sequence = sequence
        self.echoID = echoID
    }

    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        let version = try r.readByte()
        guard version == LeaseProbe.currentVersion else {
            throw DecodeError("lease echo version \(version) is not known to this build", offset: 0)
        }
        sequence = try r.readUInt64()
        echoID = try r.readUInt64()
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a lease echo", offset: r.offset) }
    }
}
