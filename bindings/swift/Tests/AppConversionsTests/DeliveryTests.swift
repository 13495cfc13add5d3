// End-to-end tests against the sandbox endpoint, mirroring the Kotlin JVM tests: launch,
// foreground, checkout, Limit Ad Tracking and flush, then what the sandbox accepted; bad input
// throws naming the field; concurrent tracking loses nothing.
import AppConversions
import AppTrackingTransparency
import XCTest

final class DeliveryTests: XCTestCase {
    private static let idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
    private static let userAgent = "Shop/31 CFNetwork/1494.0.7 Darwin/23.4.0"

    private var sandbox: Sandbox!
    private var folder: URL!

    override func setUp() async throws {
        sandbox = try Sandbox.fromEnvironment()
        try await sandbox.reset()
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("AppConversionsTests-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A client for the sandbox with its buffer in this test's folder.
    private func start(privacy: PrivacyState, minimumBackgroundTimeForOpen: TimeInterval = 30) throws -> Conversions {
        let configuration = Conversions.Configuration(
            endpoint: sandbox.baseURL,
            adAccountId: sandbox.adAccountId,
            token: sandbox.token,
            databaseURL: folder.appendingPathComponent("conversions.sqlite"),
            minimumBackgroundTimeForOpen: minimumBackgroundTimeForOpen
        )
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
            userAgent: Self.userAgent
        )
        return try Conversions(configuration: configuration, app: app, device: device, privacy: privacy)
    }

    func testLaunchForegroundAndCheckoutAreDelivered() async throws {
        let conversions = try start(
            privacy: PrivacyState(trackingAuthorization: .authorized, advertisingIdentifier: UUID(uuidString: Self.idfa)),
            minimumBackgroundTimeForOpen: 0
        )
        try conversions.onLaunch()
        try conversions.onBackground()
        try conversions.onForeground()
        try conversions.checkout(
            value: Decimal(string: "42.50")!,
            currency: "usd",
            orderId: "A-1001",
            user: UserData(emails: ["Person@Example.com"])
        )

        let report = try await conversions.flush(timeout: 10)
        XCTAssertEqual(report.remaining, 0)
        XCTAssertFalse(report.timedOut)

        let accepted = try await sandbox.accepted()
        XCTAssertEqual(accepted.compactMap { $0["event_name"] as? String }.sorted(), ["app_install", "app_open", "checkout"])
        let checkout = try XCTUnwrap(accepted.first { $0["event_name"] as? String == "checkout" })
        XCTAssertEqual(checkout["event_id"] as? String, "A-1001")
        XCTAssertEqual(checkout["action_source"] as? String, "app_ios")
        XCTAssertEqual(checkout["opt_out"] as? Bool, false)
        XCTAssertEqual(checkout["device_model"] as? String, "iPhone15,2")
        let data = try XCTUnwrap(checkout["custom_data"] as? [String: Any])
        XCTAssertEqual(data["currency"] as? String, "USD")
        XCTAssertEqual((data["value"] as? String).flatMap { Decimal(string: $0) }, Decimal(string: "42.5"))
        XCTAssertEqual(data["order_id"] as? String, "A-1001")
        let user = try XCTUnwrap(checkout["user_data"] as? [String: Any])
        XCTAssertEqual(user["em"] as? [String], [sha256("person@example.com")])
        XCTAssertEqual(user["hashed_maids"] as? [String], [sha256(Self.idfa.lowercased())])
        XCTAssertEqual(user["client_user_agent"] as? String, Self.userAgent)

        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.delivered, 3)
        XCTAssertEqual(diagnostics.queued, 0)
        try await conversions.shutdown()
    }

