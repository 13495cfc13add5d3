// A refused event never throws from `track` or the helpers: it is not recorded, its result and
// a warning line name the field, and later events still go through. `trackOrThrow` throws; a
// bad configuration or a second client on one database is refused.
import AppConversions
import XCTest

final class InvalidInputTests: SandboxTestCase {
    /// A bad track call and the field the refusal must name.
    private let badCalls: [(field: String, call: (Conversions) -> TrackResult)] = [
        ("custom_data.value", { $0.checkout(value: -1, currency: "USD") }),
        ("custom_data.value", { $0.checkout(value: 0, currency: "USD") }),
        ("custom_data.currency", { $0.checkout(value: 10, currency: "dollars") }),
        ("user_data.em", { $0.lead(user: UserData(emails: ["not-an-email"])) }),
        ("custom_event_name", { $0.custom(name: "took survey!") }),
        ("event_source_url", { $0.pageVisit(url: URL(string: "ftp://shop.example.com")!) }),
        ("custom_data.contents[0].quantity", { $0.addToCart(contents: [ContentItem(id: "a", quantity: -1)]) }),
        ("event_time", { $0.track(.lead, user: SandboxTestCase.shopper, eventTime: Date(timeIntervalSince1970: 0)) }),
    ]

    func testARefusedEventDoesNotThrowRecordsNothingAndAWarningNamesTheField() async throws {
        // Strict, as the README suggests for tests: without it a bad optional field is dropped
        // with a warning and the event kept.
        let conversions = try start { $0.strictValidation = true }
        let lines = Collected<(LogLevel, String)>()
        conversions.setLogSink { level, message in lines.append((level, message)) }

        for (field, call) in badCalls {
            let result = call(conversions)

            XCTAssertFalse(result.recorded, field)
            XCTAssertFalse(result.eventId.isEmpty, "\(field): the result carries the event id it would have had")
            XCTAssertEqual(result.warnings.map(\.field), [field])
            XCTAssertFalse(result.warnings.first?.rule.isEmpty ?? true, field)
            XCTAssertTrue(
                lines.items.contains { $0.0 == .warn && $0.1.contains(field) && $0.1.contains(result.eventId) },
                "\(field): \(lines.items.map(\.1))"
            )
        }
        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.queued, 0)
    }

    func testGoodEventsAreRecordedAfterARefusedOne() async throws {
        let conversions = try start()

        conversions.custom(name: "took survey!")
        let good = conversions.lead(user: Self.shopper)
        _ = try await conversions.flush()

        XCTAssertTrue(good.recorded)
        let accepted = try await sandbox.accepted()
        XCTAssertEqual(accepted.map { $0.string("event_id") }, [good.eventId])
    }

    func testTrackOrThrowThrowsInvalidInputNamingTheFieldAndTheRule() async throws {
        let conversions = try start()

        XCTAssertThrowsError(try conversions.trackOrThrow(Event(name: .custom, customEventName: "took survey!"))) { error in
            guard case let .invalidInput(field, rule)? = error as? AppConversionsError else {
                return XCTFail("\(error) is not InvalidInput")
            }
            XCTAssertEqual(field, "custom_event_name")
            XCTAssertFalse(rule.isEmpty)
            XCTAssertTrue(error.localizedDescription.contains(field), error.localizedDescription)
        }
        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.queued, 0)
    }

    func testBadDeviceFactsThrowInvalidInputNamingTheField() throws {
        let conversions = try start()

        XCTAssertThrowsError(try conversions.updateDevice { $0.language = "english" }) { error in
            XCTAssertEqual((error as? AppConversionsError)?.field, "device.language")
        }
        XCTAssertEqual(conversions.device.language, "en", "a refused device change is not applied")
    }

    func testABadConfigurationThrowsInvalidConfigNamingTheField() {
        XCTAssertThrowsError(try start { $0.adAccountId = "act-1" }) { error in
            XCTAssertEqual((error as? AppConversionsError)?.field, "ad_account_id")
            guard case .invalidConfig? = error as? AppConversionsError else {
                return XCTFail("\(error) is not InvalidConfig")
            }
        }
    }

    func testASecondClientOnTheSameDatabaseIsRefused() throws {
        _ = try start()

        XCTAssertThrowsError(try start()) { error in
            XCTAssertEqual(error as? AppConversionsError, .databaseInUse(path: self.databaseURL.path))
        }
    }
}
