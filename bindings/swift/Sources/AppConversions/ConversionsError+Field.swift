// Reading the generated error: the field and rule of invalid input or configuration, and a
// readable message. UniFFI names the error's cases as the Rust variants (`InvalidInput`).
import Foundation

extension ConversionsError {
    /// The field that broke a rule, as named in the API's JSON (for example
    /// `custom_data.currency`), for invalid input or configuration; otherwise `nil`.
    public var field: String? {
        switch self {
        case let .InvalidInput(field, _), let .InvalidConfig(field, _):
            return field
        default:
            return nil
        }
    }

    /// The rule that `field` broke, for invalid input or configuration; otherwise `nil`.
    public var rule: String? {
        switch self {
        case let .InvalidInput(_, rule), let .InvalidConfig(_, rule):
            return rule
        default:
            return nil
        }
    }
}

extension ConversionsError: CustomStringConvertible {
    /// A one-line explanation, for example
    /// `invalid custom_data.currency: must be a three-letter ISO-4217 code such as USD`.
    /// It is also the error's `localizedDescription`.
    public var description: String {
        switch self {
        case let .InvalidInput(field, rule):
            return "invalid \(field): \(rule)"
        case let .InvalidConfig(field, rule):
            return "invalid configuration \(field): \(rule)"
        case let .DatabaseInUse(path):
            return "database \(path) is already used by another client in this process"
        case let .Storage(message):
            return "storage error: \(message)"
        case let .Timeout(millis):
            return "timed out after \(millis) ms"
        case .ShutDown:
            return "the client is shut down"
        }
    }
}
