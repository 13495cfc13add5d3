// Tests of the Swift layer that need no endpoint: amounts, the ATT mapping, the platform
// facts the core must accept, and that waiting calls leave the caller's thread.
@testable import AppConversions
import AppTrackingTransparency
import XCTest

final class PlatformTests: XCTestCase {
    func testAmountsAreSentAsPlainDecimals() {
        XCTAssertEqual(Conversions.plainDecimal(19.99), "19.99", "a floating-point literal loses its binary noise")
        XCTAssertEqual(Conversions.plainDecimal(Decimal(string: "0.000001")!), "0.000001")
        XCTAssertEqual(Conversions.plainDecimal(1_250), "1250")
        XCTAssertEqual(ContentItem.product(id: "sku-1", price: 5.5, quantity: 2).itemPrice, "5.5")
    }

    func testOnlyAnAuthorizedTrackingStatusPassesTheAdvertisingId() {
        let idfa = UUID()
        let authorized = PrivacyState(trackingAuthorization: .authorized, advertisingIdentifier: idfa)
        XCTAssertEqual(authorized.trackingAuthorization, .authorized)
        XCTAssertEqual(authorized.advertisingId, idfa.uuidString)
        let others: [(ATTrackingManager.AuthorizationStatus, TrackingAuthorization)] = [
            (.denied, .denied), (.restricted, .restricted), (.notDetermined, .notDetermined),
        ]
        for (status, mapped) in others {
            let privacy = PrivacyState(trackingAuthorization: status, advertisingIdentifier: idfa)
            XCTAssertEqual(privacy.trackingAuthorization, mapped)
            XCTAssertNil(privacy.advertisingId)
            XCTAssertFalse(privacy.optOut, "the core derives the opt-out from the status")
        }
    }

    func testACellularRadioNamesItsGeneration() {
        let cases: [(String, NetworkType)] = [
            ("CTRadioAccessTechnologyNR", .cellular5g),
            ("CTRadioAccessTechnologyNRNSA", .cellular5g),
            ("CTRadioAccessTechnologyLTE", .cellular4g),
            ("CTRadioAccessTechnologyHSDPA", .cellular3g),
            ("CTRadioAccessTechnologyEdge", .cellular2g),
            ("CTRadioAccessTechnologySomethingNew", .unknown),
        ]
        for (technology, generation) in cases {
            XCTAssertEqual(NetworkMonitor.generation(ofRadioAccessTechnology: technology), generation, technology)
        }
    }

    #if canImport(UIKit)
    // UIKit only: the macOS runner builds the tests without it.
    func testABackgroundLaunchIsNotALaunchTheUserSees() {
        XCTAssertFalse(LifecycleObserver.recordsLaunch(in: .background))
        XCTAssertTrue(LifecycleObserver.recordsLaunch(in: .inactive))
        XCTAssertTrue(LifecycleObserver.recordsLaunch(in: .active))
    }
    #endif

    @MainActor
    func testPlatformFactsAreAcceptedByTheCore() async throws {
        let device = DeviceInfo.current(wifi: true)
        XCTAssertEqual(device.brand, "Apple")
        XCTAssertFalse(device.model?.isEmpty ?? true)
        if let language = device.language {
            XCTAssertEqual(language.count, 2)
        }
        XCTAssertEqual(device.osFamily, DeviceFacts.osFamily())
        XCTAssertNotNil(device.formFactor)
        XCTAssertEqual(device.timezone, TimeZone.current.identifier)
        XCTAssertEqual(device.languages, Locale.preferredLanguages)
        XCTAssertFalse(device.locale?.contains("@") ?? true, "no locale keywords")
        XCTAssertEqual(device.cpuCores, Int32(ProcessInfo.processInfo.activeProcessorCount))
        XCTAssertNil(device.screenDensity, "iOS has no API for the screen's PPI")
        #if canImport(UIKit)
        let screen = try XCTUnwrap(DeviceFacts.screenPixels())
        XCTAssertEqual(device.screenWidth, screen.width)
        XCTAssertEqual(device.screenHeight, screen.height)
        #endif
        XCTAssertEqual(AppInfo.current.appPackageName, Bundle.main.bundleIdentifier)
        let userAgent = try XCTUnwrap(device.userAgent)
        XCTAssertNotNil(
            userAgent.range(of: #"^\S+/\S+ CFNetwork/\S+ Darwin/\S+$"#, options: .regularExpression),
            userAgent
        )

        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("AppConversionsTests-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = Conversions.Configuration(
            endpoint: URL(string: "http://127.0.0.1:9")!,
            adAccountId: "549768257474",
            token: "unused",
            databaseURL: folder.appendingPathComponent("conversions.sqlite")
        )
        let conversions = try Conversions(configuration: configuration, app: .current, device: device, privacy: PrivacyState())
        try await conversions.shutdown()
    }

    @MainActor
    func testWaitingCallsRunOffTheMainThread() async throws {
        let ranOnMainThread = try await Blocking.run { Thread.isMainThread }
        XCTAssertFalse(ranOnMainThread)
    }
}
