// The error the Swift layer throws: the core's `ConversionsError` with Swift's lowerCamel case
// names (UniFFI keeps the Rust variants' UpperCamel ones: `.InvalidInput`), the field and rule
// of invalid input or configuration, and a readable message. Every throwing call of
// `Conversions` translates the core's error at its boundary.
import Foundation

/// Why a call of the SDK failed.
public enum AppConversionsError: Error, Equatable, CustomStringConvertible {
    /// An event or a device fact broke a rule: `field` as named in the API's JSON (for example
    /// `custom_data.currency`), `rule` what was wrong. Nothing was recorded.
    case invalidInput(field: String, rule: String)
    /// The configuration broke a rule: `field` names the setting (for example `endpoint`).
    case invalidConfig(field: String, rule: String)
    /// Another instance, in this process or another, already uses the database at `path`.
    case databaseInUse(path: String)
    /// The buffer could not be written or read; events wait in memory (bounded).
    case storage(message: String)
    /// A waiting call ran out of its time.
    case timeout(millis: UInt64)
    /// The SDK was shut down; nothing more is recorded or sent.
    case shutDown

    /// The Swift form of the core's error.
    public init(_ error: ConversionsError) {
        switch error {
        case let .InvalidInput(field, rule): self = .invalidInput(field: field, rule: rule)
        case let .InvalidConfig(field, rule): self = .invalidConfig(field: field, rule: rule)
        case let .DatabaseInUse(path): self = .databaseInUse(path: path)
        case let .Storage(message): self = .storage(message: message)
        case let .Timeout(millis): self = .timeout(millis: millis)
        case .ShutDown: self = .shutDown
        }
    }

    /// The field that broke a rule, for invalid input or configuration; otherwise `nil`.
    public var field: String? {
        switch self {
        case let .invalidInput(field, _), let .invalidConfig(field, _):
            return field
        default:
            return nil
        }
    }

    /// The rule that ``field`` broke, for invalid input or configuration; otherwise `nil`.
    public var rule: String? {
        switch self {
        case let .invalidInput(_, rule), let .invalidConfig(_, rule):
            return rule
        default:
            return nil
        }
    }

    /// A one-line explanation, for example
    /// `invalid custom_data.currency: must be a three-letter ISO-4217 code such as USD`.
    public var description: String {
        switch self {
        case let .invalidInput(field, rule):
            return "invalid \(field): \(rule)"
        case let .invalidConfig(field, rule):
            return "invalid configuration \(field): \(rule)"
        case let .databaseInUse(path):
            return "database \(path) is already used by another client"
        case let .storage(message):
            return "storage error: \(message)"
        case let .timeout(millis):
            return "timed out after \(millis) ms"
        case .shutDown:
            return "the client is shut down"
        }
    }
}

extension AppConversionsError: LocalizedError {
    /// The same text as ``description``, so `localizedDescription` reads well.
    public var errorDescription: String? { description }
}

/// Runs `body`, throwing the core's error as an ``AppConversionsError``.
func translatingCoreErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ConversionsError {
        throw AppConversionsError(error)
    }
}
