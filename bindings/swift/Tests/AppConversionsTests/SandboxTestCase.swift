// Base of the tests that deliver to the sandbox: the sandbox is reset before each test, each
// test gets its own database folder, and the clients it started are shut down after it, so
// nothing a test queued reaches the next one.
import AppConversions
import XCTest

class SandboxTestCase: XCTestCase {
    /// An IDFA in upper case, as iOS gives it: the SDK must lowercase it before hashing.
    static let advertisingId = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
    /// The CFNetwork-style user agent of the device under test.
    static let userAgent = "Shop/31 CFNetwork/1494.0.7 Darwin/23.4.0"
    /// A user identified by email, so events qualify without an advertising id.
    static let shopper = UserData(emails: ["Shopper@Example.com"])

    private(set) var sandbox: Sandbox!
    private var folder: URL!
    private var started: [Conversions] = []

    override func setUp() async throws {
        try await super.setUp()
        sandbox = try Sandbox.fromEnvironment()
        try await sandbox.reset()
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("AppConversionsTests-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDown() async throws {
        for conversions in started {
            try? await conversions.shutdown()
        }
        started.removeAll()
        if let folder {
            try? FileManager.default.removeItem(at: folder)
        }
        try await super.tearDown()
    }

    /// The test's database file.
    var databaseURL: URL {
        folder.appendingPathComponent("conversions.sqlite")
    }

    /// Starts a client on the test's database that delivers to the sandbox, with tracking
    /// authorized and an advertising id unless `privacy` says otherwise, and `app_open` on any
    /// return to the foreground. `transport` carries the requests (the default: the SDK's
    /// ``URLSessionTransport``).
    func start(
        privacy: PrivacyState = PrivacyState(
            trackingAuthorization: .authorized,
            advertisingId: SandboxTestCase.advertisingId
        ),
        transport: HttpTransport? = nil,
        configure: (inout Conversions.Configuration) -> Void = { _ in }
    ) throws -> Conversions {
        var configuration = Conversions.Configuration(
            endpoint: sandbox.baseURL,
            adAccountId: sandbox.adAccountId,
            token: sandbox.token,
            databaseURL: databaseURL,
            minimumBackgroundTimeForOpen: 0
        )
        configure(&configuration)
        let app = AppInfo(
            appId: "com.example.shop",
            appName: "Shop",
            appVersion: "3.1.0",
            firstInstallTime: Int64(Date().timeIntervalSince1970) - 60
        )
        let device = DeviceInfo(
            brand: "Apple",
            model: "iPhone15,2",
            deviceType: "phone",
            osVersion: "17.4",
            language: "en",
            wifi: true,
            userAgent: SandboxTestCase.userAgent
        )
        let conversions = try Conversions(
            configuration: configuration, app: app, device: device, privacy: privacy, transport: transport
        )
        started.append(conversions)
        return conversions
    }
}
