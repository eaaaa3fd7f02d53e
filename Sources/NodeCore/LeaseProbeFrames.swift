import BinaryCoding
import SchedulerCore
import RaftCore

/// An executor's lease probe to the leader (frame ``PeerFrameType/leaseProbe``), version 1, 2 or 3.
///
/// The leader echoes every probe (``LeaseEcho``). The executor renews its own lease from the
/// echo of a probe it sent; the leader renews the executor's lease only from a probe that
/// names an echo the leader sent (``lastEcho``) — proof that its messages reach the executor,
/// not merely that the executor's reach it (a one-way partition). The probe also carries what
/// the leader needs to judge the executor: its applied index (a node catching up gets no work),
/// its wall clock (the leader bounds its own stamps by the majority's clocks) and its build's
/// command format version (a new command kind is proposed only when every member knows it).
///
/// Version 2 appends the executor's latest state digest (``digest``, the replica check). Builds
/// before it decode only version 1 — and drop a probe they cannot decode, which would fence the
/// executor — so a probe carries a digest only to a leader whose latest echo advertised
/// ``PeerFeatures/replicaDigests`` (``ExecutorSide/tick(at:wallClock:leader:appliedIndex:digest:)``).
///
/// Version 3 carries the executor's process incarnation (``processIncarnation``), which the
/// leader names in its assignments (command format 15), and the digest only when there is one.
/// It goes only to a leader whose latest echo advertised ``PeerFeatures/processIncarnations``.
///
/// Versioned by its first byte. Older builds sent a bare sequence number (``PeerFrameType/leasePing``);
/// those are still echoed, and a peer that only sends them keeps the older rule on the leader
/// (any inbound frame renews its lease) until it runs this build.
public struct LeaseProbe: Hashable, Sendable {
    /// The encoding written by this build without a digest (every build decodes it).
    public static let currentVersion: UInt8 = 1
    /// The encoding with a digest (``digest``); decoded from this build on.
    public static let digestVersion: UInt8 = 2
    /// The encoding with a process incarnation (``processIncarnation``) and an optional digest.
    public static let processVersion: UInt8 = 3

    /// Matches the echo to the probe (the executor's own counter).
    public var sequence: UInt64
    /// The id of the latest ``LeaseEcho`` this executor received from the leader it probes; 0 = none yet.
    public var lastEcho: UInt64
    /// The executor's applied log index when it sent the probe.
    public var appliedIndex: UInt64
    /// The executor's wall clock, milliseconds since the epoch.
    public var wallClockMilliseconds: Int64
    /// The sender build's format version (``SchedulerCore/CommandCodec/buildFormatVersion``): the
    /// leader proposes only commands every member's version can apply, and answers with a
    /// version-2 ``LeaseEcho`` only from version 2 on.
    public var commandFormatVersion: UInt32
    /// Finish reports batched onto the probe (encoded commands); reserved, empty for now.
    public var finishReports: [[UInt8]] = []
    /// The executor's latest state digest at a checkpoint index (version 2 or 3), or `nil`.
    public var digest: ReplicaDigest?
    /// The executor's process incarnation (version 3): a random number drawn when the process
    /// started, never 0. The leader names it in assignments to this executor, and only this
    /// process starts them; `nil` in versions 1 and 2.
    public var processIncarnation: UInt64?

    /// The version this probe encodes as: 3 with a process incarnation, else 2 with a digest, else 1.
    public var version: UInt8 {
        processIncarnation != nil ? Self.processVersion : digest == nil ? Self.currentVersion : Self.digestVersion
    }

    /// Version 1, 2 or 3 (``version``).
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64)
        let version = self.version
        w.write(version)
        w.write(sequence)
        w.write(lastEcho)
        w.write(appliedIndex)
        w.write(wallClockMilliseconds)
        w.write(UInt64(commandFormatVersion))
        w.write(UInt64(finishReports.count))
        for report in finishReports { w.write(report) }
        if version == Self.processVersion { w.write(UInt8(digest == nil ? 0 : 1)) }
        if let digest {
            w.write(digest.index)
            w.write(digest.value)
        }
        if let processIncarnation { w.write(processIncarnation) }
        return w.bytes
    }

    /// A probe; a `processIncarnation` makes it version 3, else a `digest` version 2 (send
    /// either only to a leader that decodes it).
    public init(sequence: UInt64, lastEcho: UInt64, appliedIndex: UInt64, wallClockMilliseconds: Int64,
                commandFormatVersion: UInt32, finishReports: [[UInt8]] = [], digest: ReplicaDigest? = nil,
                processIncarnation: UInt64? = nil) {
        self.digest = digest
        self.processIncarnation = processIncarnation
        self.sequence = sequence
        self.lastEcho = lastEcho
        self.appliedIndex = appliedIndex
        self.wallClockMilliseconds = wallClockMilliseconds
        self.commandFormatVersion = commandFormatVersion
        self.finishReports = finishReports
    }

    /// Decodes a version-1, 2 or 3 probe.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        let version = try r.readByte()
        guard (Self.currentVersion...Self.processVersion).contains(version) else {
            throw DecodeError("lease probe version \(version) is not known to this build (knows \(Self.currentVersion) "
                              + "to \(Self.processVersion))", offset: 0)
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
        var hasDigest = version == Self.digestVersion
        if version == Self.processVersion {
            let flag = try r.readByte()
            guard flag <= 1 else { throw DecodeError("digest flag \(flag) in a lease probe (0 or 1)", offset: r.offset - 1) }
            hasDigest = flag == 1
        }
        digest = hasDigest ? ReplicaDigest(index: try r.readUInt64(), value: try r.readUInt64()) : nil
        if version == Self.processVersion {
            let process = try r.readUInt64()
            guard process != 0 else { throw DecodeError("process incarnation 0 in a lease probe (never drawn)", offset: r.offset - 8) }
            processIncarnation = process
        } else {
            processIncarnation = nil
        }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a lease probe", offset: r.offset) }
    }
}

