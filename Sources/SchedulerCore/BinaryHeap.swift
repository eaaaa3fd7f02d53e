/// An array-backed binary min-heap: the smallest element (by `<`) is first.
///
/// The scheduler uses it with *lazy deletion*: an entry carries enough data (a sequence
/// number) to tell whether it still describes its run; stale entries are skipped by queries and
/// dropped when they reach the top (``SchedulerState`` pops them after every command) or when
/// more than half of the heap is stale (``compact(keeping:)``). Insert and pop are O(log n),
/// removal is O(1) plus the amortised pop.
///
/// Elements must be totally ordered (no two equal), so the pop order — the only thing that
/// decides anything — never depends on the array layout. That is why a heap rebuilt from a
/// snapshot behaves exactly like the original.
///
/// The storage is a ``ChunkedArray``: a copy of the heap (inside a reader's view of the state)
/// shares it, and a push or pop after the copy duplicates only the chunks on its sift path.
struct BinaryHeap<Element: Comparable & Sendable>: Sendable {
    private(set) var storage = ChunkedArray<Element>()

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }
    var first: Element? { storage.first }

    init() {}

    /// Builds a heap from arbitrary elements in O(n).
    init(_ elements: [Element]) {
        storage = ChunkedArray(elements)
        heapify()
    }

    mutating func push(_ element: Element) {
        storage.append(element)
        siftUp(storage.count - 1)
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard !storage.isEmpty else { return nil }
        let top = storage[0]
        let last = storage.removeLast()
        if !storage.isEmpty {
            storage[0] = last
            siftDown(0)
        }
        return top
    }

    /// Keeps only elements satisfying `isLive`, in O(n).
    mutating func compact(keeping isLive: (Element) -> Bool) {
        storage.removeAll { !isLive($0) }
        heapify()
    }

    /// Every element for which `include` holds, visiting only the heap's top region: `include`
    /// must be monotone (if it fails for an element it fails for all larger ones), e.g.
    /// "due at or before t". Unordered; O(k + stale entries visited).
    func prefix(while include: (Element) -> Bool) -> [Element] {
        var result: [Element] = []
        var stack: [Int] = storage.isEmpty ? [] : [0]
        while let i = stack.popLast() {
            guard include(storage[i]) else { continue }
            result.append(storage[i])
            let l = 2 * i + 1
            if l < storage.count { stack.append(l) }
            if l + 1 < storage.count { stack.append(l + 1) }
        }
        return result
    }

    /// The first `k` live elements in order, without modifying the heap: a best-first walk
    /// of the heap tree with a small frontier heap. O((k + stale) log(k + stale)).
    /// `until` (monotone, like ``prefix(while:)``'s negation) stops the walk at the first element
    /// it holds for: "the ones due by now" reads only those.
    func smallest(_ k: Int, where isLive: (Element) -> Bool, until isPast: (Element) -> Bool = { _ in false }) -> [Element] {
        guard k > 0, !storage.isEmpty else { return [] }
        var result: [Element] = []
        var frontier = BinaryHeap<IndexedEntry>()
        frontier.push(IndexedEntry(element: storage[0], index: 0))
        while result.count < k, let top = frontier.popFirst() {
            if isPast(top.element) { break }
            if isLive(top.element) { result.append(top.element) }
            let l = 2 * top.index + 1
            if l < storage.count { frontier.push(IndexedEntry(element: storage[l], index: l)) }
            if l + 1 < storage.count { frontier.push(IndexedEntry(element: storage[l + 1], index: l + 1)) }
        }
        return result
    }

    private struct IndexedEntry: Comparable, Sendable {
        var element: Element
        var index: Int
        static func < (a: IndexedEntry, b: IndexedEntry) -> Bool { a.element < b.element }
        static func == (a: IndexedEntry, b: IndexedEntry) -> Bool { a.element == b.element }
    }

    private mutating func heapify() {
        guard storage.count > 1 else { return }
        var i = storage.count / 2 - 1
        while i >= 0 {
            siftDown(i)
            i -= 1
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let element = storage[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard element < storage[parent] else { break }
            storage[child] = storage[parent]
            child = parent
        }
        storage[child] = element
    }

    private mutating func siftDown(_ start: Int) {
        let n = storage.count
        var parent = start
        let element = storage[parent]
        while true {
            let l = 2 * parent + 1
            guard l < n else { break }
            var best = l
            if l + 1 < n && storage[l + 1] < storage[l] { best = l + 1 }
            guard storage[best] < element else { break }
            storage[parent] = storage[best]
            parent = best
        }
        storage[parent] = element
    }
}
