import BinaryCoding

// The binary layout of notification settings, outcomes (entry tags 25 and 26) and the table (the
// tail of snapshot version 8). Decoding never traps: a bad byte is a DecodeError naming it.

extension BinaryWriter {
    mutating func write(_ settings: NotificationSettings) {
        write(settings.defaults)
        write(settings.maxPending)
    }

    /// A kind byte (0 delivered, 1 failed, 2 retry), the key, the tries, then per kind the error
    /// and the next attempt time.
    mutating func write(_ outcome: NotificationOutcome) {
        switch outcome {
        case .delivered(let key, let tries):
            write(UInt8(0))
            write(key)
            write(tries)
        case .failed(let key, let tries, let error):
            write(UInt8(1))
            write(key)
            write(tries)
            write(error)
        case .retry(let key, let tries, let next, let error):
            write(UInt8(2))
            write(key)
            write(tries)
            write(next)
            write(error)
        }
    }

    mutating func write(_ key: NotificationKey) {
        write(key.event)
        write(key.destination)
    }

    mutating func write(_ destination: NotificationDestination) {
        switch destination {
        case .webhook(let url):
            write(UInt8(0))
            write(url)
        case .email(let to):
            write(UInt8(1))
            writeArray(to) { $0.write($1) }
        }
    }

    /// A record; with `withMissedFires` (snapshot version 10) its folded fires follow at the end.
    mutating func write(_ record: NotificationRecord, withMissedFires: Bool) {
        write(record.key)
        write(record.trigger.rawValue)
        write(record.destination)
        write(record.at)
        writeOptional(record.jobID) { $0.write($1.rawValue) }
        writeOptional(record.runID) { $0.write($1.rawValue) }
        writeOptional(record.dagRunID) { $0.write($1.rawValue) }
        writeOptional(record.attempt) { $0.write($1) }
        write(record.state.rawValue)
        write(record.tries)
        write(record.nextAttemptAt)
        writeOptional(record.lastError) { $0.write($1) }
        if withMissedFires {
            writeOptional(record.missedFires) { w, missed in
                w.write(missed.count)
                w.write(missed.first)
                w.write(missed.last)
            }
        }
    }

    /// Pending records in key order (the table's dictionary order is never written), then the
    /// settled ones in settle order, then the counts.
    mutating func write(_ table: NotificationTable, withMissedFires: Bool) {
        writeArray(table.records(in: .pending)) { $0.write($1, withMissedFires: withMissedFires) }
        writeArray(table.settled) { $0.write($1, withMissedFires: withMissedFires) }
        write(table.dropped)
        write(table.deliveredTotal)
        write(table.failedTotal)
    }
}

extension BinaryReader {
    mutating func readNotificationSettings() throws(DecodeError) -> NotificationSettings {
        let defaults = try readNotificationRule()
        let offset = self.offset
        let maxPending = try readInt()
        guard maxPending >= 1 else { throw DecodeError("notification max_pending \(maxPending) is below 1", offset: offset) }
        return NotificationSettings(defaults: defaults, maxPending: maxPending)
    }

    mutating func readNotificationKey() throws(DecodeError) -> NotificationKey {
        let event = try readUInt64()
        let offset = self.offset
        let destination = try readInt()
        guard destination >= 0 else { throw DecodeError("notification destination \(destination) is negative", offset: offset) }
        return NotificationKey(event: event, destination: destination)
    }

    mutating func readNotificationOutcome() throws(DecodeError) -> NotificationOutcome {
        let offset = self.offset
        let kind = try readByte()
        let key = try readNotificationKey()
        let tries = try readInt()
        switch kind {
        case 0: return .delivered(key, tries: tries)
        case 1: return .failed(key, tries: tries, error: try readString())
        case 2:
            let next = try readTimestamp()
            return .retry(key, tries: tries, nextAttemptAt: next, error: try readString())
        default:
            throw DecodeError("unknown notification outcome kind \(kind) (0 delivered, 1 failed, 2 retry)", offset: offset)
        }
    }

    mutating func readNotificationDestination() throws(DecodeError) -> NotificationDestination {
        let offset = self.offset
        switch try readByte() {
        case 0: return .webhook(try readString())
        case 1: return .email(try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readString() })
        case let kind: throw DecodeError("unknown notification destination kind \(kind) (0 webhook, 1 email)", offset: offset)
        }
    }

    mutating func readNotificationRecord(withMissedFires: Bool) throws(DecodeError) -> NotificationRecord {
        let key = try readNotificationKey()
        let trigger = try readEnum(NotificationTrigger.self)
        let destination = try readNotificationDestination()
        let at = try readTimestamp()
        let job = try readOptional { (r: inout BinaryReader) throws(DecodeError) in JobID(try r.readString()) }
        let run = try readOptional { (r: inout BinaryReader) throws(DecodeError) in RunID(try r.readString()) }
        let dagRun = try readOptional { (r: inout BinaryReader) throws(DecodeError) in DAGRunID(try r.readString()) }
        let attempt = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt() }
        var record = NotificationRecord(key: key, trigger: trigger, destination: destination, at: at,
                                        jobID: job, runID: run, dagRunID: dagRun, attempt: attempt)
        record.state = try readEnum(NotificationRecord.State.self)
        record.tries = try readInt()
        record.nextAttemptAt = try readTimestamp()
        record.lastError = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readString() }
        if withMissedFires {
            record.missedFires = try readOptional { (r: inout BinaryReader) throws(DecodeError) in
                let offset = r.offset
                let missed = MissedFires(count: try r.readInt(), first: try r.readTimestamp(), last: try r.readTimestamp())
                guard missed.count >= 1, missed.first <= missed.last else {
                    throw DecodeError("notification \(key): \(missed.count) missed fires from \(missed.first) to \(missed.last) "
                        + "(needs at least 1, the first not after the last)", offset: offset)
                }
                return missed
            }
        }
        return record
    }

    mutating func readNotificationTable(withMissedFires: Bool) throws(DecodeError) -> NotificationTable {
        let offset = self.offset
        let pending = try readArray { (r: inout BinaryReader) throws(DecodeError) in
            try r.readNotificationRecord(withMissedFires: withMissedFires)
        }
        let settled = try readArray { (r: inout BinaryReader) throws(DecodeError) in
            try r.readNotificationRecord(withMissedFires: withMissedFires)
        }
        var byKey: [NotificationKey: NotificationRecord] = [:]
        for record in pending {
            guard record.state == .pending, byKey.updateValue(record, forKey: record.key) == nil else {
                throw DecodeError("pending notification \(record.key) is repeated or not pending", offset: offset)
            }
        }
        guard settled.allSatisfy({ $0.state != .pending }) else {
            throw DecodeError("a settled notification is marked pending", offset: offset)
        }
        return NotificationTable(pending: byKey, settled: settled, dropped: try readUInt64(),
                                 deliveredTotal: try readUInt64(), failedTotal: try readUInt64())
    }
}
