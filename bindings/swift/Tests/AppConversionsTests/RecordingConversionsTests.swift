// The test double an app uses in its own unit tests: it records what was tracked, honours
// consent as the SDK does, and its verify helpers say what was recorded when they fail. No
// sandbox, no native library.
import AppConversions
import XCTest

final class RecordingConversionsTests: XCTestCase {
    /// An app's own code, written against the protocol.
    private final class Cart {
        let conversions: ConversionsTracking
        init(conversions: ConversionsTracking) { self.conversions = conversions }
        func checkOut(orderId: String, total: Decimal) {
            recording.checkout(value: total, currency: "USD", orderId: orderId)
        }
    }

    func testTheHelpersRecordOnTheDoubleAsOnTheSDK() throws {
        let recording = Conversions.forUnitTests()
        Cart(conversions: recording).checkOut(orderId: "A-1001", total: Decimal(string: "24.99")!)
        recording.lead(user: UserData(emails: ["person@example.com"]))

        let checkout = try recording.verifyTracked(.checkout)
        XCTAssertEqual(checkout.customData?.value, "24.99")
        XCTAssertEqual(checkout.customData?.currency, "USD")
        XCTAssertEqual(checkout.eventId, "A-1001", "the order id is the event id")
        XCTAssertEqual(recording.events.map(\.name), [.checkout, .lead])
    }

    func testNothingIsRecordedWhileCollectionIsDisabled() throws {
        let recording = Conversions.forUnitTests()
        recording.setCollectionEnabled(false)
        let result = recording.custom(name: "TookSurvey")
        XCTAssertFalse(result.recorded)
        try recording.verifyNothingTracked()
        XCTAssertFalse(recording.privacy.collectionEnabled)
    }

    func testAFailedVerificationNamesWhatWasRecorded() {
        let recording = Conversions.forUnitTests()
        recording.search(query: "red shoes")
        XCTAssertThrowsError(try recording.verifyTracked(.checkout)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("expected 1 checkout"), message)
            XCTAssertTrue(message.contains("search"), message)
        }
        XCTAssertThrowsError(try recording.verifyNothingTracked())
    }

    func testAFlushReportsWhatWasRecordedAndIsCounted() async throws {
        let recording = Conversions.forUnitTests()
        recording.signup()
        let report = try await recording.flush(timeout: 1)
        XCTAssertEqual(report.processed, 1)
        XCTAssertEqual(recording.flushCount, 1)
        recording.reset()
        try recording.verifyNothingTracked()
    }
}
