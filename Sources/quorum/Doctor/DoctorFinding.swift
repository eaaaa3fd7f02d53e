/// One thing `quorum doctor` checked: what it looked at, what it saw, and what to do about it.
struct DoctorFinding: Equatable, Sendable {
    /// How bad it is. Only ``failure`` makes the command exit 1.
    enum Severity: Int, Comparable, Sendable, CaseIterable {
        /// As it should be.
        case ok
        /// Works now, needs attention soon (a certificate expiring, a slow disk, a lagging node).
        case warning
        /// Broken now, or about to break the cluster (an expired certificate, a damaged WAL, a
        /// node that does not answer, replicas that disagree).
        case failure

        static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The column text.
        var label: String {
            switch self {
            case .ok: "ok"
            case .warning: "WARN"
            case .failure: "FAIL"
            }
        }
    }

    var severity: Severity
    /// What was checked, e.g. `tls n1`, `disk n2`, `cluster`.
    var area: String
    /// What was seen, with the numbers.
    var message: String
    /// What to do, for warnings and failures.
    var advice: String?

    static func ok(_ area: String, _ message: String) -> DoctorFinding {
        DoctorFinding(severity: .ok, area: area, message: message, advice: nil)
    }

    static func warning(_ area: String, _ message: String, advice: String) -> DoctorFinding {
        DoctorFinding(severity: .warning, area: area, message: message, advice: advice)
    }

    static func failure(_ area: String, _ message: String, advice: String) -> DoctorFinding {
        DoctorFinding(severity: .failure, area: area, message: message, advice: advice)
    }
}

/// The text `quorum doctor` prints and the exit status it ends with.
enum DoctorReport {
    /// One line per finding (`ok   disk n1   …`), the advice indented under it, then a summary.
    static func render(_ findings: [DoctorFinding]) -> String {
        let width = min(16, findings.map(\.area.count).max() ?? 0)
        var lines: [String] = []
        for finding in findings {
            let label = finding.severity.label.padding(toLength: 5, withPad: " ", startingAt: 0)
            let area = finding.area.count >= width ? finding.area : finding.area.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("\(label)\(area)  \(finding.message)")
            if let advice = finding.advice { lines.append(String(repeating: " ", count: 5 + width + 2) + "→ " + advice) }
        }
        let failures = findings.filter { $0.severity == .failure }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        lines.append("")
        lines.append("\(findings.count) checks: \(failures) failed, \(warnings) warnings")
        return lines.joined(separator: "\n")
    }

    /// 1 when anything failed, else 0 (warnings do not fail the command).
    static func exitCode(_ findings: [DoctorFinding]) -> Int32 {
        findings.contains { $0.severity == .failure } ? 1 : 0
    }
}
