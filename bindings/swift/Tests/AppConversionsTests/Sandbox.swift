// The sandbox endpoint the tests deliver to: a local stand-in for the Conversions API that
// records what it accepted. The workflow starts `app-conversions-sandbox` and passes its URL
// in APP_CONVERSIONS_SANDBOX_URL (token and ad account optionally in
// APP_CONVERSIONS_SANDBOX_TOKEN and APP_CONVERSIONS_SANDBOX_AD_ACCOUNT, else the sandbox's
// defaults). The tests share it, so each resets it first; XCTest runs them one at a time.
import CryptoKit
import Foundation

struct Sandbox {
    /// An advertiser-defined event name the tests register with the sandbox.
    static let customEvent = "TookSurvey"

    let baseURL: URL
    let token: String
    let adAccountId: String

    /// What went wrong talking to the sandbox.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The sandbox named by the environment.
    static func fromEnvironment() throws -> Sandbox {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["APP_CONVERSIONS_SANDBOX_URL"].flatMap({ URL(string: $0) }) else {
            throw Failure(description: "set APP_CONVERSIONS_SANDBOX_URL to a running app-conversions-sandbox (see README.md)")
        }
        return Sandbox(
            baseURL: url,
            token: environment["APP_CONVERSIONS_SANDBOX_TOKEN"] ?? "sandbox-token",
            adAccountId: environment["APP_CONVERSIONS_SANDBOX_AD_ACCOUNT"] ?? "549768257474"
        )
    }

    /// Forgets accepted events, recorded requests and queued faults.
    func reset() async throws {
        _ = try await control("POST", "reset")
    }

    /// Queues a fault for the next request, such as `{"status":503,"retry_after":"3600"}`.
    func fault(_ json: String) async throws {
        _ = try await control("POST", "faults", body: json)
    }

    /// Accepts ``customEvent`` as an advertiser-defined event name.
    func registerCustomEvent() async throws {
        _ = try await control("POST", "custom_event_names", body: #"{"name":"\#(Self.customEvent)"}"#)
    }

    /// The events the sandbox accepted, in order.
    func accepted() async throws -> [AcceptedEvent] {
        let data = try await control("GET", "accepted")
        guard let events = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw Failure(description: "/_sandbox/accepted is not an array of objects")
        }
        return events.map(AcceptedEvent.init)
    }

    /// The accepted events named `name`.
    func accepted(named name: String) async throws -> [AcceptedEvent] {
        try await accepted().filter { $0.string("event_name") == name }
    }

    private func control(_ method: String, _ endpoint: String, body: String? = nil) async throws -> Data {
        var request = URLRequest(url: baseURL.appendingPathComponent("_sandbox/\(endpoint)"))
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw Failure(description: "\(method) /_sandbox/\(endpoint) failed: \(response)")
        }
        return data
    }
}

/// One event as the sandbox accepted it, read by dotted path (`custom_data.contents.0.id`).
struct AcceptedEvent {
    let json: [String: Any]

    func value(_ path: String) -> Any? {
        var current: Any? = json
        for key in path.split(separator: ".") {
            if let index = Int(key), let array = current as? [Any] {
                current = index < array.count ? array[index] : nil
            } else {
                current = (current as? [String: Any])?[String(key)]
            }
        }
        return current
    }

    func string(_ path: String) -> String? {
        value(path) as? String
    }

    func strings(_ path: String) -> [String] {
        value(path) as? [String] ?? []
    }

    func bool(_ path: String) -> Bool? {
        value(path) as? Bool
    }
}

/// SHA-256 as lowercase hex, computed here independently of the SDK.
func sha256(_ value: String) -> String {
    SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
}
