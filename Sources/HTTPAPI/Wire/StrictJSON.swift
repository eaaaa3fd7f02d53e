import Foundation

/// Decodes request bodies strictly, with errors in the API's terms.
public enum StrictJSON {
    /// Decodes `bytes` as `T`, mapping every failure to a 400 (malformed, wrong type, unknown
    /// field) or 422 (bad value) naming the field path.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(APIError) -> T {
        guard bytes.contains(where: { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }) else {
            throw .badRequest("the body is empty; send a JSON object")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw APIError(decoding: error)
        }
    }
}
