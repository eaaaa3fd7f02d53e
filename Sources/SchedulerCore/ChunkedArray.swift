/// An array stored as fixed-size chunks, so that a copy of it shares every chunk and the first
/// writes after a copy duplicate only the chunks they touch (issue #12: readers hold a view of
/// the state while apply goes on).
///
/// A plain `Array` is copy-on-write as a whole: once a reader holds a copy, the next write copies
/// every element (3 s at 1M jobs, docs/benchmarks.md). Here a copy holds the same chunk
/// buffers; a write after a copy duplicates the list of chunk references (one pointer per
/// ``chunkSize`` elements) once, then each chunk it touches (``chunkSize`` elements) once. Memory
/// grows only by the touched chunks while the copy lives.
///
/// Otherwise it behaves as an array: random access by `Int` position from 0, append and
/// remove at the end, in the same order an `Array` would keep (the scheduler's slab order, which
/// the snapshot writes, does not change). A position out of range traps, as with `Array`; the
/// scheduler only uses positions its own indexes hold.
struct ChunkedArray<Element> {
    /// Elements per chunk: a power of two, so a position splits with a shift and a mask. 512
    /// balances the two costs of a write after a copy: the chunk list (1M / 512 = 2,048
    /// references) and the chunk itself (512 elements).
    static var chunkShift: Int { 9 }
    /// Elements per chunk.
    static var chunkSize: Int { 1 << chunkShift }
    private static var chunkMask: Int { chunkSize - 1 }

    /// Every chunk but the last is full (``chunkSize`` elements); the last is not empty.
    private var chunks: [[Element]] = []
    /// Number of elements.
    private(set) var count = 0

    /// An empty array.
    init() {}

    /// The elements of `elements`, in order.
    init<S: Sequence>(_ elements: S) where S.Element == Element {
        for element in elements { append(element) }
    }

    /// Adds `element` at the end (a new chunk, with room for ``chunkSize``, when the last is full).
    mutating func append(_ element: Element) {
        if count & Self.chunkMask == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunk.append(element)
            chunks.append(chunk)
        } else {
            chunks[chunks.count - 1].append(element)
        }
        count += 1
    }

    /// Removes and returns the last element; traps when empty (as `Array.removeLast()`).
    @discardableResult
    mutating func removeLast() -> Element {
        let last = chunks.count - 1
        let element = chunks[last].removeLast()
        if chunks[last].isEmpty { chunks.removeLast() }
        count -= 1
        return element
    }

    /// Keeps the elements for which `shouldBeRemoved` is false, in order. O(n): builds new chunks.
    mutating func removeAll(where shouldBeRemoved: (Element) throws -> Bool) rethrows {
        var kept = ChunkedArray()
        for element in self where !(try shouldBeRemoved(element)) { kept.append(element) }
        self = kept
    }

    /// Removes every element.
    mutating func removeAll() {
        chunks = []
        count = 0
    }

    /// Inserts `element` before position `i` (0...count). O(n) from `i` to the end: the scheduler
    /// uses it only for input apply never produces (an out-of-order sequence number).
    mutating func insert(_ element: Element, at i: Int) {
        append(element)
        var j = count - 1
        while j > i {
            self.swapAt(j, j - 1)
            j -= 1
        }
    }
}

extension ChunkedArray: RandomAccessCollection, MutableCollection {
    /// Always 0.
    var startIndex: Int { 0 }
    /// The element count.
    var endIndex: Int { count }

    /// The element at position `i`. Writing through it duplicates the chunk when a copy shares it.
    subscript(i: Int) -> Element {
        get { chunks[i >> Self.chunkShift][i & Self.chunkMask] }
        _modify { yield &chunks[i >> Self.chunkShift][i & Self.chunkMask] }
        set { chunks[i >> Self.chunkShift][i & Self.chunkMask] = newValue }
    }

    /// The last element, if any (without going through the generic `BidirectionalCollection` path).
    var last: Element? { chunks.last?.last }
    /// The first element, if any.
    var first: Element? { chunks.first?.first }
    /// Whether there is no element.
    var isEmpty: Bool { count == 0 }
}

extension ChunkedArray: Sendable where Element: Sendable {}
