import DeterministicRandom
/// Seeded generators of cron text for property tests and fuzzing.
enum RandomCron {
    static let monthNames = ["JAN", "feb", "Mar", "APR", "may", "JUN", "jul", "AUG", "sep", "OCT", "nov", "DEC"]
    static let dayNames = ["SUN", "mon", "Tue", "WED", "thu", "FRI", "sat"]

    /// A valid five-field expression (or sometimes a macro). With `timeBias`, hours and
    /// minutes favour the small hours and round minutes, where DST transitions happen.
    static func validExpression(_ random: inout SplitMix64, timeBias: Bool = false) -> String {
        if random.next() % 20 == 0 {
            return ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"][Int(random.next() % 7)]
        }
        let hourRange = timeBias && random.next() % 2 == 0 ? 0...4 : 0...23
        let minute = field(&random, range: 0...59, names: nil, favourite: timeBias ? [0, 15, 30, 45] : [])
        let hour = field(&random, range: 0...23, names: nil, favourite: Array(hourRange))
        let dom = field(&random, range: 1...31, names: nil, favourite: [])
        let month = field(&random, range: 1...12, names: monthNames, favourite: [])
        let dow = field(&random, range: 0...7, names: dayNames, favourite: [])
        return [minute, hour, dom, month, dow].joined(separator: " ")
    }

    /// One field: `*`, `*/n`, a value, a range, a stepped range, `a/n`, or a list of those.
    static func field(_ random: inout SplitMix64, range: ClosedRange<Int>, names: [String]?, favourite: [Int]) -> String {
        let parts = random.next() % 5 == 0 ? 2 + Int(random.next() % 2) : 1
        return (0..<parts).map { _ in element(&random, range: range, names: names, favourite: favourite) }.joined(separator: ",")
    }

    static func element(_ random: inout SplitMix64, range: ClosedRange<Int>, names: [String]?, favourite: [Int]) -> String {
        func value() -> Int {
            if !favourite.isEmpty && random.next() % 2 == 0 { return favourite[Int(random.next() % UInt64(favourite.count))] }
            return range.lowerBound + Int(random.next() % UInt64(range.count))
        }
        func spelled(_ v: Int) -> String {
            guard let names, random.next() % 3 == 0 else { return String(v) }
            let index = names.count == 12 ? v - 1 : v % 7
            return names[index]
        }
        let step = 1 + Int(random.next() % UInt64(min(range.count, 20)))
        switch random.next() % 8 {
        case 0, 1: return "*"
        case 2: return "*/\(step)"
        case 3, 4: return spelled(value())
        case 5:
            let a = value(), b = value()
            return "\(spelled(min(a, b)))-\(spelled(max(a, b)))"
        case 6:
            let a = value(), b = value()
            return "\(min(a, b))-\(max(a, b))/\(step)"
        default:
            return "\(value())/\(step)"
        }
    }
}
