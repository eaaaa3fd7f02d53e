import Foundation

/// A time zone name that is not an IANA time zone identifier.
public struct UnknownTimeZoneError: Error, CustomStringConvertible, Hashable, Sendable {
    /// The name as given (shortened to 40 characters).
    public let identifier: String

    /// Creates the error for `identifier`.
    public init(identifier: String) {
        self.identifier = CronParseError.shortened(identifier)
    }

    /// Names the zone and says what to write instead.
    public var description: String {
        "time zone: unknown time zone \"\(identifier)\"; use an IANA name such as Europe/Berlin, America/New_York or UTC"
    }
}

/// Looks up time zones by IANA identifier, strictly.
public enum CronTimeZone {
    /// The zone named by an IANA identifier (`Europe/Berlin`, `America/New_York`, `UTC`,
    /// `Etc/GMT+5`).
    ///
    /// Foundation also accepts names that are not IANA identifiers (`PST`, `GMT+5`, `UTC+3`)
    /// and quietly maps them to something; those are rejected here so that a typo or an
    /// ambiguous abbreviation cannot silently shift every schedule. Identifiers are
    /// case-sensitive, as in the tz database.
    ///
    /// - Throws: `UnknownTimeZoneError` naming `id`.
    public static func named(_ id: String) throws(UnknownTimeZoneError) -> TimeZone {
        if id == "UTC", let utc = TimeZone(identifier: "UTC") {
            return utc
        }
        guard id.utf8.count <= 64, id.utf8.allSatisfy(isIdentifierByte),
              id.contains("/") || unslashedIANANames.contains(id),
              let zone = TimeZone(identifier: id), zone.identifier == id
        else {
            throw UnknownTimeZoneError(identifier: id)
        }
        return zone
    }

    /// tz database zone and link names without a `/` (the rest all have one). Foundation knows
    /// other slash-less names too (`PST`, `IST`), which are abbreviations, not zones.
    static let unslashedIANANames: Set<String> = [
        "UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Universal", "Zulu",
        "EST", "MST", "HST", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT", "CET", "EET", "MET", "WET",
        "Cuba", "Egypt", "Eire", "GB", "GB-Eire", "Hongkong", "Iceland", "Iran", "Israel", "Jamaica",
        "Japan", "Kwajalein", "Libya", "NZ", "NZ-CHAT", "Navajo", "PRC", "Poland", "Portugal", "ROC",
        "ROK", "Singapore", "Turkey", "W-SU",
    ]

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"):
            return true
        default:
            return false
        }
    }
}
