// Installs and opens as the sandbox receives them.
import AppConversions
import XCTest

final class LifecycleTests: SandboxTestCase {
    func testTheFirstLaunchRecordsAppInstallWithTheHashedAdvertisingId() async throws {
        let conversions = try start()

        conversions.onLaunch()
        let report = try await conversions.flush()

        XCTAssertEqual(report.remaining, 0)
        let accepted = try await sandbox.accepted()
        XCTAssertEqual(accepted.count, 1)
        let install = try XCTUnwrap(accepted.first)
        XCTAssertEqual(install.string("event_name"), "app_install")
        XCTAssertEqual(install.string("action_source"), "app_ios")
        XCTAssertEqual(install.strings("user_data.hashed_maids"), [sha256(Self.advertisingId.lowercased())])
        XCTAssertEqual(install.string("device_model"), "iPhone15,2")
        XCTAssertEqual(install.string("user_data.client_user_agent"), Self.userAgent)
    }

    func testAReturnToTheForegroundRecordsAppOpen() async throws {
        let conversions = try start()

        conversions.onLaunch()
        conversions.onBackground()
        conversions.onForeground()
        _ = try await conversions.flush()

        let names = try await sandbox.accepted().map { $0.string("event_name") }
        XCTAssertEqual(names, ["app_install", "app_open"])
    }

    func testAShortBackgroundRecordsNoAppOpen() async throws {
        let conversions = try start { $0.minimumBackgroundTimeForOpen = 3_600 }

        conversions.onLaunch()
        conversions.onBackground()
        conversions.onForeground()
        _ = try await conversions.flush()

        let names = try await sandbox.accepted().map { $0.string("event_name") }
        XCTAssertEqual(names, ["app_install"])
    }

    func testALaterLaunchRecordsAppOpenNotASecondInstall() async throws {
        let first = try start()
        first.onLaunch()
        _ = try await first.flush()
        try await first.shutdown()

        let second = try start()
        second.onLaunch()
        _ = try await second.flush()

        let names = try await sandbox.accepted().map { $0.string("event_name") }
        XCTAssertEqual(names, ["app_install", "app_open"])
        let install = try await sandbox.accepted(named: "app_install")
        XCTAssertTrue(install.first?.string("event_id")?.hasPrefix("app_install-") ?? false)
    }
}