    func testLimitAdTrackingStripsTheAdvertisingIdBeforeSending() async throws {
        let idfa = UUID(uuidString: Self.idfa)
        let conversions = try start(privacy: PrivacyState(trackingAuthorization: .authorized, advertisingIdentifier: idfa))
        try conversions.lead(user: UserData(emails: ["lead@example.com"]))
        try conversions.setTrackingAuthorization(.denied, advertisingIdentifier: idfa)
        XCTAssertTrue(conversions.privacy.optOut)
        XCTAssertNil(conversions.privacy.advertisingId)
        try conversions.search(query: "red shoes", user: UserData(emails: ["lead@example.com"]))

        _ = try await conversions.flush(timeout: 10)

        let accepted = try await sandbox.accepted()
        XCTAssertEqual(accepted.compactMap { $0["event_name"] as? String }.sorted(), ["lead", "search"])
        for event in accepted {
            XCTAssertEqual(event["opt_out"] as? Bool, true)
            let user = try XCTUnwrap(event["user_data"] as? [String: Any])
            XCTAssertNil(user["hashed_maids"], "an opted-out event carries no advertising id")
            XCTAssertEqual(user["em"] as? [String], [sha256("lead@example.com")])
        }
        try await conversions.shutdown()
    }

    func testBadInputThrowsNamingTheField() async throws {
        let conversions = try start(privacy: PrivacyState())
        XCTAssertThrowsError(try conversions.checkout(value: 10, currency: "dollars")) { error in
            XCTAssertEqual((error as? ConversionsError)?.field, "custom_data.currency")
            XCTAssertTrue(error.localizedDescription.contains("custom_data.currency"), error.localizedDescription)
        }
        XCTAssertThrowsError(try conversions.checkout(value: -5, currency: "USD")) { error in
            XCTAssertEqual((error as? ConversionsError)?.field, "custom_data.value")
        }
        XCTAssertThrowsError(try conversions.pageVisit(url: URL(string: "ftp://example.com/cart")!)) { error in
            XCTAssertEqual((error as? ConversionsError)?.field, "event_source_url")
        }
        XCTAssertThrowsError(try conversions.track(.lead, user: UserData(emails: ["not-an-email"]))) { error in
            XCTAssertEqual((error as? ConversionsError)?.field, "user_data.em")
        }
        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.queued, 0, "nothing invalid was stored")
        try await conversions.shutdown()
    }

    func testABadConfigurationThrowsNamingTheField() throws {
        var configuration = Conversions.Configuration(endpoint: sandbox.baseURL, adAccountId: "acct-1", token: sandbox.token)
        configuration.databaseURL = folder.appendingPathComponent("conversions.sqlite")
        XCTAssertThrowsError(try Conversions(configuration: configuration, app: AppInfo(), device: DeviceInfo(), privacy: PrivacyState())) { error in
            XCTAssertEqual((error as? ConversionsError)?.field, "ad_account_id")
        }
    }

    func testConcurrentTrackingLosesNothing() async throws {
        let conversions = try start(privacy: PrivacyState(optOut: false, advertisingId: Self.idfa))
        let tracked = EventIds()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<25 {
                let item = ContentItem.product(id: "sku-\(worker)-\(index)", price: 5, quantity: 1)
                if let result = try? conversions.addToCart(contents: [item], value: 5, currency: "EUR") {
                    tracked.insert(result.eventId)
                }
            }
        }
        XCTAssertEqual(tracked.all.count, 200)

        var report = try await conversions.flush(timeout: 20)
        for _ in 0..<3 where report.remaining > 0 {
            report = try await conversions.flush(timeout: 20)
        }
        XCTAssertEqual(report.remaining, 0)

        let accepted = try await sandbox.accepted()
        XCTAssertEqual(Set(accepted.compactMap { $0["event_id"] as? String }), tracked.all)
        try await conversions.shutdown()
    }
}

/// Event ids collected from several threads.
private final class EventIds: @unchecked Sendable {
    private let lock = NSLock()
    private var ids = Set<String>()

    func insert(_ id: String) {
        lock.lock()
        defer { lock.unlock() }
        ids.insert(id)
    }

    var all: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return ids
    }
}
