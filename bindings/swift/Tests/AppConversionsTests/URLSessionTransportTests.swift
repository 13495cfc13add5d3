// The default transport: `Conversions` sends through `URLSession` (every SandboxTestCase test
// delivers that way); an app's own session carries the requests when it passes one; a 3xx is
// an answer the SDK reads, never a redirect followed; an unreachable host is a failure the SDK
// retries, never a crash or a lost event.
import AppConversions
import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class URLSessionTransportTests: SandboxTestCase {
    func testEventsReachTheSandboxThroughTheAppsOwnSession() async throws {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpAdditionalHeaders = ["X-App-Session": "shop"]
        let transport = CountingTransport(URLSessionTransport(configuration: configuration))
        let conversions = try start(transport: transport)
        conversions.lead(user: Self.shopper)

        let report = try await conversions.flush()

        XCTAssertEqual(report.processed, 1)
        XCTAssertEqual(report.remaining, 0)
        XCTAssertGreaterThanOrEqual(transport.count, 1, "every request went through the app's transport")
    }

    func testARedirectIsAnAnswerAndAClosedPortAFailure() async throws {
        try await sandbox.fault(#"{"kind":"redirect","location":"http://127.0.0.1:1/elsewhere"}"#)
        let transport = URLSessionTransport()
        let request = HttpRequest(
            url: sandbox.baseURL.absoluteString + "/v5/ad_accounts/\(sandbox.adAccountId)/events",
            headers: [HttpHeader(name: "Authorization", value: "Bearer \(sandbox.token)")],
            body: Data(#"{"data":[]}"#.utf8),
            timeoutMs: 5_000
        )

        XCTAssertEqual(try transport.send(request: request).status, 307)

        var unreachable = request
        unreachable.url = "http://127.0.0.1:1/events"
        XCTAssertThrowsError(try transport.send(request: unreachable))
    }
}

/// Counts the requests it hands on to the transport it wraps.
private final class CountingTransport: HttpTransport, @unchecked Sendable {
    private let inner: HttpTransport
    private let lock = NSLock()
    private var sent = 0

    init(_ inner: HttpTransport) {
        self.inner = inner
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return sent
    }

    func send(request: HttpRequest) throws -> HttpResponse {
        lock.lock()
        sent += 1
        lock.unlock()
        return try inner.send(request: request)
    }
}
