import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The default transport on Apple platforms: the SDK's requests go through `URLSession`, so
/// App Transport Security, the system proxy, the device's trusted CAs (MDM-installed ones
/// included), Low Data Mode and the app's session settings apply as to its own traffic.
///
/// The SDK calls ``send(request:)`` on its upload thread only, one request at a time; the call
/// blocks that thread until the answer, the request's timeout or a failure. Redirects are not
/// followed (the SDK reads a 3xx as an answer) and at most 2 MiB and one byte of an answer is
/// kept (the SDK reads no more). A flush the app starts when it goes to the background runs
/// inside the background task the lifecycle observer opens, and its requests go through this
/// session.
public final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    private let session: URLSession

    /// A transport on a session made from `configuration` (a copy; the app's own
    /// `URLSessionConfiguration`, with its proxy, TLS and header settings, is welcome), with
    /// Low Data Mode and expensive networks allowed or not.
    public init(
        configuration: URLSessionConfiguration = .ephemeral,
        allowsConstrainedNetworkAccess: Bool = true,
        allowsExpensiveNetworkAccess: Bool = true
    ) {
        let copy = (configuration.copy() as? URLSessionConfiguration) ?? configuration
        #if canImport(Darwin)
        copy.allowsConstrainedNetworkAccess = allowsConstrainedNetworkAccess
        copy.allowsExpensiveNetworkAccess = allowsExpensiveNetworkAccess
        #endif
        copy.urlCache = nil
        session = URLSession(configuration: copy, delegate: NoRedirects(), delegateQueue: nil)
    }

    /// A transport on the app's own session (its delegate decides redirects: let it refuse them).
    public init(session: URLSession) {
        self.session = session
    }

    /// Sends the request (a `POST` of events or a `GET` of remote settings) and returns the
    /// answer, whatever its status.
    public func send(request: HttpRequest) throws -> HttpResponse {
        guard let url = URL(string: request.url) else {
            throw TransportError.Other(reason: "not a URL")
        }
        let seconds = TimeInterval(request.timeoutMs) / 1000
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: seconds)
        let post = request.method != "GET"
        urlRequest.httpMethod = post ? "POST" : "GET"
        for header in request.headers {
            urlRequest.setValue(header.value, forHTTPHeaderField: header.name)
        }
        if post {
            urlRequest.httpBody = request.body
        }
        let outcome = Outcome()
        let task = session.dataTask(with: urlRequest) { data, response, error in
            outcome.finish(URLSessionTransport.answer(data: data, response: response, error: error))
        }
        task.resume()
        // The task's own timeout ends it; the extra second covers the hand-over only.
        let waitMillis = Int(min(request.timeoutMs, UInt64(Int32.max))) + 1000
        guard let result = outcome.wait(until: .now() + .milliseconds(waitMillis)) else {
            task.cancel()
            throw TransportError.Timeout(reason: "no answer within \(request.timeoutMs) ms")
        }
        return try result.get()
    }

    /// The SDK reads at most 2 MiB of an answer; one byte more tells it the cap was passed.
    private static let maxAnswerBytes = 2 * 1024 * 1024 + 1

    private static func answer(data: Data?, response: URLResponse?, error: Error?) -> Result<HttpResponse, TransportError> {
        if let error = error as? URLError {
            switch error.code {
            case .timedOut:
                return .failure(.Timeout(reason: "no answer in time"))
            case .notConnectedToInternet, .networkConnectionLost, .cannotFindHost, .cannotConnectToHost,
                 .dnsLookupFailed, .internationalRoamingOff, .dataNotAllowed, .callIsActive:
                return .failure(.Network(reason: "URLError \(error.code.rawValue)"))
            default:
                return .failure(.Other(reason: "URLError \(error.code.rawValue)"))
            }
        }
        if let error = error {
            return .failure(.Other(reason: "\(type(of: error))"))
        }
        guard let http = response as? HTTPURLResponse else {
            return .failure(.Other(reason: "not an HTTP answer"))
        }
        let headers = http.allHeaderFields.map { HttpHeader(name: "\($0.key)", value: "\($0.value)") }
        let body = Data((data ?? Data()).prefix(maxAnswerBytes))
        return .success(HttpResponse(status: UInt16(clamping: http.statusCode), headers: headers, body: body))
    }
}

/// The answer of one task, handed from URLSession's queue to the waiting upload thread.
private final class Outcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<HttpResponse, TransportError>?

    func finish(_ result: Result<HttpResponse, TransportError>) {
        lock.lock()
        self.result = result
        lock.unlock()
        done.signal()
    }

    func wait(until deadline: DispatchTime) -> Result<HttpResponse, TransportError>? {
        guard done.wait(timeout: deadline) == .success else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return result
    }
}

/// Refuses every redirect: the SDK reads the 3xx itself.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