/// The leader's echo of a ``LeaseProbe`` (frame ``PeerFrameType/leaseEcho``), version 1, 2 or 3.
///
/// Version 2 adds the leader's ``PeerFeatures``; version 3 also the leader's stamp when it
/// echoed (``leaderStamp``). Builds before version 2 decode only version 1, and builds before
/// command format 16 only versions 1 and 2 — and drop an echo they cannot decode, which would
/// fence them — so a leader picks the version from the probe's
/// ``LeaseProbe/commandFormatVersion`` (``answering(_:echoID:features:leaderStamp:)``); this
/// build decodes all three.
public struct LeaseEcho: Hashable, Sendable {
    /// The probe's sequence.
    public var sequence: UInt64
    /// A leader-chosen id the executor names in its next probe (``LeaseProbe/lastEcho``).
    public var echoID: UInt64
    /// The leader's features (versions 2 and 3), or `nil` for a version-1 echo, which advertises none.
    public private(set) var features: PeerFeatures?
    /// The leader's scheduler time when it echoed (version 3): no earlier than any time an
    /// assignment it had made by then applies at. An executor whose lease this echo brings back
    /// after a lapse judges what was assigned before the lapse against it, rather than against
    /// its own wall clock, which may have jumped while it was cut off
    /// (``ExecutorSide/lastLapseEnded(now:wall:)``).
    public private(set) var leaderStamp: Timestamp?

    /// The lowest reported format version whose build decodes a version-2 echo.
    public static let minimumFormatVersionForFeatures: UInt32 = 2

    /// Version 1 without features, version 2 with them, version 3 with features and a stamp.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 36)
        let version: UInt8 = features == nil ? 1 : leaderStamp == nil ? 2 : 3
        w.write(version)
        w.write(sequence)
        w.write(echoID)
        if let features { w.write(features.rawValue) }
        if version == 3, let leaderStamp { w.write(UInt64(bitPattern: leaderStamp.milliseconds)) }
        return w.bytes
    }

    /// An echo; `features` makes it version 2, `features` and `leaderStamp` version 3 (send it
    /// only to a build that decodes it: ``answering(_:echoID:features:leaderStamp:)``). A stamp
    /// without features is not encoded.
    public init(sequence: UInt64, echoID: UInt64, features: PeerFeatures? = nil, leaderStamp: Timestamp? = nil) {
        self.sequence = sequence
        self.echoID = echoID
        self.features = features
        self.leaderStamp = features == nil ? nil : leaderStamp
    }

    /// The echo of `probe`: version 3 with `features` and `leaderStamp` when the prober's build
    /// decodes it, version 2 with `features` when it decodes that, version 1 otherwise (an older
    /// executor would drop an echo it cannot decode and fence itself).
    public static func answering(_ probe: LeaseProbe, echoID: UInt64, features: PeerFeatures,
                                 leaderStamp: Timestamp? = nil) -> LeaseEcho {
        guard probe.commandFormatVersion >= minimumFormatVersionForFeatures else {
            return LeaseEcho(sequence: probe.sequence, echoID: echoID)
        }
        return LeaseEcho(sequence: probe.sequence, echoID: echoID, features: features,
                         leaderStamp: probe.commandFormatVersion >= CommandCodec.leaderStampedEchoes ? leaderStamp : nil)
    }

    /// Decodes a version-1, 2 or 3 echo.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var r = BinaryReader(bytes)
        let version = try r.readByte()
        guard (1...3).contains(version) else {
            throw DecodeError("lease echo version \(version) is not known to this build (knows 1 to 3)", offset: 0)
        }
        sequence = try r.readUInt64()
        echoID = try r.readUInt64()
        features = version >= 2 ? PeerFeatures(rawValue: try r.readUInt64()) : nil
        leaderStamp = version == 3 ? Timestamp(Int64(bitPattern: try r.readUInt64())) : nil
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) trailing bytes after a lease echo", offset: r.offset) }
    }
}
