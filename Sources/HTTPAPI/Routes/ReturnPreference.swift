import Hummingbird

/// What a client asked the body of a write's answer to be, through RFC 7240's `Prefer: return=…`.
///
/// `return=minimal` on `POST /api/jobs` answers with `{"id", "state", "links"}` instead of the
/// whole job (docs/api.md, "Minimal answers"): a client that only needs the id saves the server
/// the encoding and itself the parsing. Other preferences (and a malformed header) are ignored,
/// as RFC 7240 §2 asks: a preference is never an error.
enum ReturnPreference: Equatable, Sendable {
    /// The whole resource (the default; also `return=representation`).
    case representation
    /// The id, state and links only.
    case minimal

    /// The header that says a minimal answer was given (RFC 7240 §3).
    static let appliedHeader = HTTPFields.Element.Name("Preference-Applied")

    /// The preference in `headers`: every `Prefer` field, each a comma-separated list of
    /// `token[=value][; parameters]`; tokens compare case-insensitively, a value may be quoted.
    /// The first `return` preference counts (RFC 7240 §2: a repeat is ignored).
    init(_ headers: HTTPFields) {
        self = .representation
        for field in headers where field.name.canonicalName == "prefer" {
            for preference in field.value.split(separator: ",") {
                let pair = (preference.split(separator: ";").first ?? "").split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmed.lowercased() == "return" else { continue }
                var value = pair[1].trimmed
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                self = value.lowercased() == "minimal" ? .minimal : .representation
                return
            }
        }
    }
}

private extension Substring {
    var trimmed: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
