import DeterministicRandom
import Cron
import Foundation
import Testing

/// Seeded fuzzing: 70% mutations of valid expressions, 20% valid expressions, 10% random
/// strings. Parsing must never trap; an error must name a field; an accepted expression's
/// next fire must come back (terminate) and lie strictly after the start.
///
/// In the debug suite: 10 seeds × 2,000 inputs. `scripts/fuzz-cron.sh` runs the same test in
/// a release build with `CRON_FUZZ_INPUTS_PER_SEED` raised (100,000+ inputs in all).
@Suite("Fuzz: parse and next fire never trap or hang")
struct FuzzTests {
    static let seeds: [UInt64] = Array(1...10)
    static let inputsPerSeed = ProcessInfo.processInfo.environment["CRON_FUZZ_INPUTS_PER_SEED"].flatMap { Int($0) } ?? 2_000
    static let fields: Set<String> = ["minute", "hour", "day-of-month", "month", "day-of-week", "expression"]
    static let zones = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kathmandu"]

    @Test("seeded inputs", arguments: seeds)
    func fuzz(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let zones = try Self.zones.map { try CronTimeZone.named($0) }
        var accepted = 0
        for index in 0..<Self.inputsPerSeed {
            // 20% valid as generated, 70% mutated, 10% random strings.
            let valid = RandomCron.validExpression(&random)
            let text = switch index % 10 {
            case 0, 1: valid
            case 9: Mutator.randomString(&random)
            default: Mutator.mutate(valid, &random)
            }
            do {
                let expression = try CronExpression(parsing: text)
                accepted += 1
                let zone = zones[Int(random.next() % UInt64(zones.count))]
                let start = Mutator.instant(&random)
                if let next = expression.nextFire(after: start, in: zone) {
                    #expect(next > start, "seed \(seed) input \(index): \"\(text)\" from \(start.timeIntervalSince1970)")
                }
            } catch {
                #expect(Self.fields.contains(error.field), "seed \(seed) input \(index): \"\(text)\": \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        // Mutations keep a fair share valid, so the next-fire half of the fuzz has work to do.
        #expect(accepted > Self.inputsPerSeed / 4, "seed \(seed): only \(accepted) accepted")
    }
}

/// Mutations of cron text: the mistakes people make and the extremes parsers trip on.
enum Mutator {
    static let extremes = ["99999999999999999999", "2147483648", "18446744073709551616", "-1", "0", "00", "007", "60", "24", "32", "13", "8", "-0"]
    static let names = ["JAN", "jan", "FOO", "MONDAY", "sun", "Sun", "DEC", "SAT", "JANX", "L", "W", "LW", "5#3", "?", "H"]
    static let separators: [Character] = [" ", ",", "-", "/", "\t"]
    static let noise: [Character] = ["*", "?", "#", "@", "L", "W", "H", ".", "+", "\u{0}", "\n", "é", "🙂", "\u{200B}", "\\", "'", "\""]

    static func mutate(_ text: String, _ random: inout SplitMix64) -> String {
        var characters = Array(text)
        let rounds = random.next() % 4 == 0 ? 2 : 1
        for _ in 0..<rounds {
            guard !characters.isEmpty else { break }
            let position = Int(random.next() % UInt64(characters.count))
            switch random.next() % 9 {
            case 0:  // change a digit
                if let digit = characters.indices.filter({ characters[$0].isNumber }).randomElement(using: &random) {
                    characters[digit] = Character(String(random.next() % 10))
                }
            case 1:  // drop a separator
                if let at = characters.indices.filter({ separators.contains(characters[$0]) }).randomElement(using: &random) {
                    characters.remove(at: at)
                }
            case 2:  // double a separator
                if let at = characters.indices.filter({ separators.contains(characters[$0]) }).randomElement(using: &random) {
                    characters.insert(characters[at], at: at)
                }
            case 3:  // an extreme number in place of a run of digits or at a random spot
                characters.insert(contentsOf: extremes[Int(random.next() % UInt64(extremes.count))], at: position)
            case 4:  // a name, real or not
                characters.insert(contentsOf: names[Int(random.next() % UInt64(names.count))], at: position)
            case 5:  // noise
                characters.insert(noise[Int(random.next() % UInt64(noise.count))], at: position)
            case 6:  // delete a character
                characters.remove(at: position)
            case 7:  // swap neighbours
                if position + 1 < characters.count { characters.swapAt(position, position + 1) }
            default:  // truncate
                characters.removeLast(Int(random.next() % UInt64(characters.count)))
            }
        }
        return String(characters)
    }

    static func randomString(_ random: inout SplitMix64) -> String {
        let alphabet = Array("0123456789*/-, \t@abcdefghijklmnopqrstuvwxyzJANMONSUN?#L.🙂é")
        let length = Int(random.next() % 40)
        return String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }

    /// Mostly ordinary instants, sometimes the edges of what Date can hold.
    static func instant(_ random: inout SplitMix64) -> Date {
        switch random.next() % 20 {
        case 0: return Date(timeIntervalSince1970: [-1e15, 1e15, .nan, .infinity, -62_135_596_900, 253_402_300_700][Int(random.next() % 6)])
        case 1: return Date(timeIntervalSince1970: -5_000_000_000 + Double(random.next() % 20_000_000_000))
        default: return Date(timeIntervalSince1970: 946_684_800 + Double(random.next() % 1_000_000_000) + 0.5)
        }
    }
}
