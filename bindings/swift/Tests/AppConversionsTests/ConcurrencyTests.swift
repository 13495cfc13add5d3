// Many threads and tasks tracking at once: every event gets a distinct id and is delivered
// exactly once.
import AppConversions
import XCTest

final class ConcurrencyTests: SandboxTestCase {
    private let threads = 8
    private let perThread = 200
    private let tasks = 100

    func testCallsFromManyThreadsAndTasksAtOnceLoseNothing() async throws {
        let conversions = try start()
        let ids = Collected<String>()
        let perThread = self.perThread

        let group = DispatchGroup()
        for thread in 0..<threads {
            DispatchQueue.global().async(group: group) {
                for call in 0..<perThread {
                    let result = conversions.search(query: "thread \(thread) call \(call)")
                    if result.recorded {
                        ids.append(result.eventId)
                    }
                }
            }
        }
        await withTaskGroup(of: Void.self) { taskGroup in
            for _ in 0..<tasks {
                taskGroup.addTask {
                    let result = conversions.lead(user: SandboxTestCase.shopper)
                    if result.recorded {
                        ids.append(result.eventId)
                    }
                }
            }
        }
        await withCheckedContinuation { continuation in
            group.notify(queue: .global()) { continuation.resume() }
        }

        let report = try await conversions.flush(timeout: 60)

        let total = threads * perThread + tasks
        XCTAssertEqual(ids.items.count, total, "every call recorded its event")
        XCTAssertEqual(Set(ids.items).count, total, "event ids are distinct")
        XCTAssertEqual(report.remaining, 0)
        let accepted = try await sandbox.accepted()
        let counts = Dictionary(grouping: accepted.compactMap { $0.string("event_id") }, by: { $0 }).mapValues(\.count)
        XCTAssertEqual(Set(counts.keys), Set(ids.items))
        XCTAssertEqual(Set(counts.values), [1], "every event accepted exactly once")
    }
}
