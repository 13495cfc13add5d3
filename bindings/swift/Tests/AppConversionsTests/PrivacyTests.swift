// Limit Ad Tracking, App Tracking Transparency, Limited Data Processing and consent, as the
// sandbox receives the events.
import AppConversions
import AppTrackingTransparency
import XCTest

final class PrivacyTests: SandboxTestCase {
    func testWithLimitAdTrackingOnLaterEventsCarryOptOutAndNoAdvertisingId() async throws {
        let conversions = try start()
        conversions.lead()
        _ = try await conversions.flush()

        conversions.setLimitAdTracking(true)
        conversions.checkout(value: Decimal(string: "25.00")!, currency: "USD", orderId: "order-1", user: Self.shopper)
        _ = try await conversions.flush()

        let leadEvents = try await sandbox.accepted(named: "lead")
        let lead = try XCTUnwrap(leadEvents.first)
        XCTAssertEqual(lead.strings("user_data.hashed_maids"), [sha256(Self.advertisingId.lowercased())])
        XCTAssertEqual(lead.bool("opt_out"), false)
        let checkoutEvents = try await sandbox.accepted(named: "checkout")
        let checkout = try XCTUnwrap(checkoutEvents.first)
        XCTAssertEqual(checkout.bool("opt_out"), true)
        XCTAssertEqual(checkout.strings("user_data.hashed_maids"), [])
        XCTAssertTrue(conversions.privacy.optOut)
    }

    func testADeniedTrackingAuthorizationWithholdsUserDataFromQueuedEvents() async throws {
        let idfa = UUID(uuidString: Self.advertisingId)
        let conversions = try start(privacy: PrivacyState(trackingAuthorization: .authorized, advertisingIdentifier: idfa))
        conversions.lead(user: Self.shopper)

        conversions.setTrackingAuthorization(.denied, advertisingIdentifier: idfa)
        _ = try await conversions.flush()

        XCTAssertEqual(conversions.privacy.trackingAuthorization, .denied)
        XCTAssertNil(conversions.privacy.advertisingId)
        // Without an email, an advertising id or a relay to add the IP, the lead cannot meet
        // the API's identity rule: it is dropped and counted, never sent with the email.
        let accepted = try await sandbox.accepted()
        XCTAssertTrue(accepted.isEmpty)
        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.droppedNoIdentity, 1)
    }

    func testUserDataWithoutTrackingKeepsTheHashedEmailButNeverTheId() async throws {
        let conversions = try start(
            privacy: PrivacyState(trackingAuthorization: .denied, advertisingIdentifier: nil)
        ) { $0.userDataWithoutTracking = true }
        conversions.lead(user: Self.shopper)
        _ = try await conversions.flush()

        let leadEvents = try await sandbox.accepted(named: "lead")
        let lead = try XCTUnwrap(leadEvents.first)
        XCTAssertEqual(lead.bool("opt_out"), true)
        XCTAssertEqual(lead.strings("user_data.hashed_maids"), [])
        XCTAssertEqual(lead.strings("user_data.em"), [sha256("shopper@example.com")])
    }

    func testTheFirstLaunchWaitsForThePromptAndCarriesTheIdfaTheUserAllows() async throws {
        let idfa = UUID(uuidString: Self.advertisingId)
        let conversions = try start(
            privacy: PrivacyState(trackingAuthorization: .notDetermined, advertisingIdentifier: nil)
        )
        conversions.onLaunch()
        _ = try await conversions.flush(timeout: 0.5)
        let before = try await sandbox.accepted()
        XCTAssertTrue(before.isEmpty, "held while the prompt is showing")

        conversions.setTrackingAuthorization(.authorized, advertisingIdentifier: idfa)
        _ = try await conversions.flush()

        let installs = try await sandbox.accepted(named: "app_install")
        let install = try XCTUnwrap(installs.first)
        XCTAssertEqual(install.bool("opt_out"), false)
        XCTAssertEqual(install.strings("user_data.hashed_maids"), [sha256(Self.advertisingId.lowercased())])
    }

    func testAnAdvertisingIdSetLaterIdentifiesLaterEvents() async throws {
        let conversions = try start(privacy: PrivacyState(trackingAuthorization: .authorized))

        conversions.setAdvertisingId(Self.advertisingId.lowercased())
        conversions.search(query: "shoes")
        _ = try await conversions.flush()

        let searchEvents = try await sandbox.accepted(named: "search")
        let search = try XCTUnwrap(searchEvents.first)
        XCTAssertEqual(search.strings("user_data.hashed_maids"), [sha256(Self.advertisingId.lowercased())])
    }

    func testLimitedDataProcessingMarksEventsLdp() async throws {
        let conversions = try start()

        conversions.setLimitedDataProcessing(true)
        conversions.signup()
        _ = try await conversions.flush()

        let signupEvents = try await sandbox.accepted(named: "signup")
        let signup = try XCTUnwrap(signupEvents.first)
        XCTAssertEqual(signup.string("custom_data.opt_out_type"), "ldp")
    }

    func testWithCollectionDisabledNothingIsRecordedAndTheBufferIsPurged() async throws {
        let conversions = try start()
        conversions.lead()

        conversions.setCollectionEnabled(false)
        let result = conversions.signup(user: Self.shopper)
        _ = try await conversions.flush()

        XCTAssertFalse(result.recorded)
        let accepted = try await sandbox.accepted()
        XCTAssertTrue(accepted.isEmpty)
        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.queued, 0)
    }

    func testForgetDeletesQueuedEvents() async throws {
        try await sandbox.fault(#"{"status":503,"retry_after":"3600"}"#)
        let conversions = try start()
        conversions.lead()
        _ = try await conversions.flush()
        let before = await conversions.diagnostics()
        XCTAssertEqual(before.queued, 1)

        try await conversions.forget()

        let after = await conversions.diagnostics()
        XCTAssertEqual(after.queued, 0)
    }
}
